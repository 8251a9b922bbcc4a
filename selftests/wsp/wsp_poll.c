// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP readiness (SPEC section 6, poll part): poll/select/epoll masks on
 * fresh, listening, connecting and connected sockets, wake-ups of blocked
 * pollers, EPOLLET and EPOLLEXCLUSIVE.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/select.h>

#include "wsp_util.h"

#define ALL_EP	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP)

static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
#define NTYPES	2

/* Level-triggered epoll mask of @fd right now. */
static int ep_mask(int fd)
{
	struct epoll_event ev = { .events = ALL_EP }, out;
	int ep, n;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	n = epoll_wait(ep, &out, 1, 0);
	close(ep);
	if (n < 0)
		return -1;
	return n ? (int)out.events : 0;
}

TEST(fresh_socket)
{
	int i, fd;

	for (i = 0; i < NTYPES; i++) {
		fd = wsp_socket(types[i]);
		ASSERT_LE(0, fd);
		/* As TCP: writable (will not block) and hung up. */
		EXPECT_EQ(POLLOUT | POLLHUP, wsp_revents(fd));
		EXPECT_EQ(EPOLLOUT | EPOLLHUP, ep_mask(fd));
		ASSERT_EQ(0, wsp_bind(fd, 0));
		EXPECT_EQ(POLLOUT | POLLHUP, wsp_revents(fd));
		close(fd);
	}
}

TEST(listener)
{
	int i, lfd, cfd, sfd;
	__u32 port;

	for (i = 0; i < NTYPES; i++) {
		lfd = wsp_listener(types[i], 0, 4, &port);
		ASSERT_LE(0, lfd);
		EXPECT_EQ(0, wsp_revents(lfd));
		EXPECT_EQ(0, ep_mask(lfd));
		cfd = wsp_client(types[i], port);
		ASSERT_LE(0, cfd);
		EXPECT_EQ(POLLIN, wsp_revents(lfd));
		EXPECT_EQ(EPOLLIN, ep_mask(lfd));
		sfd = accept(lfd, NULL, NULL);
		ASSERT_LE(0, sfd);
		EXPECT_EQ(0, wsp_revents(lfd));
		/* The accepted socket is connected and writable. */
		EXPECT_EQ(POLLOUT, wsp_revents(sfd));
		close(sfd);
		close(cfd);
		close(lfd);
	}
}

TEST(conditional_listener_and_connecting)
{
	int lfd, cfd, err;
	__u32 port;

	lfd = wsp_cond_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(0, wsp_revents(lfd));
	cfd = wsp_client_nb(SOCK_STREAM, port, &err);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(EINPROGRESS, err);
	/* A request awaiting a verdict: EPOLLPRI, but accept() would block. */
	EXPECT_EQ(POLLPRI, wsp_revents(lfd));
	EXPECT_EQ(EPOLLPRI, ep_mask(lfd));
	/* A connecting socket shows nothing. */
	EXPECT_EQ(0, wsp_revents(cfd));
	EXPECT_EQ(0, ep_mask(cfd));
	/* Withdrawn: nothing awaits a verdict any more. */
	close(cfd);
	EXPECT_EQ(0, wsp_revents(lfd));
	close(lfd);
}

FIXTURE(pair) {
	int lfd, cfd, sfd;
};

FIXTURE_VARIANT(pair) {
	int type;
};

FIXTURE_VARIANT_ADD(pair, stream) {
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(pair, seqpacket) {
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(pair)
{
	ASSERT_EQ(0, wsp_pair(variant->type, &self->lfd, &self->cfd,
			      &self->sfd, NULL));
}

FIXTURE_TEARDOWN(pair)
{
	wsp_close(&self->cfd);
	wsp_close(&self->sfd);
	wsp_close(&self->lfd);
}

TEST_F(pair, connected)
{
	char buf[8];

	EXPECT_EQ(POLLOUT, wsp_revents(self->cfd));
	EXPECT_EQ(POLLOUT, wsp_revents(self->sfd));
	EXPECT_EQ(EPOLLOUT, ep_mask(self->cfd));
	ASSERT_EQ(3, send(self->cfd, "abc", 3, 0));
	EXPECT_EQ(POLLIN | POLLOUT, wsp_revents(self->sfd));
	EXPECT_EQ(EPOLLIN | EPOLLOUT, ep_mask(self->sfd));
	EXPECT_EQ(POLLOUT, wsp_revents(self->cfd));
	ASSERT_EQ(3, recv(self->sfd, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, wsp_revents(self->sfd));
}

TEST_F(pair, full_socket_not_writable)
{
	ASSERT_LT(0, wsp_fill(self->cfd, 1024));
	EXPECT_EQ(0, wsp_revents(self->cfd) & POLLOUT);
	EXPECT_EQ(0, ep_mask(self->cfd) & EPOLLOUT);
	ASSERT_LT(0, wsp_drain(self->sfd));
	EXPECT_TRUE(wsp_poll1(self->cfd, POLLOUT, WSP_SLOW_MS) & POLLOUT);
}

TEST_F(pair, peer_shut_wr)
{
	ASSERT_EQ(0, shutdown(self->cfd, SHUT_WR));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP, wsp_revents(self->sfd));
	EXPECT_EQ(EPOLLIN | EPOLLOUT | EPOLLRDHUP, ep_mask(self->sfd));
}

TEST_F(pair, own_shut_rdwr)
{
	int rev;

	ASSERT_EQ(0, shutdown(self->cfd, SHUT_RDWR));
	rev = wsp_revents(self->cfd);
	EXPECT_EQ(POLLIN | POLLRDHUP | POLLHUP,
		  rev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

TEST_F(pair, peer_closed)
{
	int rev;

	wsp_close(&self->sfd);
	rev = wsp_revents(self->cfd);
	EXPECT_EQ(POLLIN | POLLRDHUP | POLLHUP,
		  rev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
	rev = ep_mask(self->cfd);
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP | EPOLLHUP,
		  rev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR));
}

TEST_F(pair, peer_reset)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	int rev;

	ASSERT_EQ(0, setsockopt(self->sfd, SOL_SOCKET, SO_LINGER, &l,
				sizeof(l)));
	wsp_close(&self->sfd);
	rev = wsp_revents(self->cfd);
	EXPECT_TRUE(rev & POLLHUP);
	EXPECT_TRUE(rev & POLLERR);
	rev = ep_mask(self->cfd);
	EXPECT_TRUE(rev & EPOLLHUP);
	EXPECT_TRUE(rev & EPOLLERR);
}

TEST(failed_connect)
{
	int lfd, cfd, err, rev;
	__u32 port;

	lfd = wsp_cond_listener(SOCK_SEQPACKET, 0, 4, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_client_nb(SOCK_SEQPACKET, port, &err);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(EINPROGRESS, err);
	close(lfd);
	rev = wsp_poll1(cfd, WSP_POLL_ALL, WSP_SLOW_MS);
	EXPECT_TRUE(rev & POLLOUT) TH_LOG("revents %#x", rev);
	EXPECT_TRUE(rev & POLLERR) TH_LOG("revents %#x", rev);
	EXPECT_TRUE(ep_mask(cfd) & EPOLLERR);
	EXPECT_EQ(ECONNREFUSED, wsp_so_error(cfd));
	close(cfd);
}

TEST(select_sets)
{
	int lfd, cfd, pfd, clfd, sfd, err, n;
	struct timeval tv = { 0, 0 };
	fd_set r, w, e;
	__u32 port, cport;

	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	clfd = wsp_cond_listener(SOCK_STREAM, 0, 4, &cport);
	ASSERT_LE(0, clfd);
	cfd = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, cfd);
	pfd = wsp_client_nb(SOCK_STREAM, cport, &err);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(EINPROGRESS, err);

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(lfd, &r);
	FD_SET(cfd, &r);
	FD_SET(cfd, &w);
	FD_SET(pfd, &w);
	FD_SET(pfd, &r);
	n = select(FD_SETSIZE, &r, &w, &e, &tv);
	/* lfd readable (a connection to accept), cfd writable; no more. */
	EXPECT_EQ(2, n);
	EXPECT_TRUE(FD_ISSET(lfd, &r));
	EXPECT_FALSE(FD_ISSET(cfd, &r));
	EXPECT_TRUE(FD_ISSET(cfd, &w));
	EXPECT_FALSE(FD_ISSET(pfd, &w));
	EXPECT_FALSE(FD_ISSET(pfd, &r));

	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(1, send(sfd, "x", 1, 0));
	FD_ZERO(&r);
	FD_SET(cfd, &r);
	FD_SET(lfd, &r);
	tv.tv_sec = 5;
	EXPECT_EQ(1, select(FD_SETSIZE, &r, NULL, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(cfd, &r));
	EXPECT_FALSE(FD_ISSET(lfd, &r));
	close(sfd);
	close(pfd);
	close(cfd);
	close(clfd);
	close(lfd);
}

/* ---- wake-ups of blocked pollers ------------------------------------ */

enum action { ACT_CONNECT, ACT_SEND, ACT_CLOSE, ACT_DRAIN, ACT_SHUT_WR,
	      ACT_CLOSE_LISTENER };

struct actor {
	enum action act;
	int fd;
	__u32 port;
	int type;
	int newfd;
};

static void *act_later(void *arg)
{
	struct actor *a = arg;

	wsp_msleep(100);
	switch (a->act) {
	case ACT_CONNECT:
		a->newfd = wsp_client(a->type, a->port);
		break;
	case ACT_SEND:
		send(a->fd, "wake", 4, 0);
		break;
	case ACT_CLOSE:
	case ACT_CLOSE_LISTENER:
		close(a->fd);
		break;
	case ACT_DRAIN:
		wsp_drain(a->fd);
		break;
	case ACT_SHUT_WR:
		shutdown(a->fd, SHUT_WR);
		break;
	}
	return NULL;
}

/* Block in poll() (or epoll_wait()) on @fd for @events while @a happens. */
static int wait_for(int fd, short events, struct actor *a, bool use_epoll)
{
	struct epoll_event ev = { .events = events }, out;
	pthread_t th;
	int r, ep = -1;

	a->newfd = -1;
	if (use_epoll) {
		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			return -1;
	}
	if (pthread_create(&th, NULL, act_later, a))
		return -1;
	if (use_epoll) {
		r = epoll_wait(ep, &out, 1, WSP_SLOW_MS);
		r = r > 0 ? (int)out.events : r;
		close(ep);
	} else {
		r = wsp_poll1(fd, events, WSP_SLOW_MS);
	}
	pthread_join(th, NULL);
	if (a->newfd >= 0)
		close(a->newfd);
	return r;
}

TEST_F(pair, wakeups)
{
	struct actor a = { .type = variant->type };
	__u32 port;
	int lfd, fd, err, u;

	for (u = 0; u < 2; u++) {
		bool ep = u;

		lfd = wsp_listener(variant->type, 0, 4, &port);
		ASSERT_LE(0, lfd);
		a.act = ACT_CONNECT;
		a.port = port;
		EXPECT_TRUE(wait_for(lfd, POLLIN, &a, ep) & POLLIN)
			TH_LOG("request arrival, epoll=%d", ep);
		close(lfd);

		a.act = ACT_SEND;
		a.fd = self->cfd;
		EXPECT_TRUE(wait_for(self->sfd, POLLIN, &a, ep) & POLLIN)
			TH_LOG("data, epoll=%d", ep);
		ASSERT_EQ(4, wsp_recv_n(self->sfd, 4));

		ASSERT_LT(0, wsp_fill(self->cfd, 1024));
		a.act = ACT_DRAIN;
		a.fd = self->sfd;
		EXPECT_TRUE(wait_for(self->cfd, POLLOUT, &a, ep) & POLLOUT)
			TH_LOG("room to write, epoll=%d", ep);

		lfd = wsp_cond_listener(variant->type, 0, 4, &port);
		ASSERT_LE(0, lfd);
		fd = wsp_client_nb(variant->type, port, &err);
		ASSERT_LE(0, fd);
		ASSERT_EQ(EINPROGRESS, err);
		a.act = ACT_CLOSE_LISTENER;
		a.fd = lfd;
		EXPECT_TRUE(wait_for(fd, POLLOUT, &a, ep) & POLLERR)
			TH_LOG("connect failure, epoll=%d", ep);
		close(fd);
	}

	a.act = ACT_SHUT_WR;
	a.fd = self->sfd;
	EXPECT_TRUE(wait_for(self->cfd, POLLRDHUP, &a, true) & POLLRDHUP);
	a.act = ACT_CLOSE;
	a.fd = self->sfd;
	self->sfd = -1;
	/* POLLIN already holds after SHUT_WR: wait for the hangup only. */
	EXPECT_TRUE(wait_for(self->cfd, 0, &a, false) & POLLHUP);
}

/* ---- EPOLLET -------------------------------------------------------- */

static int ep_add(int ep, int fd, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_wait1(int ep, int timeout, __u32 *events)
{
	struct epoll_event out;
	int n = epoll_wait(ep, &out, 1, timeout);

	if (n > 0 && events)
		*events = out.events;
	return n;
}

TEST_F(pair, epollet_data)
{
	__u32 ev;
	int ep;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ep_add(ep, self->sfd, EPOLLIN | EPOLLET));
	EXPECT_EQ(0, ep_wait1(ep, 0, NULL));
	ASSERT_EQ(1, send(self->cfd, "a", 1, 0));
	ASSERT_EQ(1, ep_wait1(ep, WSP_SLOW_MS, &ev));
	EXPECT_TRUE(ev & EPOLLIN);
	/* Unread data, but no new event: not reported again. */
	EXPECT_EQ(0, ep_wait1(ep, 0, NULL));
	EXPECT_EQ(0, ep_wait1(ep, 200, NULL));
	ASSERT_EQ(1, send(self->cfd, "b", 1, 0));
	EXPECT_EQ(1, ep_wait1(ep, WSP_SLOW_MS, &ev));
	EXPECT_EQ(0, ep_wait1(ep, 0, NULL));
	close(ep);
}

TEST_F(pair, epollet_write_space)
{
	__u32 ev;
	int ep;

	ASSERT_LT(0, wsp_fill(self->cfd, 1024));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ep_add(ep, self->cfd, EPOLLOUT | EPOLLET));
	EXPECT_EQ(0, ep_wait1(ep, 0, NULL));
	ASSERT_LT(0, wsp_drain(self->sfd));
	ASSERT_EQ(1, ep_wait1(ep, WSP_SLOW_MS, &ev));
	EXPECT_TRUE(ev & EPOLLOUT);
	EXPECT_EQ(0, ep_wait1(ep, 200, NULL));
	close(ep);
}

TEST(epollet_listener)
{
	int lfd, c1, c2, ep;
	__u32 port, ev;

	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ep_add(ep, lfd, EPOLLIN | EPOLLET));
	c1 = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, c1);
	ASSERT_EQ(1, ep_wait1(ep, WSP_SLOW_MS, &ev));
	EXPECT_EQ(EPOLLIN, ev);
	EXPECT_EQ(0, ep_wait1(ep, 200, NULL));
	c2 = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, c2);
	EXPECT_EQ(1, ep_wait1(ep, WSP_SLOW_MS, &ev));
	EXPECT_EQ(0, ep_wait1(ep, 0, NULL));
	close(c1);
	close(c2);
	close(ep);
	close(lfd);
}

/* ---- EPOLLEXCLUSIVE --------------------------------------------------- */

#define NWAITERS	4

struct waiter {
	int lfd;
	pid_t tid;
	int nev;
};

static void *excl_waiter(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE }, out;
	int ep;

	w->tid = gettid();
	w->nev = -1;
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, w->lfd, &ev))
		return NULL;
	w->nev = epoll_wait(ep, &out, 1, 1500);
	close(ep);
	return NULL;
}

/* Is thread @tid blocked in epoll_wait()?  -1 if that cannot be told. */
static int in_epoll_wait(pid_t tid)
{
	char path[64], buf[128];
	long nr;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	if (wsp_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	nr = strtol(buf, NULL, 10);
#ifdef __NR_epoll_wait
	if (nr == __NR_epoll_wait)
		return 1;
#endif
#ifdef __NR_epoll_pwait2
	if (nr == __NR_epoll_pwait2)
		return 1;
#endif
	return nr == __NR_epoll_pwait;
}

TEST(epollexclusive_wakes_one)
{
	struct waiter w[NWAITERS];
	pthread_t th[NWAITERS];
	int i, lfd, cfd, woken = 0, unknown = 0;
	long long end;
	__u32 port;

	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < NWAITERS; i++) {
		w[i].lfd = lfd;
		w[i].tid = 0;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, excl_waiter, &w[i]));
	}
	/* Wait until every waiter sits in epoll_wait(): a debug VM that
	 * shares its cores with four others can take seconds.
	 */
	end = wsp_now_ms() + WSP_SLOW_MS;
	for (i = 0; i < NWAITERS && wsp_now_ms() < end; ) {
		pid_t tid = __atomic_load_n(&w[i].tid, __ATOMIC_SEQ_CST);
		int r = tid ? in_epoll_wait(tid) : 0;

		if (r < 0) {
			unknown = 1;
			break;
		}
		if (r)
			i++;
		else
			wsp_msleep(5);
	}
	if (unknown)
		wsp_msleep(300);
	else
		ASSERT_EQ(NWAITERS, i) TH_LOG("waiters never blocked");

	/* One request: exactly one exclusive waiter wakes up. */
	cfd = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, cfd);
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_LE(0, w[i].nev);
		if (w[i].nev > 0)
			woken++;
	}
	EXPECT_EQ(1, woken);
	close(cfd);
	close(lfd);
}

TEST_HARNESS_MAIN
