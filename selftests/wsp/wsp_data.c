// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP data path, STREAM and SEQPACKET (issue 3 "data path"): flow
 * control, recv/send flags, records, scatter-gather, shutdown, linger,
 * timeouts, SO_ERROR, SIOCINQ/SIOCOUTQ, SO_PEERCRED, accept4(),
 * sendfile() and splice().  Each fixture test runs for both types.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <linux/sockios.h>

#include "wsp_util.h"

FIXTURE(data) {
	int lfd, cfd, sfd;
	__u32 port;
};

FIXTURE_VARIANT(data) {
	int type;
	bool records;
};

FIXTURE_VARIANT_ADD(data, stream) {
	.type = SOCK_STREAM,
	.records = false,
};

FIXTURE_VARIANT_ADD(data, seqpacket) {
	.type = SOCK_SEQPACKET,
	.records = true,
};

FIXTURE_SETUP(data)
{
	ASSERT_EQ(0, wsp_pair(variant->type, &self->lfd, &self->cfd,
			      &self->sfd, &self->port))
		TH_LOG("connected pair: %s", strerror(errno));
}

FIXTURE_TEARDOWN(data)
{
	wsp_close(&self->cfd);
	wsp_close(&self->sfd);
	wsp_close(&self->lfd);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

/* Receive exactly @len bytes (any number of records); returns 0 or -1. */
static int recv_all(int fd, char *buf, size_t len)
{
	static char tmp[1 << 17];
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0 || got + n > len)
			return -1;
		memcpy(buf + got, tmp, n);
		got += n;
	}
	return 0;
}

TEST_F(data, echo)
{
	char buf[16];

	ASSERT_EQ(5, send(self->cfd, "hello", 5, 0));
	ASSERT_EQ(5, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, send(self->sfd, "abc", 3, 0));
	ASSERT_EQ(3, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	/* write()/read() are the same path. */
	ASSERT_EQ(2, write(self->cfd, "xy", 2));
	ASSERT_EQ(2, read(self->sfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "xy", 2));
}

struct bulk {
	int fd;
	size_t len;
	int ret;
};

static void *bulk_reader(void *arg)
{
	struct bulk *b = arg;
	char *buf = malloc(b->len);
	size_t i;

	b->ret = -1;
	if (!buf || recv_all(b->fd, buf, b->len))
		goto out;
	for (i = 0; i < b->len; i++)
		if (buf[i] != (char)(i * 7 + i / 4096))
			goto out;
	b->ret = 0;
out:
	free(buf);
	return NULL;
}

TEST_F_TIMEOUT(data, bulk_integrity, 60)
{
	struct bulk b = { .fd = self->sfd, .len = 1 << 20 };
	size_t off = 0, chunk;
	pthread_t th;
	char *buf;
	ssize_t n;

	buf = malloc(b.len);
	ASSERT_NE(NULL, buf);
	for (off = 0; off < b.len; off++)
		buf[off] = (char)(off * 7 + off / 4096);
	ASSERT_EQ(0, pthread_create(&th, NULL, bulk_reader, &b));
	for (off = 0; off < b.len; off += n) {
		chunk = 1000 + (off % 3000);
		if (chunk > b.len - off)
			chunk = b.len - off;
		n = send(self->cfd, buf + off, chunk, 0);
		ASSERT_LT(0, n) TH_LOG("send at %zu: %s", off, strerror(errno));
		if (variant->records)
			ASSERT_EQ(chunk, n);
	}
	pthread_join(th, NULL);
	EXPECT_EQ(0, b.ret);
	free(buf);
}

struct writer {
	int fd;
	size_t len;
	ssize_t ret;
	int err;
	bool done;
};

static void *blocked_writer(void *arg)
{
	struct writer *w = arg;
	char buf[4096];

	memset(buf, 'w', sizeof(buf));
	w->ret = send(w->fd, buf, w->len, MSG_NOSIGNAL);
	w->err = errno;
	__atomic_store_n(&w->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST_F(data, flow_control)
{
	struct writer w = { .fd = self->cfd, .len = 1000 };
	struct timespec ts;
	pthread_t th;
	long queued, drained, more;

	ASSERT_EQ(0, wsp_set_int(self->cfd, SOL_SOCKET, SO_SNDBUF, 8192));
	ASSERT_EQ(0, wsp_set_int(self->sfd, SOL_SOCKET, SO_RCVBUF, 8192));
	queued = wsp_fill(self->cfd, 1000);
	ASSERT_LT(0, queued) TH_LOG("fill: %s", strerror(errno));
	EXPECT_GT(1 << 20, queued);
	EXPECT_EQ(0, wsp_revents(self->cfd) & POLLOUT);
	EXPECT_TRUE(wsp_revents(self->sfd) & POLLIN);

	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_writer, &w));
	wsp_msleep(200);
	EXPECT_FALSE(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST))
		TH_LOG("send did not block on a full socket");

	/* Draining wakes the writer. */
	drained = wsp_drain(self->sfd);
	EXPECT_LE(queued, drained);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	ASSERT_EQ(0, pthread_timedjoin_np(th, NULL, &ts))
		TH_LOG("writer still blocked after the reader drained");
	EXPECT_EQ(1000, w.ret);
	EXPECT_TRUE(wsp_poll1(self->cfd, POLLOUT, WSP_SLOW_MS) & POLLOUT);
	more = wsp_drain(self->sfd);
	EXPECT_EQ(queued + 1000, drained + more);
}

TEST_F(data, msg_peek)
{
	char buf[16];

	ASSERT_EQ(5, send(self->cfd, "hello", 5, 0));
	ASSERT_EQ(5, recv(self->sfd, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(2, recv(self->sfd, buf, 2, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "he", 2));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(-1, recv(self->sfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(data, msg_dontwait)
{
	char buf[16];
	long q;

	EXPECT_EQ(-1, recv(self->sfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	/* The socket itself stays blocking. */
	EXPECT_EQ(0, fcntl(self->sfd, F_GETFL) & O_NONBLOCK);
	q = wsp_fill(self->cfd, 512);
	ASSERT_LT(0, q);
	EXPECT_EQ(-1, send(self->cfd, buf, 512, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	/* O_NONBLOCK gives the same answers. */
	ASSERT_EQ(0, wsp_set_nonblock(self->cfd, true));
	EXPECT_EQ(-1, send(self->cfd, buf, 512, 0));
	EXPECT_EQ(EAGAIN, errno);
}

struct waitall {
	int fd;
	ssize_t ret;
	char buf[3000];
};

static void *waitall_reader(void *arg)
{
	struct waitall *w = arg;

	w->ret = recv(w->fd, w->buf, sizeof(w->buf), MSG_WAITALL);
	return NULL;
}

TEST_F(data, msg_waitall)
{
	struct waitall w = { .fd = self->sfd };
	char chunk[1000];
	pthread_t th;
	int i;

	if (variant->records) {
		/* A record socket never merges records, WAITALL or not. */
		ASSERT_EQ(5, send(self->cfd, "aaaaa", 5, 0));
		ASSERT_EQ(5, send(self->cfd, "bbbbb", 5, 0));
		EXPECT_EQ(5, recv(self->sfd, w.buf, sizeof(w.buf), MSG_WAITALL));
		EXPECT_EQ(5, recv(self->sfd, w.buf, sizeof(w.buf), MSG_WAITALL));
		return;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, waitall_reader, &w));
	for (i = 0; i < 3; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		ASSERT_EQ(1000, send(self->cfd, chunk, sizeof(chunk), 0));
		wsp_msleep(50);	/* let the reader see partial data */
	}
	pthread_join(th, NULL);
	ASSERT_EQ(3000, w.ret);
	EXPECT_EQ('a', w.buf[0]);
	EXPECT_EQ('b', w.buf[1000]);
	EXPECT_EQ('c', w.buf[2999]);
}

TEST_F(data, epipe_and_sigpipe)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	wsp_close(&self->sfd);
	sigpipes = 0;
	EXPECT_EQ(-1, send(self->cfd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, send(self->cfd, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(-1, write(self->cfd, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(2, sigpipes);
}

TEST_F(data, records)
{
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char buf[64];

	if (!variant->records) {
		/* A byte stream has no boundaries. */
		ASSERT_EQ(3, send(self->cfd, "abc", 3, 0));
		ASSERT_EQ(3, send(self->cfd, "def", 3, 0));
		ASSERT_EQ(0, send(self->cfd, "", 0, 0));
		ASSERT_EQ(6, recv(self->sfd, buf, 6, MSG_WAITALL));
		EXPECT_EQ(0, memcmp(buf, "abcdef", 6));
		/* The empty send queued nothing, and no EOF either. */
		EXPECT_EQ(-1, recv(self->sfd, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);
		return;
	}
	ASSERT_EQ(3, send(self->cfd, "abc", 3, 0));
	ASSERT_EQ(0, send(self->cfd, "", 0, 0));
	ASSERT_EQ(5, send(self->cfd, "defgh", 5, MSG_EOR));

	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	ASSERT_EQ(3, recvmsg(self->sfd, &msg, 0));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_TRUE(msg.msg_flags & MSG_EOR);
	EXPECT_FALSE(msg.msg_flags & MSG_TRUNC);
	/* The zero-length record is delivered as such. */
	msg.msg_flags = 0;
	ASSERT_EQ(0, recvmsg(self->sfd, &msg, MSG_DONTWAIT));
	EXPECT_TRUE(msg.msg_flags & MSG_EOR);
	msg.msg_flags = 0;
	ASSERT_EQ(5, recvmsg(self->sfd, &msg, 0));
	EXPECT_EQ(0, memcmp(buf, "defgh", 5));
	EXPECT_TRUE(msg.msg_flags & MSG_EOR);
	EXPECT_EQ(-1, recv(self->sfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(data, msg_trunc)
{
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char rec[100], buf[100];

	memset(rec, 'r', sizeof(rec));
	if (!variant->records) {
		/* A byte stream never truncates: the rest stays queued. */
		ASSERT_EQ(100, send(self->cfd, rec, 100, 0));
		iov.iov_base = buf;
		iov.iov_len = 10;
		ASSERT_EQ(10, recvmsg(self->sfd, &msg, 0));
		EXPECT_FALSE(msg.msg_flags & MSG_TRUNC);
		EXPECT_EQ(90, recv(self->sfd, buf, sizeof(buf), MSG_DONTWAIT));
		return;
	}
	ASSERT_EQ(100, send(self->cfd, rec, 100, 0));
	ASSERT_EQ(4, send(self->cfd, "next", 4, 0));
	ASSERT_EQ(100, send(self->cfd, rec, 100, 0));

	iov.iov_base = buf;
	iov.iov_len = 10;
	ASSERT_EQ(10, recvmsg(self->sfd, &msg, 0));
	EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
	/* The rest of the record was discarded. */
	iov.iov_len = sizeof(buf);
	msg.msg_flags = 0;
	ASSERT_EQ(4, recvmsg(self->sfd, &msg, 0));
	EXPECT_EQ(0, memcmp(buf, "next", 4));
	EXPECT_FALSE(msg.msg_flags & MSG_TRUNC);
	/* MSG_TRUNC in flags: the full length comes back. */
	iov.iov_len = 10;
	msg.msg_flags = 0;
	EXPECT_EQ(100, recvmsg(self->sfd, &msg, MSG_TRUNC));
	EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(-1, recv(self->sfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(data, record_too_big)
{
	size_t len;
	char *big;
	int sndbuf;

	ASSERT_EQ(0, wsp_set_int(self->cfd, SOL_SOCKET, SO_SNDBUF, 16384));
	sndbuf = wsp_get_int(self->cfd, SOL_SOCKET, SO_SNDBUF);
	ASSERT_LT(0, sndbuf);
	len = (size_t)sndbuf * 2 + 4096;
	big = calloc(1, len);
	ASSERT_NE(NULL, big);
	if (!variant->records) {
		ssize_t n = send(self->cfd, big, len, MSG_DONTWAIT);

		/* No record limit on a stream: it takes what fits. */
		EXPECT_LT(0, n);
		EXPECT_GT((ssize_t)len, n);
		free(big);
		return;
	}
	EXPECT_EQ(-1, send(self->cfd, big, len, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, send(self->cfd, big, len, MSG_DONTWAIT));
	EXPECT_EQ(EMSGSIZE, errno);
	/* Nothing was queued. */
	EXPECT_EQ(-1, recv(self->sfd, big, len, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	free(big);
}

TEST_F(data, scatter_gather)
{
	struct iovec out[3] = {
		{ "abc", 3 }, { "defg", 4 }, { "hi", 2 },
	};
	char a[4], b[5];
	struct iovec in[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr msg = { .msg_iov = out, .msg_iovlen = 3 };

	ASSERT_EQ(9, writev(self->cfd, out, 3));
	ASSERT_EQ(9, readv(self->sfd, in, 2));
	EXPECT_EQ(0, memcmp(a, "abcd", 4));
	EXPECT_EQ(0, memcmp(b, "efghi", 5));

	ASSERT_EQ(9, sendmsg(self->sfd, &msg, 0));
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	msg.msg_iov = in;
	msg.msg_iovlen = 2;
	ASSERT_EQ(9, recvmsg(self->cfd, &msg, 0));
	EXPECT_EQ(0, memcmp(a, "abcd", 4));
	EXPECT_EQ(0, memcmp(b, "efghi", 5));
	if (variant->records)
		EXPECT_TRUE(msg.msg_flags & MSG_EOR);
}

TEST_F(data, shutdown_wr)
{
	char buf[8];
	int rev;

	ASSERT_EQ(2, send(self->cfd, "zz", 2, 0));
	ASSERT_EQ(0, shutdown(self->cfd, SHUT_WR));
	/* Queued data first, then EOF. */
	ASSERT_EQ(2, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->sfd, buf, sizeof(buf), MSG_DONTWAIT));
	rev = wsp_revents(self->sfd);
	EXPECT_EQ(POLLIN | POLLRDHUP, rev & (POLLIN | POLLRDHUP | POLLHUP));
	EXPECT_TRUE(rev & POLLOUT);
	EXPECT_EQ(-1, send(self->cfd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	/* The other direction still works. */
	ASSERT_EQ(3, send(self->sfd, "bak", 3, 0));
	ASSERT_EQ(3, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "bak", 3));
	/* Twice is fine. */
	EXPECT_EQ(0, shutdown(self->cfd, SHUT_WR));
}

TEST_F(data, shutdown_rd)
{
	char buf[8];
	int rev;

	ASSERT_EQ(0, shutdown(self->cfd, SHUT_RD));
	/* A blocking read returns EOF at once. */
	EXPECT_EQ(0, recv(self->cfd, buf, sizeof(buf), 0));
	rev = wsp_revents(self->cfd);
	EXPECT_TRUE(rev & POLLIN);
	EXPECT_TRUE(rev & POLLRDHUP);
	EXPECT_FALSE(rev & POLLHUP);
	/* Sending still works. */
	ASSERT_EQ(2, send(self->cfd, "ok", 2, 0));
	ASSERT_EQ(2, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
}

TEST_F(data, shutdown_rdwr)
{
	char buf[8];
	int rev;

	ASSERT_EQ(0, shutdown(self->cfd, SHUT_RDWR));
	EXPECT_EQ(0, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(-1, send(self->cfd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	rev = wsp_revents(self->cfd);
	EXPECT_TRUE(rev & POLLIN);
	EXPECT_TRUE(rev & POLLRDHUP);
	EXPECT_TRUE(rev & POLLHUP);
	EXPECT_EQ(0, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_TRUE(wsp_revents(self->sfd) & POLLRDHUP);
}

TEST_F(data, shutdown_bad_how)
{
	EXPECT_EQ(-1, shutdown(self->cfd, 3));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, shutdown(self->cfd, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, shutdown(self->cfd, 100));
	EXPECT_EQ(EINVAL, errno);
	/* Still fully usable. */
	EXPECT_EQ(1, send(self->cfd, "x", 1, 0));
	EXPECT_EQ(1, wsp_recv_n(self->sfd, 1));
}

TEST_F(data, close_clean)
{
	char buf[8];
	int rev;

	ASSERT_EQ(3, send(self->sfd, "bye", 3, 0));
	wsp_close(&self->sfd);
	rev = wsp_poll1(self->cfd, POLLIN | POLLRDHUP, WSP_SLOW_MS);
	EXPECT_EQ(POLLIN | POLLRDHUP | POLLHUP,
		  rev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))
		TH_LOG("revents %#x", rev);
	/* Data sent before the close is still delivered, then EOF. */
	ASSERT_EQ(3, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "bye", 3));
	EXPECT_EQ(0, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, wsp_so_error(self->cfd));
	EXPECT_EQ(-1, send(self->cfd, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
}

TEST_F(data, close_with_unread_resets)
{
	char buf[8];
	int rev;

	ASSERT_EQ(4, send(self->cfd, "data", 4, 0));
	wsp_close(&self->sfd);		/* "data" never read */
	rev = wsp_poll1(self->cfd, POLLIN, WSP_SLOW_MS);
	EXPECT_TRUE(rev & POLLHUP) TH_LOG("revents %#x", rev);
	EXPECT_TRUE(rev & POLLERR) TH_LOG("revents %#x", rev);
	EXPECT_EQ(-1, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
}

TEST_F(data, linger_zero_resets)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	char buf[8];
	int rev;

	ASSERT_EQ(0, setsockopt(self->sfd, SOL_SOCKET, SO_LINGER, &l,
				sizeof(l)));
	wsp_close(&self->sfd);
	rev = wsp_poll1(self->cfd, POLLIN | POLLRDHUP, WSP_SLOW_MS);
	EXPECT_TRUE(rev & POLLHUP) TH_LOG("revents %#x", rev);
	EXPECT_TRUE(rev & POLLERR) TH_LOG("revents %#x", rev);
	EXPECT_EQ(-1, recv(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
}

TEST_F(data, so_error_after_reset)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	EXPECT_EQ(0, wsp_so_error(self->cfd));
	ASSERT_EQ(0, setsockopt(self->sfd, SOL_SOCKET, SO_LINGER, &l,
				sizeof(l)));
	wsp_close(&self->sfd);
	EXPECT_TRUE(wsp_poll1(self->cfd, POLLIN, WSP_SLOW_MS) & POLLERR);
	EXPECT_EQ(ECONNRESET, wsp_so_error(self->cfd));
	/* Reading SO_ERROR clears it. */
	EXPECT_EQ(0, wsp_so_error(self->cfd));
}

struct closer {
	int fd;
	bool done;
	long long took;
};

static void *do_close(void *arg)
{
	struct closer *c = arg;
	long long t0 = wsp_now_ms();

	close(c->fd);
	c->took = wsp_now_ms() - t0;
	__atomic_store_n(&c->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST_F(data, linger_waits_for_reader)
{
	struct linger l = { .l_onoff = 1, .l_linger = 20 };
	struct closer c = { .fd = self->cfd };
	struct timespec ts;
	char buf[1000];
	pthread_t th;

	memset(buf, 'l', sizeof(buf));
	ASSERT_EQ(0, setsockopt(self->cfd, SOL_SOCKET, SO_LINGER, &l,
				sizeof(l)));
	ASSERT_EQ(1000, send(self->cfd, buf, sizeof(buf), 0));
	self->cfd = -1;		/* the thread closes it */
	ASSERT_EQ(0, pthread_create(&th, NULL, do_close, &c));
	wsp_msleep(300);
	EXPECT_FALSE(__atomic_load_n(&c.done, __ATOMIC_SEQ_CST))
		TH_LOG("close() did not linger with unread data");
	ASSERT_EQ(0, recv_all(self->sfd, buf, sizeof(buf)));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	ASSERT_EQ(0, pthread_timedjoin_np(th, NULL, &ts))
		TH_LOG("close() still blocked after the peer read everything");
	EXPECT_GT(15000, c.took);
	/* A lingering close that completed is a clean close. */
	EXPECT_EQ(0, recv(self->sfd, buf, sizeof(buf), 0));
}

TEST_F(data, linger_expires)
{
	struct linger l = { .l_onoff = 1, .l_linger = 1 };
	long long t0, dt;

	ASSERT_EQ(0, setsockopt(self->cfd, SOL_SOCKET, SO_LINGER, &l,
				sizeof(l)));
	ASSERT_EQ(4, send(self->cfd, "left", 4, 0));
	t0 = wsp_now_ms();
	EXPECT_EQ(0, wsp_close(&self->cfd));
	dt = wsp_now_ms() - t0;
	EXPECT_LE(800, dt);
	EXPECT_GT(WSP_SLOW_MS, dt);
}

TEST_F(data, linger_nothing_unread)
{
	struct linger l = { .l_onoff = 1, .l_linger = 10 };
	long long t0;

	ASSERT_EQ(0, setsockopt(self->cfd, SOL_SOCKET, SO_LINGER, &l,
				sizeof(l)));
	t0 = wsp_now_ms();
	EXPECT_EQ(0, wsp_close(&self->cfd));
	EXPECT_GT(2000, wsp_now_ms() - t0);
}

TEST_F(data, rcvtimeo)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	long long t0, dt;
	char buf[8];

	ASSERT_EQ(0, setsockopt(self->sfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	t0 = wsp_now_ms();
	EXPECT_EQ(-1, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	dt = wsp_now_ms() - t0;
	EXPECT_LE(150, dt);
	EXPECT_GT(WSP_SLOW_MS, dt);
}

TEST_F(data, sndtimeo)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	long long t0, dt;
	char buf[512] = { 0 };

	ASSERT_LT(0, wsp_fill(self->cfd, 512));
	ASSERT_EQ(0, setsockopt(self->cfd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				sizeof(tv)));
	t0 = wsp_now_ms();
	EXPECT_EQ(-1, send(self->cfd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	dt = wsp_now_ms() - t0;
	EXPECT_LE(150, dt);
	EXPECT_GT(WSP_SLOW_MS, dt);
}

TEST_F(data, siocinq_siocoutq)
{
	char buf[64];
	int n;

	ASSERT_EQ(0, ioctl(self->sfd, SIOCINQ, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, ioctl(self->cfd, SIOCOUTQ, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(10, send(self->cfd, "0123456789", 10, 0));
	ASSERT_EQ(20, send(self->cfd, "01234567890123456789", 20, 0));
	ASSERT_EQ(0, ioctl(self->sfd, SIOCINQ, &n));
	EXPECT_EQ(30, n);
	ASSERT_EQ(0, ioctl(self->cfd, SIOCOUTQ, &n));
	EXPECT_LT(0, n);
	ASSERT_EQ(10, recv(self->sfd, buf, 10, 0));
	ASSERT_EQ(0, ioctl(self->sfd, SIOCINQ, &n));
	EXPECT_EQ(20, n);
	ASSERT_EQ(20, recv(self->sfd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, ioctl(self->sfd, SIOCINQ, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, ioctl(self->cfd, SIOCOUTQ, &n));
	EXPECT_EQ(0, n);
}

TEST_F(data, peercred_same_process)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	ASSERT_EQ(0, getsockopt(self->cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len));
	EXPECT_EQ(sizeof(uc), len);
	EXPECT_EQ(getpid(), uc.pid);
	EXPECT_EQ(getuid(), uc.uid);
	EXPECT_EQ(getgid(), uc.gid);
	len = sizeof(uc);
	ASSERT_EQ(0, getsockopt(self->sfd, SOL_SOCKET, SO_PEERCRED, &uc, &len));
	EXPECT_EQ(getpid(), uc.pid);
	EXPECT_EQ(getuid(), uc.uid);
	EXPECT_EQ(getgid(), uc.gid);
}

/*
 * The client sees the creds the listener had at listen(); the accepted
 * socket sees the creds the client had at connect().
 */
TEST_F(data, peercred_other_process)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int p[2], cfd;
	__u32 port;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		pid_t parent = getppid();
		int lfd, sfd;

		CHILD_CHECK(setgroups(0, NULL) == 0);
		CHILD_CHECK(setgid(2000) == 0);
		CHILD_CHECK(setuid(1000) == 0);
		lfd = wsp_listener(variant->type, 0, 4, &port);
		CHILD_CHECK(lfd >= 0);
		CHILD_CHECK(write(p[1], &port, sizeof(port)) == sizeof(port));
		sfd = accept(lfd, NULL, NULL);
		CHILD_CHECK(sfd >= 0);
		CHILD_CHECK(getsockopt(sfd, SOL_SOCKET, SO_PEERCRED, &uc,
				       &len) == 0);
		CHILD_CHECK(uc.pid == parent);
		CHILD_CHECK(uc.uid == 0);
		CHILD_CHECK(uc.gid == 0);
		_exit(0);
	}
	ASSERT_EQ(sizeof(port), read(p[0], &port, sizeof(port)));
	cfd = wsp_client(variant->type, port);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len));
	EXPECT_EQ(pid, uc.pid);
	EXPECT_EQ(1000, uc.uid);
	EXPECT_EQ(2000, uc.gid);
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	close(cfd);
	close(p[0]);
	close(p[1]);
}

TEST_F(data, accept4_flags)
{
	struct sockaddr_wsp a;
	socklen_t len = sizeof(a);
	int cfd, sfd;
	char buf[4];

	cfd = wsp_client(variant->type, self->port);
	ASSERT_LE(0, cfd);
	sfd = accept4(self->lfd, (struct sockaddr *)&a, &len,
		      SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, sfd);
	EXPECT_TRUE(fcntl(sfd, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(sfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, recv(sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(wsp_local_port(cfd), a.swsp_port);
	EXPECT_EQ(variant->type, wsp_get_int(sfd, SOL_SOCKET, SO_TYPE));
	close(sfd);

	/* Without flags, neither is set. */
	close(cfd);
	cfd = wsp_client(variant->type, self->port);
	ASSERT_LE(0, cfd);
	sfd = accept4(self->lfd, NULL, NULL, 0);
	ASSERT_LE(0, sfd);
	EXPECT_FALSE(fcntl(sfd, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(sfd, F_GETFD) & FD_CLOEXEC);
	close(sfd);
	close(cfd);

	EXPECT_EQ(-1, accept4(self->lfd, NULL, NULL, 0x1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(data, bad_buffers)
{
	char buf[8];

	EXPECT_EQ(-1, send(self->cfd, (void *)8, 16, 0));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(4, send(self->cfd, "abcd", 4, 0));
	EXPECT_EQ(-1, recv(self->sfd, (void *)8, 16, 0));
	EXPECT_EQ(EFAULT, errno);
	/* The connection survives bad pointers. */
	ASSERT_EQ(2, send(self->sfd, "ok", 2, 0));
	EXPECT_EQ(2, recv(self->cfd, buf, sizeof(buf), 0));
}

struct sink {
	int fd;
	size_t len;
	char *buf;
	int ret;
};

static void *sink_reader(void *arg)
{
	struct sink *s = arg;

	s->ret = recv_all(s->fd, s->buf, s->len);
	return NULL;
}

TEST_F(data, sendfile_from_file)
{
	struct sink s = { .fd = self->sfd, .len = 65536 };
	char *src;
	off_t off = 0;
	pthread_t th;
	ssize_t n;
	int mfd;
	size_t i;

	src = malloc(s.len);
	s.buf = malloc(s.len);
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, s.buf);
	for (i = 0; i < s.len; i++)
		src[i] = (char)(i * 13 + 1);
	mfd = memfd_create("wsp-sendfile", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ((ssize_t)s.len, write(mfd, src, s.len));

	ASSERT_EQ(0, pthread_create(&th, NULL, sink_reader, &s));
	while ((size_t)off < s.len) {
		n = sendfile(self->cfd, mfd, &off, s.len - off);
		ASSERT_LT(0, n) TH_LOG("sendfile at %ld: %s", (long)off,
				       strerror(errno));
	}
	pthread_join(th, NULL);
	ASSERT_EQ(0, s.ret);
	EXPECT_EQ(0, memcmp(src, s.buf, s.len));
	close(mfd);
	free(src);
	free(s.buf);
}

TEST_F(data, splice_from_pipe)
{
	char src[4096], dst[4096];
	size_t done = 0;
	ssize_t n;
	int p[2];
	size_t i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)(i * 31 + 5);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(sizeof(src), write(p[1], src, sizeof(src)));
	while (done < sizeof(src)) {
		n = splice(p[0], NULL, self->cfd, NULL, sizeof(src) - done, 0);
		ASSERT_LT(0, n) TH_LOG("splice: %s", strerror(errno));
		done += n;
	}
	ASSERT_EQ(0, recv_all(self->sfd, dst, sizeof(dst)));
	EXPECT_EQ(0, memcmp(src, dst, sizeof(src)));
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
