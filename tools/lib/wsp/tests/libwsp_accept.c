// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: wsp_accept() (WSAAccept with a condition function), and the
 * options under it, wsp_peek_request() and wsp_verdict().
 *
 * Clients whose connect waits for a verdict run in threads (struct
 * client) or connect without blocking (pending_client()).
 */
#include <sys/socket.h>

#include "libwsp_test.h"

/* What a condition saw, and what it answers. */
struct cond_ctx {
	int			calls;
	int			verdict;	/* what to return */
	int			set_errno;	/* errno to set, for failures */
	const void		*data;		/* answer data */
	size_t			len;
	bool			grant;
	struct wsp_qos		qos;
	int			close_fd;	/* closed before answering */
	/* seen */
	uint64_t		id;
	uint32_t		flags;
	uint32_t		pid;
	uint32_t		caller_port;
	uint32_t		data_len;
	unsigned char		seen[4096];
	bool			errno_zero;
	bool			answer_empty;
};

static int cond_fn(const struct wsp_request *req, struct wsp_answer *ans,
		   void *arg)
{
	struct cond_ctx *x = arg;
	static const struct wsp_answer empty;

	x->calls++;
	x->errno_zero = errno == 0;
	x->answer_empty = !memcmp(ans, &empty, sizeof(empty));
	x->id = req->id;
	x->flags = req->flags;
	x->pid = req->pid;
	x->caller_port = req->caller.swsp_port;
	x->data_len = req->data_len;
	memcpy(x->seen, req->data,
	       req->data_len < sizeof(x->seen) ? req->data_len :
						 sizeof(x->seen));
	if (x->close_fd >= 0)
		close_fd(&x->close_fd);
	ans->data = x->data;
	ans->data_len = x->len;
	ans->has_qos = x->grant;
	ans->qos = x->qos;
	if (x->set_errno)
		errno = x->set_errno;
	return x->verdict;
}

static void ctx_init(struct cond_ctx *x, int verdict)
{
	memset(x, 0, sizeof(*x));
	x->verdict = verdict;
	x->close_fd = -1;
}

FIXTURE(acc) {
	int lfd;
	uint32_t port;
	int type;
};

FIXTURE_VARIANT(acc) {
	int type;
};

FIXTURE_VARIANT_ADD(acc, stream) {
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(acc, seqpacket) {
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(acc)
{
	self->type = variant->type;
	self->lfd = listener(variant->type, true, &self->port);
	ASSERT_LE(0, self->lfd) TH_LOG("listener: %s", strerror(errno));
}

FIXTURE_TEARDOWN(acc)
{
	close_fd(&self->lfd);
}

TEST_F(acc, plain)
{
	struct sockaddr_wsp a;
	socklen_t alen = sizeof(a);
	uint32_t port, cport;
	int lfd, cfd, sfd;

	lfd = listener(self->type, false, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_socket(self->type);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	ASSERT_EQ(0, wsp_local_port(cfd, &cport));
	memset(&a, 0xff, sizeof(a));
	sfd = wsp_accept(lfd, &a, &alen, NULL, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(sizeof(a), alen);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(cport, a.swsp_port);
	close(sfd);
	close(cfd);

	/* A plain accept() on the conditional listener: nothing accepted. */
	ASSERT_EQ(0, fcntl(self->lfd, F_SETFL, O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(lfd);
}

TEST_F(acc, accept)
{
	static const char caller[] = "may I?";
	static const char callee[] = "welcome";
	struct sockaddr_wsp a;
	socklen_t alen = sizeof(a);
	struct client c = { 0 };
	struct cond_ctx x;
	uint64_t sid = 0;
	uint32_t cport;
	char buf[4];
	int sfd;

	ctx_init(&x, WSP_CF_ACCEPT);
	x.data = callee;
	x.len = sizeof(callee);
	/* The client may come after wsp_accept() started waiting. */
	ASSERT_EQ(0, client_start(&c, self->type, self->port, caller,
				  sizeof(caller)));
	memset(&a, 0, sizeof(a));
	sfd = wsp_accept(self->lfd, &a, &alen, cond_fn, &x);
	ASSERT_LE(0, sfd) TH_LOG("wsp_accept: %s", strerror(errno));
	client_join(&c);
	ASSERT_EQ(0, c.ret) TH_LOG("connect: %s", strerror(c.err));

	EXPECT_EQ(1, x.calls);
	EXPECT_TRUE(x.errno_zero);
	EXPECT_TRUE(x.answer_empty);
	EXPECT_EQ(sizeof(caller), x.data_len);
	EXPECT_EQ(0, memcmp(x.seen, caller, sizeof(caller)));
	EXPECT_EQ((uint32_t)getpid(), x.pid);
	EXPECT_EQ(0, x.flags);
	ASSERT_EQ(0, wsp_local_port(c.fd, &cport));
	EXPECT_EQ(cport, x.caller_port);

	/* The socket is that request's, on both ends. */
	ASSERT_EQ(0, wsp_request_id(sfd, &sid));
	EXPECT_EQ(x.id, sid);
	EXPECT_EQ(c.id, sid);
	EXPECT_EQ(sizeof(a), alen);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(cport, a.swsp_port);
	EXPECT_EQ(sizeof(callee), c.callee_len);
	EXPECT_EQ(0, memcmp(c.callee, callee, sizeof(callee)));
	/* Blocking, close-on-exec not set, as accept() gives it. */
	EXPECT_EQ(0, fcntl(sfd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(sfd, F_GETFD) & FD_CLOEXEC);

	/* And it carries data. */
	ASSERT_EQ(3, send(c.fd, "abc", 3, 0));
	ASSERT_EQ(3, recv(sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	close(sfd);
	close(c.fd);
}

TEST_F(acc, short_addrlen)
{
	struct sockaddr_wsp a;
	socklen_t alen = 4;
	struct cond_ctx x;
	int cfd, sfd;

	ctx_init(&x, WSP_CF_ACCEPT);
	cfd = pending_client(self->type, self->port, NULL, 0);
	ASSERT_LE(0, cfd);
	memset(&a, 0xee, sizeof(a));
	sfd = wsp_accept(self->lfd, &a, &alen, cond_fn, &x);
	ASSERT_LE(0, sfd);
	/* As accept(): truncated to the room given, the full length back. */
	EXPECT_EQ(sizeof(a), alen);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(0xeeeeeeee, a.swsp_port);
	close(sfd);
	close(cfd);
}

TEST_F(acc, reject)
{
	static const char why[] = "go away";
	struct client c = { 0 };
	struct cond_ctx x;

	ctx_init(&x, WSP_CF_REJECT);
	x.data = why;
	x.len = sizeof(why);
	ASSERT_EQ(0, client_start(&c, self->type, self->port, NULL, 0));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(ECONNREFUSED, errno);
	client_join(&c);
	EXPECT_EQ(1, x.calls);
	EXPECT_EQ(-1, c.ret);
	EXPECT_EQ(ECONNREFUSED, c.err);
	EXPECT_EQ(sizeof(why), c.callee_len);
	EXPECT_EQ(0, memcmp(c.callee, why, sizeof(why)));
	close(c.fd);
}

TEST_F(acc, defer_presented_again_then_verdict)
{
	struct client c = { 0 };
	struct cond_ctx x, never;
	uint64_t id, sid = 0;
	int sfd;

	ctx_init(&x, WSP_CF_DEFER);
	ASSERT_EQ(0, client_start(&c, self->type, self->port, "later", 5));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(1, x.calls);
	EXPECT_EQ(0, x.flags);
	id = x.id;
	ASSERT_NE(0, id);

	/* Winsock presents a deferred request again. */
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(2, x.calls);
	EXPECT_EQ(id, x.id);
	EXPECT_EQ(WSP_REQ_DEFERRED, x.flags & WSP_REQ_DEFERRED);
	EXPECT_EQ(5, x.data_len);

	/* Decided later, by id, outside wsp_accept(). */
	ASSERT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_ACCEPT, "ok", 2, NULL));
	client_join(&c);
	ASSERT_EQ(0, c.ret);
	EXPECT_EQ(2, c.callee_len);
	/* The accepted connection comes first, with no condition call. */
	ctx_init(&never, WSP_CF_REJECT);
	sfd = wsp_accept(self->lfd, NULL, NULL, cond_fn, &never);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, never.calls);
	ASSERT_EQ(0, wsp_request_id(sfd, &sid));
	EXPECT_EQ(id, sid);
	EXPECT_EQ(c.id, sid);
	close(sfd);
	close(c.fd);
}

TEST_F(acc, accepted_ones_first)
{
	uint64_t a_id, b_id, sid = 0;
	struct wsp_request *ra, *rb;
	int afd, bfd, sfd, sfd2;
	struct cond_ctx x;

	afd = pending_client(self->type, self->port, "A", 1);
	ASSERT_LE(0, afd);
	bfd = pending_client(self->type, self->port, "B", 1);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &ra));
	a_id = ra->id;
	ASSERT_EQ(0, wsp_peek_request(self->lfd, a_id, &rb));
	b_id = rb->id;
	EXPECT_EQ('A', ra->data[0]);
	EXPECT_EQ('B', rb->data[0]);
	wsp_request_free(ra);
	wsp_request_free(rb);

	/* B, the younger, is accepted outside: it is returned first. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, b_id, WSP_CF_ACCEPT, NULL, 0,
				 NULL));
	ctx_init(&x, WSP_CF_ACCEPT);
	sfd = wsp_accept(self->lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, x.calls);
	ASSERT_EQ(0, wsp_request_id(sfd, &sid));
	EXPECT_EQ(b_id, sid);
	EXPECT_EQ(0, connect_outcome(bfd));

	/* Then A goes to the condition. */
	sfd2 = wsp_accept(self->lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd2);
	EXPECT_EQ(1, x.calls);
	EXPECT_EQ(a_id, x.id);
	ASSERT_EQ(0, wsp_request_id(sfd2, &sid));
	EXPECT_EQ(a_id, sid);
	EXPECT_EQ(0, connect_outcome(afd));
	close(sfd2);
	close(sfd);
	close(bfd);
	close(afd);
}

TEST_F(acc, automatic_listener)
{
	uint64_t cid = 0, sid = 0;
	struct cond_ctx x;
	int lfd, cfd, sfd;
	uint32_t port;

	/* Accepted on arrival (as a filter's ACCEPT would): no condition. */
	lfd = listener(self->type, false, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_socket(self->type);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	ctx_init(&x, WSP_CF_REJECT);
	sfd = wsp_accept(lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, x.calls);
	ASSERT_EQ(0, wsp_request_id(sfd, &sid));
	ASSERT_EQ(0, wsp_request_id(cfd, &cid));
	EXPECT_EQ(cid, sid);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_F(acc, nonblocking_listener)
{
	struct cond_ctx x;
	int lfd, cfd, sfd;
	uint32_t port;

	lfd = wsp_socket(self->type | SOCK_NONBLOCK);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_set_conditional(lfd, 1));
	ASSERT_EQ(0, wsp_bind(lfd, 0));
	ASSERT_EQ(0, listen(lfd, 8));
	ASSERT_EQ(0, wsp_local_port(lfd, &port));
	ctx_init(&x, WSP_CF_ACCEPT);
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, x.calls);

	cfd = pending_client(self->type, port, NULL, 0);
	ASSERT_LE(0, cfd);
	sfd = wsp_accept(lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(1, x.calls);
	EXPECT_EQ(0, connect_outcome(cfd));
	/* The new socket is blocking, as accept() makes it. */
	EXPECT_EQ(0, fcntl(sfd, F_GETFL) & O_NONBLOCK);
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EAGAIN, errno);
	close(sfd);
	close(cfd);

	/* O_NONBLOCK set later is seen too. */
	ASSERT_EQ(0, fcntl(self->lfd, F_SETFL, O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EAGAIN, errno);
	close(lfd);
}

TEST_F(acc, condition_fails)
{
	struct wsp_request *req;
	struct cond_ctx x;
	int cfd, sfd;

	cfd = pending_client(self->type, self->port, "q", 1);
	ASSERT_LE(0, cfd);

	/* -1 with errno: that errno, and the request stays undecided. */
	ctx_init(&x, -1);
	x.set_errno = EPERM;
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(1, x.calls);
	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &req));
	EXPECT_EQ(x.id, req->id);
	EXPECT_EQ(0, req->flags & WSP_REQ_DEFERRED);
	wsp_request_free(req);
	/* Still waiting, with no verdict. */
	EXPECT_EQ(0, poll(&(struct pollfd){ .fd = cfd, .events = POLLOUT },
			  1, 0));

	/* Any other value, errno untouched: EINVAL. */
	ctx_init(&x, 42);
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, x.calls);

	/* The same request, presented again, accepted now. */
	ctx_init(&x, WSP_CF_ACCEPT);
	sfd = wsp_accept(self->lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(1, x.calls);
	EXPECT_EQ(0, connect_outcome(cfd));
	close(sfd);
	close(cfd);
}

TEST_F(acc, caller_data_in_full)
{
	static unsigned char data[3000];
	struct client c = { 0 };
	struct cond_ctx x;
	unsigned int i;
	int sfd;

	/* Far more than the first peek's buffer. */
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7 + 3;
	ctx_init(&x, WSP_CF_ACCEPT);
	ASSERT_EQ(0, client_start(&c, self->type, self->port, data,
				  sizeof(data)));
	sfd = wsp_accept(self->lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd);
	client_join(&c);
	ASSERT_EQ(0, c.ret);
	EXPECT_EQ(sizeof(data), x.data_len);
	EXPECT_EQ(0, memcmp(x.seen, data, sizeof(data)));
	close(sfd);
	close(c.fd);
}

TEST_F(acc, qos_granted)
{
	struct wsp_qos asked, q;
	struct client c = { 0 };
	struct cond_ctx x;
	int sfd;

	wsp_flowspec_unspecified(&asked.sending);
	wsp_flowspec_unspecified(&asked.receiving);
	asked.sending.token_rate = 1000000;
	asked.sending.token_bucket_size = 65536;
	c.qos = &asked;

	ctx_init(&x, WSP_CF_ACCEPT);
	x.grant = true;
	wsp_flowspec_unspecified(&x.qos.sending);
	wsp_flowspec_unspecified(&x.qos.receiving);
	x.qos.sending.token_rate = 500000;	/* less than asked */
	x.qos.sending.token_bucket_size = 32768;
	x.qos.receiving.token_rate = 250000;
	x.qos.receiving.token_bucket_size = 16384;
	x.qos.receiving.service_type = WSP_SERVICETYPE_CONTROLLEDLOAD;

	ASSERT_EQ(0, client_start(&c, self->type, self->port, NULL, 0));
	sfd = wsp_accept(self->lfd, NULL, NULL, cond_fn, &x);
	ASSERT_LE(0, sfd);
	client_join(&c);
	ASSERT_EQ(0, c.ret);

	/* The condition saw what was asked for. */
	EXPECT_EQ(1, x.calls);
	/* The caller has the grant in its own directions ... */
	ASSERT_EQ(0, wsp_get_qos(c.fd, &q));
	EXPECT_EQ(0, memcmp(&q, &x.qos, sizeof(q)));
	/* ... and the accepted socket the mirror image. */
	ASSERT_EQ(0, wsp_get_qos(sfd, &q));
	EXPECT_EQ(0, memcmp(&q.sending, &x.qos.receiving, sizeof(q.sending)));
	EXPECT_EQ(0, memcmp(&q.receiving, &x.qos.sending, sizeof(q.sending)));
	close(sfd);
	close(c.fd);
}

TEST_F(acc, caller_withdrew)
{
	struct cond_ctx x;
	int cfd;

	cfd = pending_client(self->type, self->port, NULL, 0);
	ASSERT_LE(0, cfd);
	/* The client closes while the condition decides. */
	ctx_init(&x, WSP_CF_ACCEPT);
	x.close_fd = cfd;
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(ECONNABORTED, errno);
	EXPECT_EQ(1, x.calls);
	EXPECT_EQ(-1, x.close_fd);
	ASSERT_EQ(0, fcntl(self->lfd, F_SETFL, O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EAGAIN, errno);
}

struct waiter {
	pthread_t thread;
	int lfd;
	int ret;
	int err;
	struct cond_ctx x;
	volatile bool done;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->ret = wsp_accept(w->lfd, NULL, NULL, cond_fn, &w->x);
	w->err = errno;
	w->done = true;
	return NULL;
}

TEST_F(acc, shutdown_wakes_waiter)
{
	struct waiter w = { .lfd = self->lfd };

	ctx_init(&w.x, WSP_CF_ACCEPT);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, waiter_main, &w));
	sleep_ms(100);
	EXPECT_FALSE(w.done);
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RD));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EINVAL, w.err);
	EXPECT_EQ(0, w.x.calls);
}

static void on_signal(int sig)
{
}

TEST_F(acc, signal_interrupts)
{
	struct waiter w = { .lfd = self->lfd };
	struct sigaction sa;
	long long end;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;	/* no matter: EINTR, as Winsock's */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ctx_init(&w.x, WSP_CF_ACCEPT);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, waiter_main, &w));
	end = now_ms() + SLOW_MS;
	/* Until it notices: the first may come before it waits. */
	while (!w.done && now_ms() < end) {
		sleep_ms(50);
		pthread_kill(w.thread, SIGUSR1);
	}
	ASSERT_TRUE(w.done);
	pthread_join(w.thread, NULL);
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EINTR, w.err);
}

TEST_F(acc, bad_arguments)
{
	struct sockaddr_wsp a;
	struct cond_ctx x;
	int fd;

	ctx_init(&x, WSP_CF_ACCEPT);
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(-1, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(self->lfd, &a, NULL, cond_fn, &x));
	EXPECT_EQ(EFAULT, errno);
	/* Not listening: accept()'s EINVAL. */
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_accept(fd, NULL, NULL, cond_fn, &x));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	EXPECT_EQ(0, x.calls);
}

/* ---- wsp_peek_request() and wsp_verdict() ------------------------------- */

TEST_F(acc, peek)
{
	static unsigned char big[2500];
	struct wsp_request *req = (void *)1;
	uint64_t first, second;
	int c1, c2, fd;

	errno = 0;
	EXPECT_EQ(-1, wsp_peek_request(self->lfd, 0, &req));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(NULL, req);

	memset(big, 'g', sizeof(big));
	c1 = pending_client(self->type, self->port, "one", 3);
	ASSERT_LE(0, c1);
	c2 = pending_client(self->type, self->port, big, sizeof(big));
	ASSERT_LE(0, c2);

	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &req));
	first = req->id;
	EXPECT_EQ(3, req->data_len);
	EXPECT_EQ(0, memcmp(req->data, "one", 3));
	EXPECT_EQ(AF_WSP, req->caller.swsp_family);
	wsp_request_free(req);
	/* After a cursor: the next one, with all of its data. */
	ASSERT_EQ(0, wsp_peek_request(self->lfd, first, &req));
	second = req->id;
	EXPECT_LT(first, second);
	EXPECT_EQ(sizeof(big), req->data_len);
	EXPECT_EQ(0, memcmp(req->data, big, sizeof(big)));
	wsp_request_free(req);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek_request(self->lfd, second, &req));
	EXPECT_EQ(EAGAIN, errno);

	/* Deferred: still peeked, flagged. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, first, WSP_CF_DEFER, NULL, 0,
				 NULL));
	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &req));
	EXPECT_EQ(first, req->id);
	EXPECT_EQ(WSP_REQ_DEFERRED, req->flags);
	wsp_request_free(req);

	/* Not a listener: the kernel's EINVAL. */
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek_request(fd, 0, &req));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	close(c2);
	close(c1);
}

TEST_F(acc, verdict_errors)
{
	struct wsp_request *req;
	struct wsp_qos bad;
	uint32_t port;
	int cfd, lfd;

	cfd = pending_client(self->type, self->port, NULL, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &req));

	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, req->id + 1000, WSP_CF_ACCEPT,
				  NULL, 0, NULL));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, req->id, 7, NULL, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, req->id, -1, NULL, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, req->id, WSP_CF_ACCEPT, NULL, 4,
				  NULL));
	EXPECT_EQ(EFAULT, errno);
	/* A QoS the kernel refuses: zero rate. */
	wsp_flowspec_unspecified(&bad.sending);
	wsp_flowspec_unspecified(&bad.receiving);
	bad.sending.token_rate = 0;
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, req->id, WSP_CF_ACCEPT, NULL, 0,
				  &bad));
	EXPECT_EQ(EINVAL, errno);

	/* Still undecided after all that: reject it for real. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, req->id, WSP_CF_REJECT, "n", 1,
				 NULL));
	EXPECT_EQ(ECONNREFUSED, connect_outcome(cfd));
	/* Once decided, the id is unknown. */
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, req->id, WSP_CF_ACCEPT, NULL, 0,
				  NULL));
	EXPECT_EQ(ENOENT, errno);
	wsp_request_free(req);
	close(cfd);

	/* An automatic listener takes no verdicts. */
	lfd = listener(self->type, false, &port);
	ASSERT_LE(0, lfd);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(lfd, 1, WSP_CF_ACCEPT, NULL, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	close(lfd);
}

TEST_HARNESS_MAIN
