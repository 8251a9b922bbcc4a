// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP under fault injection: on each syscall path, every failable call
 * (a slab or page allocation, or a copy from or to user memory) is made
 * to fail in turn, through /proc/thread-self/fail-nth.
 *
 * For nth = 1, 2, ...: the sockets are set up without faults, fail-nth is
 * armed with nth and the path runs; fail-nth read back tells whether the
 * fault was reached.  Once it is not, the path made fewer than nth
 * failable calls and its sweep is complete.  A path that met its fault
 * must succeed or fail with one of its own clean errnos, and leave its
 * sockets usable: the operation, repeated without faults, gives the
 * normal result.  Once an iteration's fds are closed the namespace lists
 * no socket, and once a sweep is over the module's reference count is
 * back where it was.  Leaks and memory errors on the error paths fail the
 * debug VM's own checks (kmemleak, KASAN, lockdep).
 */
#include "wsp_util.h"

#include <linux/filter.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#define FN_NTH		"/proc/thread-self/fail-nth"
#define FN_DBG		"/sys/kernel/debug/"
/* A sweep still reaching its fault at this nth would never end. */
#define FN_CAP		2000
#define FN_PORT		4242
#define FN_DATA_LEN	200
/* Two skbs on a stream, and page frags in each. */
#define FN_BIG		40000
/* The bucket refills in 256 ms: no second send can slip through. */
#define FN_RATE		1000
#define FN_BUCKET	256

struct fn_knob {
	const char *dir;
	const char *file;
	const char *val;
};

static const struct fn_knob fn_knobs[] = {
	/* The default, 2, logs a stack trace per fault: a splat to the VM. */
	{ "failslab", "verbose", "0" },
	/* By default only allocations that cannot sleep may fail. */
	{ "failslab", "ignore-gfp-wait", "N" },
	{ "fail_page_alloc", "verbose", "0" },
	{ "fail_page_alloc", "ignore-gfp-wait", "N" },
	{ "fail_page_alloc", "ignore-gfp-highmem", "N" },
	/* Single pages too, not only higher orders. */
	{ "fail_page_alloc", "min-order", "0" },
	{ "fail_usercopy", "verbose", "0" },
};

/* Shared with every test child, for the summary. */
struct fn_tally {
	unsigned int started;
	unsigned int finished;
	unsigned int points;
};

static struct fn_tally *fn_tally;

static void __attribute__((constructor)) fn_tally_map(void)
{
	void *p = mmap(NULL, sizeof(*fn_tally), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	fn_tally = p == MAP_FAILED ? NULL : p;
}

static unsigned char fn_tx[FN_BIG];
static unsigned char fn_rx[FN_BIG];

/* One iteration's sockets and buffers. */
struct fn_ctx {
	const struct fn_path *path;
	unsigned int nth;
	int type;
	int lfd, cfd, sfd, efd, xfd;
	__u32 port;
	__u64 id;
	long r2;
	int e2;
	socklen_t len;
	struct sockaddr_wsp sa;
	struct wsp_qos qos;
	struct wsp_event_select sel;
	/* A verdict and a request, each with FN_DATA_LEN of data. */
	__u64 vbuf[(sizeof(struct wsp_verdict) + FN_DATA_LEN + 7) / 8];
	__u64 rbuf[(sizeof(struct wsp_request) + FN_DATA_LEN + 7) / 8];
	unsigned char buf[FN_DATA_LEN];
};

struct fn_path {
	const char *name;
	/* Errnos a fault may give; 0 ends the list. */
	const int *errs;
	/* The errno of the path's normal outcome, if it fails normally. */
	int normal;
	/* Without fail_usercopy, nothing on this path can fail. */
	bool copies_only;
	/* The path may make no failable call at all. */
	bool may_be_empty;
	int (*setup)(struct fn_ctx *c);
	/* The target syscall(s), and nothing else. */
	long (*op)(struct fn_ctx *c);
	void (*check)(struct __test_metadata *_metadata, struct fn_ctx *c,
		      long r, int e, bool hit);
};

#define FN_ERRS(...)	((const int []){ __VA_ARGS__, 0 })

static const char *fn_type_name(int type)
{
	return type == SOCK_STREAM ? "stream" : "seqpacket";
}

#define FN_AT(c, e)							\
	TH_LOG("%s (%s), nth %u: errno %d (%s)", (c)->path->name,	\
	       fn_type_name((c)->type), (c)->nth, (e), strerror(e))

static bool fn_err_in(int e, const int *set)
{
	for (; *set; set++)
		if (e == *set)
			return true;
	return false;
}

static const char *fn_err_name(int e)
{
	switch (e) {
	case ENOMEM:
		return "ENOMEM";
	case ENOBUFS:
		return "ENOBUFS";
	case EFAULT:
		return "EFAULT";
	case ENFILE:
		return "ENFILE";
	case EINPROGRESS:
		return "EINPROGRESS";
	}
	return "?";
}

#define FN_MAX_ERRS	8

/* ---- fail-nth -------------------------------------------------------- */

static int fn_arm(int fd, unsigned int nth)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u", nth);

	return pwrite(fd, buf, n, 0) == n ? 0 : -1;
}

/*
 * Disarm.  Returns 1 if the fault was injected, 0 if the path made fewer
 * failable calls than asked, -1 on error.
 */
static int fn_disarm(int fd)
{
	char buf[16];
	ssize_t n;
	int left;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		left = atoi(buf);
	} else if (n < 0 && errno == EFAULT) {
		/* This read's own copy-out took the last count. */
		left = 1;
	} else {
		return -1;
	}
	/* The write's copy-in may take the last count and fail with EFAULT:
	 * that disarms as well.  Hence the check.
	 */
	if (pwrite(fd, "0", 1, 0) != 1 && errno != EFAULT)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n != 2 || buf[0] != '0')
		return -1;
	return left == 0;
}

/* ---- helpers ---------------------------------------------------------- */

static int fn_wait(int fd, short events)
{
	return wsp_poll1(fd, events, WSP_SLOW_MS);
}

/*
 * The next @n bytes on @fd are @data (one record on SEQPACKET), and then
 * nothing more is queued.  0 or -1.
 */
static int fn_expect(int fd, int type, const void *data, size_t n)
{
	static unsigned char got[FN_BIG + 1];
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		if (!(fn_wait(fd, POLLIN) & POLLIN))
			return -1;
		r = recv(fd, got + have, n + 1 - have, MSG_DONTWAIT);
		if (r <= 0)
			return -1;
		have += r;
		if (type == SOCK_SEQPACKET)
			break;
	}
	if (have != n || memcmp(got, data, n))
		return -1;
	r = recv(fd, got, 1, MSG_DONTWAIT);
	return r == -1 && errno == EAGAIN ? 0 : -1;
}

/* Data goes both ways between the connected @a and @b. */
static int fn_exchange(int type, int a, int b)
{
	if (send(a, "ping", 4, MSG_NOSIGNAL) != 4 ||
	    fn_expect(b, type, "ping", 4))
		return -1;
	if (send(b, "pong", 4, MSG_NOSIGNAL) != 4 ||
	    fn_expect(a, type, "pong", 4))
		return -1;
	return 0;
}

/* The bound @fd listens, and a client's connect() to it is accepted. */
static int fn_serves(int type, int fd)
{
	long long port = wsp_local_port(fd);
	int c, s = -1, err = -1;

	if (port <= 0 || listen(fd, 4))
		return -1;
	c = wsp_client(type, port);
	if (c >= 0)
		s = wsp_accept_nb(fd);
	if (s >= 0 && !fn_exchange(type, c, s))
		err = 0;
	wsp_close(&s);
	wsp_close(&c);
	return err;
}

/* The listener's backlog count, from /proc/net/wsp; -1 on error. */
static long fn_backlog(int lfd)
{
	struct wsp_proc_line p;

	return wsp_proc_find(lfd, &p) ? -1 : (long)p.backlog;
}

/* Sockets listed in our namespace; -1 on error. */
static int fn_nsocks(void)
{
	int n;

	if (wsp_proc_find_ino(0, NULL, &n, NULL) < 0)
		return -1;
	return n;
}

/* The module's references are back to @base (-1: no refcnt to read). */
static bool fn_refs_back(long base)
{
	long long end = wsp_now_ms() + WSP_SLOW_MS;

	if (base < 0)
		return true;
	do {
		if (wsp_mod_refcnt() == base)
			return true;
		wsp_msleep(10);
	} while (wsp_now_ms() < end);
	return false;
}

/* The peer of @fd closed: EOF, or a reset. */
static bool fn_eof(int fd)
{
	char b;

	if (!(fn_wait(fd, POLLIN) & POLLIN))
		return false;
	switch (recv(fd, &b, 1, MSG_DONTWAIT)) {
	case 0:
		return true;
	case -1:
		return errno == ECONNRESET;
	}
	return false;
}

static struct wsp_verdict *fn_v(struct fn_ctx *c)
{
	return (struct wsp_verdict *)c->vbuf;
}

static struct wsp_request *fn_r(struct fn_ctx *c)
{
	return (struct wsp_request *)c->rbuf;
}

/* A listener, and a client whose request waits in it for a verdict. */
static int fn_request_setup(struct fn_ctx *c)
{
	struct wsp_request req;

	c->lfd = wsp_cond_listener(c->type, 0, 4, &c->port);
	c->cfd = wsp_socket(c->type);
	if (c->lfd < 0 || c->cfd < 0 ||
	    wsp_connect_nb(c->cfd, c->port) != EINPROGRESS ||
	    wsp_peek(c->lfd, 0, &req))
		return -1;
	c->id = req.id;
	return 0;
}

/* The request of @c is still there, undecided, and its client waits. */
static void fn_undecided(struct __test_metadata *_metadata,
			 struct fn_ctx *c)
{
	struct wsp_request req;

	ASSERT_EQ(0, wsp_peek(c->lfd, 0, &req)) FN_AT(c, errno);
	ASSERT_EQ(c->id, req.id) FN_AT(c, 0);
	ASSERT_EQ(0, req.flags) FN_AT(c, 0);
	ASSERT_EQ(POLLPRI, wsp_poll1(c->lfd, POLLPRI, 0)) FN_AT(c, 0);
	ASSERT_EQ(0, wsp_poll1(c->cfd, POLLOUT, 0)) FN_AT(c, 0);
	ASSERT_EQ(1, fn_backlog(c->lfd)) FN_AT(c, 0);
}

/* The client of @c is connected: its child is accepted, data flows. */
static void fn_accepted(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	struct wsp_request req;

	ASSERT_EQ(0, wsp_wait_connect(c->cfd, WSP_SLOW_MS)) FN_AT(c, errno);
	c->sfd = wsp_accept_nb(c->lfd);
	ASSERT_LE(0, c->sfd) FN_AT(c, errno);
	ASSERT_EQ(-1, wsp_peek(c->lfd, 0, &req)) FN_AT(c, 0);
	ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
	ASSERT_EQ(0, fn_backlog(c->lfd)) FN_AT(c, 0);
	ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd)) FN_AT(c, errno);
}

/* ---- socket() ------------------------------------------------------------ */

static int fn_none_setup(struct fn_ctx *c)
{
	return 0;
}

static long fn_socket_op(struct fn_ctx *c)
{
	c->cfd = socket(AF_WSP, c->type, 0);
	return c->cfd;
}

static void fn_socket_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		c->cfd = wsp_socket(c->type);
		ASSERT_LE(0, c->cfd) FN_AT(c, errno);
	}
	ASSERT_EQ(c->type, wsp_get_int(c->cfd, SOL_SOCKET, SO_TYPE))
		FN_AT(c, errno);
	ASSERT_EQ(0, wsp_bind(c->cfd, 0)) FN_AT(c, errno);
	ASSERT_EQ(0, fn_serves(c->type, c->cfd)) FN_AT(c, errno);
}

static const struct fn_path fn_socket = {
	.name = "socket",
	/* ENFILE: what __sock_create() makes of a failed sock_alloc(). */
	.errs = FN_ERRS(ENOMEM, ENFILE),
	.setup = fn_none_setup,
	.op = fn_socket_op,
	.check = fn_socket_check,
};

/* ---- bind() and listen() ---------------------------------------------- */

static int fn_unbound_setup(struct fn_ctx *c)
{
	c->cfd = wsp_socket(c->type);
	return c->cfd < 0 ? -1 : 0;
}

static long fn_bind_explicit_op(struct fn_ctx *c)
{
	return wsp_bind(c->cfd, FN_PORT);
}

static void fn_bind_explicit_check(struct __test_metadata *_metadata,
				   struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0)
		ASSERT_EQ(0, wsp_bind(c->cfd, FN_PORT)) FN_AT(c, errno);
	ASSERT_EQ(FN_PORT, wsp_local_port(c->cfd)) FN_AT(c, errno);
	/* In the port table, not only in the socket. */
	c->xfd = wsp_socket(c->type);
	ASSERT_LE(0, c->xfd) FN_AT(c, errno);
	ASSERT_EQ(-1, wsp_bind(c->xfd, FN_PORT)) FN_AT(c, 0);
	ASSERT_EQ(EADDRINUSE, errno) FN_AT(c, errno);
	ASSERT_EQ(0, fn_serves(c->type, c->cfd)) FN_AT(c, errno);
}

static const struct fn_path fn_bind_explicit = {
	.name = "bind explicit",
	/* EFAULT: the address is copied in.  ENOMEM: inserting into the
	 * port table may grow it.
	 */
	.errs = FN_ERRS(EFAULT, ENOMEM),
	.copies_only = true,
	.setup = fn_unbound_setup,
	.op = fn_bind_explicit_op,
	.check = fn_bind_explicit_check,
};

static long fn_bind_any_op(struct fn_ctx *c)
{
	return wsp_bind(c->cfd, 0);
}

static void fn_bind_any_check(struct __test_metadata *_metadata,
			      struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0)
		ASSERT_EQ(0, wsp_bind(c->cfd, 0)) FN_AT(c, errno);
	ASSERT_LE(WSP_DEF_EPH_LO, wsp_local_port(c->cfd)) FN_AT(c, errno);
	ASSERT_EQ(0, fn_serves(c->type, c->cfd)) FN_AT(c, errno);
}

static const struct fn_path fn_bind_any = {
	.name = "bind ephemeral",
	.errs = FN_ERRS(EFAULT, ENOMEM),
	.copies_only = true,
	.setup = fn_unbound_setup,
	.op = fn_bind_any_op,
	.check = fn_bind_any_check,
};

static long fn_listen_op(struct fn_ctx *c)
{
	return listen(c->cfd, 4);
}

static void fn_listen_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0)
		ASSERT_EQ(0, listen(c->cfd, 4)) FN_AT(c, errno);
	ASSERT_EQ(1, wsp_get_int(c->cfd, SOL_SOCKET, SO_ACCEPTCONN))
		FN_AT(c, errno);
	/* Bound implicitly. */
	ASSERT_LE(WSP_DEF_EPH_LO, wsp_local_port(c->cfd)) FN_AT(c, errno);
	ASSERT_EQ(0, fn_serves(c->type, c->cfd)) FN_AT(c, errno);
}

static const struct fn_path fn_listen = {
	.name = "listen",
	/* The implicit bind inserts into the port table. */
	.errs = FN_ERRS(ENOMEM),
	/* Nothing else allocates, and the table grows from a worker. */
	.may_be_empty = true,
	.setup = fn_unbound_setup,
	.op = fn_listen_op,
	.check = fn_listen_check,
};

/* ---- connect() -------------------------------------------------------- */

static int fn_auto_setup(struct fn_ctx *c)
{
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->lfd = wsp_listener(c->type, 0, 4, &c->port);
	c->cfd = wsp_socket(c->type);
	if (c->efd < 0 || c->lfd < 0 || c->cfd < 0)
		return -1;
	/* The child inherits it: extras of its own, in the connect. */
	return wsp_event_select(c->lfd, WSP_FD_ACCEPT | WSP_FD_READ, c->efd);
}

static long fn_connect_op(struct fn_ctx *c)
{
	return wsp_connect(c->cfd, c->port);
}

static void fn_auto_check(struct __test_metadata *_metadata,
			  struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		/* Nothing queued, and the client may try again. */
		ASSERT_EQ(-1, wsp_accept_nb(c->lfd)) FN_AT(c, 0);
		ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
		ASSERT_EQ(0, fn_backlog(c->lfd)) FN_AT(c, 0);
		ASSERT_EQ(-1, wsp_peer_port(c->cfd)) FN_AT(c, 0);
		ASSERT_EQ(0, wsp_connect(c->cfd, c->port)) FN_AT(c, errno);
	}
	c->sfd = wsp_accept_nb(c->lfd);
	ASSERT_LE(0, c->sfd) FN_AT(c, errno);
	ASSERT_EQ(0, fn_backlog(c->lfd)) FN_AT(c, 0);
	ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd)) FN_AT(c, errno);
	/* FD_ACCEPT on the listener, FD_READ on the child that inherited
	 * the registration: the ping.
	 */
	ASSERT_EQ(WSP_FD_READ, wsp_events_now(c->sfd)) FN_AT(c, errno);
	ASSERT_EQ(2, wsp_efd_take(c->efd)) FN_AT(c, errno);
}

static const struct fn_path fn_connect_auto = {
	.name = "connect automatic",
	/* ENOMEM: the child, its /proc index entry, its inherited extras.
	 * EFAULT: the address is copied in.
	 */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_auto_setup,
	.op = fn_connect_op,
	.check = fn_auto_check,
};

static int fn_cond_setup(struct fn_ctx *c)
{
	c->lfd = wsp_cond_listener(c->type, 0, 4, &c->port);
	c->cfd = wsp_socket(c->type);
	if (c->lfd < 0 || c->cfd < 0)
		return -1;
	return wsp_set_nonblock(c->cfd, true);
}

static void fn_cond_check(struct __test_metadata *_metadata,
			  struct fn_ctx *c, long r, int e, bool hit)
{
	struct wsp_request req;

	ASSERT_EQ(-1, r) FN_AT(c, 0);
	if (e != EINPROGRESS) {
		/* No request was left queued. */
		ASSERT_EQ(-1, wsp_peek(c->lfd, 0, &req)) FN_AT(c, 0);
		ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
		ASSERT_EQ(0, fn_backlog(c->lfd)) FN_AT(c, 0);
		ASSERT_EQ(EINPROGRESS, wsp_connect_nb(c->cfd, c->port))
			FN_AT(c, errno);
	}
	ASSERT_EQ(0, wsp_decide_oldest(c->lfd, WSP_CF_ACCEPT)) FN_AT(c, errno);
	fn_accepted(_metadata, c);
}

static const struct fn_path fn_connect_cond = {
	.name = "connect conditional",
	/* EINPROGRESS: the request is queued, the normal outcome. */
	.errs = FN_ERRS(EINPROGRESS, ENOMEM, EFAULT),
	.normal = EINPROGRESS,
	.setup = fn_cond_setup,
	.op = fn_connect_op,
	.check = fn_cond_check,
};

/* ---- WSP_VERDICT -------------------------------------------------------- */

static int fn_verdict_setup(struct fn_ctx *c, __u32 verdict, __u32 len)
{
	struct wsp_verdict *v = fn_v(c);

	if (fn_request_setup(c))
		return -1;
	v->id = c->id;
	v->verdict = verdict;
	v->data_len = len;
	memcpy(v->data, fn_tx, len);
	c->len = sizeof(*v) + len;
	return 0;
}

static long fn_verdict_op(struct fn_ctx *c)
{
	return setsockopt(c->lfd, SOL_WSP, WSP_VERDICT, c->vbuf, c->len);
}

static int fn_accept_setup(struct fn_ctx *c)
{
	return fn_verdict_setup(c, WSP_CF_ACCEPT, FN_DATA_LEN);
}

static void fn_accept_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		fn_undecided(_metadata, c);
		ASSERT_EQ(0, fn_verdict_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(0, wsp_wait_connect(c->cfd, WSP_SLOW_MS)) FN_AT(c, errno);
	ASSERT_EQ(FN_DATA_LEN, wsp_get_data(c->cfd, WSP_CALLEE_DATA, c->buf,
					    sizeof(c->buf))) FN_AT(c, errno);
	ASSERT_EQ(0, memcmp(c->buf, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
	fn_accepted(_metadata, c);
	ASSERT_EQ(FN_DATA_LEN, wsp_get_data(c->sfd, WSP_CALLEE_DATA, c->buf,
					    sizeof(c->buf))) FN_AT(c, errno);
	ASSERT_EQ(0, memcmp(c->buf, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
}

static const struct fn_path fn_verdict_accept = {
	.name = "verdict accept",
	/* ENOMEM: the callee data, the child and its index entry.  EFAULT:
	 * the verdict and its data are copied in.
	 */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_accept_setup,
	.op = fn_verdict_op,
	.check = fn_accept_check,
};

static int fn_reject_setup(struct fn_ctx *c)
{
	return fn_verdict_setup(c, WSP_CF_REJECT, FN_DATA_LEN);
}

static void fn_reject_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	struct wsp_request req;

	if (r < 0) {
		fn_undecided(_metadata, c);
		ASSERT_EQ(0, fn_verdict_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(ECONNREFUSED, wsp_wait_connect(c->cfd, WSP_SLOW_MS))
		FN_AT(c, errno);
	ASSERT_EQ(FN_DATA_LEN, wsp_get_data(c->cfd, WSP_CALLEE_DATA, c->buf,
					    sizeof(c->buf))) FN_AT(c, errno);
	ASSERT_EQ(0, memcmp(c->buf, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
	ASSERT_EQ(-1, wsp_peek(c->lfd, 0, &req)) FN_AT(c, 0);
	ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
	ASSERT_EQ(0, fn_backlog(c->lfd)) FN_AT(c, 0);
}

static const struct fn_path fn_verdict_reject = {
	.name = "verdict reject",
	/* ENOMEM: the reject data.  EFAULT: copied in, as the verdict. */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_reject_setup,
	.op = fn_verdict_op,
	.check = fn_reject_check,
};

static int fn_defer_setup(struct fn_ctx *c)
{
	return fn_verdict_setup(c, WSP_CF_DEFER, 0);
}

static void fn_defer_check(struct __test_metadata *_metadata,
			   struct fn_ctx *c, long r, int e, bool hit)
{
	struct wsp_request req;

	if (r < 0) {
		fn_undecided(_metadata, c);
		ASSERT_EQ(0, fn_verdict_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(0, wsp_peek(c->lfd, 0, &req)) FN_AT(c, errno);
	ASSERT_EQ(c->id, req.id) FN_AT(c, 0);
	ASSERT_EQ(WSP_REQ_DEFERRED, req.flags) FN_AT(c, 0);
	ASSERT_EQ(0, wsp_poll1(c->lfd, POLLPRI, 0)) FN_AT(c, 0);
	ASSERT_EQ(0, wsp_poll1(c->cfd, POLLOUT, 0)) FN_AT(c, 0);
	/* Decided later, by id. */
	ASSERT_EQ(0, wsp_verdict(c->lfd, c->id, WSP_CF_ACCEPT)) FN_AT(c, errno);
	fn_accepted(_metadata, c);
}

static const struct fn_path fn_verdict_defer = {
	.name = "verdict defer",
	/* A deferral copies the verdict in and allocates nothing. */
	.errs = FN_ERRS(EFAULT),
	.copies_only = true,
	.setup = fn_defer_setup,
	.op = fn_verdict_op,
	.check = fn_defer_check,
};

/* ---- connect data ------------------------------------------------------- */

#define FN_OLD		"older caller data"

static int fn_caller_setup(struct fn_ctx *c)
{
	c->lfd = wsp_listener(c->type, 0, 4, &c->port);
	c->cfd = wsp_socket(c->type);
	if (c->lfd < 0 || c->cfd < 0)
		return -1;
	return setsockopt(c->cfd, SOL_WSP, WSP_CALLER_DATA, FN_OLD,
			  strlen(FN_OLD));
}

static long fn_caller_op(struct fn_ctx *c)
{
	return setsockopt(c->cfd, SOL_WSP, WSP_CALLER_DATA, fn_tx,
			  FN_DATA_LEN);
}

static void fn_caller_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		/* The old data stays, whole. */
		ASSERT_EQ(strlen(FN_OLD), wsp_get_data(c->cfd, WSP_CALLER_DATA,
						       c->buf, sizeof(c->buf)))
			FN_AT(c, errno);
		ASSERT_EQ(0, memcmp(c->buf, FN_OLD, strlen(FN_OLD)))
			FN_AT(c, 0);
		ASSERT_EQ(0, fn_caller_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(FN_DATA_LEN, wsp_get_data(c->cfd, WSP_CALLER_DATA, c->buf,
					    sizeof(c->buf))) FN_AT(c, errno);
	ASSERT_EQ(0, memcmp(c->buf, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
	ASSERT_EQ(0, wsp_connect(c->cfd, c->port)) FN_AT(c, errno);
	c->sfd = wsp_accept_nb(c->lfd);
	ASSERT_LE(0, c->sfd) FN_AT(c, errno);
	ASSERT_EQ(FN_DATA_LEN, wsp_get_data(c->sfd, WSP_CALLER_DATA, c->buf,
					    sizeof(c->buf))) FN_AT(c, errno);
	ASSERT_EQ(0, memcmp(c->buf, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
	ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd)) FN_AT(c, errno);
}

static const struct fn_path fn_caller_data = {
	.name = "caller data set",
	/* ENOMEM: the buffer.  EFAULT: the data is copied in. */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_caller_setup,
	.op = fn_caller_op,
	.check = fn_caller_check,
};

static int fn_callee_setup(struct fn_ctx *c)
{
	if (fn_request_setup(c) ||
	    wsp_verdict_data(c->lfd, c->id, WSP_CF_ACCEPT, fn_tx, FN_DATA_LEN,
			     NULL) ||
	    wsp_wait_connect(c->cfd, WSP_SLOW_MS))
		return -1;
	c->len = sizeof(c->buf);
	return 0;
}

static long fn_callee_op(struct fn_ctx *c)
{
	return getsockopt(c->cfd, SOL_WSP, WSP_CALLEE_DATA, c->buf, &c->len);
}

static void fn_callee_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		c->len = sizeof(c->buf);
		ASSERT_EQ(0, fn_callee_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(FN_DATA_LEN, c->len) FN_AT(c, 0);
	ASSERT_EQ(0, memcmp(c->buf, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
	fn_accepted(_metadata, c);
}

static const struct fn_path fn_callee_data = {
	.name = "callee data get",
	/* The data is copied out; nothing is allocated. */
	.errs = FN_ERRS(EFAULT),
	.copies_only = true,
	.setup = fn_callee_setup,
	.op = fn_callee_op,
	.check = fn_callee_check,
};

/* ---- WSP_EVENT_SELECT --------------------------------------------------- */

static int fn_pair_setup(struct fn_ctx *c)
{
	return wsp_pair(c->type, &c->lfd, &c->cfd, &c->sfd, &c->port);
}

static int fn_select_setup(struct fn_ctx *c)
{
	if (fn_pair_setup(c))
		return -1;
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->sel.mask = WSP_FD_READ | WSP_FD_CLOSE;
	c->sel.eventfd = c->efd;
	return c->efd < 0 ? -1 : 0;
}

static long fn_select_op(struct fn_ctx *c)
{
	return setsockopt(c->cfd, SOL_WSP, WSP_EVENT_SELECT, &c->sel,
			  sizeof(c->sel));
}

static void fn_select_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	ASSERT_EQ(1, send(c->sfd, "x", 1, MSG_NOSIGNAL)) FN_AT(c, errno);
	if (r < 0) {
		/* Nothing registered: the data recorded nothing. */
		ASSERT_EQ(0, wsp_efd_take(c->efd)) FN_AT(c, errno);
		ASSERT_EQ(0, wsp_events_now(c->cfd)) FN_AT(c, errno);
		/* FD_READ holds: recorded at once. */
		ASSERT_EQ(0, fn_select_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(1, wsp_efd_take(c->efd)) FN_AT(c, errno);
	ASSERT_EQ(WSP_FD_READ, wsp_events_now(c->cfd)) FN_AT(c, errno);
	ASSERT_EQ(0, fn_expect(c->cfd, c->type, "x", 1)) FN_AT(c, errno);
	wsp_close(&c->sfd);
	ASSERT_EQ(1, wsp_efd_take(c->efd)) FN_AT(c, errno);
	ASSERT_EQ(WSP_FD_CLOSE, wsp_events_now(c->cfd)) FN_AT(c, errno);
}

static const struct fn_path fn_event_select = {
	.name = "event select",
	/* ENOMEM: the extras that hold the registration.  EFAULT: the
	 * registration is copied in.
	 */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_select_setup,
	.op = fn_select_op,
	.check = fn_select_check,
};

/* ---- WSP_ATTACH_FILTER ------------------------------------------------- */

/* A program that accepts every request at once. */
static struct sock_filter fn_accept_all[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
	BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT),
};

static int fn_filter_setup(struct fn_ctx *c)
{
	c->lfd = wsp_cond_listener(c->type, 0, 4, &c->port);
	return c->lfd < 0 ? -1 : 0;
}

static long fn_filter_op(struct fn_ctx *c)
{
	struct sock_fprog fp = { ARRAY_SIZE(fn_accept_all), fn_accept_all };

	return setsockopt(c->lfd, SOL_WSP, WSP_ATTACH_FILTER, &fp, sizeof(fp));
}

static void fn_filter_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		/* Nothing attached: a request waits for a verdict. */
		ASSERT_EQ(-1, setsockopt(c->lfd, SOL_WSP, WSP_DETACH_FILTER,
					 NULL, 0)) FN_AT(c, 0);
		ASSERT_EQ(ENOENT, errno) FN_AT(c, errno);
		c->cfd = wsp_socket(c->type);
		ASSERT_LE(0, c->cfd) FN_AT(c, errno);
		ASSERT_EQ(EINPROGRESS, wsp_connect_nb(c->cfd, c->port))
			FN_AT(c, errno);
		wsp_close(&c->cfd);
		ASSERT_EQ(0, fn_filter_op(c)) FN_AT(c, errno);
	}
	/* The program accepts at once, on a conditional listener. */
	c->cfd = wsp_socket(c->type);
	ASSERT_LE(0, c->cfd) FN_AT(c, errno);
	ASSERT_EQ(0, wsp_connect(c->cfd, c->port)) FN_AT(c, errno);
	c->sfd = wsp_accept_nb(c->lfd);
	ASSERT_LE(0, c->sfd) FN_AT(c, errno);
	ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd)) FN_AT(c, errno);
}

static const struct fn_path fn_filter_attach = {
	.name = "filter attach",
	/* ENOMEM: the program, its bookkeeping and the extras that hold
	 * it.  EFAULT: the struct and the instructions are copied in.
	 */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_filter_setup,
	.op = fn_filter_op,
	.check = fn_filter_check,
};

/* ---- WSP_QOS and the shaper ------------------------------------------- */

static __u32 fn_rate(int fd, bool sending)
{
	struct wsp_qos q;

	if (wsp_get_qos(fd, &q))
		return 0;
	return sending ? q.sending.token_rate : q.receiving.token_rate;
}

/* Shaped at FN_RATE: a bucket passes, the next send is held until the
 * bucket refills.
 */
static void fn_shaped(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	ASSERT_EQ(FN_BUCKET, send(c->cfd, fn_tx, FN_BUCKET,
				  MSG_DONTWAIT | MSG_NOSIGNAL))
		FN_AT(c, errno);
	ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx, FN_BUCKET))
		FN_AT(c, errno);
	ASSERT_EQ(-1, send(c->cfd, fn_tx, FN_BUCKET,
			   MSG_DONTWAIT | MSG_NOSIGNAL)) FN_AT(c, 0);
	ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
	ASSERT_EQ(POLLOUT, fn_wait(c->cfd, POLLOUT)) FN_AT(c, errno);
	ASSERT_EQ(FN_BUCKET, send(c->cfd, fn_tx, FN_BUCKET,
				  MSG_DONTWAIT | MSG_NOSIGNAL))
		FN_AT(c, errno);
	ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx, FN_BUCKET))
		FN_AT(c, errno);
}

static int fn_qos_setup(struct fn_ctx *c)
{
	wsp_qos_shaped(&c->qos, FN_RATE, FN_BUCKET);
	return fn_pair_setup(c);
}

static long fn_qos_op(struct fn_ctx *c)
{
	return setsockopt(c->cfd, SOL_WSP, WSP_QOS, &c->qos, sizeof(c->qos));
}

static void fn_qos_check(struct __test_metadata *_metadata,
			 struct fn_ctx *c, long r, int e, bool hit)
{
	struct wsp_qos q, ns;

	if (r < 0) {
		/* Neither end changed. */
		wsp_qos_unspec(&ns);
		ASSERT_EQ(0, wsp_get_qos(c->cfd, &q)) FN_AT(c, errno);
		ASSERT_EQ(0, memcmp(&q, &ns, sizeof(q))) FN_AT(c, 0);
		ASSERT_EQ(0, wsp_get_qos(c->sfd, &q)) FN_AT(c, errno);
		ASSERT_EQ(0, memcmp(&q, &ns, sizeof(q))) FN_AT(c, 0);
		ASSERT_EQ(0, fn_qos_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(FN_RATE, fn_rate(c->cfd, true)) FN_AT(c, errno);
	ASSERT_EQ(FN_RATE, fn_rate(c->sfd, false)) FN_AT(c, errno);
	fn_shaped(_metadata, c);
}

static const struct fn_path fn_qos_set = {
	.name = "qos set",
	/* ENOMEM: the extras of either end, which keep its ceiling.
	 * EFAULT: the QoS is copied in.
	 */
	.errs = FN_ERRS(ENOMEM, EFAULT),
	.setup = fn_qos_setup,
	.op = fn_qos_op,
	.check = fn_qos_check,
};

/* Shaped before it connects: the extras wait for the first send. */
static int fn_shaped_setup(struct fn_ctx *c)
{
	wsp_qos_shaped(&c->qos, FN_RATE, FN_BUCKET);
	c->lfd = wsp_listener(c->type, 0, 4, &c->port);
	c->cfd = wsp_socket(c->type);
	if (c->lfd < 0 || c->cfd < 0 || wsp_set_qos(c->cfd, &c->qos) ||
	    wsp_connect(c->cfd, c->port))
		return -1;
	c->sfd = wsp_accept_nb(c->lfd);
	if (c->sfd < 0)
		return -1;
	if (fn_rate(c->cfd, true) != FN_RATE) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static long fn_shaped_op(struct fn_ctx *c)
{
	long r;
	int e;

	r = send(c->cfd, fn_tx, FN_BUCKET, MSG_DONTWAIT | MSG_NOSIGNAL);
	e = errno;
	c->r2 = send(c->cfd, fn_tx + FN_BUCKET, FN_BUCKET,
		     MSG_DONTWAIT | MSG_NOSIGNAL);
	c->e2 = errno;
	errno = e;
	return r;
}

static void fn_shaped_check(struct __test_metadata *_metadata,
			    struct fn_ctx *c, long r, int e, bool hit)
{
	if (r < 0) {
		/* Nothing went: the second send had the whole bucket. */
		ASSERT_EQ(FN_BUCKET, c->r2) FN_AT(c, c->e2);
		ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx + FN_BUCKET,
				       FN_BUCKET)) FN_AT(c, errno);
	} else {
		ASSERT_EQ(FN_BUCKET, r) FN_AT(c, 0);
		/* Held by the shaper, before it could allocate anything. */
		ASSERT_EQ(-1, c->r2) FN_AT(c, 0);
		ASSERT_EQ(EAGAIN, c->e2) FN_AT(c, c->e2);
		ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx, FN_BUCKET))
			FN_AT(c, errno);
	}
	/* Still shaped, and the bucket refills. */
	ASSERT_EQ(-1, send(c->cfd, fn_tx, FN_BUCKET,
			   MSG_DONTWAIT | MSG_NOSIGNAL)) FN_AT(c, 0);
	ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
	ASSERT_EQ(POLLOUT, fn_wait(c->cfd, POLLOUT)) FN_AT(c, errno);
	ASSERT_EQ(FN_BUCKET, send(c->cfd, fn_tx, FN_BUCKET,
				  MSG_DONTWAIT | MSG_NOSIGNAL))
		FN_AT(c, errno);
	ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx, FN_BUCKET))
		FN_AT(c, errno);
}

static const struct fn_path fn_shaped_send = {
	.name = "shaped send",
	/* ENOMEM: the extras that hold the bucket, made at this first
	 * shaped send.  ENOBUFS: the skb (alloc_skb_with_frags()).
	 * EFAULT: the data is copied in.
	 */
	.errs = FN_ERRS(ENOMEM, ENOBUFS, EFAULT),
	.setup = fn_shaped_setup,
	.op = fn_shaped_op,
	.check = fn_shaped_check,
};

/* ---- accept() ------------------------------------------------------------ */

static int fn_queued_setup(struct fn_ctx *c)
{
	c->lfd = wsp_listener(c->type, 0, 4, &c->port);
	if (c->lfd < 0)
		return -1;
	c->cfd = wsp_client(c->type, c->port);
	c->len = sizeof(c->sa);
	return c->cfd < 0 ? -1 : 0;
}

static long fn_accept_op(struct fn_ctx *c)
{
	return accept(c->lfd, (struct sockaddr *)&c->sa, &c->len);
}

static void fn_accept_call_check(struct __test_metadata *_metadata,
				 struct fn_ctx *c, long r, int e, bool hit)
{
	if (r >= 0) {
		c->sfd = r;
		ASSERT_EQ(sizeof(c->sa), c->len) FN_AT(c, 0);
		ASSERT_EQ(wsp_local_port(c->cfd), c->sa.swsp_port) FN_AT(c, 0);
		ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd))
			FN_AT(c, errno);
		return;
	}
	c->sfd = wsp_accept_nb(c->lfd);
	if (c->sfd >= 0) {
		/* The fault came before the child was taken: it waits. */
		ASSERT_NE(EFAULT, e) FN_AT(c, e);
		ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd))
			FN_AT(c, errno);
	} else {
		/* The core took the child and closed it on the error, as
		 * for TCP: its client sees the end.
		 */
		ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
		ASSERT_NE(ENFILE, e) FN_AT(c, e);
		ASSERT_TRUE(fn_eof(c->cfd)) FN_AT(c, errno);
		wsp_close(&c->cfd);
		c->cfd = wsp_client(c->type, c->port);
		ASSERT_LE(0, c->cfd) FN_AT(c, errno);
		c->sfd = wsp_accept_nb(c->lfd);
		ASSERT_LE(0, c->sfd) FN_AT(c, errno);
		ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd))
			FN_AT(c, errno);
	}
	ASSERT_EQ(0, fn_backlog(c->lfd)) FN_AT(c, 0);
}

static const struct fn_path fn_accept = {
	.name = "accept",
	/* ENOMEM: the new socket's inode, file and fd, or audit_sockaddr()
	 * once the child was taken.  ENFILE: what do_accept() makes of a
	 * failed sock_alloc().  EFAULT: the address is copied out, once
	 * the child was taken.
	 */
	.errs = FN_ERRS(ENOMEM, ENFILE, EFAULT),
	.setup = fn_queued_setup,
	.op = fn_accept_op,
	.check = fn_accept_call_check,
};

/* ---- WSP_PEEK_REQUEST --------------------------------------------------- */

static int fn_peek_setup(struct fn_ctx *c)
{
	c->lfd = wsp_cond_listener(c->type, 0, 4, &c->port);
	c->cfd = wsp_socket(c->type);
	if (c->lfd < 0 || c->cfd < 0 ||
	    setsockopt(c->cfd, SOL_WSP, WSP_CALLER_DATA, fn_tx, FN_DATA_LEN) ||
	    wsp_connect_nb(c->cfd, c->port) != EINPROGRESS)
		return -1;
	c->len = sizeof(c->rbuf);
	return 0;
}

static long fn_peek_op(struct fn_ctx *c)
{
	return getsockopt(c->lfd, SOL_WSP, WSP_PEEK_REQUEST, c->rbuf,
			  &c->len);
}

static void fn_peek_check(struct __test_metadata *_metadata,
			  struct fn_ctx *c, long r, int e, bool hit)
{
	struct wsp_request *req = fn_r(c);

	if (r < 0) {
		memset(c->rbuf, 0, sizeof(c->rbuf));
		c->len = sizeof(c->rbuf);
		ASSERT_EQ(0, fn_peek_op(c)) FN_AT(c, errno);
	}
	ASSERT_EQ(sizeof(c->rbuf), c->len) FN_AT(c, 0);
	ASSERT_LT(0, req->id) FN_AT(c, 0);
	ASSERT_EQ(wsp_local_port(c->cfd), req->caller.swsp_port) FN_AT(c, 0);
	ASSERT_EQ(0, req->flags) FN_AT(c, 0);
	ASSERT_EQ(FN_DATA_LEN, req->data_len) FN_AT(c, 0);
	ASSERT_EQ(0, memcmp(req->data, fn_tx, FN_DATA_LEN)) FN_AT(c, 0);
	c->id = req->id;
	fn_undecided(_metadata, c);
	ASSERT_EQ(0, wsp_verdict(c->lfd, c->id, WSP_CF_ACCEPT)) FN_AT(c, errno);
	fn_accepted(_metadata, c);
}

static const struct fn_path fn_peek = {
	.name = "peek request",
	/* The cursor is copied in, the request and its data out. */
	.errs = FN_ERRS(EFAULT),
	.copies_only = true,
	.setup = fn_peek_setup,
	.op = fn_peek_op,
	.check = fn_peek_check,
};

/* ---- send() and recv() ------------------------------------------------ */

static long fn_send_op(struct fn_ctx *c)
{
	return send(c->cfd, fn_tx, FN_BIG, MSG_NOSIGNAL);
}

static void fn_send_check(struct __test_metadata *_metadata,
			  struct fn_ctx *c, long r, int e, bool hit)
{
	size_t sent = r < 0 ? 0 : r;

	/* A stream send stops at the chunk that failed and tells what it
	 * queued; a record goes whole or not at all.
	 */
	if (c->type == SOCK_SEQPACKET)
		ASSERT_TRUE(r < 0 || r == FN_BIG) FN_AT(c, e);
	ASSERT_GE(FN_BIG, r) FN_AT(c, e);
	if (!hit)
		ASSERT_EQ(FN_BIG, r) FN_AT(c, e);
	if (sent) {
		ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx, sent))
			FN_AT(c, errno);
	} else {
		ASSERT_EQ(-1, recv(c->sfd, fn_rx, 1, MSG_DONTWAIT)) FN_AT(c, 0);
		ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
	}
	if (sent < FN_BIG) {
		/* The rest follows, in order. */
		ASSERT_EQ(FN_BIG - sent, send(c->cfd, fn_tx + sent,
					      FN_BIG - sent, MSG_NOSIGNAL))
			FN_AT(c, errno);
		ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx + sent,
				       FN_BIG - sent)) FN_AT(c, errno);
	}
	ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd)) FN_AT(c, errno);
}

static const struct fn_path fn_send = {
	.name = "send",
	/* ENOBUFS: the skb or its page frags (alloc_skb_with_frags()).
	 * EFAULT: the data is copied in.
	 */
	.errs = FN_ERRS(ENOBUFS, EFAULT),
	.setup = fn_pair_setup,
	.op = fn_send_op,
	.check = fn_send_check,
};

static int fn_queued_data_setup(struct fn_ctx *c)
{
	if (fn_pair_setup(c) ||
	    send(c->cfd, fn_tx, FN_BIG, MSG_NOSIGNAL) != FN_BIG)
		return -1;
	/* Touched now: a page fault in the copy-out would be a failable
	 * call of its own.
	 */
	memset(fn_rx, 0, sizeof(fn_rx));
	return 0;
}

static long fn_recv_op(struct fn_ctx *c)
{
	return recv(c->sfd, fn_rx, FN_BIG, MSG_DONTWAIT);
}

static void fn_recv_check(struct __test_metadata *_metadata,
			  struct fn_ctx *c, long r, int e, bool hit)
{
	size_t got = r < 0 ? 0 : r;

	/* A stream read stops at the copy that failed and returns what it
	 * took; a record is taken whole or left queued.
	 */
	if (c->type == SOCK_SEQPACKET)
		ASSERT_TRUE(r < 0 || r == FN_BIG) FN_AT(c, e);
	ASSERT_GE(FN_BIG, r) FN_AT(c, e);
	if (!hit)
		ASSERT_EQ(FN_BIG, r) FN_AT(c, e);
	ASSERT_EQ(0, memcmp(fn_rx, fn_tx, got)) FN_AT(c, 0);
	if (got < FN_BIG) {
		/* Nothing that was not read is lost. */
		ASSERT_EQ(0, fn_expect(c->sfd, c->type, fn_tx + got,
				       FN_BIG - got)) FN_AT(c, errno);
	} else {
		ASSERT_EQ(-1, recv(c->sfd, fn_rx, 1, MSG_DONTWAIT)) FN_AT(c, 0);
		ASSERT_EQ(EAGAIN, errno) FN_AT(c, errno);
	}
	ASSERT_EQ(0, fn_exchange(c->type, c->cfd, c->sfd)) FN_AT(c, errno);
}

static const struct fn_path fn_recv = {
	.name = "recv",
	/* The data is copied out; nothing is allocated. */
	.errs = FN_ERRS(EFAULT),
	.copies_only = true,
	.setup = fn_queued_data_setup,
	.op = fn_recv_op,
	.check = fn_recv_check,
};

/* ---- the sweep -------------------------------------------------------- */

struct fn_env {
	int type;
	int nthfd;
	/* Why this kernel cannot be swept, or NULL. */
	const char *skip;
	/* User copies are failable calls too. */
	bool usercopy;
	long refcnt;
	bool saved[ARRAY_SIZE(fn_knobs)];
	char old[ARRAY_SIZE(fn_knobs)][32];
};

static bool fn_has(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), FN_DBG "%s", dir);
	return !access(path, F_OK);
}

static void fn_knob_path(char *path, size_t len, const struct fn_knob *k)
{
	snprintf(path, len, FN_DBG "%s/%s", k->dir, k->file);
}

static void fn_knobs_restore(struct fn_env *env)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fn_knobs); i++) {
		if (!env->saved[i])
			continue;
		fn_knob_path(path, sizeof(path), &fn_knobs[i]);
		wsp_write_file(path, env->old[i]);
		env->saved[i] = false;
	}
}

static int fn_knobs_set(struct __test_metadata *_metadata,
			struct fn_env *env)
{
	const struct fn_knob *k;
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fn_knobs); i++) {
		k = &fn_knobs[i];
		if (!fn_has(k->dir))
			continue;
		fn_knob_path(path, sizeof(path), k);
		if (wsp_read_file(path, env->old[i], sizeof(env->old[i])) <= 0)
			goto err;
		env->saved[i] = true;
		if (wsp_write_file(path, k->val))
			goto err;
	}
	return 0;
err:
	TH_LOG("%s: %s", path, strerror(errno));
	fn_knobs_restore(env);
	return -1;
}

static void fn_env_setup(struct __test_metadata *_metadata,
			 struct fn_env *env, int type)
{
	static const char * const dirs[] = {
		"failslab", "fail_page_alloc", "fail_usercopy",
	};
	char path[128], buf[32];
	unsigned int i;

	env->type = type;
	env->nthfd = -1;
	if (access(FN_NTH, W_OK)) {
		env->skip = "no " FN_NTH ": no CONFIG_FAULT_INJECTION";
		return;
	}
	if (!fn_has("failslab"))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (!fn_has("failslab")) {
		env->skip = "no failslab in debugfs (CONFIG_FAILSLAB)";
		return;
	}
	/* fail-nth needs none; random faults would hit the setup too. */
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), FN_DBG "%s/probability", dirs[i]);
		if (wsp_read_file(path, buf, sizeof(buf)) > 0 && atoi(buf)) {
			env->skip = "a fault-injection probability is set";
			return;
		}
	}
	env->usercopy = fn_has("fail_usercopy");
	for (i = 0; i < FN_BIG; i++)
		fn_tx[i] = i * 7 + i / 251;
	ASSERT_EQ(0, wsp_private_netns());
	env->refcnt = wsp_mod_refcnt();
	env->nthfd = open(FN_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, env->nthfd);
	/* Last: no teardown follows a failed ASSERT in the setup. */
	ASSERT_EQ(0, fn_knobs_set(_metadata, env));
}

static void fn_env_teardown(struct __test_metadata *_metadata,
			    struct fn_env *env)
{
	if (env->nthfd >= 0) {
		if (pwrite(env->nthfd, "0", 1, 0) != 1)
			TH_LOG("cannot disarm fail-nth: %s", strerror(errno));
		close(env->nthfd);
	}
	fn_knobs_restore(env);
}

static void fn_ctx_init(struct fn_ctx *c, const struct fn_path *p, int type,
			unsigned int nth)
{
	memset(c, 0, sizeof(*c));
	c->path = p;
	c->nth = nth;
	c->type = type;
	c->lfd = c->cfd = c->sfd = c->efd = c->xfd = -1;
}

static void fn_ctx_close(struct fn_ctx *c)
{
	wsp_close(&c->xfd);
	wsp_close(&c->sfd);
	wsp_close(&c->cfd);
	wsp_close(&c->lfd);
	wsp_close(&c->efd);
}

/* " ENOMEM x3 EFAULT x1": how often each errno of @p was seen. */
static void fn_outcome(char *buf, size_t len, const struct fn_path *p,
		       const unsigned int *seen)
{
	unsigned int i;
	int n = 0;

	buf[0] = '\0';
	for (i = 0; i < FN_MAX_ERRS && p->errs[i]; i++)
		if (seen[i])
			n += snprintf(buf + n, len - n, " %s x%u",
				      fn_err_name(p->errs[i]), seen[i]);
}

static void fn_sweep(struct __test_metadata *_metadata, struct fn_env *env,
		     const struct fn_path *p)
{
	unsigned int seen[FN_MAX_ERRS] = { 0 };
	unsigned int nth, i, points = 0, failed = 0;
	char outcome[128];
	struct fn_ctx c;
	int e, hit;
	bool ok;
	long r;

	if (env->skip)
		SKIP(return, "%s", env->skip);
	if (p->copies_only && !env->usercopy)
		SKIP(return, "%s: only user copies fail, and no fail_usercopy",
		     p->name);
	ASSERT_NE(NULL, fn_tally);
	fn_tally->started++;
	for (nth = 1; nth <= FN_CAP; nth++) {
		fn_ctx_init(&c, p, env->type, nth);
		ASSERT_EQ(0, p->setup(&c)) FN_AT(&c, errno);
		ASSERT_EQ(0, fn_arm(env->nthfd, nth)) FN_AT(&c, errno);
		r = p->op(&c);
		e = errno;
		hit = fn_disarm(env->nthfd);
		ASSERT_LE(0, hit) FN_AT(&c, errno);
		ok = r >= 0 || (p->normal && e == p->normal);
		if (!ok)
			ASSERT_TRUE(fn_err_in(e, p->errs)) FN_AT(&c, e);
		/* Not reached: the path ran without a fault. */
		if (!hit)
			ASSERT_TRUE(ok) FN_AT(&c, e);
		p->check(_metadata, &c, r, e, hit);
		fn_ctx_close(&c);
		ASSERT_EQ(0, fn_nsocks()) FN_AT(&c, errno);
		if (!hit)
			break;
		points++;
		failed += !ok;
		for (i = 0; !ok && i < FN_MAX_ERRS && p->errs[i]; i++)
			seen[i] += e == p->errs[i];
	}
	ASSERT_GE(FN_CAP, nth) TH_LOG("%s: still failing at nth %u",
				      p->name, FN_CAP);
	if (!p->may_be_empty)
		ASSERT_LT(0, points) TH_LOG("%s: not one fault reached", p->name);
	ASSERT_TRUE(fn_refs_back(env->refcnt))
		TH_LOG("%s: module references %ld, were %ld", p->name,
		       wsp_mod_refcnt(), env->refcnt);
	fn_outcome(outcome, sizeof(outcome), p, seen);
	TH_LOG("%s (%s): %u fail-nth points swept: %u failed%s, %u succeeded",
	       p->name, fn_type_name(env->type), points, failed, outcome,
	       points - failed);
	fn_tally->finished++;
	fn_tally->points += points;
}

FIXTURE(failnth)
{
	struct fn_env env;
};

FIXTURE_VARIANT(failnth)
{
	int type;
};

FIXTURE_VARIANT_ADD(failnth, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(failnth, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(failnth)
{
	fn_env_setup(_metadata, &self->env, variant->type);
}

FIXTURE_TEARDOWN(failnth)
{
	fn_env_teardown(_metadata, &self->env);
}

TEST_F(failnth, socket)
{
	fn_sweep(_metadata, &self->env, &fn_socket);
}

TEST_F(failnth, bind_explicit)
{
	fn_sweep(_metadata, &self->env, &fn_bind_explicit);
}

TEST_F(failnth, bind_ephemeral)
{
	fn_sweep(_metadata, &self->env, &fn_bind_any);
}

TEST_F(failnth, listen)
{
	fn_sweep(_metadata, &self->env, &fn_listen);
}

TEST_F(failnth, connect_automatic)
{
	fn_sweep(_metadata, &self->env, &fn_connect_auto);
}

TEST_F(failnth, connect_conditional)
{
	fn_sweep(_metadata, &self->env, &fn_connect_cond);
}

TEST_F(failnth, verdict_accept)
{
	fn_sweep(_metadata, &self->env, &fn_verdict_accept);
}

TEST_F(failnth, verdict_reject)
{
	fn_sweep(_metadata, &self->env, &fn_verdict_reject);
}

TEST_F(failnth, verdict_defer)
{
	fn_sweep(_metadata, &self->env, &fn_verdict_defer);
}

TEST_F(failnth, caller_data_set)
{
	fn_sweep(_metadata, &self->env, &fn_caller_data);
}

TEST_F(failnth, callee_data_get)
{
	fn_sweep(_metadata, &self->env, &fn_callee_data);
}

TEST_F(failnth, event_select)
{
	fn_sweep(_metadata, &self->env, &fn_event_select);
}

TEST_F(failnth, filter_attach)
{
	fn_sweep(_metadata, &self->env, &fn_filter_attach);
}

TEST_F(failnth, qos_set)
{
	fn_sweep(_metadata, &self->env, &fn_qos_set);
}

TEST_F(failnth, shaped_send)
{
	fn_sweep(_metadata, &self->env, &fn_shaped_send);
}

TEST_F(failnth, accept)
{
	fn_sweep(_metadata, &self->env, &fn_accept);
}

TEST_F(failnth, peek_request)
{
	fn_sweep(_metadata, &self->env, &fn_peek);
}

TEST_F(failnth, send)
{
	fn_sweep(_metadata, &self->env, &fn_send);
}

TEST_F(failnth, recv)
{
	fn_sweep(_metadata, &self->env, &fn_recv);
}

/* ---- two faults in a row ------------------------------------------------ */

/*
 * Some failures are retried.  The xarray that lists a namespace's sockets
 * makes its nodes with GFP_NOWAIT under its lock and, on ENOMEM, allocates
 * again with the caller's GFP_KERNEL (__xas_nomem()): one fault there is
 * always recovered, and the error path behind it only runs when the retry
 * fails as well.  So failslab fails the slab allocation that follows the
 * fail-nth fault too.  Once current->fail_nth has counted down to 0,
 * should_fail_ex() takes its probability path: with probability 100,
 * times FN_TIMES and the task filter, every slab allocation of a
 * make-it-fail task fails until times is 0.  The fail-nth fault goes
 * through the same "fail:" label, so when call nth is a slab allocation it
 * takes one of the FN_TIMES itself; when it is a user copy or a page, both
 * slab faults follow it.  times read back after the path tells whether the
 * second fault was met; fail-nth read back, whether the first was.  Only
 * the first ends the sweep: a fault that ends the syscall leaves no call
 * for the second.
 *
 * The xarray allocates only when the new socket's index needs a node: the
 * first socket of the namespace, and the 64th, for which the tree grows a
 * level.  A sweep holds sockets open to make the new one the 64th.
 */
#define FN_MIF		"/proc/thread-self/make-it-fail"
#define FN_TAINTED	"/proc/sys/kernel/tainted"
/* A WARN fired, and did not panic. */
#define FN_TAINT_WARN	(1UL << 9)
/* The fail-nth fault and one more. */
#define FN_TIMES	2
#define FN_STR(x)	#x
#define FN_XSTR(x)	FN_STR(x)
/* The first index of the xarray's second leaf (XA_CHUNK_SIZE). */
#define FN_NODE		64

enum { FN_SF_FILTER, FN_SF_INTERVAL, FN_SF_TIMES, FN_SF_PROB, FN_SF_NR };

/* Armed in this order, disarmed in the reverse one: another task may never
 * fail, and this one only with make-it-fail set.
 */
static const struct fn_knob fn_slab_knobs[FN_SF_NR] = {
	[FN_SF_FILTER]		= { "failslab", "task-filter", "Y" },
	[FN_SF_INTERVAL]	= { "failslab", "interval", "1" },
	[FN_SF_TIMES]		= { "failslab", "times", FN_XSTR(FN_TIMES) },
	[FN_SF_PROB]		= { "failslab", "probability", "100" },
};

struct fn_env2 {
	struct fn_env env;
	/* Opened once: an open() allocates, and may not while armed.  The
	 * failslab knobs are only opened while this thread is not
	 * make-it-fail (and, as simple_attr files, cannot be pread()).
	 */
	int mif;
	bool saved;
	char old[FN_SF_NR][32];
	/* The sockets a sweep holds open. */
	int fill[FN_NODE];
	unsigned int nfill;
};

static int fn_slab_put(unsigned int i, const char *val)
{
	char path[128];

	fn_knob_path(path, sizeof(path), &fn_slab_knobs[i]);
	return wsp_write_file(path, val);
}

/* A failslab knob's value, without its newline. */
static int fn_slab_get(unsigned int i, char *buf, size_t len)
{
	char path[128];
	int n;

	fn_knob_path(path, sizeof(path), &fn_slab_knobs[i]);
	n = wsp_read_file(path, buf, len);
	if (n <= 0)
		return -1;
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static unsigned long fn_tainted(void)
{
	char buf[32];

	if (wsp_read_file(FN_TAINTED, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoul(buf, NULL, 10);
}

/*
 * make-it-fail 0: no slab fault after this.  While fail-nth is still
 * armed, the write's own copy-in is a failable call: if it takes the last
 * count, it fails with EFAULT and is made again.  Returns 1 then, 0 if it
 * did not, -1 on error.
 */
static int fn_mif_off(int fd)
{
	if (pwrite(fd, "0", 1, 0) == 1)
		return 0;
	if (errno != EFAULT || pwrite(fd, "0", 1, 0) != 1)
		return -1;
	return 1;
}

/* The failslab knobs as they were, probability first.  0 or -1. */
static int fn_slab_restore(struct fn_env2 *e2)
{
	int i, err = 0;

	if (!e2->saved)
		return 0;
	for (i = FN_SF_NR - 1; i >= 0; i--)
		if (fn_slab_put(i, e2->old[i]))
			err = -1;
	return err;
}

static int fn_arm2(struct fn_env2 *e2, unsigned int nth)
{
	unsigned int i;

	for (i = 0; i < FN_SF_NR; i++)
		if (fn_slab_put(i, fn_slab_knobs[i].val))
			return -1;
	/* Nothing on the way from here to the syscall allocates. */
	if (pwrite(e2->mif, "1", 1, 0) != 1)
		return -1;
	return fn_arm(e2->env.nthfd, nth);
}

/*
 * Disarm everything, whatever fn_arm2() managed to arm: make-it-fail,
 * fail-nth, then the knobs.  Returns as fn_disarm() does; *left gets the
 * failslab faults that were not met, of FN_TIMES.
 */
static int fn_disarm2(struct fn_env2 *e2, int *left)
{
	int took, hit, err = 0;
	char buf[32];

	took = fn_mif_off(e2->mif);
	hit = fn_disarm(e2->env.nthfd);
	if (fn_slab_put(FN_SF_PROB, e2->old[FN_SF_PROB]) ||
	    fn_slab_get(FN_SF_TIMES, buf, sizeof(buf)))
		err = -1;
	else
		*left = atoi(buf);
	if (fn_slab_restore(e2))
		err = -1;
	if (took < 0 || hit < 0 || err)
		return -1;
	/* The copy-in took the fault: the path did not reach it. */
	return took ? 0 : hit;
}

static void fn_env2_teardown(struct __test_metadata *_metadata,
			     struct fn_env2 *e2)
{
	unsigned int i;

	if (e2->mif >= 0 && fn_mif_off(e2->mif) < 0)
		TH_LOG("cannot clear make-it-fail: %s", strerror(errno));
	if (fn_slab_restore(e2))
		TH_LOG("cannot restore failslab: %s", strerror(errno));
	wsp_close(&e2->mif);
	for (i = 0; i < e2->nfill; i++)
		wsp_close(&e2->fill[i]);
	e2->nfill = 0;
	fn_env_teardown(_metadata, &e2->env);
}

static int fn_slab_save(struct __test_metadata *_metadata,
			struct fn_env2 *e2)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < FN_SF_NR; i++) {
		fn_knob_path(path, sizeof(path), &fn_slab_knobs[i]);
		if (fn_slab_get(i, e2->old[i], sizeof(e2->old[i])))
			goto err;
	}
	snprintf(path, sizeof(path), "%s", FN_MIF);
	e2->mif = open(FN_MIF, O_RDWR | O_CLOEXEC);
	if (e2->mif < 0)
		goto err;
	e2->saved = true;
	return 0;
err:
	TH_LOG("%s: %s", path, strerror(errno));
	return -1;
}

static void fn_env2_setup(struct __test_metadata *_metadata,
			  struct fn_env2 *e2, int type)
{
	char path[128];
	int err;

	e2->mif = -1;
	fn_env_setup(_metadata, &e2->env, type);
	if (e2->env.skip)
		return;
	/* Skipped from here on, the teardown restores what was set. */
	fn_knob_path(path, sizeof(path), &fn_slab_knobs[FN_SF_FILTER]);
	if (access(path, W_OK) || access(FN_MIF, W_OK)) {
		e2->env.skip = "no failslab task-filter or make-it-fail";
		return;
	}
	err = fn_slab_save(_metadata, e2);
	if (err)
		fn_env2_teardown(_metadata, e2);
	/* Last: no teardown follows a failed ASSERT in the setup. */
	ASSERT_EQ(0, err);
}

/* Sweep @p with @fill sockets held open: the new one gets index fill + 1
 * when the path's setup makes none, fill + 3 after a listener and a client.
 */
static void fn_sweep2(struct __test_metadata *_metadata, struct fn_env2 *e2,
		      const struct fn_path *p, unsigned int fill)
{
	unsigned int seen[FN_MAX_ERRS] = { 0 };
	unsigned int nth, i, points = 0, both = 0, failed = 0;
	struct fn_env *env = &e2->env;
	int e, hit, left = -1;
	char outcome[128];
	struct fn_ctx c;
	bool ok, armed;
	bool warned;
	long r = -1;

	if (env->skip)
		SKIP(return, "%s", env->skip);
	ASSERT_NE(NULL, fn_tally);
	ASSERT_GE(FN_NODE, fill);
	fn_tally->started++;
	/* Without panic_on_warn, a WARN on an error path is caught here. */
	warned = fn_tainted() & FN_TAINT_WARN;
	ASSERT_EQ(0, fn_nsocks());
	for (e2->nfill = 0; e2->nfill < fill; e2->nfill++) {
		e2->fill[e2->nfill] = wsp_socket(env->type);
		ASSERT_LE(0, e2->fill[e2->nfill])
			TH_LOG("socket %u: %s", e2->nfill + 1, strerror(errno));
	}
	for (nth = 1; nth <= FN_CAP; nth++) {
		fn_ctx_init(&c, p, env->type, nth);
		ASSERT_EQ(0, p->setup(&c)) FN_AT(&c, errno);
		armed = !fn_arm2(e2, nth);
		e = errno;
		if (armed) {
			r = p->op(&c);
			e = errno;
		}
		hit = fn_disarm2(e2, &left);
		ASSERT_TRUE(armed) FN_AT(&c, e);
		ASSERT_LE(0, hit) FN_AT(&c, errno);
		ASSERT_TRUE(left >= 0 && left <= FN_TIMES)
			TH_LOG("%s (%s), nth %u: failslab times %d",
			       p->name, fn_type_name(env->type), nth, left);
		/* Not reached: nothing at all was injected. */
		if (!hit)
			ASSERT_EQ(FN_TIMES, left) FN_AT(&c, e);
		ok = r >= 0 || (p->normal && e == p->normal);
		if (!ok)
			ASSERT_TRUE(fn_err_in(e, p->errs)) FN_AT(&c, e);
		if (!hit)
			ASSERT_TRUE(ok) FN_AT(&c, e);
		p->check(_metadata, &c, r, e, hit);
		fn_ctx_close(&c);
		ASSERT_EQ(fill, fn_nsocks()) FN_AT(&c, errno);
		if (!warned)
			ASSERT_FALSE(fn_tainted() & FN_TAINT_WARN)
				TH_LOG("%s (%s), nth %u: the kernel warned",
				       p->name, fn_type_name(env->type), nth);
		if (!hit)
			break;
		points++;
		both += !left;
		failed += !ok;
		for (i = 0; !ok && i < FN_MAX_ERRS && p->errs[i]; i++)
			seen[i] += e == p->errs[i];
	}
	ASSERT_GE(FN_CAP, nth) TH_LOG("%s: still failing at nth %u",
				      p->name, FN_CAP);
	for (i = 0; i < e2->nfill; i++)
		wsp_close(&e2->fill[i]);
	e2->nfill = 0;
	ASSERT_EQ(0, fn_nsocks());
	/* The xarray's retry is on every one of these paths. */
	ASSERT_LT(0, both) TH_LOG("%s: no second fault met", p->name);
	ASSERT_TRUE(fn_refs_back(env->refcnt))
		TH_LOG("%s: module references %ld, were %ld", p->name,
		       wsp_mod_refcnt(), env->refcnt);
	fn_outcome(outcome, sizeof(outcome), p, seen);
	TH_LOG("%s (%s), %u open: %u fail-nth points swept with the next slab fault, %u met both: %u failed%s, %u succeeded",
	       p->name, fn_type_name(env->type), fill, points, both, failed,
	       outcome, points - failed);
	fn_tally->finished++;
	fn_tally->points += points;
}

FIXTURE(failnth_twice)
{
	struct fn_env2 e2;
};

FIXTURE_VARIANT(failnth_twice)
{
	int type;
};

FIXTURE_VARIANT_ADD(failnth_twice, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(failnth_twice, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(failnth_twice)
{
	fn_env2_setup(_metadata, &self->e2, variant->type);
}

FIXTURE_TEARDOWN(failnth_twice)
{
	fn_env2_teardown(_metadata, &self->e2);
}

/* The namespace's first socket: the xarray's first node. */
TEST_F(failnth_twice, socket)
{
	fn_sweep2(_metadata, &self->e2, &fn_socket, 0);
}

/* The 64th: a new root and a new leaf. */
TEST_F(failnth_twice, socket_64th)
{
	fn_sweep2(_metadata, &self->e2, &fn_socket, FN_NODE - 1);
}

/* The child, made inside connect(), after the listener and the client. */
TEST_F(failnth_twice, connect_automatic_64th)
{
	fn_sweep2(_metadata, &self->e2, &fn_connect_auto, FN_NODE - 3);
}

/* The child, made by the verdict. */
TEST_F(failnth_twice, verdict_accept_64th)
{
	fn_sweep2(_metadata, &self->e2, &fn_verdict_accept, FN_NODE - 3);
}

/* Declared last, so it runs after every sweep. */
FIXTURE(fn_total)
{
	int unused;
};

FIXTURE_SETUP(fn_total)
{
}

FIXTURE_TEARDOWN(fn_total)
{
}

TEST_F(fn_total, summary)
{
	ASSERT_NE(NULL, fn_tally);
	if (!fn_tally->started)
		SKIP(return, "no path was swept");
	ksft_print_msg("fail-nth: %u points swept over %u paths\n",
		       fn_tally->points, fn_tally->finished);
	/* The child leaves by _exit(): nothing flushes stdout after us. */
	fflush(stdout);
	ASSERT_EQ(fn_tally->started, fn_tally->finished)
		TH_LOG("%u sweeps did not finish",
		       fn_tally->started - fn_tally->finished);
	ASSERT_LT(0, fn_tally->points);
}

TEST_HARNESS_MAIN
