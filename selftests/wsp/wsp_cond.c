// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP conditional accept (SPEC section 4): WSP_CONDITIONAL_ACCEPT,
 * WSP_PEEK_REQUEST, WSP_VERDICT, caller and callee data, readiness of a
 * conditional listener, inheritance by the accepted socket, counters, the
 * wsp:verdict tracepoint, and the races around a verdict.
 *
 * Every fixture runs in a private network namespace, so counters start at
 * zero and sysctl changes die with the test.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/mount.h>
#include "wsp_util.h"

#define RACE_MS		1500
#define NCLIENTS	3

FIXTURE(cond) {
	int lfd;
	__u32 port;
	int type;
};

FIXTURE_VARIANT(cond) {
	int type;
};

FIXTURE_VARIANT_ADD(cond, stream) {
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(cond, seqpacket) {
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(cond)
{
	ASSERT_EQ(0, wsp_private_netns());
	self->type = variant->type;
	self->lfd = wsp_cond_listener(variant->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd) TH_LOG("conditional listener: %s",
				       strerror(errno));
}

FIXTURE_TEARDOWN(cond)
{
	wsp_close(&self->lfd);
}

/* A non-blocking client whose request waits for a verdict, or -1. */
static int pending_client(int type, __u32 port, const char *data)
{
	int fd, err;

	fd = wsp_socket(type);
	if (fd < 0)
		return -1;
	if (data && setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data,
			       strlen(data))) {
		close(fd);
		return -1;
	}
	err = wsp_connect_nb(fd, port);
	if (err != EINPROGRESS) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Id of the oldest undecided request, 0 if none. */
static __u64 head_id(int lfd)
{
	struct wsp_request r;

	if (wsp_peek(lfd, 0, &r))
		return 0;
	return r.id;
}

/* ---- WSP_CONDITIONAL_ACCEPT -------------------------------------------- */

TEST_F(cond, option_values)
{
	int fd, c, c2;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, wsp_get_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT));
	/* Before listen(): kept across it. */
	ASSERT_EQ(0, wsp_set_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, 1));
	EXPECT_EQ(1, wsp_get_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT));
	errno = 0;
	EXPECT_EQ(-1, wsp_set_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, 2));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_set_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, -1));
	EXPECT_EQ(EINVAL, errno);
	c = 1;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &c, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, wsp_get_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT));
	close(fd);

	EXPECT_EQ(1, wsp_get_int(self->lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT));
	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	/* Turning it off with a request waiting would strand it. */
	errno = 0;
	EXPECT_EQ(-1, wsp_set_int(self->lfd, SOL_WSP,
				  WSP_CONDITIONAL_ACCEPT, 0));
	EXPECT_EQ(EBUSY, errno);
	/* Deferred requests wait too. */
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_DEFER));
	errno = 0;
	EXPECT_EQ(-1, wsp_set_int(self->lfd, SOL_WSP,
				  WSP_CONDITIONAL_ACCEPT, 0));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(1, wsp_get_int(self->lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT));
	close(c);		/* withdrawn */
	EXPECT_EQ(0, wsp_set_int(self->lfd, SOL_WSP,
				 WSP_CONDITIONAL_ACCEPT, 0));
	EXPECT_EQ(0, wsp_get_int(self->lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT));
	/* Automatic again: done at once. */
	c2 = wsp_client_nb(self->type, self->port, &c);
	ASSERT_LE(0, c2);
	EXPECT_EQ(0, c);
	close(c2);
	/* And on again, after listen(). */
	EXPECT_EQ(0, wsp_set_int(self->lfd, SOL_WSP,
				 WSP_CONDITIONAL_ACCEPT, 1));
	c = pending_client(self->type, self->port, NULL);
	EXPECT_LE(0, c);
	close(c);
}

/* ---- WSP_PEEK_REQUEST -------------------------------------------------- */

TEST_F(cond, peek_errors)
{
	char buf[sizeof(struct wsp_request) + 8];
	struct wsp_request r;
	socklen_t len;
	__u32 aport;
	int fd, alfd, c, s;

	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	/* Too short for the fixed part. */
	errno = 0;
	EXPECT_EQ(-1, wsp_peek_buf(self->lfd, 0, buf, sizeof(r) - 1, &len));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek_buf(self->lfd, 0, buf, 0, &len));
	EXPECT_EQ(EINVAL, errno);
	/* A negative int optlen. */
	errno = 0;
	EXPECT_EQ(-1, wsp_peek_buf(self->lfd, 0, buf, (socklen_t)-1, &len));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, wsp_peek_buf(self->lfd, 0, buf, sizeof(buf), &len));

	/* Not listening: a fresh socket, a connecting one. */
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(fd, 0, &r));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(c, 0, &r));
	EXPECT_EQ(EINVAL, errno);
	close(fd);

	/* An automatic listener has no undecided request, even with a child. */
	alfd = wsp_listener(self->type, 0, 4, &aport);
	ASSERT_LE(0, alfd);
	fd = wsp_client(self->type, aport);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(alfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
	s = accept(alfd, NULL, NULL);
	ASSERT_LE(0, s);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(s, 0, &r));
	EXPECT_EQ(EINVAL, errno);
	close(s);
	close(fd);
	close(alfd);

	/* Past the last one: EAGAIN, at once. */
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, r.id, &r));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(cond, peek_fields)
{
	static const char data[] = "hello, listener";
	const size_t dlen = sizeof(data) - 1;
	unsigned char buf[sizeof(struct wsp_request) + 64];
	struct wsp_request *r = (struct wsp_request *)buf;
	struct wsp_qos q;
	socklen_t len;
	size_t i;
	__u64 id;
	int c, c2;

	wsp_qos_unspec(&q);
	q.sending.token_rate = 100000;
	q.sending.token_bucket_size = 8192;
	q.sending.service_type = WSP_SERVICETYPE_GUARANTEED;
	q.receiving.latency = 77;
	q.receiving.max_sdu_size = 512;

	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, data, dlen));
	ASSERT_EQ(0, wsp_set_qos(c, &q));
	ASSERT_EQ(EINPROGRESS, wsp_connect_nb(c, self->port));

	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, wsp_peek_buf(self->lfd, 0, buf, sizeof(buf), &len));
	EXPECT_EQ(sizeof(*r) + dlen, len);
	EXPECT_LT(0, r->id);
	EXPECT_EQ(AF_WSP, r->caller.swsp_family);
	EXPECT_EQ(0, r->caller.swsp_reserved);
	EXPECT_EQ(wsp_local_port(c), r->caller.swsp_port);
	for (i = 0; i < sizeof(r->caller.swsp_zero); i++)
		EXPECT_EQ(0, r->caller.swsp_zero[i]);
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_EQ(geteuid(), r->uid);
	EXPECT_EQ(getegid(), r->gid);
	EXPECT_EQ(0, r->flags);
	EXPECT_EQ(0, memcmp(&q, &r->qos, sizeof(q)));
	EXPECT_EQ(dlen, r->data_len);
	EXPECT_EQ(0, r->__reserved);
	EXPECT_EQ(0, memcmp(r->data, data, dlen));
	/* Nothing written past what optlen reports. */
	EXPECT_EQ(0xaa, buf[sizeof(*r) + dlen]);

	/* Room for the fixed part only: all of it, and the full data_len. */
	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, wsp_peek_buf(self->lfd, 0, buf, sizeof(*r), &len));
	EXPECT_EQ(sizeof(*r), len);
	EXPECT_EQ(dlen, r->data_len);
	EXPECT_EQ(0, r->__reserved);
	EXPECT_EQ(0xaa, buf[sizeof(*r)]);

	/* Room for 5 bytes of data. */
	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, wsp_peek_buf(self->lfd, 0, buf, sizeof(*r) + 5, &len));
	EXPECT_EQ(sizeof(*r) + 5, len);
	EXPECT_EQ(dlen, r->data_len);
	EXPECT_EQ(0, memcmp(r->data, data, 5));
	EXPECT_EQ(0xaa, buf[sizeof(*r) + 5]);

	/* No caller data and no QoS: zero length, all NOT_SPECIFIED. */
	c2 = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c2);
	id = r->id;
	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, wsp_peek_buf(self->lfd, id, buf, sizeof(buf), &len));
	EXPECT_EQ(sizeof(*r), len);
	EXPECT_EQ(0, r->data_len);
	EXPECT_EQ(0, r->flags);
	EXPECT_EQ(0, r->__reserved);
	EXPECT_EQ(0, r->caller.swsp_reserved);
	EXPECT_EQ(wsp_local_port(c2), r->caller.swsp_port);
	wsp_qos_unspec(&q);
	EXPECT_EQ(0, memcmp(&q, &r->qos, sizeof(q)));
	close(c2);
	close(c);
}

TEST_F(cond, peek_cursor)
{
	struct wsp_request r;
	__u64 id[3];
	int c[3], i;

	for (i = 0; i < 3; i++) {
		c[i] = pending_client(self->type, self->port, NULL);
		ASSERT_LE(0, c[i]);
	}
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	id[0] = r.id;
	for (i = 1; i < 3; i++) {
		ASSERT_EQ(0, wsp_peek(self->lfd, id[i - 1], &r));
		id[i] = r.id;
		EXPECT_LT(id[i - 1], id[i]) TH_LOG("ids must increase");
		EXPECT_EQ(wsp_local_port(c[i]), r.caller.swsp_port);
	}
	/* A cursor between ids finds the next one. */
	ASSERT_EQ(0, wsp_peek(self->lfd, id[0] - 1 ? id[0] - 1 : 0, &r));
	EXPECT_EQ(id[0], r.id);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, id[2], &r));
	EXPECT_EQ(EAGAIN, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, ~0ULL, &r));
	EXPECT_EQ(EAGAIN, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, ~0ULL - 1, &r));
	EXPECT_EQ(EAGAIN, errno);

	/* A decided request is skipped, and its id still works as cursor. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, id[1], WSP_CF_REJECT));
	ASSERT_EQ(0, wsp_peek(self->lfd, id[0], &r));
	EXPECT_EQ(id[2], r.id);
	ASSERT_EQ(0, wsp_peek(self->lfd, id[1], &r));
	EXPECT_EQ(id[2], r.id);
	/* A deferred one is still "undecided". */
	ASSERT_EQ(0, wsp_verdict(self->lfd, id[0], WSP_CF_DEFER));
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(id[0], r.id);
	EXPECT_EQ(WSP_REQ_DEFERRED, r.flags);
	ASSERT_EQ(0, wsp_peek(self->lfd, id[0], &r));
	EXPECT_EQ(id[2], r.id);
	EXPECT_EQ(0, r.flags);
	/* Withdrawn: gone from the peek. */
	close(c[0]);
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(id[2], r.id);
	/* A new request gets a higher id than any before. */
	c[0] = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c[0]);
	ASSERT_EQ(0, wsp_peek(self->lfd, id[2], &r));
	EXPECT_LT(id[2], r.id);
	for (i = 0; i < 3; i++)
		close(c[i]);
}

/* Peek in a child, with a pipe to report: pid, uid, gid. */
static int peek_in_child(int lfd, int flags, __u32 out[3])
{
	struct wsp_request r;
	int p[2], st;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(p[0]);
		CHILD_CHECK(unshare(flags) == 0);
		if (flags & CLONE_NEWPID) {
			/* Only our children enter the new pid namespace. */
			pid_t g = fork();

			CHILD_CHECK(g >= 0);
			if (g) {
				st = wsp_wait_child(g, WSP_SLOW_MS);
				_exit(st);
			}
		}
		CHILD_CHECK(wsp_peek(lfd, 0, &r) == 0);
		out[0] = r.pid;
		out[1] = r.uid;
		out[2] = r.gid;
		CHILD_CHECK(write(p[1], out, 12) == 12);
		_exit(0);
	}
	close(p[1]);
	st = wsp_wait_child(pid, WSP_SLOW_MS);
	if (read(p[0], out, 12) != 12)
		st = -1;
	close(p[0]);
	return st;
}

TEST_F(cond, peek_namespaces)
{
	struct wsp_request r;
	int p[2], q[2];
	__u32 ids[3];
	pid_t pid;
	char ch;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(q));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int c;

		close(p[0]);
		close(q[1]);
		CHILD_CHECK(setresgid(4321, 4321, 4321) == 0);
		CHILD_CHECK(setresuid(1234, 1234, 1234) == 0);
		c = pending_client(self->type, self->port, NULL);
		CHILD_CHECK(c >= 0);
		CHILD_CHECK(write(p[1], "r", 1) == 1);
		CHILD_CHECK(read(q[0], &ch, 1) >= 0);	/* until told */
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	ASSERT_EQ(1, read(p[0], &ch, 1));
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(pid, r.pid);
	EXPECT_EQ(1234, r.uid);
	EXPECT_EQ(4321, r.gid);

	/*
	 * Peeked from a user namespace that maps nobody, or from a pid
	 * namespace the caller is not in: still the listener's view (it
	 * listened here), not the peeking task's.
	 */
	ASSERT_EQ(0, peek_in_child(self->lfd, CLONE_NEWUSER, ids));
	EXPECT_EQ(pid, ids[0]);
	EXPECT_EQ(1234, ids[1]);
	EXPECT_EQ(4321, ids[2]);
	ASSERT_EQ(0, peek_in_child(self->lfd, CLONE_NEWPID, ids));
	EXPECT_EQ(pid, ids[0]);
	EXPECT_EQ(1234, ids[1]);

	close(q[1]);
	close(p[0]);
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
}

/* ---- WSP_VERDICT -------------------------------------------------------- */

TEST_F(cond, verdict_errors)
{
	unsigned char buf[sizeof(struct wsp_verdict) + 32];
	struct wsp_verdict *v = (struct wsp_verdict *)buf;
	int c, fd, alfd, enoent = 0;
	struct wsp_qos q;
	__u32 aport;
	__u64 id;

	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	id = head_id(self->lfd);
	ASSERT_LT(0, id);

	memset(buf, 0, sizeof(buf));
	v->id = id;
	v->verdict = WSP_CF_ACCEPT;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_VERDICT, v,
				 sizeof(*v) - 1));
	EXPECT_EQ(EINVAL, errno);
	/* data_len beyond optlen. */
	v->data_len = 10;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_VERDICT, v,
				 sizeof(*v) + 5));
	EXPECT_EQ(EINVAL, errno);
	v->data_len = 0;
	v->verdict = 3;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_VERDICT, v,
				 sizeof(*v)));
	EXPECT_EQ(EINVAL, errno);
	v->verdict = ~0U;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_VERDICT, v,
				 sizeof(*v)));
	EXPECT_EQ(EINVAL, errno);
	v->verdict = WSP_CF_ACCEPT;
	v->flags = 2;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_VERDICT, v,
				 sizeof(*v)));
	EXPECT_EQ(EINVAL, errno);
	v->flags = 0;
	v->__reserved = 1;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_VERDICT, v,
				 sizeof(*v)));
	EXPECT_EQ(EINVAL, errno);
	v->__reserved = 0;

	/* A bad QoS in the verdict. */
	wsp_qos_unspec(&q);
	q.receiving.token_rate = 0;
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict_data(self->lfd, id, WSP_CF_ACCEPT, NULL, 0,
				       &q));
	EXPECT_EQ(EINVAL, errno);

	/* Callee data over net.wsp.max_connect_data. */
	ASSERT_EQ(0, wsp_sysctl_set("max_connect_data", "8\n"));
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict_data(self->lfd, id, WSP_CF_REJECT,
				       "123456789", 9, NULL));
	EXPECT_EQ(EMSGSIZE, errno);

	/* Not conditional, or not listening. */
	alfd = wsp_listener(self->type, 0, 4, &aport);
	ASSERT_LE(0, alfd);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(alfd, id, WSP_CF_ACCEPT));
	EXPECT_EQ(EINVAL, errno);
	close(alfd);
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wsp_set_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, 1));
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(fd, id, WSP_CF_ACCEPT));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	/* None of these counted as unknown ids, and the request is intact. */
	EXPECT_EQ(0, wsp_stat("unknown_verdicts"));
	EXPECT_EQ(id, head_id(self->lfd));

	/* Unknown ids. */
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, 0, WSP_CF_ACCEPT));
	EXPECT_EQ(ENOENT, errno);
	enoent++;
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, id + 1000000, WSP_CF_DEFER));
	EXPECT_EQ(ENOENT, errno);
	enoent++;
	/* Decided: accepted, then any verdict again. */
	ASSERT_EQ(0, wsp_verdict_data(self->lfd, id, WSP_CF_ACCEPT,
				      "12345678", 8, NULL));
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, id, WSP_CF_ACCEPT));
	EXPECT_EQ(ENOENT, errno);
	enoent++;
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, id, WSP_CF_DEFER));
	EXPECT_EQ(ENOENT, errno);
	enoent++;
	close(c);
	/* Withdrawn by close. */
	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	id = head_id(self->lfd);
	ASSERT_LT(0, id);
	close(c);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, id, WSP_CF_REJECT));
	EXPECT_EQ(ENOENT, errno);
	enoent++;
	EXPECT_EQ(enoent, wsp_stat("unknown_verdicts"));
}

struct connector {
	int fd;
	int type;
	__u32 port;
	int ret;	/* 0 or errno */
	const char *data;
	pthread_t th;
};

static void *connect_thread(void *arg)
{
	struct connector *c = arg;

	c->ret = wsp_connect(c->fd, c->port) ? errno : 0;
	return NULL;
}

static int start_connect(struct connector *c, int type, __u32 port,
			 const char *data)
{
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->port = port;
	c->ret = -1;
	c->fd = wsp_socket(type);
	if (c->fd < 0)
		return -1;
	if (data && setsockopt(c->fd, SOL_WSP, WSP_CALLER_DATA, data,
			       strlen(data)))
		return -1;
	return pthread_create(&c->th, NULL, connect_thread, c) ? -1 : 0;
}

/* Join with a bound; 0 if the thread finished. */
static int join_bounded(pthread_t th, int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000 + 1;
	return pthread_timedjoin_np(th, NULL, &ts);
}

TEST_F(cond, accept_blocking_connect)
{
	char buf[64];
	struct connector c;
	struct ucred cr;
	socklen_t len;
	int s;

	ASSERT_EQ(0, start_connect(&c, self->type, self->port, "caller!"));
	ASSERT_EQ(0, wsp_wait_request(self->lfd, WSP_SLOW_MS));
	/* Waiting for a verdict: EPOLLPRI only, accept() would block. */
	EXPECT_EQ(POLLPRI, wsp_revents(self->lfd));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept_nb(self->lfd));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, wsp_verdict_data(self->lfd, head_id(self->lfd),
				      WSP_CF_ACCEPT, "callee", 6, NULL));
	ASSERT_EQ(0, join_bounded(c.th, WSP_SLOW_MS));
	EXPECT_EQ(0, c.ret) TH_LOG("connect: %s", strerror(c.ret));
	EXPECT_EQ(POLLIN, wsp_revents(self->lfd));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, wsp_revents(self->lfd));
	EXPECT_EQ(wsp_local_port(c.fd), wsp_peer_port(s));
	EXPECT_EQ(self->port, wsp_peer_port(c.fd));

	EXPECT_EQ(3, send(c.fd, "abc", 3, 0));
	EXPECT_EQ(3, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(2, send(s, "xy", 2, 0));
	EXPECT_EQ(2, recv(c.fd, buf, sizeof(buf), 0));

	/* Connect data on both ends. */
	EXPECT_EQ(7, wsp_get_data(s, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "caller!", 7));
	EXPECT_EQ(6, wsp_get_data(s, WSP_CALLEE_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "callee", 6));
	EXPECT_EQ(7, wsp_get_data(c.fd, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "caller!", 7));
	EXPECT_EQ(6, wsp_get_data(c.fd, WSP_CALLEE_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "callee", 6));

	/* SO_PEERCRED on both ends. */
	len = sizeof(cr);
	ASSERT_EQ(0, getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(getpid(), cr.pid);
	len = sizeof(cr);
	ASSERT_EQ(0, getsockopt(c.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(getpid(), cr.pid);
	EXPECT_EQ(geteuid(), cr.uid);

	EXPECT_EQ(1, wsp_stat("requests"));
	EXPECT_EQ(1, wsp_stat("accepted"));
	close(s);
	close(c.fd);
}

TEST_F(cond, accept_nonblocking_connect)
{
	int c, s;

	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, wsp_poll1(c, WSP_POLL_ALL, 100));
	ASSERT_EQ(0, wsp_verdict(self->lfd, head_id(self->lfd),
				 WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	EXPECT_EQ(POLLOUT, wsp_revents(c));
	/* A second connect now: EISCONN. */
	errno = 0;
	EXPECT_EQ(-1, wsp_connect(c, self->port));
	EXPECT_EQ(EISCONN, errno);
	s = wsp_accept_nb(self->lfd);
	ASSERT_LE(0, s);
	EXPECT_EQ(1, send(c, "z", 1, 0));
	EXPECT_EQ(1, wsp_recv_n(s, 1));
	close(s);
	close(c);
}

TEST_F(cond, reject_with_data)
{
	char buf[64];
	struct connector c;
	socklen_t len;
	int nb;

	ASSERT_EQ(0, start_connect(&c, self->type, self->port, "let me in"));
	ASSERT_EQ(0, wsp_wait_request(self->lfd, WSP_SLOW_MS));
	ASSERT_EQ(0, wsp_verdict_data(self->lfd, head_id(self->lfd),
				      WSP_CF_REJECT, "go away", 7, NULL));
	ASSERT_EQ(0, join_bounded(c.th, WSP_SLOW_MS));
	EXPECT_EQ(ECONNREFUSED, c.ret);
	EXPECT_EQ(7, wsp_get_data(c.fd, WSP_CALLEE_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "go away", 7));
	EXPECT_EQ(9, wsp_get_data(c.fd, WSP_CALLER_DATA, buf, sizeof(buf)));
	/* Short buffer: ERANGE and the length needed. */
	len = 3;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(c.fd, SOL_WSP, WSP_CALLEE_DATA, buf, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(7, len);
	/* Nothing for accept(), nothing pending. */
	EXPECT_EQ(0, wsp_revents(self->lfd));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept_nb(self->lfd));
	EXPECT_EQ(EAGAIN, errno);
	close(c.fd);

	/* Non-blocking: POLLOUT|POLLERR and SO_ERROR. */
	nb = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, nb);
	ASSERT_EQ(0, wsp_verdict_data(self->lfd, head_id(self->lfd),
				      WSP_CF_REJECT, "no", 2, NULL));
	EXPECT_TRUE(wsp_poll1(nb, POLLOUT, WSP_SLOW_MS) & POLLERR);
	EXPECT_EQ(ECONNREFUSED, wsp_so_error(nb));
	EXPECT_EQ(2, wsp_get_data(nb, WSP_CALLEE_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "no", 2));
	EXPECT_EQ(2, wsp_stat("rejected"));
	EXPECT_EQ(0, wsp_stat("accepted"));
	close(nb);
}

TEST_F(cond, defer_then_accept_later)
{
	struct wsp_request r;
	__u64 id;
	int c, s;

	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	id = head_id(self->lfd);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_DEFER));
	/* Deferred: no EPOLLPRI, no EPOLLIN, still queued and marked. */
	EXPECT_EQ(0, wsp_revents(self->lfd));
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(id, r.id);
	EXPECT_EQ(WSP_REQ_DEFERRED, r.flags);
	/* Deferring again is allowed and counted once. */
	EXPECT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_DEFER));
	EXPECT_EQ(1, wsp_stat("deferred"));
	EXPECT_EQ(0, wsp_poll1(c, WSP_POLL_ALL, 100));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept_nb(self->lfd));
	EXPECT_EQ(EAGAIN, errno);
	/* A later call decides it by id. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	EXPECT_EQ(POLLIN, wsp_revents(self->lfd));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(wsp_local_port(c), wsp_peer_port(s));
	EXPECT_EQ(1, wsp_stat("deferred"));
	EXPECT_EQ(1, wsp_stat("accepted"));
	close(s);
	close(c);
}

TEST_F(cond, deferred_head_second_accepted_first)
{
	struct wsp_request r;
	__u64 ida, idb;
	int a, b, s;

	a = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, a);
	b = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, b);
	ida = head_id(self->lfd);
	ASSERT_EQ(0, wsp_verdict(self->lfd, ida, WSP_CF_DEFER));
	/* b still waits for a verdict. */
	EXPECT_EQ(POLLPRI, wsp_revents(self->lfd));
	ASSERT_EQ(0, wsp_peek(self->lfd, ida, &r));
	idb = r.id;
	EXPECT_EQ(0, r.flags);
	EXPECT_EQ(wsp_local_port(b), r.caller.swsp_port);
	ASSERT_EQ(0, wsp_verdict(self->lfd, idb, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(b, WSP_SLOW_MS));
	EXPECT_EQ(POLLIN, wsp_revents(self->lfd));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(wsp_local_port(b), wsp_peer_port(s));
	close(s);
	/* The deferred head is still there, and a is still connecting. */
	EXPECT_EQ(ida, head_id(self->lfd));
	EXPECT_EQ(0, wsp_revents(a));
	ASSERT_EQ(0, wsp_verdict(self->lfd, ida, WSP_CF_REJECT));
	EXPECT_TRUE(wsp_poll1(a, POLLOUT, WSP_SLOW_MS) & POLLERR);
	EXPECT_EQ(ECONNREFUSED, wsp_so_error(a));
	close(a);
	close(b);
}

struct acceptor {
	int lfd;
	int ret;	/* fd, or -errno */
	pthread_t th;
};

static void *accept_thread(void *arg)
{
	struct acceptor *a = arg;

	a->ret = accept(a->lfd, NULL, NULL);
	if (a->ret < 0)
		a->ret = -errno;
	return NULL;
}

TEST_F(cond, blocked_accept_woken_by_shutdown)
{
	struct acceptor a = { .lfd = self->lfd, .ret = 1 };
	int c;

	c = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, pthread_create(&a.th, NULL, accept_thread, &a));
	/* Let it block; the result is the same if it has not yet. */
	wsp_msleep(100);
	EXPECT_EQ(1, a.ret) TH_LOG("accept() returned with only a request");
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RD));
	ASSERT_EQ(0, join_bounded(a.th, WSP_SLOW_MS));
	EXPECT_EQ(-EINVAL, a.ret);
	/* The waiting request was refused as at close. */
	EXPECT_TRUE(wsp_poll1(c, POLLOUT, WSP_SLOW_MS) & POLLERR);
	EXPECT_EQ(ECONNREFUSED, wsp_so_error(c));
	close(c);
}

/* ---- caller and callee data -------------------------------------------- */

TEST_F(cond, caller_data_rules)
{
	static char big[WSP_DEF_CONNECT_DATA + 1];
	char buf[64];
	socklen_t len;
	int fd, c, s;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	/* Nothing yet: length 0. */
	EXPECT_EQ(0, wsp_get_data(fd, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, wsp_get_data(fd, WSP_CALLEE_DATA, buf, sizeof(buf)));
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, "0123456789",
				10));
	EXPECT_EQ(10, wsp_get_data(fd, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	len = 4;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_CALLER_DATA, buf, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(10, len);
	len = (socklen_t)-1;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_CALLER_DATA, buf, &len));
	EXPECT_EQ(EINVAL, errno);
	/* Replaced, then cleared with length 0. */
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, "ab", 2));
	EXPECT_EQ(2, wsp_get_data(fd, WSP_CALLER_DATA, buf, sizeof(buf)));
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, "", 0));
	EXPECT_EQ(0, wsp_get_data(fd, WSP_CALLER_DATA, buf, sizeof(buf)));

	/* The cap: default, exact fit, one more. */
	EXPECT_EQ(WSP_DEF_CONNECT_DATA, wsp_sysctl_get("max_connect_data"));
	memset(big, 'b', sizeof(big));
	EXPECT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, big,
				WSP_DEF_CONNECT_DATA));
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, big,
				 WSP_DEF_CONNECT_DATA + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	/* The sysctl's range is 0..65536. */
	errno = 0;
	EXPECT_EQ(-1, wsp_sysctl_set("max_connect_data", "65537\n"));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_sysctl_set("max_connect_data", "-1\n"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, wsp_sysctl_set("max_connect_data", "65536\n"));
	EXPECT_EQ(65536, wsp_sysctl_get("max_connect_data"));
	EXPECT_EQ(0, wsp_sysctl_set("max_connect_data", "0\n"));
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, "x", 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, "", 0));
	ASSERT_EQ(0, wsp_sysctl_set("max_connect_data", "4096\n"));
	close(fd);

	/* On a listener: EINVAL. */
	errno = 0;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_CALLER_DATA, "x", 1));
	EXPECT_EQ(EINVAL, errno);
	/* Connecting, then connected: EISCONN; the data is unchanged. */
	c = pending_client(self->type, self->port, "first");
	ASSERT_LE(0, c);
	errno = 0;
	EXPECT_EQ(-1, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, "x", 1));
	EXPECT_EQ(EISCONN, errno);
	errno = 0;
	EXPECT_EQ(-1, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, "", 0));
	EXPECT_EQ(EISCONN, errno);
	ASSERT_EQ(0, wsp_verdict(self->lfd, head_id(self->lfd),
				 WSP_CF_ACCEPT));
	ASSERT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	errno = 0;
	EXPECT_EQ(-1, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, "x", 1));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(5, wsp_get_data(c, WSP_CALLER_DATA, buf, sizeof(buf)));
	/* Accepted without callee data: length 0 on both ends. */
	EXPECT_EQ(0, wsp_get_data(c, WSP_CALLEE_DATA, buf, sizeof(buf)));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(5, wsp_get_data(s, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "first", 5));
	EXPECT_EQ(0, wsp_get_data(s, WSP_CALLEE_DATA, buf, sizeof(buf)));
	errno = 0;
	EXPECT_EQ(-1, setsockopt(s, SOL_WSP, WSP_CALLER_DATA, "x", 1));
	EXPECT_EQ(EISCONN, errno);
	close(s);
	close(c);
}

TEST_F(cond, automatic_accept_data)
{
	char buf[64];
	__u32 aport;
	int alfd, c, s;

	alfd = wsp_listener(self->type, 0, 4, &aport);
	ASSERT_LE(0, alfd);
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, "auto", 4));
	ASSERT_EQ(0, wsp_connect(c, aport));
	s = accept(alfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(4, wsp_get_data(s, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "auto", 4));
	EXPECT_EQ(0, wsp_get_data(s, WSP_CALLEE_DATA, buf, sizeof(buf)));
	EXPECT_EQ(4, wsp_get_data(c, WSP_CALLER_DATA, buf, sizeof(buf)));
	EXPECT_EQ(0, wsp_get_data(c, WSP_CALLEE_DATA, buf, sizeof(buf)));
	close(s);
	close(c);
	close(alfd);
}

/* ---- inheritance -------------------------------------------------------- */

struct attrs {
	int sndbuf, rcvbuf, prio, oob, passcred, mark, efd;
	struct timeval sndtimeo, rcvtimeo;
	struct linger linger;
	__u32 ctimeo;
};

static int set_attrs(int fd, int k, int efd)
{
	struct timeval st = { 2 + k, 250000 }, rt = { 4 + k, 500000 };
	struct linger lg = { 1, 7 + k };
	__u32 ct = 12345 + k;

	if (wsp_set_int(fd, SOL_SOCKET, SO_SNDBUF, 65536 + 4096 * k) ||
	    wsp_set_int(fd, SOL_SOCKET, SO_RCVBUF, 70000 + 4096 * k) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &st, sizeof(st)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt)) ||
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    wsp_set_int(fd, SOL_SOCKET, SO_PRIORITY, 3 + k) ||
	    wsp_set_int(fd, SOL_SOCKET, SO_OOBINLINE, !k) ||
	    (!wsp_kernel_refuses_passcred() &&
	     wsp_set_int(fd, SOL_SOCKET, SO_PASSCRED, !k)) ||
	    wsp_set_int(fd, SOL_SOCKET, SO_MARK, 0x1234 + k) ||
	    setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &ct, sizeof(ct)))
		return -1;
	/* k 0: FD_READ; k 1: FD_CLOSE.  The eventfd tells which. */
	return wsp_event_select(fd, k ? WSP_FD_CLOSE : WSP_FD_READ, efd);
}

static int get_attrs(int fd, struct attrs *a)
{
	socklen_t len;
	int r = 0;

	memset(a, 0, sizeof(*a));
	a->sndbuf = wsp_get_int(fd, SOL_SOCKET, SO_SNDBUF);
	a->rcvbuf = wsp_get_int(fd, SOL_SOCKET, SO_RCVBUF);
	a->prio = wsp_get_int(fd, SOL_SOCKET, SO_PRIORITY);
	a->oob = wsp_get_int(fd, SOL_SOCKET, SO_OOBINLINE);
	a->passcred = wsp_kernel_refuses_passcred() ? 0 :
		      wsp_get_int(fd, SOL_SOCKET, SO_PASSCRED);
	a->mark = wsp_get_int(fd, SOL_SOCKET, SO_MARK);
	len = sizeof(a->sndtimeo);
	r |= getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &a->sndtimeo, &len);
	len = sizeof(a->rcvtimeo);
	r |= getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &a->rcvtimeo, &len);
	len = sizeof(a->linger);
	r |= getsockopt(fd, SOL_SOCKET, SO_LINGER, &a->linger, &len);
	len = sizeof(a->ctimeo);
	r |= getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &a->ctimeo, &len);
	return r;
}

static void check_inherited(struct __test_metadata *_metadata, int lfd,
			    int s, int c, int efd, int k)
{
	struct wsp_network_events ne;
	struct attrs want, got;

	ASSERT_EQ(0, get_attrs(lfd, &want));
	ASSERT_EQ(0, get_attrs(s, &got));
	EXPECT_EQ(want.sndbuf, got.sndbuf);
	EXPECT_EQ(want.rcvbuf, got.rcvbuf);
	EXPECT_EQ(want.sndtimeo.tv_sec, got.sndtimeo.tv_sec);
	EXPECT_EQ(want.sndtimeo.tv_usec, got.sndtimeo.tv_usec);
	EXPECT_EQ(want.rcvtimeo.tv_sec, got.rcvtimeo.tv_sec);
	EXPECT_EQ(want.rcvtimeo.tv_usec, got.rcvtimeo.tv_usec);
	EXPECT_EQ(want.linger.l_onoff, got.linger.l_onoff);
	EXPECT_EQ(want.linger.l_linger, got.linger.l_linger);
	EXPECT_EQ(want.prio, got.prio);
	EXPECT_EQ(want.oob, got.oob);
	EXPECT_EQ(want.passcred, got.passcred);
	EXPECT_EQ(want.mark, got.mark);
	EXPECT_EQ(want.ctimeo, got.ctimeo);
	EXPECT_EQ(7 + k, got.linger.l_linger);
	EXPECT_EQ(3 + k, got.prio);
	EXPECT_EQ(0x1234 + k, got.mark);
	EXPECT_EQ(!k, got.oob);
	EXPECT_EQ(wsp_kernel_refuses_passcred() ? 0 : !k, got.passcred);
	EXPECT_EQ(12345 + k, got.ctimeo);
	EXPECT_EQ(2 + k, got.sndtimeo.tv_sec);

	/* The registration: mask and eventfd.  FD_WRITE is not selected. */
	wsp_efd_take(efd);
	ASSERT_EQ(0, wsp_net_events(s, &ne));
	EXPECT_EQ(0, ne.events);
	ASSERT_EQ(1, send(c, "d", 1, 0));
	EXPECT_EQ(k ? 0 : WSP_FD_READ, wsp_events_now(s));
	EXPECT_EQ(k ? 0 : 1, wsp_efd_take(efd));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_EQ(k ? WSP_FD_CLOSE : 0, wsp_events_now(s));
	EXPECT_EQ(k ? 1 : 0, wsp_efd_take(efd));
}

static void inherit_case(struct __test_metadata *_metadata, int type,
			 bool conditional)
{
	int lfd, c, s, efd[2], k;
	__u32 port;

	efd[0] = eventfd(0, EFD_NONBLOCK);
	efd[1] = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd[0]);
	ASSERT_LE(0, efd[1]);
	lfd = wsp_socket(type);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_bind(lfd, 0));
	ASSERT_EQ(0, listen(lfd, 4));
	port = wsp_local_port(lfd);
	ASSERT_EQ(0, wsp_set_int(lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT,
				 conditional));
	/*
	 * Automatic: the values at arrival (k 0), changed afterwards.
	 * Conditional: the values at the verdict (k 1), changed after
	 * arrival.
	 */
	ASSERT_EQ(0, set_attrs(lfd, 0, efd[0]));
	c = wsp_socket(type);
	ASSERT_LE(0, c);
	ASSERT_EQ(conditional ? EINPROGRESS : 0, wsp_connect_nb(c, port));
	ASSERT_EQ(0, set_attrs(lfd, 1, efd[1]));
	if (conditional) {
		ASSERT_EQ(0, wsp_verdict(lfd, head_id(lfd), WSP_CF_ACCEPT));
		ASSERT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
		/* Changed after the verdict: not taken. */
		k = 1;
	} else {
		/* Back to the arrival values to compare. */
		k = 0;
	}
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	if (conditional)
		ASSERT_EQ(0, set_attrs(lfd, 2, efd[0]));
	ASSERT_EQ(0, set_attrs(lfd, k, efd[k]));
	check_inherited(_metadata, lfd, s, c, efd[k], k);
	close(s);
	close(c);
	close(lfd);
	close(efd[0]);
	close(efd[1]);
}

/* SO_PASSCRED is the socket core's: where it refuses the option on
 * AF_WSP, both ends and the accepted socket refuse it, and nothing else
 * changes; elsewhere it is set, read back and inherited (above).
 */
TEST_F(cond, so_passcred_follows_the_core)
{
	int lfd, c, s, u, one = 1, v = -1;
	socklen_t len = sizeof(v);
	int fds[3];
	unsigned int i;

	/* AF_UNIX keeps it on every kernel: the rule is per family. */
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, setsockopt(u, SOL_SOCKET, SO_PASSCRED, &one,
				sizeof(one)));
	close(u);

	ASSERT_EQ(0, wsp_pair(self->type, &lfd, &c, &s, 0));
	fds[0] = lfd;
	fds[1] = c;
	fds[2] = s;
	for (i = 0; i < 3; i++) {
		int fd = fds[i];

		len = sizeof(v);
		if (wsp_kernel_refuses_passcred()) {
			EXPECT_EQ(-1, setsockopt(fd, SOL_SOCKET, SO_PASSCRED,
						 &one, sizeof(one)));
			EXPECT_EQ(EOPNOTSUPP, errno);
			EXPECT_EQ(-1, getsockopt(fd, SOL_SOCKET, SO_PASSCRED,
						 &v, &len));
			EXPECT_EQ(EOPNOTSUPP, errno);
		} else {
			EXPECT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_PASSCRED,
						&one, sizeof(one)));
			EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PASSCRED,
						&v, &len));
			EXPECT_EQ(1, v);
		}
	}
	close(s);
	close(c);
	close(lfd);
}

TEST_F(cond, inherit_automatic)
{
	inherit_case(_metadata, self->type, false);
}

TEST_F(cond, inherit_conditional)
{
	inherit_case(_metadata, self->type, true);
}

/* ---- counters and the tracepoint ---------------------------------------- */

TEST_F(cond, counters)
{
	int a, b, d, t, full, i, fill[16];
	__u32 tport;
	int tlfd;

	a = pending_client(self->type, self->port, NULL);
	b = pending_client(self->type, self->port, NULL);
	d = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, d);
	EXPECT_EQ(3, wsp_stat("requests"));
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_ACCEPT));
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_REJECT));
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_DEFER));
	EXPECT_EQ(1, wsp_stat("accepted"));
	EXPECT_EQ(1, wsp_stat("rejected"));
	EXPECT_EQ(1, wsp_stat("deferred"));
	close(d);
	EXPECT_EQ(1, wsp_stat("withdrawn_close"));
	EXPECT_EQ(0, wsp_stat("withdrawn_timeout"));

	t = wsp_socket(self->type);
	ASSERT_LE(0, t);
	ASSERT_EQ(0, wsp_set_timeout_ms(t, 50));
	errno = 0;
	EXPECT_EQ(-1, wsp_connect(t, self->port));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(1, wsp_stat("withdrawn_timeout"));
	close(t);

	/* Backlog overflow on a cap-2 listener. */
	tlfd = wsp_cond_listener(self->type, 0, 2, &tport);
	ASSERT_LE(0, tlfd);
	for (i = 0; i < 2; i++) {
		fill[i] = pending_client(self->type, tport, NULL);
		ASSERT_LE(0, fill[i]);
	}
	full = wsp_socket(self->type);
	ASSERT_LE(0, full);
	EXPECT_EQ(ECONNREFUSED, wsp_connect_nb(full, tport));
	EXPECT_EQ(1, wsp_stat("backlog_overflows"));
	close(full);
	EXPECT_EQ(6, wsp_stat("requests"));
	EXPECT_EQ(0, wsp_stat("unknown_verdicts"));
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, 1ULL << 60, WSP_CF_ACCEPT));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(1, wsp_stat("unknown_verdicts"));
	for (i = 0; i < 2; i++)
		close(fill[i]);
	close(tlfd);
	close(a);
	close(b);
}

static char tracing[256];

static int count_str(const char *s, const char *pat)
{
	int n = 0;

	while ((s = strstr(s, pat))) {
		n++;
		s++;
	}
	return n;
}

TEST_F(cond, verdict_tracepoint)
{
	static char buf[1 << 16];
	char p[512], pat[64];
	int a, b, d;

	if (!wsp_trace_instance(tracing, sizeof(tracing), "wsp_cond")[0])
		SKIP(return, "no tracefs in this kernel");
	ASSERT_EQ(0, wsp_trace_write(tracing, "events/wsp/verdict/enable", "1"));
	ASSERT_EQ(0, wsp_trace_write(tracing, "trace", ""));
	ASSERT_EQ(0, wsp_trace_write(tracing, "tracing_on", "1"));
	a = pending_client(self->type, self->port, NULL);
	b = pending_client(self->type, self->port, NULL);
	d = pending_client(self->type, self->port, NULL);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_ACCEPT));
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_REJECT));
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_DEFER));
	/* An unknown id is no verdict. */
	EXPECT_EQ(-1, wsp_verdict(self->lfd, 1ULL << 60, WSP_CF_ACCEPT));

	snprintf(p, sizeof(p), "%s/trace", tracing);
	ASSERT_LT(0, wsp_read_file(p, buf, sizeof(buf)));
	wsp_trace_write(tracing, "events/wsp/verdict/enable", "0");
	rmdir(tracing);
	EXPECT_EQ(3, count_str(buf, " verdict:")) TH_LOG("%s", buf);
	snprintf(pat, sizeof(pat), "lport=%u ", self->port);
	EXPECT_EQ(3, count_str(buf, pat)) TH_LOG("%s", buf);
	EXPECT_EQ(1, count_str(buf, "verdict=accept"));
	EXPECT_EQ(1, count_str(buf, "verdict=reject"));
	EXPECT_EQ(1, count_str(buf, "verdict=defer"));
	close(a);
	close(b);
	close(d);
}

/* ---- races -------------------------------------------------------------- */

struct race {
	int lfd;
	int type;
	__u32 port;
	long long deadline;
	int unexpected;
	int last_err;
	const char *where;
	long verdicts_ok, verdicts_enoent, connects_ok, children;
	__u32 ctimeo;		/* client WSP_CONNECT_TIMEOUT, 0: none */
	pthread_t client_th;	/* for the signaller */
};

static bool running(struct race *r)
{
	return wsp_now_ms() < r->deadline;
}

static void bad(struct race *r, int err, const char *where)
{
	__atomic_add_fetch(&r->unexpected, 1, __ATOMIC_SEQ_CST);
	r->last_err = err;
	r->where = where;
}

static void add(long *v)
{
	__atomic_add_fetch(v, 1, __ATOMIC_SEQ_CST);
}

/* Accept every undecided request, until the deadline. */
static void *verdict_loop(void *arg)
{
	struct race *r = arg;
	struct wsp_request q;

	while (running(r)) {
		if (wsp_peek(r->lfd, 0, &q)) {
			if (errno != EAGAIN && errno != EINVAL)
				bad(r, errno, "peek");
			continue;
		}
		if (!wsp_verdict(r->lfd, q.id, WSP_CF_ACCEPT))
			add(&r->verdicts_ok);
		else if (errno == ENOENT)
			add(&r->verdicts_enoent);
		else if (errno != EINVAL)	/* listener stopped */
			bad(r, errno, "verdict");
	}
	return NULL;
}

/* Non-blocking connects, closed at once or after a short wait. */
static void *close_loop(void *arg)
{
	struct race *r = arg;
	int fd, err, i = 0;

	while (running(r)) {
		fd = wsp_socket(r->type);
		if (fd < 0) {
			bad(r, errno, "socket");
			break;
		}
		err = wsp_connect_nb(fd, r->port);
		if (err == EINPROGRESS && (i++ & 1) &&
		    wsp_poll1(fd, POLLOUT, 1) > 0) {
			err = wsp_so_error(fd);
			if (!err)
				add(&r->connects_ok);
			else if (err != ECONNREFUSED)
				bad(r, err, "so_error");
		} else if (err && err != EINPROGRESS && err != ECONNREFUSED) {
			bad(r, err, "connect");
		}
		close(fd);
	}
	return NULL;
}

/* Blocking connects that may time out (r->ctimeo ms). */
static void *timeout_loop(void *arg)
{
	struct race *r = arg;
	int fd, err;

	while (running(r)) {
		fd = wsp_socket(r->type);
		if (fd < 0) {
			bad(r, errno, "socket");
			break;
		}
		wsp_set_timeout_ms(fd, r->ctimeo);
		err = wsp_connect(fd, r->port) ? errno : 0;
		if (!err)
			add(&r->connects_ok);
		else if (err != ETIMEDOUT && err != ECONNREFUSED)
			bad(r, err, "connect");
		close(fd);
	}
	return NULL;
}

/* Blocking connects that signals interrupt: they must still complete. */
static void *eintr_loop(void *arg)
{
	struct race *r = arg;
	int fd, err;

	while (running(r)) {
		fd = wsp_socket(r->type);
		if (fd < 0) {
			bad(r, errno, "socket");
			break;
		}
		/* Once the verdicts stop, a last request times out. */
		wsp_set_timeout_ms(fd, 1000);
		err = wsp_connect(fd, r->port) ? errno : 0;
		while (err == EINTR) {
			err = wsp_wait_connect(fd, WSP_SLOW_MS);
			if (err < 0)	/* poll() interrupted too */
				err = errno == EINTR ? EINTR : ETIME;
		}
		if (!err)
			add(&r->connects_ok);
		else if (err != ECONNREFUSED &&	/* backlog full */
			 (err != ETIMEDOUT || running(r)))
			bad(r, err, "connect");
		close(fd);
	}
	return NULL;
}

static void *signal_loop(void *arg)
{
	struct race *r = arg;
	unsigned int n = 0;

	while (running(r)) {
		pthread_kill(r->client_th, SIGUSR1);
		/* 0..255 us between signals. */
		usleep(++n * 37 % 256);
	}
	return NULL;
}

static int drain_children(int lfd)
{
	int fd, n = 0;

	while ((fd = wsp_accept_nb(lfd)) >= 0) {
		close(fd);
		n++;
	}
	return n;
}

static int join_all(pthread_t *th, int n, int timeout_ms)
{
	int i, hung = 0;

	for (i = 0; i < n; i++)
		if (join_bounded(th[i], timeout_ms))
			hung++;
	return hung;
}

/* Run @client (NCLIENTS threads) against a verdict thread on @r. */
static void run_race(struct __test_metadata *_metadata, struct race *r,
		     void *(*client)(void *))
{
	pthread_t th[NCLIENTS + 1];
	int i, rm = 0;

	r->deadline = wsp_now_ms() + RACE_MS;
	ASSERT_EQ(0, pthread_create(&th[0], NULL, verdict_loop, r));
	for (i = 1; i <= NCLIENTS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, client, r));
	while (running(r)) {
		r->children += drain_children(r->lfd);
		if (wsp_rmmod_refused())
			rm++;
		wsp_msleep(20);
	}
	EXPECT_EQ(0, join_all(th, NCLIENTS + 1, WSP_SLOW_MS + RACE_MS));
	r->children += drain_children(r->lfd);
	EXPECT_EQ(0, rm) TH_LOG("rmmod was not refused");
	EXPECT_EQ(0, r->unexpected) TH_LOG("last: %s at %s", strerror(r->last_err),
				       r->where);
	/* Every accepted request became exactly one child. */
	EXPECT_EQ(r->verdicts_ok, r->children);
	EXPECT_EQ(r->verdicts_ok, wsp_stat("accepted"));
	EXPECT_LT(0, r->verdicts_ok + r->verdicts_enoent)
		TH_LOG("the race never ran");
}

TEST_F(cond, race_verdict_vs_close)
{
	struct race r = { .lfd = self->lfd, .type = self->type,
			  .port = self->port };

	run_race(_metadata, &r, close_loop);
	/* Nothing left behind: every request was decided or withdrawn. */
	EXPECT_EQ(wsp_stat("requests"),
		  wsp_stat("accepted") + wsp_stat("withdrawn_close"));
	EXPECT_EQ(0, head_id(self->lfd));
}

TEST_F(cond, race_verdict_vs_timeout)
{
	struct race r = { .lfd = self->lfd, .type = self->type,
			  .port = self->port, .ctimeo = 2 };

	run_race(_metadata, &r, timeout_loop);
	/* A blocking connect returned 0 exactly when it was accepted. */
	EXPECT_EQ(r.verdicts_ok, r.connects_ok);
	EXPECT_EQ(wsp_stat("requests"),
		  wsp_stat("accepted") + wsp_stat("withdrawn_timeout"));
	EXPECT_EQ(0, wsp_stat("withdrawn_close"));
}

TEST_F(cond, race_verdict_vs_signal)
{
	struct race r = { .lfd = self->lfd, .type = self->type,
			  .port = self->port };
	pthread_t th[3];

	ASSERT_EQ(0, wsp_interrupting_signal(SIGUSR1));
	r.deadline = wsp_now_ms() + RACE_MS;
	ASSERT_EQ(0, pthread_create(&th[0], NULL, verdict_loop, &r));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, eintr_loop, &r));
	r.client_th = th[1];
	ASSERT_EQ(0, pthread_create(&th[2], NULL, signal_loop, &r));
	while (running(&r)) {
		r.children += drain_children(self->lfd);
		EXPECT_EQ(0, wsp_rmmod_refused());
		wsp_msleep(20);
	}
	EXPECT_EQ(0, join_all(th, 3, WSP_SLOW_MS + RACE_MS));
	r.children += drain_children(self->lfd);
	EXPECT_EQ(0, r.unexpected) TH_LOG("last: %s at %s",
				      strerror(r.last_err), r.where);
	EXPECT_EQ(r.verdicts_ok, r.children);
	/* An interrupted connect stays queued: none was withdrawn. */
	EXPECT_EQ(r.verdicts_ok, r.connects_ok);
	EXPECT_EQ(0, wsp_stat("withdrawn_close"));
	EXPECT_LT(0, r.connects_ok);
}

TEST_F(cond, eintr_keeps_request)
{
	struct connector c;
	struct wsp_request q;
	long long end;
	int s;

	ASSERT_EQ(0, wsp_interrupting_signal(SIGUSR1));
	ASSERT_EQ(0, start_connect(&c, self->type, self->port, NULL));
	ASSERT_EQ(0, wsp_wait_request(self->lfd, WSP_SLOW_MS));
	/* The request is queued, so connect() is in (or near) its wait. */
	end = wsp_now_ms() + WSP_SLOW_MS;
	while (pthread_tryjoin_np(c.th, NULL) == EBUSY) {
		ASSERT_GT(end, wsp_now_ms()) TH_LOG("connect() not interrupted");
		pthread_kill(c.th, SIGUSR1);
		wsp_msleep(10);
	}
	EXPECT_EQ(EINTR, c.ret);
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &q));
	EXPECT_EQ(wsp_local_port(c.fd), q.caller.swsp_port);
	errno = 0;
	EXPECT_EQ(-1, wsp_connect(c.fd, self->port));
	EXPECT_EQ(EALREADY, errno);
	ASSERT_EQ(0, wsp_verdict(self->lfd, q.id, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(c.fd, WSP_SLOW_MS));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, wsp_stat("withdrawn_close"));
	close(s);
	close(c.fd);
}

TEST_F(cond, race_verdict_vs_listener_stop)
{
	int i, rounds = 0, ok, total_ok = 0, refused = 0, err;
	long long end = wsp_now_ms() + RACE_MS;
	int fds[NCLIENTS];
	pthread_t th;

	while (wsp_now_ms() < end) {
		struct race rr = { .type = self->type };

		rr.lfd = wsp_cond_listener(self->type, 0, 16, &rr.port);
		ASSERT_LE(0, rr.lfd);
		for (i = 0; i < NCLIENTS; i++) {
			fds[i] = pending_client(self->type, rr.port, NULL);
			ASSERT_LE(0, fds[i]);
		}
		rr.deadline = wsp_now_ms() + 50;
		ASSERT_EQ(0, pthread_create(&th, NULL, verdict_loop, &rr));
		usleep(rounds * 97 % 500);
		/* Stop it as close does; the fd stays valid for the thread. */
		ASSERT_EQ(0, shutdown(rr.lfd, SHUT_RD));
		ASSERT_EQ(0, join_bounded(th, WSP_SLOW_MS));
		EXPECT_EQ(0, rr.unexpected) TH_LOG("%s at %s",
					       strerror(rr.last_err), rr.where);
		ok = 0;
		for (i = 0; i < NCLIENTS; i++) {
			/* Accepted, then reset by the stop if not accepted. */
			err = wsp_wait_connect(fds[i], WSP_SLOW_MS);
			if (!err || err == ECONNRESET)
				ok++;
			else if (err == ECONNREFUSED)
				refused++;
			else
				EXPECT_EQ(ECONNREFUSED, err);
			close(fds[i]);
		}
		EXPECT_EQ(rr.verdicts_ok, ok);
		total_ok += ok;
		errno = 0;
		EXPECT_EQ(-1, wsp_accept_nb(rr.lfd));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, wsp_rmmod_refused());
		close(rr.lfd);
		rounds++;
	}
	EXPECT_EQ(rounds * NCLIENTS, total_ok + refused);
	EXPECT_EQ(total_ok, wsp_stat("accepted"));
	TH_LOG("%d rounds, %d accepted, %d refused", rounds, total_ok, refused);
}

struct duel {
	int lfd;
	__u64 id;
	__u32 verdict;
	int ret;
	pthread_barrier_t *start, *done;
	bool stop;
};

static void *duel_thread(void *arg)
{
	struct duel *d = arg;

	for (;;) {
		pthread_barrier_wait(d->start);
		if (d->stop)
			break;
		d->ret = wsp_verdict(d->lfd, d->id, d->verdict) ? errno : 0;
		pthread_barrier_wait(d->done);
	}
	return NULL;
}

TEST_F(cond, race_two_verdicts_same_id)
{
	pthread_barrier_t start, done;
	struct duel d[2];
	int c, s, rounds = 0, wins[2] = { 0, 0 }, err;
	long long end = wsp_now_ms() + RACE_MS;
	pthread_t th[2];
	int i;

	pthread_barrier_init(&start, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	for (i = 0; i < 2; i++) {
		d[i] = (struct duel){ .lfd = self->lfd, .start = &start,
				      .done = &done,
				      .verdict = i ? WSP_CF_REJECT :
						     WSP_CF_ACCEPT };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, duel_thread, &d[i]));
	}
	while (wsp_now_ms() < end) {
		c = pending_client(self->type, self->port, NULL);
		ASSERT_LE(0, c);
		d[0].id = head_id(self->lfd);
		d[1].id = d[0].id;
		ASSERT_LT(0, d[0].id);
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&done);
		/* Exactly one wins; the other finds the id gone. */
		ASSERT_EQ(ENOENT, d[0].ret ? d[0].ret : d[1].ret)
			TH_LOG("round %d: %d %d", rounds, d[0].ret, d[1].ret);
		ASSERT_EQ(0, d[0].ret ? d[1].ret : d[0].ret);
		err = wsp_wait_connect(c, WSP_SLOW_MS);
		if (!d[0].ret) {
			wins[0]++;
			EXPECT_EQ(0, err);
			s = wsp_accept_nb(self->lfd);
			EXPECT_LE(0, s);
			close(s);
		} else {
			wins[1]++;
			EXPECT_EQ(ECONNREFUSED, err);
		}
		close(c);
		rounds++;
	}
	d[0].stop = true;
	d[1].stop = true;
	pthread_barrier_wait(&start);
	EXPECT_EQ(0, join_all(th, 2, WSP_SLOW_MS));
	EXPECT_EQ(wins[0], wsp_stat("accepted"));
	EXPECT_EQ(wins[1], wsp_stat("rejected"));
	EXPECT_EQ(rounds, wsp_stat("unknown_verdicts"));
	TH_LOG("%d rounds: accept won %d, reject won %d", rounds, wins[0],
	       wins[1]);
}

/* Keep requests coming and going while a peeker walks the cursor. */
static void *churn_loop(void *arg)
{
	struct race *r = arg;
	int fds[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
	unsigned int n = 0;
	int err;

	while (running(r)) {
		n++;
		wsp_close(&fds[n % 8]);
		fds[n % 8] = wsp_socket(r->type);
		if (fds[n % 8] < 0) {
			bad(r, errno, "socket");
			break;
		}
		err = wsp_connect_nb(fds[n % 8], r->port);
		if (err != EINPROGRESS && err != ECONNREFUSED)
			bad(r, err, "connect");
		if (n % 5 == 0)
			wsp_decide_oldest(r->lfd, n % 10 ? WSP_CF_REJECT :
							  WSP_CF_DEFER);
	}
	for (n = 0; n < 8; n++)
		wsp_close(&fds[n]);
	return NULL;
}

TEST_F(cond, race_peek_cursor_vs_removal)
{
	struct race r = { .lfd = self->lfd, .type = self->type,
			  .port = self->port };
	struct wsp_request q;
	long walks = 0, seen = 0;
	pthread_t th[2];
	__u64 cur;

	r.deadline = wsp_now_ms() + RACE_MS;
	ASSERT_EQ(0, pthread_create(&th[0], NULL, churn_loop, &r));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, churn_loop, &r));
	while (running(&r)) {
		cur = 0;
		for (;;) {
			if (wsp_peek(self->lfd, cur, &q)) {
				EXPECT_EQ(EAGAIN, errno);
				break;
			}
			ASSERT_LT(cur, q.id) TH_LOG("cursor went back");
			EXPECT_EQ(0, q.flags & ~WSP_REQ_DEFERRED);
			cur = q.id;
			seen++;
		}
		walks++;
		if (walks % 64 == 0)
			EXPECT_EQ(0, wsp_rmmod_refused());
	}
	EXPECT_EQ(0, join_all(th, 2, WSP_SLOW_MS + RACE_MS));
	EXPECT_EQ(0, r.unexpected) TH_LOG("%s at %s", strerror(r.last_err),
				      r.where);
	EXPECT_LT(0, seen);
	/* All clients closed: nothing left to peek. */
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &q));
	EXPECT_EQ(EAGAIN, errno);
	TH_LOG("%ld walks, %ld requests seen", walks, seen);
}

TEST_HARNESS_MAIN
