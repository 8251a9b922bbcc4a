// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: event objects (eventfds), WSAEventSelect, WSAEnumNetworkEvents
 * and WSAWaitForMultipleEvents.
 */
#include <stdint.h>
#include <sys/socket.h>

#include "libwsp_test.h"

/* Is the event object signalled?  Without resetting it. */
static bool signalled(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Wait for @efd and enumerate @fd's events, resetting @efd. */
static uint32_t wait_enum(int fd, int efd, struct wsp_network_events *ev)
{
	memset(ev, 0xaa, sizeof(*ev));
	if (wsp_wait_for_events(&efd, 1, 0, SLOW_MS) != 0)
		return 0;
	if (wsp_enum_network_events(fd, efd, ev))
		return 0;
	return ev->events;
}

TEST(event_object)
{
	int efd;

	efd = wsp_event_create();
	ASSERT_LE(0, efd);
	EXPECT_TRUE(fcntl(efd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(efd, F_GETFD) & FD_CLOEXEC);
	EXPECT_FALSE(signalled(efd));
	ASSERT_EQ(0, wsp_event_set(efd));
	ASSERT_EQ(0, wsp_event_set(efd));
	EXPECT_TRUE(signalled(efd));
	ASSERT_EQ(0, wsp_event_reset(efd));
	EXPECT_FALSE(signalled(efd));
	/* Resetting a reset event is no error. */
	ASSERT_EQ(0, wsp_event_reset(efd));
	close(efd);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_set(efd));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_reset(efd));
	EXPECT_EQ(EBADF, errno);
}

TEST(accept_read_close)
{
	struct wsp_network_events ev;
	int lfd, efd, cfd, sfd, sefd;
	uint32_t port;
	char buf[8];

	lfd = listener(SOCK_STREAM, false, &port);
	ASSERT_LE(0, lfd);
	efd = wsp_event_create();
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, wsp_event_select(lfd, efd, WSP_FD_ACCEPT | WSP_FD_READ |
				      WSP_FD_CLOSE));
	EXPECT_FALSE(signalled(efd));
	memset(&ev, 0xaa, sizeof(ev));
	ASSERT_EQ(0, wsp_enum_network_events(lfd, efd, &ev));
	EXPECT_EQ(0, ev.events);

	cfd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	/* FD_ACCEPT, and the enumeration resets the event object. */
	EXPECT_EQ(WSP_FD_ACCEPT, wait_enum(lfd, efd, &ev));
	EXPECT_EQ(0, ev.errors[WSP_FD_ACCEPT_BIT]);
	EXPECT_FALSE(signalled(efd));
	/* Cleared: nothing more until accept() re-enables it. */
	ASSERT_EQ(0, wsp_enum_network_events(lfd, efd, &ev));
	EXPECT_EQ(0, ev.events);

	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	/* The accepted socket inherits the registration: its own events. */
	sefd = wsp_event_create();
	ASSERT_LE(0, sefd);
	ASSERT_EQ(0, wsp_event_select(sfd, sefd, WSP_FD_READ | WSP_FD_CLOSE));
	ASSERT_EQ(3, send(cfd, "abc", 3, 0));
	EXPECT_EQ(WSP_FD_READ, wait_enum(sfd, sefd, &ev));
	EXPECT_EQ(0, ev.errors[WSP_FD_READ_BIT]);
	EXPECT_FALSE(signalled(sefd));
	ASSERT_EQ(3, recv(sfd, buf, sizeof(buf), 0));

	close(cfd);
	EXPECT_EQ(WSP_FD_CLOSE, wait_enum(sfd, sefd, &ev) & WSP_FD_CLOSE);
	EXPECT_EQ(0, ev.errors[WSP_FD_CLOSE_BIT]);
	EXPECT_FALSE(signalled(sefd));

	/* Mask 0 cancels: no more events recorded. */
	ASSERT_EQ(0, wsp_event_select(lfd, efd, 0));
	cfd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	EXPECT_FALSE(signalled(efd));
	ASSERT_EQ(0, wsp_enum_network_events(lfd, -1, &ev));
	EXPECT_EQ(0, ev.events);
	close(cfd);
	close(sefd);
	close(sfd);
	close(efd);
	close(lfd);
}

TEST(connect_events)
{
	struct wsp_network_events ev;
	struct wsp_request *req;
	int lfd, efd, fd;
	uint32_t port;

	lfd = listener(SOCK_SEQPACKET, true, &port);
	ASSERT_LE(0, lfd);
	efd = wsp_event_create();
	ASSERT_LE(0, efd);

	/* Accepted: FD_CONNECT with no error (and FD_WRITE). */
	fd = wsp_socket(SOCK_SEQPACKET | SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wsp_event_select(fd, efd, WSP_FD_CONNECT));
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(fd, port, NULL, 0, NULL, NULL, NULL));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_FALSE(signalled(efd));
	ASSERT_EQ(0, wait_request(lfd));
	ASSERT_EQ(0, wsp_peek_request(lfd, 0, &req));
	ASSERT_EQ(0, wsp_verdict(lfd, req->id, WSP_CF_ACCEPT, NULL, 0, NULL));
	wsp_request_free(req);
	EXPECT_EQ(WSP_FD_CONNECT, wait_enum(fd, efd, &ev));
	EXPECT_EQ(0, ev.errors[WSP_FD_CONNECT_BIT]);
	close(fd);

	/* Rejected: FD_CONNECT with ECONNREFUSED. */
	fd = wsp_socket(SOCK_SEQPACKET | SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wsp_event_select(fd, efd, WSP_FD_CONNECT));
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(fd, port, NULL, 0, NULL, NULL, NULL));
	EXPECT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, wait_request(lfd));
	ASSERT_EQ(0, wsp_peek_request(lfd, 0, &req));
	ASSERT_EQ(0, wsp_verdict(lfd, req->id, WSP_CF_REJECT, NULL, 0, NULL));
	wsp_request_free(req);
	EXPECT_EQ(WSP_FD_CONNECT, wait_enum(fd, efd, &ev));
	EXPECT_EQ(ECONNREFUSED, ev.errors[WSP_FD_CONNECT_BIT]);
	close(fd);
	close(efd);
	close(lfd);
}

TEST(select_errors)
{
	struct wsp_network_events ev;
	int fd, efd;

	fd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	efd = wsp_event_create();
	ASSERT_LE(0, efd);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, efd, 1U << 20));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, -2, WSP_FD_READ));
	EXPECT_EQ(EINVAL, errno);
	/* Not an eventfd. */
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, fd, WSP_FD_READ));
	EXPECT_EQ(EINVAL, errno);
	/* No event object at all: events are still recorded. */
	ASSERT_EQ(0, wsp_event_select(fd, -1, WSP_FD_ALL_EVENTS));
	ASSERT_EQ(0, wsp_enum_network_events(fd, -1, &ev));
	errno = 0;
	EXPECT_EQ(-1, wsp_enum_network_events(-1, -1, &ev));
	EXPECT_EQ(EBADF, errno);
	close(efd);
	close(fd);
}

TEST(wait_any)
{
	int efds[3], i;

	for (i = 0; i < 3; i++) {
		efds[i] = wsp_event_create();
		ASSERT_LE(0, efds[i]);
	}
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, 3, 0, 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, wsp_event_set(efds[2]));
	EXPECT_EQ(2, wsp_wait_for_events(efds, 3, 0, SLOW_MS));
	/* Not reset by the wait. */
	EXPECT_TRUE(signalled(efds[2]));
	ASSERT_EQ(0, wsp_event_set(efds[1]));
	/* The lowest signalled index. */
	EXPECT_EQ(1, wsp_wait_for_events(efds, 3, 0, -1));
	ASSERT_EQ(0, wsp_event_reset(efds[1]));
	ASSERT_EQ(0, wsp_event_reset(efds[2]));
	for (i = 0; i < 3; i++)
		close(efds[i]);
}

TEST(wait_timeout)
{
	long long t0, dt;
	int efd;

	efd = wsp_event_create();
	ASSERT_LE(0, efd);
	t0 = now_ms();
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(&efd, 1, 0, 200));
	EXPECT_EQ(ETIMEDOUT, errno);
	dt = now_ms() - t0;
	EXPECT_LE(190, dt);
	EXPECT_GT(SLOW_MS, dt);
	close(efd);
}

struct setter {
	int efd;
	int delay_ms;
};

static void *setter_main(void *arg)
{
	struct setter *s = arg;

	sleep_ms(s->delay_ms);
	wsp_event_set(s->efd);
	return NULL;
}

TEST(wait_all)
{
	struct setter st;
	pthread_t thr;
	int efds[3], i;

	for (i = 0; i < 3; i++) {
		efds[i] = wsp_event_create();
		ASSERT_LE(0, efds[i]);
	}
	ASSERT_EQ(0, wsp_event_set(efds[0]));
	ASSERT_EQ(0, wsp_event_set(efds[2]));
	/* Two of three: not enough. */
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, 3, 1, 100));
	EXPECT_EQ(ETIMEDOUT, errno);
	/* The third comes later. */
	st.efd = efds[1];
	st.delay_ms = 100;
	ASSERT_EQ(0, pthread_create(&thr, NULL, setter_main, &st));
	EXPECT_EQ(0, wsp_wait_for_events(efds, 3, 1, SLOW_MS));
	pthread_join(thr, NULL);
	for (i = 0; i < 3; i++)
		EXPECT_TRUE(signalled(efds[i]));

	/* One reset while waiting: the wait goes on until it is set again. */
	ASSERT_EQ(0, wsp_event_reset(efds[1]));
	ASSERT_EQ(0, wsp_event_reset(efds[2]));
	st.efd = efds[2];
	st.delay_ms = 50;
	ASSERT_EQ(0, pthread_create(&thr, NULL, setter_main, &st));
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, 3, 1, 300));
	EXPECT_EQ(ETIMEDOUT, errno);
	pthread_join(thr, NULL);
	for (i = 0; i < 3; i++)
		close(efds[i]);
}

TEST(wait_errors)
{
	int efds[WSP_MAXIMUM_WAIT_EVENTS + 1], i, fd;

	for (i = 0; i <= WSP_MAXIMUM_WAIT_EVENTS; i++) {
		efds[i] = wsp_event_create();
		ASSERT_LE(0, efds[i]);
	}
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, WSP_MAXIMUM_WAIT_EVENTS + 1,
					  0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(NULL, 1, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	/* All 64 is fine. */
	ASSERT_EQ(0, wsp_event_set(efds[WSP_MAXIMUM_WAIT_EVENTS - 1]));
	EXPECT_EQ(WSP_MAXIMUM_WAIT_EVENTS - 1,
		  wsp_wait_for_events(efds, WSP_MAXIMUM_WAIT_EVENTS, 0, 0));
	/* The same descriptor twice. */
	close(efds[1]);
	efds[1] = efds[0];
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, 2, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Not a descriptor. */
	fd = -1;
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(&fd, 1, 0, 0));
	EXPECT_EQ(EBADF, errno);
	close(efds[0]);
	for (i = 2; i <= WSP_MAXIMUM_WAIT_EVENTS; i++)
		close(efds[i]);
}

/* An event select on a socket, waited on with others, as a Winsock loop. */
TEST(select_and_wait)
{
	struct wsp_network_events ev;
	int lfd, efds[2], cfd;
	uint32_t port;

	lfd = listener(SOCK_STREAM, true, &port);
	ASSERT_LE(0, lfd);
	efds[0] = wsp_event_create();
	efds[1] = wsp_event_create();
	ASSERT_LE(0, efds[0]);
	ASSERT_LE(0, efds[1]);
	/* Conditional: a request alone is FD_ACCEPT, as for WSAAccept. */
	ASSERT_EQ(0, wsp_event_select(lfd, efds[1], WSP_FD_ACCEPT));
	cfd = pending_client(SOCK_STREAM, port, NULL, 0);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(1, wsp_wait_for_events(efds, 2, 0, SLOW_MS));
	ASSERT_EQ(0, wsp_enum_network_events(lfd, efds[1], &ev));
	EXPECT_EQ(WSP_FD_ACCEPT, ev.events);
	errno = 0;
	EXPECT_EQ(-1, wsp_wait_for_events(efds, 2, 0, 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	close(cfd);
	close(efds[0]);
	close(efds[1]);
	close(lfd);
}

TEST_HARNESS_MAIN
