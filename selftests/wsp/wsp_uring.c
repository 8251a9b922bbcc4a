// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP through io_uring (liburing, linked statically): multishot accept,
 * the accept queue hint (proto_accept_arg.is_empty, SPEC section 10),
 * IORING_OP_POLL_ADD for POLLPRI on a conditional listener, then peek,
 * verdict and accept; IORING_OP_CONNECT against verdicts and the connect
 * timeout (sections 3 and 4); send and receive under a token bucket
 * (section 5); cancellation; and the ring going away with a connect in
 * flight.
 *
 * io_uring issues every socket operation non-blocking first and, on
 * EAGAIN or EINPROGRESS, waits for it through the socket's ->poll() and
 * wait queue.  So these tests check the module's readiness masks and the
 * keys of its wakeups as much as the operations themselves: a wakeup with
 * the wrong key leaves a request pending forever, which shows here as a
 * timeout.
 *
 * Every test runs in a private network namespace, so /proc/net/wsp_stat
 * counters start at zero.  A kernel without io_uring (or with it
 * disabled), or without a feature a case needs, skips that case with the
 * reason; the run ends with the list of the cases that ran and of those
 * skipped.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <liburing.h>
#include "wsp_util.h"

#define RING_ENTRIES	64
/* How long "nothing happens" is watched for. */
#define QUIET_MS	100
#define NCLIENTS	5
#define IOU_DISABLED	"/proc/sys/kernel/io_uring_disabled"

/* user_data of the requests */
enum {
	UD_ACCEPT = 1,
	UD_ACCEPT2,
	UD_POLL,
	UD_POLL_PRI,
	UD_POLL_NOW,
	UD_CONNECT,
	UD_SEND,
	UD_RECV,
	UD_CANCEL,
};

/* ---- the run: io_uring_disabled, and which cases ran ------------------- */

struct uring_case {
	char name[64];
	char status[8];
	char why[100];
	char note[100];
};

struct uring_summary {
	int n;
	struct uring_case c[64];
};

static struct uring_summary *summary;
static pid_t main_pid;
static char iou_disabled_old[16];	/* "" when left as found */
static char iou_note[96];
/* What the running case wants said in the summary besides its result. */
static char case_note[100];

static void __attribute__((constructor)) uring_run_start(void)
{
	char buf[16];
	int v;

	main_pid = getpid();
	summary = mmap(NULL, sizeof(*summary), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (summary == MAP_FAILED)
		summary = NULL;
	/* 6.6+: kernel.io_uring_disabled 1 or 2 refuses io_uring_setup(). */
	if (wsp_read_file(IOU_DISABLED, buf, sizeof(buf)) <= 0)
		return;
	v = atoi(buf);
	if (!v)
		return;
	if (geteuid() == 0 && !wsp_write_file(IOU_DISABLED, "0\n")) {
		snprintf(iou_disabled_old, sizeof(iou_disabled_old), "%d\n", v);
		snprintf(iou_note, sizeof(iou_note),
			 "kernel.io_uring_disabled was %d, 0 for this run", v);
	} else {
		snprintf(iou_note, sizeof(iou_note),
			 "kernel.io_uring_disabled is %d, not changeable", v);
	}
}

static void __attribute__((destructor)) uring_run_end(void)
{
	int i, ran = 0, skipped = 0, failed = 0;
	struct uring_case *c;

	if (getpid() != main_pid)
		return;
	if (iou_disabled_old[0])
		wsp_write_file(IOU_DISABLED, iou_disabled_old);
	if (!summary)
		return;
	if (iou_note[0])
		printf("# %s (restored)\n", iou_note);
	for (i = 0; i < summary->n && i < (int)ARRAY_SIZE(summary->c); i++) {
		c = &summary->c[i];
		if (!strcmp(c->status, "SKIP")) {
			printf("# case %-45s skipped: %s\n", c->name, c->why);
			skipped++;
		} else {
			printf("# case %-45s ran%s%s%s\n", c->name,
			       strcmp(c->status, "ok") ? ", FAILED" : "",
			       c->note[0] ? "; " : "", c->note);
			ran++;
			failed += !!strcmp(c->status, "ok");
		}
	}
	printf("# io_uring cases: %d ran (%d failed), %d skipped\n", ran,
	       failed, skipped);
	fflush(stdout);
}

/* ---- helpers ------------------------------------------------------------ */

struct ev {
	__u64 ud;
	int res;
	unsigned int flags;
};

/* CQEs reaped while waiting for another one. */
static struct ev stash[32];
static int nstash;

static int ring_wait(struct io_uring *ring, struct ev *e, long long ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int r;

	r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (r)
		return r;
	e->ud = cqe->user_data;
	e->res = cqe->res;
	e->flags = cqe->flags;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/*
 * The CQE of @ud, waiting up to @ms for it: 0, -ETIME if it did not come,
 * or another negative errno.  CQEs of other requests are kept for later.
 */
static int reap(struct io_uring *ring, __u64 ud, struct ev *e, int ms)
{
	long long end = wsp_now_ms() + ms, left;
	int i, r;

	for (i = 0; i < nstash; i++) {
		if (stash[i].ud != ud)
			continue;
		*e = stash[i];
		memmove(&stash[i], &stash[i + 1],
			(nstash - i - 1) * sizeof(stash[0]));
		nstash--;
		return 0;
	}
	for (;;) {
		left = end - wsp_now_ms();
		if (left < 0)
			left = 0;
		r = ring_wait(ring, e, left);
		if (r == -EINTR)
			continue;
		if (r)
			return r;
		if (e->ud == ud)
			return 0;
		if (nstash == (int)ARRAY_SIZE(stash))
			return -ENOSPC;
		stash[nstash++] = *e;
	}
}

static int submit(struct io_uring *ring, struct io_uring_sqe *sqe, __u64 ud)
{
	io_uring_sqe_set_data64(sqe, ud);
	return io_uring_submit(ring);
}

/* Each sub_*() prepares one request and submits it: 1, or -errno. */
static int sub_accept(struct io_uring *ring, int fd, bool multishot, __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	if (multishot)
		io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, 0);
	else
		io_uring_prep_accept(sqe, fd, NULL, NULL, 0);
	return submit(ring, sqe, ud);
}

static int sub_connect(struct io_uring *ring, int fd,
		       const struct sockaddr_wsp *a, __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)a, sizeof(*a));
	return submit(ring, sqe, ud);
}

static int sub_poll(struct io_uring *ring, int fd, unsigned int mask,
		    __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, mask);
	return submit(ring, sqe, ud);
}

static int sub_send(struct io_uring *ring, int fd, const void *buf,
		    size_t len, int flags, __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_send(sqe, fd, buf, len, flags);
	return submit(ring, sqe, ud);
}

static int sub_recv(struct io_uring *ring, int fd, void *buf, size_t len,
		    int flags, __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv(sqe, fd, buf, len, flags);
	return submit(ring, sqe, ud);
}

static int sub_cancel_ud(struct io_uring *ring, __u64 target, __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, target, 0);
	return submit(ring, sqe, ud);
}

static int sub_cancel_fd(struct io_uring *ring, int fd, unsigned int flags,
			 __u64 ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel_fd(sqe, fd, flags);
	return submit(ring, sqe, ud);
}

/* WSP_REQUEST_ID of @fd: 0, or -errno (-ENOPROTOOPT: an older module). */
static int request_id(int fd, __u64 *id)
{
	socklen_t len = sizeof(*id);

	*id = 0;
	if (getsockopt(fd, SOL_WSP, WSP_REQUEST_ID, id, &len))
		return -errno;
	return len == sizeof(*id) ? 0 : -EMSGSIZE;
}

/* One byte from @a to @b; 0 when it arrived intact. */
static int send_byte(int a, int b, char v)
{
	char got = 0;
	int r;

	if (send(a, &v, 1, MSG_NOSIGNAL) != 1)
		return -1;
	r = wsp_poll1(b, POLLIN, WSP_SLOW_MS);
	if (r <= 0 || !(r & POLLIN)) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (recv(b, &got, 1, MSG_DONTWAIT) != 1)
		return -1;
	if (got != v) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* A byte each way between the two ends of a connection. */
static int exchange(int a, int b)
{
	return send_byte(a, b, 'u') || send_byte(b, a, 'r') ? -1 : 0;
}

static bool kernel_at_least(unsigned int maj, unsigned int min)
{
	unsigned int a, b;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/* Wait up to @ms for /proc/net/wsp_stat's @name to reach @want. */
static long long stat_wait(const char *name, long long want, int ms)
{
	long long end = wsp_now_ms() + ms, v;

	for (;;) {
		v = wsp_stat(name);
		if (v >= want || wsp_now_ms() > end)
			return v;
		wsp_msleep(10);
	}
}

/*
 * The errno of a syscall this kernel does not have: io_uring_setup()'s
 * without CONFIG_IO_URING.
 */
static int no_syscall_errno(void)
{
	return syscall(-1) < 0 ? errno : 0;
}

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(uring) {
	struct io_uring ring;
	bool ring_up;
	int type;
	int lfd;
	__u32 port;
	struct sockaddr_wsp addr;	/* IORING_OP_CONNECT's target */
};

FIXTURE_VARIANT(uring) {
	int type;
	const char *name;
};

FIXTURE_VARIANT_ADD(uring, stream) {
	.type = SOCK_STREAM,
	.name = "stream",
};

FIXTURE_VARIANT_ADD(uring, seqpacket) {
	.type = SOCK_SEQPACKET,
	.name = "seqpacket",
};

FIXTURE_SETUP(uring)
{
	int r;

	self->lfd = -1;
	self->type = variant->type;
	nstash = 0;
	case_note[0] = '\0';
	ASSERT_EQ(0, wsp_private_netns());
	r = io_uring_queue_init(RING_ENTRIES, &self->ring, 0);
	if (r == -EPERM || -r == no_syscall_errno())
		SKIP(return, "io_uring unavailable: io_uring_setup: %s%s%s",
		     strerror(-r), iou_note[0] ? "; " : "", iou_note);
	ASSERT_EQ(0, r) TH_LOG("io_uring_queue_init: %s", strerror(-r));
	self->ring_up = true;
}

FIXTURE_TEARDOWN(uring)
{
	struct uring_case *c;

	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	self->ring_up = false;
	wsp_close(&self->lfd);
	if (!summary || summary->n >= (int)ARRAY_SIZE(summary->c))
		return;
	c = &summary->c[summary->n++];
	snprintf(c->name, sizeof(c->name), "%s.%s", variant->name,
		 _metadata->name);
	snprintf(c->status, sizeof(c->status), "%s",
		 _metadata->skip ? "SKIP" : _metadata->passed ? "ok" : "FAIL");
	snprintf(c->why, sizeof(c->why), "%.99s", _metadata->results->reason);
	snprintf(c->note, sizeof(c->note), "%s", case_note);
}

/* ---- accept ------------------------------------------------------------- */

/* A client whose local port is @port, among @n; -1 if none. */
static int client_of(const int *cl, int n, long long port)
{
	int i;

	for (i = 0; i < n; i++)
		if (cl[i] >= 0 && wsp_local_port(cl[i]) == port)
			return i;
	return -1;
}

TEST_F(uring, multishot_accept)
{
	int cl[NCLIENTS], af[NCLIENTS], i, j, n = 0, c, s;
	struct ev e;

	if (!self->ring_up)
		return;
	self->lfd = wsp_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	/*
	 * Two connections wait before the accept is posted: it takes both
	 * at once.  The others arrive while it is armed on the listener.
	 */
	for (i = 0; i < 2; i++) {
		cl[i] = wsp_client(self->type, self->port);
		ASSERT_LE(0, cl[i]);
	}
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, true, UD_ACCEPT));
	for (; n < NCLIENTS; n++) {
		if (n >= 2) {
			cl[n] = wsp_client(self->type, self->port);
			ASSERT_LE(0, cl[n]);
		}
		ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT, &e, WSP_SLOW_MS))
			TH_LOG("no CQE for connection %d", n);
		if (n == 0 && e.res == -EINVAL)
			SKIP(return, "multishot accept unsupported (-EINVAL)");
		ASSERT_LE(0, e.res) TH_LOG("connection %d: %s", n,
					   strerror(-e.res));
		EXPECT_TRUE(e.flags & IORING_CQE_F_MORE)
			TH_LOG("connection %d: flags %#x", n, e.flags);
		af[n] = e.res;
	}
	/* One CQE per connection, no more. */
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_ACCEPT, &e, QUIET_MS))
		TH_LOG("extra CQE: res %d flags %#x", e.res, e.flags);

	/* Each is a connected socket, the peer of exactly one client. */
	for (i = 0; i < NCLIENTS; i++) {
		j = client_of(cl, NCLIENTS, wsp_peer_port(af[i]));
		ASSERT_LE(0, j) TH_LOG("accepted fd %d: peer port %lld", af[i],
				       wsp_peer_port(af[i]));
		EXPECT_EQ(self->port, wsp_peer_port(cl[j]));
		EXPECT_EQ(0, exchange(af[i], cl[j]))
			TH_LOG("connection %d: %s", i, strerror(errno));
		EXPECT_EQ(self->type, wsp_get_int(af[i], SOL_SOCKET, SO_TYPE));
		close(cl[j]);
		cl[j] = -1;
		close(af[i]);
	}

	/* Cancelled, it ends without IORING_CQE_F_MORE. */
	ASSERT_EQ(1, sub_cancel_ud(&self->ring, UD_ACCEPT, UD_CANCEL));
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT, &e, WSP_SLOW_MS));
	EXPECT_EQ(-ECANCELED, e.res);
	EXPECT_FALSE(e.flags & IORING_CQE_F_MORE);
	ASSERT_EQ(0, reap(&self->ring, UD_CANCEL, &e, WSP_SLOW_MS));
	EXPECT_EQ(0, e.res);
	/* And takes nothing more: the next connection is accept()'s. */
	c = wsp_client(self->type, self->port);
	ASSERT_LE(0, c);
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_ACCEPT, &e, QUIET_MS));
	s = wsp_accept_nb(self->lfd);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, exchange(s, c));
	close(s);
	close(c);
}

/*
 * SPEC section 10: accept() fills proto_accept_arg.is_empty (6.10+), and
 * io_uring passes it on as IORING_CQE_F_SOCK_NONEMPTY.
 */
TEST_F(uring, accept_nonempty_hint)
{
	int c1, c2, s1, s2;
	struct utsname u;
	struct ev e;

	if (!self->ring_up)
		return;
	if (!kernel_at_least(6, 10)) {
		uname(&u);
		SKIP(return, "kernel %s: no proto_accept_arg.is_empty before 6.10",
		     u.release);
	}
	self->lfd = wsp_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c1 = wsp_client(self->type, self->port);
	ASSERT_LE(0, c1);
	c2 = wsp_client(self->type, self->port);
	ASSERT_LE(0, c2);

	/* Two queued: the first accept leaves one behind... */
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, false, UD_ACCEPT));
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT, &e, WSP_SLOW_MS));
	ASSERT_LE(0, e.res) TH_LOG("%s", strerror(-e.res));
	s1 = e.res;
	EXPECT_TRUE(e.flags & IORING_CQE_F_SOCK_NONEMPTY)
		TH_LOG("flags %#x", e.flags);
	/* ...the second takes the last one. */
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, false, UD_ACCEPT2));
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT2, &e, WSP_SLOW_MS));
	ASSERT_LE(0, e.res) TH_LOG("%s", strerror(-e.res));
	s2 = e.res;
	EXPECT_FALSE(e.flags & IORING_CQE_F_SOCK_NONEMPTY)
		TH_LOG("flags %#x", e.flags);
	/* In arrival order. */
	EXPECT_EQ(wsp_local_port(c1), wsp_peer_port(s1));
	EXPECT_EQ(wsp_local_port(c2), wsp_peer_port(s2));
	EXPECT_EQ(0, exchange(s1, c1));
	EXPECT_EQ(0, exchange(s2, c2));
	close(s1);
	close(s2);
	close(c1);
	close(c2);
}

/* ---- conditional listener: POLLPRI, peek, verdict, accept --------------- */

TEST_F(uring, poll_pri_conditional)
{
	struct wsp_request r;
	__u64 sid = 0, cid = 0;
	int c, s, err, rid;
	struct ev e;

	if (!self->ring_up)
		return;
	self->lfd = wsp_cond_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);

	/*
	 * Nothing waits yet.  The poll asks for POLLPRI | POLLRDBAND: since
	 * 5.19 ("io_uring: only wake when the correct events are set")
	 * io_poll_wake() masks EPOLLPRI out of the events it matches a
	 * wakeup's key against (IO_ASYNC_POLL_COMMON), so a POLL_ADD of
	 * POLLPRI alone is never woken by a key that says EPOLLPRI and
	 * nothing it matches: a TCP socket's urgent data is missed the same
	 * way.  The listener's key is EPOLLPRI | EPOLLRDBAND, as its
	 * ->poll() reports; RDBAND is what a woken poll matches.
	 */
	ASSERT_EQ(1, sub_poll(&self->ring, self->lfd, POLLPRI | POLLRDBAND,
			      UD_POLL));
	/* And one of POLLPRI alone, only looked at. */
	ASSERT_EQ(1, sub_poll(&self->ring, self->lfd, POLLPRI, UD_POLL_PRI));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_POLL, &e, QUIET_MS))
		TH_LOG("poll completed early: %#x", e.res);

	/* A request arrives: POLLPRI, and no POLLIN (nothing to accept). */
	c = wsp_client_nb(self->type, self->port, &err);
	ASSERT_LE(0, c);
	ASSERT_EQ(EINPROGRESS, err);
	ASSERT_EQ(0, reap(&self->ring, UD_POLL, &e, WSP_SLOW_MS))
		TH_LOG("no POLLPRI completion for a waiting request");
	ASSERT_LT(0, e.res) TH_LOG("poll: %s", strerror(-e.res));
	EXPECT_TRUE(e.res & POLLPRI) TH_LOG("revents %#x", e.res);
	EXPECT_TRUE(e.res & POLLRDBAND) TH_LOG("revents %#x", e.res);
	EXPECT_FALSE(e.res & POLLIN) TH_LOG("revents %#x", e.res);

	if (reap(&self->ring, UD_POLL_PRI, &e, QUIET_MS) == 0) {
		EXPECT_TRUE(e.res > 0 && (e.res & POLLPRI))
			TH_LOG("POLLPRI-only poll: %#x", e.res);
	} else {
		snprintf(case_note, sizeof(case_note),
			 "POLL_ADD(POLLPRI) armed first not woken (io_uring core)");
		TH_LOG("a POLL_ADD of POLLPRI alone, armed before the request, was not woken: io_uring drops EPOLLPRI-only keys");
		ASSERT_EQ(1, sub_cancel_ud(&self->ring, UD_POLL_PRI, UD_CANCEL));
		ASSERT_EQ(0, reap(&self->ring, UD_POLL_PRI, &e, WSP_SLOW_MS));
		EXPECT_TRUE(e.res == -ECANCELED || (e.res > 0 &&
						    (e.res & POLLPRI)))
			TH_LOG("POLLPRI-only poll: %d", e.res);
		ASSERT_EQ(0, reap(&self->ring, UD_CANCEL, &e, WSP_SLOW_MS));
	}
	/* POLLPRI alone, armed while the request waits: at once. */
	ASSERT_EQ(1, sub_poll(&self->ring, self->lfd, POLLPRI, UD_POLL_NOW));
	ASSERT_EQ(0, reap(&self->ring, UD_POLL_NOW, &e, WSP_SLOW_MS))
		TH_LOG("POLLPRI poll not completed with a request waiting");
	EXPECT_EQ(POLLPRI, e.res) TH_LOG("revents %#x", e.res);

	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_NE(0, r.id);
	EXPECT_EQ(wsp_local_port(c), r.caller.swsp_port);
	EXPECT_EQ(getpid(), (pid_t)r.pid);

	/* An accept posted now waits: the request has no verdict. */
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, false, UD_ACCEPT));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_ACCEPT, &e, QUIET_MS))
		TH_LOG("accept completed before the verdict: %d", e.res);
	/* The verdict completes it, with the socket of that request. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, r.id, WSP_CF_ACCEPT));
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT, &e, WSP_SLOW_MS))
		TH_LOG("no accept CQE after WSP_CF_ACCEPT");
	ASSERT_LE(0, e.res) TH_LOG("accept: %s", strerror(-e.res));
	s = e.res;
	rid = request_id(s, &sid);
	ASSERT_NE(-ENOPROTOOPT, rid)
		TH_LOG("WSP_REQUEST_ID: ENOPROTOOPT: module older than this tree");
	ASSERT_EQ(0, rid) TH_LOG("WSP_REQUEST_ID: %s", strerror(-rid));
	EXPECT_EQ(r.id, sid);
	EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	ASSERT_EQ(0, request_id(c, &cid));
	EXPECT_EQ(r.id, cid);
	EXPECT_EQ(0, exchange(s, c));
	/* Nothing waits for a verdict any more. */
	EXPECT_FALSE(wsp_revents(self->lfd) & POLLPRI);
	close(s);
	close(c);
}

/* ---- IORING_OP_CONNECT --------------------------------------------------- */

/*
 * A connect to a conditional listener; waits for its request and peeks it
 * into @r.  Returns the client fd, or -1.
 */
static int uring_connect_pending(struct io_uring *ring, int type, int lfd,
				 struct sockaddr_wsp *addr, __u32 port,
				 struct wsp_request *r)
{
	int c = wsp_socket(type);

	if (c < 0)
		return -1;
	*addr = wsp_sa(port);
	if (sub_connect(ring, c, addr, UD_CONNECT) != 1 ||
	    wsp_wait_request(lfd, WSP_SLOW_MS) || wsp_peek(lfd, 0, r)) {
		close(c);
		return -1;
	}
	return c;
}

TEST_F(uring, connect_accepted)
{
	struct wsp_request r;
	__u64 id = 0;
	struct ev e;
	int c, s;

	if (!self->ring_up)
		return;
	self->lfd = wsp_cond_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c = uring_connect_pending(&self->ring, self->type, self->lfd,
				  &self->addr, self->port, &r);
	ASSERT_LE(0, c) TH_LOG("request did not arrive: %s", strerror(errno));
	EXPECT_EQ(wsp_local_port(c), r.caller.swsp_port);
	EXPECT_EQ(getpid(), (pid_t)r.pid);
	/* The connect waits for the verdict... */
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_CONNECT, &e, QUIET_MS))
		TH_LOG("connect completed before the verdict: %d", e.res);
	/* ...and completes with it. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, r.id, WSP_CF_ACCEPT));
	ASSERT_EQ(0, reap(&self->ring, UD_CONNECT, &e, WSP_SLOW_MS));
	EXPECT_EQ(0, e.res) TH_LOG("connect: %s", strerror(-e.res));
	ASSERT_NE(-ENOPROTOOPT, request_id(c, &id))
		TH_LOG("WSP_REQUEST_ID: ENOPROTOOPT: module older than this tree");
	EXPECT_EQ(r.id, id);
	s = wsp_accept_nb(self->lfd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, request_id(s, &id));
	EXPECT_EQ(r.id, id);
	EXPECT_EQ(0, exchange(c, s));
	errno = 0;
	EXPECT_EQ(-1, wsp_connect(c, self->port));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_EQ(1, wsp_stat("accepted"));
	close(s);
	close(c);
}

TEST_F(uring, connect_refused_no_listener)
{
	__u32 closed_port, bound_port;
	__u32 ports[3];
	int fd, bound, c, i;
	struct ev e;

	if (!self->ring_up)
		return;
	/* A port whose listener has closed... */
	fd = wsp_listener(self->type, 0, 4, &closed_port);
	ASSERT_LE(0, fd);
	close(fd);
	/* ...one bound by a socket that does not listen... */
	bound = wsp_socket(self->type);
	ASSERT_LE(0, bound);
	ASSERT_EQ(0, wsp_bind(bound, 0));
	bound_port = wsp_local_port(bound);
	/* ...and one never bound in this fresh namespace. */
	ports[0] = closed_port;
	ports[1] = bound_port;
	ports[2] = 4242;
	for (i = 0; i < 3; i++) {
		c = wsp_socket(self->type);
		ASSERT_LE(0, c);
		self->addr = wsp_sa(ports[i]);
		ASSERT_EQ(1, sub_connect(&self->ring, c, &self->addr,
					 UD_CONNECT));
		ASSERT_EQ(0, reap(&self->ring, UD_CONNECT, &e, WSP_SLOW_MS))
			TH_LOG("port %u: no CQE", ports[i]);
		EXPECT_EQ(-ECONNREFUSED, e.res)
			TH_LOG("port %u: %s", ports[i], strerror(-e.res));
		close(c);
	}
	close(bound);
}

TEST_F(uring, connect_refused_by_verdict)
{
	static const char why[] = "not today";
	struct wsp_request r;
	char buf[64];
	struct ev e;
	int c;

	if (!self->ring_up)
		return;
	self->lfd = wsp_cond_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c = uring_connect_pending(&self->ring, self->type, self->lfd,
				  &self->addr, self->port, &r);
	ASSERT_LE(0, c) TH_LOG("request did not arrive: %s", strerror(errno));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_CONNECT, &e, QUIET_MS))
		TH_LOG("connect completed before the verdict: %d", e.res);
	ASSERT_EQ(0, wsp_verdict_data(self->lfd, r.id, WSP_CF_REJECT, why,
				      strlen(why), NULL));
	ASSERT_EQ(0, reap(&self->ring, UD_CONNECT, &e, WSP_SLOW_MS))
		TH_LOG("no connect CQE after WSP_CF_REJECT");
	EXPECT_EQ(-ECONNREFUSED, e.res) TH_LOG("connect: %s", strerror(-e.res));
	/* The reject data reached the client. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ((int)strlen(why), wsp_get_data(c, WSP_CALLEE_DATA, buf,
						 sizeof(buf)));
	EXPECT_STREQ(why, buf);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, wsp_stat("rejected"));
	close(c);
}

TEST_F(uring, connect_timeout)
{
	long long t0, dt;
	struct wsp_request r;
	struct ev e;
	int c;

	if (!self->ring_up)
		return;
	self->lfd = wsp_cond_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_set_timeout_ms(c, 200));
	self->addr = wsp_sa(self->port);
	t0 = wsp_now_ms();
	/* Nobody decides. */
	ASSERT_EQ(1, sub_connect(&self->ring, c, &self->addr, UD_CONNECT));
	ASSERT_EQ(0, reap(&self->ring, UD_CONNECT, &e, WSP_SLOW_MS))
		TH_LOG("no connect CQE within %d ms", WSP_SLOW_MS);
	dt = wsp_now_ms() - t0;
	EXPECT_EQ(-ETIMEDOUT, e.res) TH_LOG("connect: %s", strerror(-e.res));
	EXPECT_LE(150, dt);
	/* Withdrawn: the listener no longer sees it. */
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_FALSE(wsp_revents(self->lfd) & POLLPRI);
	EXPECT_EQ(1, wsp_stat("requests"));
	EXPECT_EQ(1, wsp_stat("withdrawn_timeout"));
	close(c);
}

/* ---- send and receive under a token bucket ------------------------------- */

#define SH_RATE		8192	/* bytes per second */
#define SH_BUCKET	512
#define SH_FIRST	3000	/* empties the bucket and overdraws it */
#define SH_BIG		12000	/* larger than the bucket */

TEST_F(uring, shaped_send_recv)
{
	static char tx[SH_FIRST + SH_BIG], rx1[SH_FIRST], rx2[SH_BIG];
	bool stream = self->type == SOCK_STREAM;
	long long t0, dt, min_ms;
	struct wsp_qos q, got;
	int c, s, sndbuf = 4096;
	unsigned int i;
	struct ev e;

	if (!self->ring_up)
		return;
	for (i = 0; i < sizeof(tx); i++)
		tx[i] = i * 7 + i / 251;
	memset(rx1, 0, sizeof(rx1));
	memset(rx2, 0, sizeof(rx2));
	self->lfd = wsp_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	/*
	 * A stream send goes in chunks of about SO_SNDBUF / 2: with a small
	 * one the big send is several chunks, each waiting for its tokens,
	 * so io_uring resumes a partial send more than once.
	 */
	if (stream)
		ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf,
					sizeof(sndbuf)));
	wsp_qos_shaped(&q, SH_RATE, SH_BUCKET);
	ASSERT_EQ(0, wsp_set_qos(c, &q));
	ASSERT_EQ(0, wsp_connect(c, self->port));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, wsp_get_qos(c, &got));
	ASSERT_EQ(SH_RATE, got.sending.token_rate);
	ASSERT_EQ(SH_BUCKET, got.sending.token_bucket_size);

	/* A receive posted before any data waits for it... */
	ASSERT_EQ(1, sub_recv(&self->ring, s, rx1, SH_FIRST, 0, UD_RECV));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_RECV, &e, QUIET_MS))
		TH_LOG("recv completed with no data: %d", e.res);
	/*
	 * The bucket starts full: the first send passes at once and
	 * overdraws it.  Then even one byte must wait.
	 */
	t0 = wsp_now_ms();
	ASSERT_EQ(SH_FIRST, send(c, tx, SH_FIRST, MSG_DONTWAIT));
	errno = 0;
	ASSERT_EQ(-1, send(c, tx, 1, MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	/* ...and completes when it comes. */
	ASSERT_EQ(0, reap(&self->ring, UD_RECV, &e, WSP_SLOW_MS))
		TH_LOG("recv not completed by the data");
	ASSERT_EQ(SH_FIRST, e.res) TH_LOG("recv: %s", strerror(-e.res));
	EXPECT_EQ(0, memcmp(rx1, tx, SH_FIRST));

	/*
	 * A send larger than the bucket, while the bucket is dry: EAGAIN
	 * at first, then resumed by io_uring on each POLLOUT until all of
	 * it is sent.  The receive, posted first, waits with it.
	 */
	ASSERT_EQ(1, sub_recv(&self->ring, s, rx2, SH_BIG,
			      stream ? MSG_WAITALL : 0, UD_RECV));
	ASSERT_EQ(1, sub_send(&self->ring, c, tx + SH_FIRST, SH_BIG,
			      MSG_WAITALL, UD_SEND));
	ASSERT_EQ(0, reap(&self->ring, UD_SEND, &e, 20000))
		TH_LOG("shaped send did not complete");
	dt = wsp_now_ms() - t0;
	EXPECT_EQ(SH_BIG, e.res) TH_LOG("send: %d", e.res);
	ASSERT_EQ(0, reap(&self->ring, UD_RECV, &e, WSP_SLOW_MS))
		TH_LOG("recv not completed by the shaped send");
	EXPECT_EQ(SH_BIG, e.res) TH_LOG("recv: %d", e.res);
	EXPECT_EQ(0, memcmp(rx2, tx + SH_FIRST, SH_BIG));
	/* Its first byte could only go once SH_FIRST bytes were paid for. */
	min_ms = SH_FIRST * 1000LL / SH_RATE;
	EXPECT_LE(min_ms * 8 / 10, dt) TH_LOG("%d bytes in %lld ms",
					       SH_FIRST + SH_BIG, dt);
	/* Nothing else arrived. */
	EXPECT_EQ(0, wsp_drain(s));
	close(s);
	close(c);
}

/* ---- cancellation ------------------------------------------------------- */

TEST_F(uring, cancel_accept)
{
	struct ev e;
	int c, s;

	if (!self->ring_up)
		return;
	self->lfd = wsp_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);

	/* By user_data. */
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, false, UD_ACCEPT));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_ACCEPT, &e, QUIET_MS))
		TH_LOG("accept completed with nothing queued: %d", e.res);
	ASSERT_EQ(1, sub_cancel_ud(&self->ring, UD_ACCEPT, UD_CANCEL));
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT, &e, WSP_SLOW_MS));
	EXPECT_EQ(-ECANCELED, e.res) TH_LOG("accept: %d", e.res);
	ASSERT_EQ(0, reap(&self->ring, UD_CANCEL, &e, WSP_SLOW_MS));
	EXPECT_EQ(0, e.res) TH_LOG("cancel: %s", strerror(-e.res));

	/* By fd, all of them (IORING_ASYNC_CANCEL_FD | _ALL). */
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, false, UD_ACCEPT));
	ASSERT_EQ(1, sub_accept(&self->ring, self->lfd, false, UD_ACCEPT2));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_ACCEPT2, &e, QUIET_MS));
	ASSERT_EQ(1, sub_cancel_fd(&self->ring, self->lfd,
				   IORING_ASYNC_CANCEL_ALL, UD_CANCEL));
	ASSERT_EQ(0, reap(&self->ring, UD_CANCEL, &e, WSP_SLOW_MS));
	EXPECT_EQ(2, e.res) TH_LOG("cancel by fd: %d", e.res);
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT, &e, WSP_SLOW_MS));
	EXPECT_EQ(-ECANCELED, e.res);
	ASSERT_EQ(0, reap(&self->ring, UD_ACCEPT2, &e, WSP_SLOW_MS));
	EXPECT_EQ(-ECANCELED, e.res);

	/* The listener still works, for a plain accept(), and lost nothing. */
	c = wsp_client(self->type, self->port);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(wsp_local_port(c), wsp_peer_port(s));
	EXPECT_EQ(0, exchange(s, c));
	errno = 0;
	EXPECT_EQ(-1, wsp_accept_nb(self->lfd));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_ACCEPT, &e, 0));
	close(s);
	close(c);
}

/* ---- the ring goes away with a connect in flight -------------------------- */

/* Tear the ring down; returns how long io_uring_queue_exit() took. */
static long long ring_exit(struct io_uring *ring, bool *up)
{
	long long t0 = wsp_now_ms();

	io_uring_queue_exit(ring);
	*up = false;
	return wsp_now_ms() - t0;
}

/*
 * Our fd is closed while io_uring still holds the file: the request stays
 * queued until the ring lets go of it, then is withdrawn as by close().
 */
TEST_F(uring, ring_exit_withdraws_closed_connect)
{
	struct wsp_request r, r2;
	long long end;
	int c, s, err;
	struct ev e;

	if (!self->ring_up)
		return;
	self->lfd = wsp_cond_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c = uring_connect_pending(&self->ring, self->type, self->lfd,
				  &self->addr, self->port, &r);
	ASSERT_LE(0, c) TH_LOG("request did not arrive: %s", strerror(errno));
	EXPECT_EQ(-ETIME, reap(&self->ring, UD_CONNECT, &e, 0));

	ASSERT_EQ(0, close(c));
	wsp_msleep(QUIET_MS);
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r2))
		TH_LOG("withdrawn while the ring holds the socket");
	EXPECT_EQ(r.id, r2.id);
	EXPECT_EQ(0, wsp_stat("withdrawn_close"));

	EXPECT_GT(WSP_SLOW_MS, ring_exit(&self->ring, &self->ring_up));
	/* The ring's teardown puts the file: release() withdraws it. */
	end = wsp_now_ms() + WSP_SLOW_MS;
	while (!wsp_peek(self->lfd, 0, &r2) && wsp_now_ms() < end)
		wsp_msleep(10);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r2))
		TH_LOG("request %llu still queued %d ms after the ring closed",
		       (unsigned long long)r2.id, WSP_SLOW_MS);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, stat_wait("withdrawn_close", 1, WSP_SLOW_MS));
	EXPECT_FALSE(wsp_revents(self->lfd) & POLLPRI);
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, r.id, WSP_CF_ACCEPT));
	EXPECT_EQ(ENOENT, errno);

	/* The listener goes on. */
	c = wsp_client_nb(self->type, self->port, &err);
	ASSERT_LE(0, c);
	ASSERT_EQ(EINPROGRESS, err);
	ASSERT_EQ(0, wsp_wait_request(self->lfd, WSP_SLOW_MS));
	ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	s = wsp_accept_nb(self->lfd);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, exchange(s, c));
	close(s);
	close(c);
}

/*
 * Connect @c and accept on @lfd through a ring of its own, see both wait,
 * then close the ring; run in a child, which exits next.  Returns 0, or
 * the number of the step that failed.
 */
static int connect_accept_close_ring(int lfd, int c, __u32 port)
{
	struct sockaddr_wsp a = wsp_sa(port);
	struct io_uring ring;
	struct wsp_request r;
	struct ev e;

	nstash = 0;
	if (io_uring_queue_init(RING_ENTRIES, &ring, 0))
		return 1;
	if (sub_connect(&ring, c, &a, UD_CONNECT) != 1 ||
	    wsp_wait_request(lfd, WSP_SLOW_MS) || wsp_peek(lfd, 0, &r))
		return 2;
	if (sub_accept(&ring, lfd, false, UD_ACCEPT) != 1)
		return 3;
	if (reap(&ring, UD_ACCEPT, &e, QUIET_MS) != -ETIME)
		return 4;
	if (reap(&ring, UD_CONNECT, &e, 0) != -ETIME)
		return 5;
	if (ring_exit(&ring, &(bool){ true }) >= WSP_SLOW_MS)
		return 6;
	return 0;
}

/*
 * Our fd stays open: the ring's exit cancels io_uring's waits (the
 * connect, and an accept on the listener), not the connection request,
 * which is the socket's, as after a non-blocking connect().  The wakeups
 * that follow must find no trace of the ring.
 *
 * The ring is a child's.  Closing a ring cancels its requests later,
 * from a workqueue, so an accept that io_uring had passed to an io-wq
 * worker could still take the connection our verdict creates, and did
 * once on debug-6.1.  A task's exit waits for its io-wq workers to stop,
 * so once waitpid() returns nothing of the ring is left.
 */
TEST_F(uring, ring_exit_keeps_open_connect)
{
	struct wsp_request r;
	int c, s, status;
	__u64 id = 0;
	pid_t pid;

	if (!self->ring_up)
		return;
	self->lfd = wsp_cond_listener(self->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(connect_accept_close_ring(self->lfd, c, self->port));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the ring's child failed at step %d", WEXITSTATUS(status));

	wsp_msleep(QUIET_MS);
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(pid, (pid_t)r.pid);
	EXPECT_EQ(0, wsp_stat("withdrawn_close"));

	ASSERT_EQ(0, wsp_verdict(self->lfd, r.id, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	/* The cancelled accept took nothing. */
	s = wsp_accept_nb(self->lfd);
	ASSERT_LE(0, s) TH_LOG("accept: %s", strerror(errno));
	ASSERT_NE(-ENOPROTOOPT, request_id(s, &id))
		TH_LOG("WSP_REQUEST_ID: ENOPROTOOPT: module older than this tree");
	EXPECT_EQ(r.id, id);
	ASSERT_EQ(0, request_id(c, &id));
	EXPECT_EQ(r.id, id);
	EXPECT_EQ(0, exchange(c, s));
	errno = 0;
	EXPECT_EQ(-1, wsp_connect(c, self->port));
	EXPECT_EQ(EISCONN, errno);
	close(s);
	close(c);
}

TEST_HARNESS_MAIN
