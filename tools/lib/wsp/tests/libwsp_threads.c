// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: wsp_accept() from several threads on one listener.  Each
 * returned socket must be the one of the request its own condition
 * accepted, and none may be lost.
 *
 * Clients send caller data "<client>:<n>:<kind>" (kind A accept, R reject,
 * D defer once) and, once connected, their request id as the first bytes.
 * The accepting thread's condition records the id it accepted in thread
 * local storage, and answers with the same id as callee data.
 */
#include <inttypes.h>
#include <sys/socket.h>

#include "libwsp_test.h"

#define NSERVERS	4
#define NCLIENTS	4
#define PER_CLIENT	20
#define NCONN		(NCLIENTS * PER_CLIENT)

static __thread uint64_t tls_accepted;
static __thread int tls_calls;

struct shared {
	int		lfd;
	int		type;
	uint32_t	port;
	pthread_mutex_t	lock;
	/* server side */
	uint64_t	ids[NCONN];	/* accepted, by order of return */
	int		nids;
	int		mismatches;
	int		unexpected;	/* returned with no condition call */
	int		refused, deferred, other;
	/* client side */
	int		connected, rejected, failed, id_mismatches;
};

static int mt_cond(const struct wsp_request *req, struct wsp_answer *ans,
		   void *arg)
{
	static __thread char reply[32];
	char kind = req->data_len ? req->data[req->data_len - 1] : '?';

	tls_calls++;
	snprintf(reply, sizeof(reply), "%" PRIu64, (uint64_t)req->id);
	ans->data = reply;
	ans->data_len = strlen(reply);
	if (kind == 'R')
		return WSP_CF_REJECT;
	if (kind == 'D' && !(req->flags & WSP_REQ_DEFERRED))
		return WSP_CF_DEFER;
	tls_accepted = req->id;
	return WSP_CF_ACCEPT;
}

static void *server_main(void *arg)
{
	struct shared *s = arg;
	uint64_t id, sent;
	ssize_t n;
	int fd;

	for (;;) {
		tls_accepted = 0;
		tls_calls = 0;
		fd = wsp_accept(s->lfd, NULL, NULL, mt_cond, NULL);
		if (fd < 0) {
			if (errno == EINVAL)	/* shut down: done */
				break;
			pthread_mutex_lock(&s->lock);
			if (errno == ECONNREFUSED)
				s->refused++;
			else if (errno == EINPROGRESS)
				s->deferred++;
			else
				s->other++;
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		id = 0;
		sent = ~0ULL;
		wsp_request_id(fd, &id);
		n = recv(fd, &sent, sizeof(sent), MSG_WAITALL);
		pthread_mutex_lock(&s->lock);
		if (!tls_calls)
			s->unexpected++;
		if (id != tls_accepted || n != sizeof(sent) || sent != id)
			s->mismatches++;
		if (s->nids < NCONN)
			s->ids[s->nids++] = id;
		pthread_mutex_unlock(&s->lock);
		close(fd);
	}
	return NULL;
}

struct cl {
	pthread_t thread;
	struct shared *s;
	int idx;
};

static void *client_thread(void *arg)
{
	struct cl *c = arg;
	struct shared *s = c->s;
	char data[32], callee[32];
	size_t len;
	uint64_t id;
	int i, fd, r;
	char kind;

	for (i = 0; i < PER_CLIENT; i++) {
		kind = i % 5 == 3 ? 'R' : i % 5 == 1 ? 'D' : 'A';
		snprintf(data, sizeof(data), "%d:%d:%c", c->idx, i, kind);
		fd = wsp_socket(s->type);
		if (fd < 0)
			goto fail;
		len = sizeof(callee) - 1;
		r = wsp_connect_ex(fd, s->port, data, strlen(data), callee,
				   &len, NULL);
		if (r && errno == ECONNREFUSED && kind == 'R') {
			pthread_mutex_lock(&s->lock);
			s->rejected++;
			pthread_mutex_unlock(&s->lock);
			close(fd);
			continue;
		}
		if (r || kind == 'R' || wsp_request_id(fd, &id))
			goto fail_fd;
		callee[len] = '\0';
		if (send(fd, &id, sizeof(id), 0) != sizeof(id))
			goto fail_fd;
		pthread_mutex_lock(&s->lock);
		s->connected++;
		if (strtoull(callee, NULL, 10) != id)
			s->id_mismatches++;
		pthread_mutex_unlock(&s->lock);
		/* Wait for the server to have read it: EOF. */
		recv(fd, callee, 1, 0);
		close(fd);
		continue;
fail_fd:
		close(fd);
fail:
		pthread_mutex_lock(&s->lock);
		s->failed++;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void run(struct __test_metadata *_metadata, int type, bool nonblock)
{
	pthread_t servers[NSERVERS];
	struct cl clients[NCLIENTS];
	struct shared *s;
	int i, accepted;

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	pthread_mutex_init(&s->lock, NULL);
	s->type = type;
	s->lfd = listener(type, true, &s->port);
	ASSERT_LE(0, s->lfd);
	(void)nonblock;

	for (i = 0; i < NSERVERS; i++)
		ASSERT_EQ(0, pthread_create(&servers[i], NULL, server_main, s));
	for (i = 0; i < NCLIENTS; i++) {
		clients[i].s = s;
		clients[i].idx = i;
		ASSERT_EQ(0, pthread_create(&clients[i].thread, NULL,
					    client_thread, &clients[i]));
	}
	for (i = 0; i < NCLIENTS; i++)
		pthread_join(clients[i].thread, NULL);
	/* Every client is done: stop the servers. */
	ASSERT_EQ(0, shutdown(s->lfd, SHUT_RD));
	for (i = 0; i < NSERVERS; i++)
		pthread_join(servers[i], NULL);

	accepted = NCONN - NCLIENTS * (PER_CLIENT / 5);
	EXPECT_EQ(0, s->failed);
	EXPECT_EQ(0, s->id_mismatches);
	EXPECT_EQ(accepted, s->connected);
	EXPECT_EQ(NCONN - accepted, s->rejected);
	EXPECT_EQ(accepted, s->nids);
	EXPECT_EQ(0, s->mismatches);
	EXPECT_EQ(0, s->unexpected);
	EXPECT_EQ(NCONN - accepted, s->refused);
	EXPECT_EQ(NCLIENTS * (PER_CLIENT / 5), s->deferred);
	EXPECT_EQ(0, s->other);
	/* No socket returned twice. */
	qsort(s->ids, s->nids, sizeof(s->ids[0]), cmp_u64);
	for (i = 1; i < s->nids; i++)
		EXPECT_NE(s->ids[i - 1], s->ids[i]);
	close(s->lfd);
	free(s);
}

TEST(threads_stream)
{
	run(_metadata, SOCK_STREAM, false);
}

TEST(threads_seqpacket)
{
	run(_metadata, SOCK_SEQPACKET, false);
}

/*
 * Connections accepted outside wsp_accept() (by a verdict given from
 * another thread) mixed with the condition's: the outside ones are
 * returned with no condition call, the others match their request.
 */
struct outside {
	struct shared *s;
	volatile bool stop;
	int given;
};

static void *outside_main(void *arg)
{
	struct outside *o = arg;
	struct wsp_request *req;
	uint64_t after = 0;

	while (!o->stop) {
		/* Accept the requests whose data says 'O'. */
		if (wsp_peek_request(o->s->lfd, after, &req)) {
			after = 0;
			sleep_ms(1);
			continue;
		}
		after = req->id;
		if (req->data_len && req->data[req->data_len - 1] == 'O' &&
		    !wsp_verdict(o->s->lfd, req->id, WSP_CF_ACCEPT, "0", 1,
				 NULL))
			o->given++;
		wsp_request_free(req);
	}
	return NULL;
}

static int mixed_cond(const struct wsp_request *req, struct wsp_answer *ans,
		      void *arg)
{
	/* Leave the outside thread's requests alone. */
	if (req->data_len && req->data[req->data_len - 1] == 'O') {
		errno = EAGAIN;
		return -1;
	}
	return mt_cond(req, ans, arg);
}

static void *mixed_server(void *arg)
{
	struct shared *s = arg;
	uint64_t id;
	int fd;

	for (;;) {
		tls_accepted = 0;
		tls_calls = 0;
		fd = wsp_accept(s->lfd, NULL, NULL, mixed_cond, NULL);
		if (fd < 0) {
			if (errno == EINVAL)
				break;
			if (errno == EAGAIN)
				sleep_ms(1);
			continue;
		}
		id = 0;
		wsp_request_id(fd, &id);
		pthread_mutex_lock(&s->lock);
		if (tls_accepted && id != tls_accepted)
			s->mismatches++;
		if (!tls_accepted)
			s->unexpected++;
		s->nids++;
		pthread_mutex_unlock(&s->lock);
		close(fd);
	}
	return NULL;
}

static void *mixed_client(void *arg)
{
	struct cl *c = arg;
	struct shared *s = c->s;
	char data[32];
	int i, fd;

	for (i = 0; i < PER_CLIENT; i++) {
		snprintf(data, sizeof(data), "%d:%d:%c", c->idx, i,
			 i % 2 ? 'O' : 'A');
		fd = wsp_socket(s->type);
		if (fd < 0 || wsp_connect_ex(fd, s->port, data, strlen(data),
					     NULL, NULL, NULL)) {
			pthread_mutex_lock(&s->lock);
			s->failed++;
			pthread_mutex_unlock(&s->lock);
		} else {
			pthread_mutex_lock(&s->lock);
			s->connected++;
			pthread_mutex_unlock(&s->lock);
		}
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

TEST(threads_with_outside_verdicts)
{
	pthread_t servers[NSERVERS], out;
	struct cl clients[NCLIENTS];
	struct outside o = { 0 };
	struct shared *s;
	int i;

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	pthread_mutex_init(&s->lock, NULL);
	s->type = SOCK_STREAM;
	s->lfd = listener(s->type, true, &s->port);
	ASSERT_LE(0, s->lfd);
	o.s = s;

	ASSERT_EQ(0, pthread_create(&out, NULL, outside_main, &o));
	for (i = 0; i < NSERVERS; i++)
		ASSERT_EQ(0, pthread_create(&servers[i], NULL, mixed_server,
					    s));
	for (i = 0; i < NCLIENTS; i++) {
		clients[i].s = s;
		clients[i].idx = i;
		ASSERT_EQ(0, pthread_create(&clients[i].thread, NULL,
					    mixed_client, &clients[i]));
	}
	for (i = 0; i < NCLIENTS; i++)
		pthread_join(clients[i].thread, NULL);
	o.stop = true;
	pthread_join(out, NULL);
	/* Let the servers take what is queued, then stop them. */
	{
		long long end = now_ms() + SLOW_MS;

		for (;;) {
			pthread_mutex_lock(&s->lock);
			i = s->nids;
			pthread_mutex_unlock(&s->lock);
			if (i >= NCONN || now_ms() > end)
				break;
			sleep_ms(10);
		}
	}
	ASSERT_EQ(0, shutdown(s->lfd, SHUT_RD));
	for (i = 0; i < NSERVERS; i++)
		pthread_join(servers[i], NULL);

	EXPECT_EQ(0, s->failed);
	EXPECT_EQ(NCONN, s->connected);
	EXPECT_EQ(NCONN, s->nids);
	EXPECT_EQ(NCONN / 2, o.given);
	EXPECT_EQ(NCONN / 2, s->unexpected);
	EXPECT_EQ(0, s->mismatches);
	close(s->lfd);
	free(s);
}

/*
 * Across fork(): a thread of the parent is deciding a request when the
 * process forks.  That thread does not exist in the child, whose own
 * wsp_accept() must present the request all the same.
 */
struct blocker {
	pthread_t thread;
	int lfd;
	int in_cond[2];
	int release[2];
	int ret;
	int err;
	uint64_t id;
};

static int blocking_cond(const struct wsp_request *req,
			 struct wsp_answer *ans, void *arg)
{
	struct blocker *b = arg;
	char ch = 0;

	b->id = req->id;
	if (write(b->in_cond[1], &ch, 1) != 1 ||
	    read(b->release[0], &ch, 1) != 1)
		return -1;
	return WSP_CF_ACCEPT;
}

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;

	b->ret = wsp_accept(b->lfd, NULL, NULL, blocking_cond, b);
	b->err = errno;
	return NULL;
}

TEST(fork_while_deciding)
{
	struct blocker b = { 0 };
	int cfd, status;
	uint32_t port;
	char ch = 0;
	pid_t pid;

	b.lfd = listener(SOCK_STREAM, true, &port);
	ASSERT_LE(0, b.lfd);
	ASSERT_EQ(0, pipe(b.in_cond));
	ASSERT_EQ(0, pipe(b.release));
	cfd = pending_client(SOCK_STREAM, port, "A", 1);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, pthread_create(&b.thread, NULL, blocker_main, &b));
	ASSERT_EQ(1, read(b.in_cond[0], &ch, 1));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint64_t id = 0;
		int fd;

		alarm(SLOW_MS / 1000);
		fd = wsp_accept(b.lfd, NULL, NULL, mt_cond, NULL);
		if (fd < 0 || wsp_request_id(fd, &id) || id != tls_accepted ||
		    id != b.id)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(0, connect_outcome(cfd));

	/* The parent's thread finds it decided by the child. */
	ASSERT_EQ(1, write(b.release[1], &ch, 1));
	pthread_join(b.thread, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECONNABORTED, b.err);
	close(cfd);
	close(b.lfd);
}

TEST_HARNESS_MAIN
