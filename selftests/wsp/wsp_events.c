// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP Winsock network events (SPEC section 6): WSP_EVENT_SELECT with
 * an eventfd as the event object, WSP_NETWORK_EVENTS, and the Winsock
 * rules for recording and re-enabling each event.
 *
 * Every recording adds exactly 1 to the eventfd, so the counter (read
 * and reset with wsp_efd_take()) tells how many recordings happened; the
 * enumeration tells which.  Everything here is synchronous: the event is
 * recorded before the call that causes it returns.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include "wsp_util.h"

FIXTURE(ev) {
	int lfd, cfd, sfd, efd;
	__u32 port;
	int type;
};

FIXTURE_VARIANT(ev) {
	int type;
};

FIXTURE_VARIANT_ADD(ev, stream) {
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(ev, seqpacket) {
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(ev)
{
	ASSERT_EQ(0, wsp_private_netns());
	self->type = variant->type;
	self->cfd = -1;
	self->sfd = -1;
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	self->lfd = wsp_listener(variant->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
}

FIXTURE_TEARDOWN(ev)
{
	wsp_close(&self->sfd);
	wsp_close(&self->cfd);
	wsp_close(&self->lfd);
	wsp_close(&self->efd);
}

/* Connect *cfd to @port and accept *sfd from @lfd. */
static int pair_up(int type, int lfd, __u32 port, int *cfd, int *sfd)
{
	*cfd = wsp_client(type, port);
	if (*cfd < 0)
		return -1;
	*sfd = accept(lfd, NULL, NULL);
	return *sfd < 0 ? -1 : 0;
}

#define make_pair(self) \
	pair_up((self)->type, (self)->lfd, (self)->port, &(self)->cfd, \
		&(self)->sfd)

/* Enumerate: the events, and errors[] through @errors when non-NULL. */
static __u32 take_events(int fd, int *errors)
{
	struct wsp_network_events ne;

	if (wsp_net_events(fd, &ne))
		return ~0U;
	if (errors)
		memcpy(errors, ne.errors, sizeof(ne.errors));
	return ne.events;
}

TEST_F(ev, select_errors)
{
	struct wsp_event_select sel = { .mask = WSP_FD_READ, .eventfd = -1 };
	struct {
		struct wsp_event_select s;
		__u32 pad;
	} big;
	int fd, p[2], bad;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_EVENT_SELECT, &sel, 7));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_EVENT_SELECT, &sel, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, WSP_FD_ALL_EVENTS + 1, -1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, 1U << 31, self->efd));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, WSP_FD_READ, -2));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, WSP_FD_READ, INT_MIN));
	EXPECT_EQ(EINVAL, errno);
	/* A closed fd. */
	bad = dup(self->efd);
	ASSERT_LE(0, bad);
	close(bad);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, WSP_FD_READ, bad));
	EXPECT_EQ(EBADF, errno);
	/* Files that are not eventfds. */
	ASSERT_EQ(0, pipe(p));
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, WSP_FD_READ, p[0]));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_event_select(fd, WSP_FD_READ, fd));
	EXPECT_EQ(EINVAL, errno);
	close(p[0]);
	close(p[1]);
	/* Valid: no eventfd, every event, nothing at all, a longer optlen. */
	EXPECT_EQ(0, wsp_event_select(fd, WSP_FD_READ, -1));
	EXPECT_EQ(0, wsp_event_select(fd, WSP_FD_ALL_EVENTS, self->efd));
	EXPECT_EQ(0, wsp_event_select(fd, 0, -1));
	EXPECT_EQ(0, wsp_event_select(self->lfd, WSP_FD_ACCEPT, self->efd));
	big.s.mask = WSP_FD_READ;
	big.s.eventfd = self->efd;
	EXPECT_EQ(0, setsockopt(fd, SOL_WSP, WSP_EVENT_SELECT, &big,
				sizeof(big)));
	close(fd);
}

TEST_F(ev, enum_errors_and_fields)
{
	struct wsp_network_events ne;
	unsigned char big[sizeof(ne) + 8];
	socklen_t len;
	int fd, i;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	len = sizeof(ne) - 1;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_NETWORK_EVENTS, &ne, &len));
	EXPECT_EQ(EINVAL, errno);
	len = 0;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_NETWORK_EVENTS, &ne, &len));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing selected: every field written, all zero. */
	memset(big, 0xaa, sizeof(big));
	len = sizeof(big);
	ASSERT_EQ(0, getsockopt(fd, SOL_WSP, WSP_NETWORK_EVENTS, big, &len));
	EXPECT_EQ(sizeof(ne), len);
	memcpy(&ne, big, sizeof(ne));
	EXPECT_EQ(0, ne.events);
	for (i = 0; i < WSP_FD_MAX_EVENTS; i++)
		EXPECT_EQ(0, ne.errors[i]);
	EXPECT_EQ(0xaa, big[sizeof(ne)]);
	close(fd);
}

/*
 * An enumeration that cannot copy its result out (EFAULT) must not eat
 * the record: the fail-nth sweep's usercopy faults found the events gone.
 */
TEST_F(ev, enum_efault_keeps_the_record)
{
	int c, errors[WSP_FD_MAX_EVENTS];
	socklen_t len = sizeof(struct wsp_network_events);

	c = wsp_client(self->type, self->port);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_event_select(self->lfd, WSP_FD_ACCEPT, self->efd));
	EXPECT_EQ(-1, getsockopt(self->lfd, SOL_WSP, WSP_NETWORK_EVENTS,
				 (void *)1, &len));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(self->lfd, errors));
	EXPECT_EQ(0, errors[WSP_FD_ACCEPT_BIT]);
	/* Taken now: the record is empty. */
	EXPECT_EQ(0, take_events(self->lfd, NULL));
	close(c);
}

/* ---- FD_ACCEPT ---------------------------------------------------------- */

TEST_F(ev, accept_automatic)
{
	int err[WSP_FD_MAX_EVENTS];
	int c1, c2, c3, s;

	ASSERT_EQ(0, wsp_event_select(self->lfd, WSP_FD_ACCEPT, self->efd));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	c1 = wsp_client(self->type, self->port);
	ASSERT_LE(0, c1);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(self->lfd, err));
	EXPECT_EQ(0, err[WSP_FD_ACCEPT_BIT]);
	/* Not re-enabled yet: a second arrival records nothing. */
	c2 = wsp_client(self->type, self->port);
	ASSERT_LE(0, c2);
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(self->lfd, NULL));
	/* accept() re-enables it, and c2's child is still there. */
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	close(s);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(self->lfd, NULL));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	close(s);
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(self->lfd, NULL));
	/* Re-enabled and nothing pending: the next arrival records. */
	c3 = wsp_client(self->type, self->port);
	ASSERT_LE(0, c3);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(self->lfd, NULL));
	close(c1);
	close(c2);
	close(c3);
}

/* Connect to @port without waiting: a request, recorded once as FD_ACCEPT. */
static int request_records_accept(struct __test_metadata *_metadata,
				  int type, int lfd, __u32 port, int efd)
{
	int c, err = 0;

	c = wsp_client_nb(type, port, &err);
	EXPECT_LE(0, c);
	EXPECT_EQ(EINPROGRESS, err);
	EXPECT_EQ(1, wsp_efd_take(efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(lfd, NULL));
	return c;
}

/* Re-enabled with nothing left: no recording. */
static void nothing_recorded(struct __test_metadata *_metadata, int lfd,
			     int efd)
{
	EXPECT_EQ(0, wsp_efd_take(efd));
	EXPECT_EQ(0, take_events(lfd, NULL));
}

TEST_F(ev, accept_conditional)
{
	int lfd, c1, c2, s;
	__u32 port;

	lfd = wsp_cond_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_event_select(lfd, WSP_FD_ACCEPT, self->efd));
	/* A request arrival is FD_ACCEPT, as for WSAAccept's condition. */
	c1 = request_records_accept(_metadata, self->type, lfd, port,
				    self->efd);
	/* Deferring raises nothing new, nor does accepting it. */
	ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_DEFER));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_ACCEPT));
	ASSERT_EQ(0, wsp_wait_connect(c1, WSP_SLOW_MS));
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	close(s);
	nothing_recorded(_metadata, lfd, self->efd);
	c2 = request_records_accept(_metadata, self->type, lfd, port,
				    self->efd);
	close(c2);
	close(c1);
	close(lfd);
}

/* A rejection ends the condition's turn as accept() does: the next
 * request is FD_ACCEPT again, and one already waiting is recorded at once.
 */
TEST_F(ev, accept_reenabled_by_reject)
{
	int lfd, c1, c2, c3, err;
	__u32 port;

	lfd = wsp_cond_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_event_select(lfd, WSP_FD_ACCEPT, self->efd));
	c1 = request_records_accept(_metadata, self->type, lfd, port,
				    self->efd);
	ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_REJECT));
	nothing_recorded(_metadata, lfd, self->efd);
	c2 = request_records_accept(_metadata, self->type, lfd, port,
				    self->efd);
	/* Two waiting: rejecting one records FD_ACCEPT for the other. */
	c3 = wsp_client_nb(self->type, port, &err);
	ASSERT_LE(0, c3);
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_REJECT));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(lfd, NULL));
	close(c3);
	close(c2);
	close(c1);
	close(lfd);
}

TEST_F(ev, select_records_what_holds)
{
	int lfd, c, c2, err;
	__u32 port;

	/* A child waiting for accept(). */
	c = wsp_client(self->type, self->port);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_event_select(self->lfd, WSP_FD_ACCEPT, self->efd));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(self->lfd, NULL));
	close(c);

	/* A request waiting for a verdict. */
	lfd = wsp_cond_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	c2 = wsp_client_nb(self->type, port, &err);
	ASSERT_LE(0, c2);
	ASSERT_EQ(EINPROGRESS, err);
	ASSERT_EQ(0, wsp_event_select(lfd, WSP_FD_ACCEPT, self->efd));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(lfd, NULL));
	/* Selected events only: FD_READ does not hold on a listener. */
	ASSERT_EQ(0, wsp_event_select(lfd, WSP_FD_READ | WSP_FD_WRITE,
				      self->efd));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(lfd, NULL));
	close(c2);
	close(lfd);
}

/* ---- FD_CONNECT and FD_WRITE on the client ------------------------------ */

TEST_F(ev, connect_success)
{
	int err[WSP_FD_MAX_EVENTS];
	int c;

	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_event_select(c, WSP_FD_CONNECT | WSP_FD_WRITE |
				      WSP_FD_READ | WSP_FD_CLOSE, self->efd));
	/* Nothing holds on an unconnected socket. */
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	ASSERT_EQ(0, wsp_connect(c, self->port));
	/* Two recordings: FD_CONNECT (no error) and FD_WRITE. */
	EXPECT_EQ(2, wsp_efd_take(self->efd));
	memset(err, 0x55, sizeof(err));
	EXPECT_EQ(WSP_FD_CONNECT | WSP_FD_WRITE, take_events(c, err));
	EXPECT_EQ(0, err[WSP_FD_CONNECT_BIT]);
	EXPECT_EQ(0, err[WSP_FD_WRITE_BIT]);
	/* The enumeration cleared them. */
	EXPECT_EQ(0, take_events(c, NULL));
	/* Sends that succeed record no FD_WRITE. */
	EXPECT_EQ(3, send(c, "abc", 3, 0));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(c, NULL));
	close(c);
}

static void connect_fails(struct __test_metadata *_metadata, int type,
			  int efd, int how)
{
	int err[WSP_FD_MAX_EVENTS];
	int lfd, c, e, want;
	__u32 port;

	lfd = wsp_cond_listener(type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	c = wsp_socket(type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_event_select(c, WSP_FD_CONNECT | WSP_FD_WRITE, efd));
	if (how == 2)
		ASSERT_EQ(0, wsp_set_timeout_ms(c, 50));
	ASSERT_EQ(EINPROGRESS, wsp_connect_nb(c, port));
	EXPECT_EQ(0, wsp_efd_take(efd));
	switch (how) {
	case 0:		/* rejected */
		ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_REJECT));
		want = ECONNREFUSED;
		break;
	case 1:		/* the listener goes away */
		wsp_close(&lfd);
		want = ECONNREFUSED;
		break;
	default:	/* timed out */
		want = ETIMEDOUT;
		break;
	}
	e = wsp_wait_connect(c, WSP_SLOW_MS);
	EXPECT_EQ(want, e);
	EXPECT_EQ(1, wsp_efd_take(efd));
	memset(err, 0, sizeof(err));
	EXPECT_EQ(WSP_FD_CONNECT, take_events(c, err));
	EXPECT_EQ(want, err[WSP_FD_CONNECT_BIT]);
	close(c);
	wsp_close(&lfd);
}

TEST_F(ev, connect_refused)
{
	connect_fails(_metadata, self->type, self->efd, 0);
}

TEST_F(ev, connect_listener_closed)
{
	connect_fails(_metadata, self->type, self->efd, 1);
}

TEST_F(ev, connect_timed_out)
{
	connect_fails(_metadata, self->type, self->efd, 2);
}

TEST_F(ev, connect_eventfd_minus_one)
{
	int err[WSP_FD_MAX_EVENTS];
	int c;

	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_event_select(c, WSP_FD_CONNECT, -1));
	ASSERT_EQ(0, wsp_connect(c, self->port));
	/* Recorded, with nothing to signal. */
	EXPECT_EQ(WSP_FD_CONNECT, take_events(c, err));
	EXPECT_EQ(0, err[WSP_FD_CONNECT_BIT]);
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	close(c);
}

/* ---- FD_READ ------------------------------------------------------------ */

TEST_F(ev, read_rule)
{
	char buf[8];

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_READ, self->efd));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	ASSERT_EQ(1, send(self->cfd, "a", 1, 0));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	/* Not re-enabled: more data records nothing. */
	ASSERT_EQ(1, send(self->cfd, "b", 1, 0));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_READ, take_events(self->sfd, NULL));
	EXPECT_EQ(0, take_events(self->sfd, NULL));
	/* A peek is no read. */
	EXPECT_EQ(1, recv(self->sfd, buf, 1, MSG_PEEK));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	/* A read re-enables it, and data remains: recorded at once. */
	EXPECT_EQ(1, recv(self->sfd, buf, 1, 0));
	EXPECT_EQ('a', buf[0]);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_READ, take_events(self->sfd, NULL));
	/* The last byte: re-enabled, nothing queued, nothing recorded. */
	EXPECT_EQ(1, recv(self->sfd, buf, 1, 0));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(self->sfd, NULL));
	/* A read that returns nothing does not re-enable. */
	ASSERT_EQ(1, send(self->cfd, "c", 1, 0));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	ASSERT_EQ(1, recv(self->sfd, buf, 1, 0));
	errno = 0;
	EXPECT_EQ(-1, recv(self->sfd, buf, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, send(self->cfd, "d", 1, 0));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
}

TEST_F(ev, reselect_clears_and_rerecords)
{
	int other;

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_READ, self->efd));
	ASSERT_EQ(1, send(self->cfd, "a", 1, 0));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	/* Selecting again clears the record, re-enables, and data is queued. */
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_READ, self->efd));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_READ, take_events(self->sfd, NULL));
	/* A mask without FD_READ: the record is cleared, nothing new. */
	ASSERT_EQ(1, send(self->cfd, "b", 1, 0));
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_CLOSE, self->efd));
	EXPECT_EQ(0, take_events(self->sfd, NULL));
	/* Another eventfd replaces the first. */
	other = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, other);
	wsp_efd_take(self->efd);
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_READ, other));
	EXPECT_EQ(1, wsp_efd_take(other));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	/* No eventfd: recorded only. */
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_READ, -1));
	EXPECT_EQ(WSP_FD_READ, take_events(self->sfd, NULL));
	EXPECT_EQ(0, wsp_efd_take(other));
	/* Mask 0 cancels: nothing recorded any more. */
	ASSERT_EQ(0, wsp_event_select(self->sfd, 0, other));
	ASSERT_EQ(1, send(self->cfd, "c", 1, 0));
	EXPECT_EQ(0, wsp_efd_take(other));
	EXPECT_EQ(0, take_events(self->sfd, NULL));
	close(other);
}

TEST_F(ev, eventfd_closed_after_select)
{
	int efd;

	ASSERT_EQ(0, make_pair(self));
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_READ | WSP_FD_CLOSE,
				      efd));
	ASSERT_EQ(0, wsp_event_select(self->lfd, WSP_FD_ACCEPT, efd));
	/* The registration keeps its own reference. */
	close(efd);
	ASSERT_EQ(1, send(self->cfd, "a", 1, 0));
	EXPECT_EQ(WSP_FD_READ, take_events(self->sfd, NULL));
	wsp_close(&self->cfd);
	EXPECT_EQ(WSP_FD_CLOSE, take_events(self->sfd, NULL));
	/* A child inherits it too, after the user's fd is gone. */
	self->cfd = wsp_client(self->type, self->port);
	ASSERT_LE(0, self->cfd);
	EXPECT_EQ(WSP_FD_ACCEPT, take_events(self->lfd, NULL));
	wsp_close(&self->sfd);
	self->sfd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, self->sfd);
	ASSERT_EQ(1, send(self->cfd, "b", 1, 0));
	EXPECT_EQ(0, take_events(self->sfd, NULL));	/* mask ACCEPT */
}

/* ---- FD_WRITE ----------------------------------------------------------- */

TEST_F(ev, write_rule)
{
	long n;

	ASSERT_EQ(0, make_pair(self));
	/* Connected and writable: recorded at selection. */
	ASSERT_EQ(0, wsp_event_select(self->cfd, WSP_FD_WRITE, self->efd));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_WRITE, take_events(self->cfd, NULL));
	ASSERT_EQ(1, send(self->cfd, "x", 1, 0));
	ASSERT_EQ(1, wsp_recv_n(self->sfd, 1));
	/* Room came back, but no send had failed: nothing. */
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	/* Fill until EAGAIN; room coming back then records FD_WRITE once. */
	n = wsp_fill(self->cfd, 1024);
	ASSERT_LT(0, n);
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(n, wsp_drain(self->sfd));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_WRITE, take_events(self->cfd, NULL));
	/* And not again without another EAGAIN. */
	ASSERT_EQ(1, send(self->cfd, "y", 1, 0));
	ASSERT_EQ(1, wsp_drain(self->sfd));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(self->cfd, NULL));
}

/* ---- FD_CLOSE ----------------------------------------------------------- */

TEST_F(ev, close_on_shutdown_once)
{
	int err[WSP_FD_MAX_EVENTS];

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->cfd, WSP_FD_CLOSE, self->efd));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	ASSERT_EQ(0, shutdown(self->sfd, SHUT_WR));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	memset(err, 0x55, sizeof(err));
	EXPECT_EQ(WSP_FD_CLOSE, take_events(self->cfd, err));
	EXPECT_EQ(0, err[WSP_FD_CLOSE_BIT]);
	/* Once: the close that follows records nothing. */
	wsp_close(&self->sfd);
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(self->cfd, NULL));
}

TEST_F(ev, close_graceful)
{
	int err[WSP_FD_MAX_EVENTS];

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_CLOSE, self->efd));
	wsp_close(&self->cfd);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	memset(err, 0x55, sizeof(err));
	EXPECT_EQ(WSP_FD_CLOSE, take_events(self->sfd, err));
	EXPECT_EQ(0, err[WSP_FD_CLOSE_BIT]);
	/* Selecting again while the peer is gone records it at once. */
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_CLOSE, self->efd));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
}

TEST_F(ev, close_reset_unread_data)
{
	int err[WSP_FD_MAX_EVENTS];

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->cfd, WSP_FD_CLOSE, self->efd));
	ASSERT_EQ(3, send(self->cfd, "abc", 3, 0));
	/* The server closes without reading: a reset. */
	wsp_close(&self->sfd);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_CLOSE, take_events(self->cfd, err));
	EXPECT_EQ(ECONNRESET, err[WSP_FD_CLOSE_BIT]);
}

TEST_F(ev, close_reset_linger_zero)
{
	int err[WSP_FD_MAX_EVENTS];
	struct linger lg = { 1, 0 };

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->cfd, WSP_FD_CLOSE | WSP_FD_READ,
				      self->efd));
	ASSERT_EQ(0, setsockopt(self->sfd, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	wsp_close(&self->sfd);
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_CLOSE, take_events(self->cfd, err));
	EXPECT_EQ(ECONNRESET, err[WSP_FD_CLOSE_BIT]);
}

/* ---- FD_QOS ------------------------------------------------------------- */

TEST_F(ev, qos_rule)
{
	struct wsp_qos q, got;

	ASSERT_EQ(0, make_pair(self));
	ASSERT_EQ(0, wsp_event_select(self->sfd, WSP_FD_QOS, self->efd));
	ASSERT_EQ(0, wsp_event_select(self->cfd, WSP_FD_QOS, self->efd));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	wsp_qos_unspec(&q);
	q.sending.latency = 100;
	ASSERT_EQ(0, wsp_set_qos(self->cfd, &q));
	/* Recorded at the peer only. */
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_QOS, take_events(self->sfd, NULL));
	EXPECT_EQ(0, take_events(self->cfd, NULL));
	/* Not re-enabled: a second change records nothing. */
	q.sending.latency = 200;
	ASSERT_EQ(0, wsp_set_qos(self->cfd, &q));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	EXPECT_EQ(0, take_events(self->sfd, NULL));
	/* Reading the QoS re-enables it. */
	ASSERT_EQ(0, wsp_get_qos(self->sfd, &got));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
	q.sending.latency = 300;
	ASSERT_EQ(0, wsp_set_qos(self->cfd, &q));
	EXPECT_EQ(1, wsp_efd_take(self->efd));
	EXPECT_EQ(WSP_FD_QOS, take_events(self->sfd, NULL));
	/* A failed set changes nothing and records nothing. */
	ASSERT_EQ(0, wsp_get_qos(self->sfd, &got));
	q.sending.token_rate = 0;
	EXPECT_EQ(-1, wsp_set_qos(self->cfd, &q));
	EXPECT_EQ(0, wsp_efd_take(self->efd));
}

/* ---- inheritance -------------------------------------------------------- */

static void inherit_case(struct __test_metadata *_metadata, int type,
			 int efd, bool conditional)
{
	int lfd, c, s, efd2;
	__u32 port;

	lfd = wsp_listener(type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_set_int(lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT,
				 conditional));
	ASSERT_EQ(0, wsp_event_select(lfd, WSP_FD_READ | WSP_FD_WRITE |
				      WSP_FD_CLOSE, efd));
	c = wsp_socket(type);
	ASSERT_LE(0, c);
	ASSERT_EQ(conditional ? EINPROGRESS : 0, wsp_connect_nb(c, port));
	if (conditional) {
		ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_ACCEPT));
		ASSERT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	}
	/* The listener's own events: none of these apply to it. */
	EXPECT_EQ(0, wsp_efd_take(efd));
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	/* The child is connected: FD_WRITE, on the listener's eventfd. */
	EXPECT_EQ(1, wsp_efd_take(efd));
	EXPECT_EQ(WSP_FD_WRITE, take_events(s, NULL));
	EXPECT_EQ(0, take_events(lfd, NULL));
	ASSERT_EQ(2, send(c, "hi", 2, 0));
	EXPECT_EQ(1, wsp_efd_take(efd));
	EXPECT_EQ(WSP_FD_READ, take_events(s, NULL));
	/* The child's registration is its own: re-selecting it leaves lfd. */
	efd2 = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd2);
	ASSERT_EQ(0, wsp_event_select(s, WSP_FD_CLOSE, efd2));
	close(c);
	EXPECT_EQ(1, wsp_efd_take(efd2));
	EXPECT_EQ(0, wsp_efd_take(efd));
	EXPECT_EQ(WSP_FD_CLOSE, take_events(s, NULL));
	close(efd2);
	close(s);
	close(lfd);
}

TEST_F(ev, inherit_automatic)
{
	inherit_case(_metadata, self->type, self->efd, false);
}

TEST_F(ev, inherit_conditional)
{
	inherit_case(_metadata, self->type, self->efd, true);
}

TEST_HARNESS_MAIN
