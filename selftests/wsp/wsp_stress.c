// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP under stress: every operation at once, from several threads per
 * role, for STRESS_DEBUG_S seconds on a debug kernel (/proc/lockdep_stats
 * exists) and STRESS_S elsewhere, in a private network namespace.
 *
 *   connect     blocking connects, with caller data, QoS requests and
 *               short WSP_CONNECT_TIMEOUTs, to automatic and conditional
 *               listeners and to a port nobody binds
 *   connect_nb  the same without blocking: EALREADY, closes mid-connect,
 *               completion by poll() and SO_ERROR, FD_CONNECT
 *   verdict     peeks, accepts with callee data (and a QoS), rejects
 *               with reject data, defers, deferred ones decided later,
 *               stale ids
 *   accept      accept(), blocking (SO_RCVTIMEO) and not
 *   listener    listen() again with another backlog, conditional accept
 *               toggled, stops (shutdown), close and re-creation on the
 *               same port with requests queued, QoS limits, events
 *   conn        QoS changes with token rates, shutdown() of either end,
 *               close, connect data, events
 *   data        send() and recv() on both socket types
 *   events      eventfds of WSP_EVENT_SELECT, WSP_NETWORK_EVENTS
 *   rmmod       delete_module("wsp", O_NONBLOCK), always refused: a
 *               guard socket stays open from start to end
 *   proc        /proc/net/wsp and /proc/net/wsp_stat read meanwhile
 *
 * Every call must succeed or fail with an errno allowed where it is made
 * (the first other one per operation is reported), every role must make
 * progress, and once everything is closed /proc/net/wsp must list the
 * guard alone and /proc/net/wsp_stat must agree with what the threads
 * saw.  The kernel's own checks (KASAN, lockdep, kmemleak) are the VM
 * harness's.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/eventfd.h>
#include <linux/sockios.h>
#include "wsp_util.h"

#define STRESS_S		10
#define STRESS_DEBUG_S		60
#define NSLOTS			4	/* listeners, a port each */
#define BASE_PORT		7000
#define NO_PORT			7099	/* never bound */
#define NCONNS			48	/* connected sockets kept for I/O */
#define NEFDS			4
#define NMEMO			16	/* ids a verdict thread remembers */
#define DATA_MAX		64	/* caller, callee and reject data */
#define SEND_MAX		200
#define SOCKBUF			16384
#define ACCEPT_WAIT_MS		20	/* SO_RCVTIMEO of the listeners */
#define IDLE_WAIT_MS		5	/* poll() when nothing is queued */
#define MAX_TMO_MS		400
#define NERR			136	/* errnos counted one by one */

#define SALT_CALLER		0x00
#define SALT_CALLEE		0x40
#define SALT_REJECT		0x80

#define NS			WSP_QOS_NOT_SPECIFIED

static const __u32 timeouts[] = { 1, 5, 20, 100, 250, MAX_TMO_MS };
static const __u32 rates[] = { 2000, 20000, 200000, 2000000 };
static const __u32 buckets[] = { 256, 1024, 4096 };

enum op {
	OP_SOCKET,
	OP_CONNECT,
	OP_CONNECT_NB,
	OP_CONNECT_AGAIN,
	OP_CONNECT_DONE,
	OP_MIDCLOSE,
	OP_CONNDATA,
	OP_PEEK,
	OP_VERDICT,
	OP_DEFERRED,
	OP_STALE,
	OP_ACCEPT,
	OP_POLL,
	OP_RELISTEN,
	OP_TOGGLE,
	OP_LSTOP,
	OP_RECREATE,
	OP_SHUTDOWN,
	OP_QOS,
	OP_SEND,
	OP_RECV,
	OP_EVSELECT,
	OP_NETEVENTS,
	OP_EFD,
	OP_CLOSE,
	OP_RMMOD,
	OP_PROC,
	OP_MAX
};

static const char * const op_names[OP_MAX] = {
	[OP_SOCKET]		= "socket+options",
	[OP_CONNECT]		= "connect",
	[OP_CONNECT_NB]		= "connect O_NONBLOCK",
	[OP_CONNECT_AGAIN]	= "connect again",
	[OP_CONNECT_DONE]	= "connect completion",
	[OP_MIDCLOSE]		= "close mid-connect",
	[OP_CONNDATA]		= "connect data",
	[OP_PEEK]		= "peek",
	[OP_VERDICT]		= "verdict",
	[OP_DEFERRED]		= "verdict on deferred",
	[OP_STALE]		= "verdict on stale id",
	[OP_ACCEPT]		= "accept",
	[OP_POLL]		= "listener poll",
	[OP_RELISTEN]		= "re-listen",
	[OP_TOGGLE]		= "conditional toggle",
	[OP_LSTOP]		= "listener shutdown",
	[OP_RECREATE]		= "listener re-creation",
	[OP_SHUTDOWN]		= "shutdown",
	[OP_QOS]		= "QoS change",
	[OP_SEND]		= "send",
	[OP_RECV]		= "recv",
	[OP_EVSELECT]		= "event select",
	[OP_NETEVENTS]		= "network events",
	[OP_EFD]		= "eventfd",
	[OP_CLOSE]		= "close",
	[OP_RMMOD]		= "rmmod",
	[OP_PROC]		= "/proc read",
};

/* What the threads saw, to hold /proc/net/wsp_stat against. */
enum cnt {
	C_CONNECTED,	/* a client saw its request accepted */
	C_TIMEDOUT,	/* a client saw ETIMEDOUT */
	C_REFUSED_NOW,	/* connect() itself returned ECONNREFUSED */
	C_V_ACCEPT,
	C_V_REJECT,
	C_V_DEFER,
	C_V_ENOENT,	/* every verdict that gave ENOENT */
	C_V_UNKNOWN,	/* ENOENT for an id never handed out */
	C_CLOSE_QUEUED,	/* listener closed with requests queued */
	C_NB_COND_OK,	/* O_NONBLOCK connect() 0 from a conditional one */
	C_EFD,		/* eventfd found signalled */
	C_MAX
};

struct op_stat {
	long calls;
	long by_err[NERR];	/* [0]: successes */
	long bad;
	int first_err;		/* 0: a wrong result, -1: a success */
	char first_what[120];
};

struct slot {
	pthread_rwlock_t lock;	/* write: new fd, cond, restart */
	int fd;
	int type;
	__u32 port;
	int cond;
	unsigned int mode_seq;	/* odd while cond changes */
	int stopped;		/* set before a stop, cleared by a restart */
};

struct conn {
	pthread_rwlock_t lock;	/* write: close */
	int fd;
	int type;
};

struct worker {
	pthread_t th;
	const char *role;
	unsigned int seed;
	const char *doing;	/* named if the thread hangs */
};

static struct {
	struct slot slots[NSLOTS];
	struct conn conns[NCONNS];
	int efd[NEFDS];
	unsigned long guard_ino;
	pthread_barrier_t start;
	int stop;
	struct op_stat ops[OP_MAX];
	long cnt[C_MAX];
} st;

static bool running(void)
{
	return !__atomic_load_n(&st.stop, __ATOMIC_RELAXED);
}

static unsigned int rnd(struct worker *w, unsigned int n)
{
	return rand_r(&w->seed) % n;
}

static void count(enum cnt c)
{
	__atomic_add_fetch(&st.cnt[c], 1, __ATOMIC_RELAXED);
}

static long counted(enum cnt c)
{
	return __atomic_load_n(&st.cnt[c], __ATOMIC_RELAXED);
}

static int err_of(long r)
{
	return r < 0 ? errno : 0;
}

static void vbad(enum op op, int err, const char *fmt, va_list ap)
{
	struct op_stat *o = &st.ops[op];

	if (__atomic_fetch_add(&o->bad, 1, __ATOMIC_SEQ_CST))
		return;
	o->first_err = err;
	vsnprintf(o->first_what, sizeof(o->first_what), fmt, ap);
}

/* A wrong outcome of @op: @err, or 0 for a wrong result. */
static void bad(enum op op, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(op, err, fmt, ap);
	va_end(ap);
}

/*
 * Account a call of @op that ended in @err (0: success), which @ok says
 * is allowed there.  Returns true for an allowed success.
 */
static bool check(enum op op, int err, bool ok, const char *fmt, ...)
{
	struct op_stat *o = &st.ops[op];
	int i = err < NERR - 1 ? err : NERR - 1;
	va_list ap;

	__atomic_add_fetch(&o->calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&o->by_err[i], 1, __ATOMIC_RELAXED);
	if (ok)
		return !err;
	va_start(ap, fmt);
	vbad(op, err ? err : -1, fmt, ap);
	va_end(ap);
	return false;
}

/* A call of @op that returned @r and has no business failing. */
static bool must(enum op op, long r, const char *what)
{
	return check(op, err_of(r), r >= 0, "%s", what);
}

static long op_calls(enum op op)
{
	return __atomic_load_n(&st.ops[op].calls, __ATOMIC_RELAXED);
}

static long op_ok(enum op op)
{
	return __atomic_load_n(&st.ops[op].by_err[0], __ATOMIC_RELAXED);
}

static long op_err(enum op op, int err)
{
	return __atomic_load_n(&st.ops[op].by_err[err], __ATOMIC_RELAXED);
}

static bool stopped(struct slot *sl)
{
	return __atomic_load_n(&sl->stopped, __ATOMIC_SEQ_CST);
}

enum mode { M_AUTO, M_COND, M_TOGGLED, M_UNBOUND };

static const char * const mode_names[] = {
	[M_AUTO] = "automatic", [M_COND] = "conditional",
	[M_TOGGLED] = "toggled meanwhile", [M_UNBOUND] = "unbound",
};

/*
 * Connectors take no lock: they learn the listener's mode for the time of
 * a call from a seqcount that every toggle bumps, before and after.
 */
static unsigned int mode_begin(struct slot *sl, int *cond)
{
	unsigned int seq = __atomic_load_n(&sl->mode_seq, __ATOMIC_SEQ_CST);

	*cond = __atomic_load_n(&sl->cond, __ATOMIC_SEQ_CST);
	return seq;
}

static enum mode mode_end(struct slot *sl, __u32 port, unsigned int seq,
			  int cond)
{
	if (port == NO_PORT)
		return M_UNBOUND;
	if ((seq & 1) ||
	    __atomic_load_n(&sl->mode_seq, __ATOMIC_SEQ_CST) != seq)
		return M_TOGGLED;
	return cond ? M_COND : M_AUTO;
}

/* ---- contents that can be checked wherever they show up ----------- */

static void pattern(unsigned char *p, unsigned int len, unsigned int salt)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = len + i + salt;
}

static bool pattern_ok(const unsigned char *p, unsigned int len,
		       unsigned int salt)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)(len + i + salt))
			return false;
	return true;
}

static bool in(__u32 v, const __u32 *set, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (v == set[i])
			return true;
	return v == NS;
}

/*
 * Only our values get into a QoS: requested, granted (the smaller of two
 * of ours) or bounded the same way.  Nothing else is ever specified.
 */
static bool flowspec_ok(const struct wsp_flowspec *f)
{
	return in(f->token_rate, rates, ARRAY_SIZE(rates)) &&
	       in(f->token_bucket_size, buckets, ARRAY_SIZE(buckets)) &&
	       (f->service_type == NS ||
		f->service_type == WSP_SERVICETYPE_GUARANTEED) &&
	       f->peak_bandwidth == NS && f->latency == NS &&
	       f->delay_variation == NS && f->max_sdu_size == NS &&
	       f->minimum_policed_size == NS;
}

static bool qos_ok(const struct wsp_qos *q)
{
	return flowspec_ok(&q->sending) && flowspec_ok(&q->receiving);
}

static void random_flowspec(struct worker *w, struct wsp_flowspec *f)
{
	wsp_flowspec_unspec(f);
	f->token_rate = rates[rnd(w, ARRAY_SIZE(rates))];
	f->token_bucket_size = buckets[rnd(w, ARRAY_SIZE(buckets))];
	if (!rnd(w, 4))
		f->service_type = WSP_SERVICETYPE_GUARANTEED;
}

static void random_qos(struct worker *w, struct wsp_qos *q)
{
	wsp_qos_unspec(q);
	if (rnd(w, 4))
		random_flowspec(w, &q->sending);
	if (rnd(w, 2))
		random_flowspec(w, &q->receiving);
}

/*
 * The connect data @opt of @fd must be empty (and is, if !@may_have) or
 * @salt's pattern of at most DATA_MAX bytes.
 */
static void data_ok(enum op op, int fd, int opt, unsigned int salt,
		    bool may_have)
{
	const char *name = opt == WSP_CALLER_DATA ? "caller" : "callee";
	unsigned char buf[2 * DATA_MAX];
	int n;

	n = wsp_get_data(fd, opt, buf, sizeof(buf));
	if (!check(op, err_of(n), n >= 0, "getsockopt(%s data)", name))
		return;
	if (n > DATA_MAX || (n && !may_have) || !pattern_ok(buf, n, salt))
		bad(op, 0, "%s data: %d bytes, %s", name, n,
		    n && !may_have ? "none expected" : "not what was set");
}

/* Only events that exist; an error only for a recorded event, and only
 * an error that a connection can end with.
 */
static bool events_ok(const struct wsp_network_events *ne)
{
	unsigned int i;
	int e;

	if (ne->events & ~WSP_FD_ALL_EVENTS)
		return false;
	for (i = 0; i < WSP_FD_MAX_EVENTS; i++) {
		e = ne->errors[i];
		if (!(ne->events & (1U << i)) && e)
			return false;
		if (e && e != ECONNRESET && e != ECONNREFUSED &&
		    e != ETIMEDOUT)
			return false;
	}
	return true;
}

/* WSP_NETWORK_EVENTS of @fd, checked; false if it failed. */
static bool net_events(int fd, struct wsp_network_events *ne)
{
	if (!must(OP_NETEVENTS, wsp_net_events(fd, ne), "WSP_NETWORK_EVENTS"))
		return false;
	if (events_ok(ne))
		return true;
	bad(OP_NETEVENTS, 0, "events %#x, errors %d %d %d %d %d %d %d",
	    ne->events, ne->errors[0], ne->errors[1], ne->errors[2],
	    ne->errors[3], ne->errors[4], ne->errors[5], ne->errors[6]);
	return false;
}

static void event_select(struct worker *w, int fd)
{
	__u32 mask = rnd(w, 4) ? rnd(w, WSP_FD_ALL_EVENTS + 1) : 0;
	int efd = rnd(w, 4) ? st.efd[rnd(w, NEFDS)] : -1;

	must(OP_EVSELECT, wsp_event_select(fd, mask, efd), "WSP_EVENT_SELECT");
}

static void small_buffers(int fd)
{
	int v = SOCKBUF;

	must(OP_SOCKET, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)),
	     "SO_SNDBUF");
	must(OP_SOCKET, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)),
	     "SO_RCVBUF");
}

/* ---- connected sockets kept for I/O -------------------------------- */

/* Keep @fd if a free entry turns up at once, else close it. */
static void conn_keep(struct worker *w, int fd, int type)
{
	struct conn *c;
	int i;

	for (i = 0; i < 4; i++) {
		c = &st.conns[rnd(w, NCONNS)];
		if (pthread_rwlock_trywrlock(&c->lock))
			continue;
		if (c->fd < 0) {
			c->fd = fd;
			c->type = type;
			pthread_rwlock_unlock(&c->lock);
			return;
		}
		pthread_rwlock_unlock(&c->lock);
	}
	must(OP_CLOSE, close(fd), "close");
}

/* A kept connection, read-locked, or NULL. */
static struct conn *conn_get(struct worker *w)
{
	struct conn *c = &st.conns[rnd(w, NCONNS)];

	pthread_rwlock_rdlock(&c->lock);
	if (c->fd >= 0)
		return c;
	pthread_rwlock_unlock(&c->lock);
	return NULL;
}

static void conn_close(struct conn *c)
{
	pthread_rwlock_wrlock(&c->lock);
	if (c->fd >= 0)
		must(OP_CLOSE, close(c->fd), "close");
	c->fd = -1;
	pthread_rwlock_unlock(&c->lock);
}

/* Returns true once the connection can carry nothing more. */
static bool send_one(struct worker *w, struct conn *c)
{
	unsigned int len = 1 + rnd(w, SEND_MAX);
	char buf[SEND_MAX];
	ssize_t r;
	int e;

	memset(buf, 'd', len);
	r = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	e = err_of(r);
	/* EAGAIN: buffers full or over the token rate; EPIPE: shut down
	 * or the peer gone; ECONNRESET: reset by the peer, said once.
	 */
	if (!check(OP_SEND, e, !e || e == EAGAIN || e == EPIPE ||
		   e == ECONNRESET, "send(%u)", len))
		return e == EPIPE || e == ECONNRESET;
	if (r <= 0 || r > len || (c->type == SOCK_SEQPACKET && r != len))
		bad(OP_SEND, 0, "send(%u) returned %zd", len, r);
	return false;
}

/* Returns true at EOF or on a reset. */
static bool recv_one(struct worker *w, struct conn *c)
{
	char buf[2 * SEND_MAX];
	ssize_t r, i;
	int e;

	r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	e = err_of(r);
	/* EAGAIN: nothing queued; ECONNRESET: reset, said once. */
	if (!check(OP_RECV, e, !e || e == EAGAIN || e == ECONNRESET, "recv"))
		return e == ECONNRESET;
	if (c->type == SOCK_SEQPACKET && r > SEND_MAX)
		bad(OP_RECV, 0, "a record of %zd bytes", r);
	for (i = 0; i < r; i++)
		if (buf[i] != 'd') {
			bad(OP_RECV, 0, "byte %zd of %zd is %#x", i, r,
			    buf[i] & 0xff);
			break;
		}
	/* A SEQPACKET record may be empty; none of ours is. */
	return !r;
}

/* ---- clients --------------------------------------------------------- */

/*
 * A client of @type with a short connect timeout and, at random, caller
 * data, a QoS request, small buffers and (@events) an event registration.
 */
static int client_socket(struct worker *w, int type, bool events)
{
	unsigned char data[DATA_MAX];
	unsigned int len;
	struct wsp_qos q;
	int fd;

	fd = wsp_socket(type);
	if (!must(OP_SOCKET, fd, "socket"))
		return -1;
	must(OP_SOCKET, wsp_set_timeout_ms(fd,
		timeouts[rnd(w, ARRAY_SIZE(timeouts))]), "WSP_CONNECT_TIMEOUT");
	if (rnd(w, 2)) {
		len = 1 + rnd(w, DATA_MAX);
		pattern(data, len, SALT_CALLER);
		must(OP_SOCKET, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data,
					   len), "WSP_CALLER_DATA");
	}
	if (!rnd(w, 3)) {
		random_qos(w, &q);
		must(OP_SOCKET, wsp_set_qos(fd, &q), "WSP_QOS request");
	}
	if (rnd(w, 2))
		small_buffers(fd);
	if (events && rnd(w, 2))
		must(OP_EVSELECT, wsp_event_select(fd, WSP_FD_ALL_EVENTS,
			st.efd[rnd(w, NEFDS)]), "WSP_EVENT_SELECT");
	return fd;
}

/*
 * A client's connect to @port ended with @err.  Its callee data is the
 * accept's (or none), the reject's (or none) after a refusal, and none
 * after a timeout: one request, one outcome.
 */
static void connect_over(struct worker *w, int fd, int type, __u32 port,
			 int err)
{
	long long peer;

	if (err == ETIMEDOUT)
		count(C_TIMEDOUT);
	if (!err || err == ECONNRESET)
		count(C_CONNECTED);
	data_ok(OP_CONNDATA, fd, WSP_CALLEE_DATA,
		err == ECONNREFUSED ? SALT_REJECT : SALT_CALLEE,
		err != ETIMEDOUT);
	if (err) {
		must(OP_CLOSE, close(fd), "close");
		return;
	}
	peer = wsp_peer_port(fd);
	if (peer != port)
		bad(OP_CONNDATA, peer < 0 ? errno : 0,
		    "getpeername after a connect to %u: %lld", port, peer);
	conn_keep(w, fd, type);
}

static struct slot *any_slot(struct worker *w)
{
	return &st.slots[rnd(w, NSLOTS)];
}

static void *connector(void *arg)
{
	struct worker *w = arg;
	unsigned int seq;
	struct slot *sl;
	int fd, e, cond;
	enum mode m;
	__u32 port;

	pthread_barrier_wait(&st.start);
	while (running()) {
		sl = any_slot(w);
		port = rnd(w, 16) ? sl->port : NO_PORT;
		fd = client_socket(w, sl->type, false);
		if (fd < 0)
			continue;
		seq = mode_begin(sl, &cond);
		w->doing = "blocking connect";
		e = err_of(wsp_connect(fd, port));
		w->doing = NULL;
		m = mode_end(sl, port, seq, cond);
		/* Refused: rejected, backlog full, listener stopped, closed
		 * or absent; timed out: no verdict in time, so never from
		 * an automatic listener.  Never EADDRINUSE (autobind), EINTR
		 * (no signals), ...
		 */
		check(OP_CONNECT, e, !e || e == ECONNREFUSED ||
		      (e == ETIMEDOUT && (m == M_COND || m == M_TOGGLED)),
		      "connect to %u (%s)", port, mode_names[m]);
		if (e == ECONNREFUSED)
			count(C_REFUSED_NOW);
		connect_over(w, fd, sl->type, port, e);
	}
	return NULL;
}

/* FD_CONNECT, if recorded, carries the error that SO_ERROR gave. */
static void connect_event_ok(int fd, int so_error)
{
	struct wsp_network_events ne;
	int want = so_error == ECONNRESET ? 0 : so_error;

	if (net_events(fd, &ne) && (ne.events & WSP_FD_CONNECT) &&
	    ne.errors[WSP_FD_CONNECT_BIT] != want)
		bad(OP_NETEVENTS, 0, "FD_CONNECT error %d, SO_ERROR %d",
		    ne.errors[WSP_FD_CONNECT_BIT], so_error);
}

/* Wait for a pending non-blocking connect to @port and take its end. */
static void connect_finish(struct worker *w, int fd, int type, __u32 port)
{
	int r, e;

	w->doing = "poll for a connect";
	r = wsp_poll1(fd, POLLOUT, MAX_TMO_MS + WSP_SLOW_MS);
	w->doing = NULL;
	if (r <= 0) {
		/* Its own timeout ends every request. */
		bad(OP_CONNECT_DONE, r < 0 ? errno : 0,
		    "connect to %u not over after %d ms", port,
		    MAX_TMO_MS + WSP_SLOW_MS);
		must(OP_CLOSE, close(fd), "close");
		return;
	}
	e = wsp_so_error(fd);
	if (e == INT_MIN) {
		must(OP_CONNECT_DONE, -1, "SO_ERROR");
		must(OP_CLOSE, close(fd), "close");
		return;
	}
	/* Accepted; refused (rejected, listener stopped or closed); timed
	 * out; or accepted, then reset by the listener's close before
	 * accept() took it.
	 */
	check(OP_CONNECT_DONE, e, !e || e == ECONNREFUSED || e == ETIMEDOUT ||
	      e == ECONNRESET, "SO_ERROR of a connect to %u", port);
	connect_event_ok(fd, e);
	connect_over(w, fd, type, port, e);
}

static void *nb_connector(void *arg)
{
	struct worker *w = arg;
	unsigned int seq;
	struct slot *sl;
	int fd, e, cond;
	enum mode m;
	__u32 port;

	pthread_barrier_wait(&st.start);
	while (running()) {
		sl = any_slot(w);
		port = rnd(w, 16) ? sl->port : NO_PORT;
		fd = client_socket(w, sl->type, true);
		if (fd < 0)
			continue;
		seq = mode_begin(sl, &cond);
		e = wsp_connect_nb(fd, port);
		m = mode_end(sl, port, seq, cond);
		/* SPEC 3: 0 when accepted at once (automatic), EINPROGRESS
		 * otherwise (conditional), the outcome to come in SO_ERROR;
		 * or refused at once: backlog full, stopped, no listener.
		 * Never ETIMEDOUT: a non-blocking call has not waited.
		 */
		check(OP_CONNECT_NB, e, e == ECONNREFUSED ||
		      (!e && (m == M_AUTO || m == M_TOGGLED)) ||
		      (e == EINPROGRESS && (m == M_COND || m == M_TOGGLED)),
		      "non-blocking connect to %u (%s)", port, mode_names[m]);
		if (!e && m == M_COND)
			count(C_NB_COND_OK);
		if (e == ECONNREFUSED)
			count(C_REFUSED_NOW);
		if (e != EINPROGRESS) {
			connect_over(w, fd, sl->type, port, e);
			continue;
		}
		switch (rnd(w, 4)) {
		case 0:
			if (rnd(w, 2))
				wsp_msleep(rnd(w, 3));
			must(OP_MIDCLOSE, close(fd), "close mid-connect");
			continue;
		case 1:
			e = err_of(wsp_connect(fd, port));
			/* Still pending; or over since: connected, or failed
			 * and said here, once.
			 */
			check(OP_CONNECT_AGAIN, e, e == EALREADY ||
			      e == EISCONN || e == ECONNREFUSED ||
			      e == ETIMEDOUT, "connect again to %u", port);
			if (e == EISCONN) {
				connect_over(w, fd, sl->type, port, 0);
				continue;
			}
			if (e != EALREADY) {
				connect_over(w, fd, sl->type, port, e);
				continue;
			}
			break;
		}
		connect_finish(w, fd, sl->type, port);
	}
	return NULL;
}

/* ---- verdicts -------------------------------------------------------- */

struct seen {
	int slot;
	__u64 id;
};

struct memo {
	struct seen deferred[NMEMO];
	struct seen decided[NMEMO];
	unsigned int ndeferred, ndecided;
};

union peek_buf {
	struct wsp_request r;
	unsigned char bytes[sizeof(struct wsp_request) + 2 * DATA_MAX];
};

/*
 * A peeked request: ours (pid, uid, gid, an ephemeral port), with the
 * caller data and QoS a client of ours sets, and nothing else.
 */
static void request_ok(struct slot *sl, const union peek_buf *pb,
		       socklen_t len)
{
	const struct wsp_request *r = &pb->r;
	unsigned int copy = r->data_len < 2 * DATA_MAX ? r->data_len :
			    2 * DATA_MAX;
	const struct sockaddr_wsp *a = &r->caller;
	const char *why = NULL;
	static const __u8 zero[8];

	if (!r->id)
		why = "id";
	else if (len != sizeof(*r) + copy)
		why = "optlen";
	else if (a->swsp_family != AF_WSP || a->swsp_reserved ||
		 memcmp(a->swsp_zero, zero, sizeof(zero)) ||
		 a->swsp_port < WSP_DEF_EPH_LO)
		why = "caller address";
	else if (r->pid != (__u32)getpid() || r->uid != geteuid() ||
		 r->gid != getegid())
		why = "credentials";
	else if ((r->flags & ~WSP_REQ_DEFERRED) || r->__reserved)
		why = "flags";
	else if (!qos_ok(&r->qos))
		why = "QoS";
	else if (r->data_len > DATA_MAX ||
		 !pattern_ok(r->data, copy, SALT_CALLER))
		why = "caller data";
	if (why)
		bad(OP_PEEK, 0, "request %llu on %u: %s", r->id, sl->port, why);
}

/* Peek the first undecided request after @cursor; returns an errno. */
static int peek_one(struct slot *sl, __u64 cursor, union peek_buf *pb)
{
	socklen_t len;
	int e;

	memset(pb, 0xaa, sizeof(*pb));
	e = err_of(wsp_peek_buf(sl->fd, cursor, pb, sizeof(*pb), &len));
	/* EAGAIN: none; EINVAL: only on a stopped listener. */
	if (!check(OP_PEEK, e, !e || e == EAGAIN ||
		   (e == EINVAL && stopped(sl)), "peek on %u", sl->port))
		return e;
	if (!sl->cond)
		bad(OP_PEEK, 0, "request %llu on automatic %u", pb->r.id,
		    sl->port);
	request_ok(sl, pb, len);
	return 0;
}

/* Give request @id of @sl @verdict, with data and a QoS at random. */
static int give(struct worker *w, struct slot *sl, __u64 id,
		unsigned int verdict, enum op op)
{
	unsigned char data[DATA_MAX];
	struct wsp_qos q, *qp = NULL;
	unsigned int len = 0;
	int e;

	if (verdict != WSP_CF_DEFER && rnd(w, 2)) {
		len = 1 + rnd(w, DATA_MAX);
		pattern(data, len, verdict == WSP_CF_ACCEPT ? SALT_CALLEE :
			SALT_REJECT);
	}
	if (verdict == WSP_CF_ACCEPT && !rnd(w, 4)) {
		random_qos(w, &q);
		qp = &q;
	}
	e = err_of(wsp_verdict_data(sl->fd, id, verdict, data, len, qp));
	/* ENOENT: withdrawn (timeout, close), decided by the other
	 * thread or refused by a stop; EINVAL: only on a listener that
	 * is stopped or automatic.
	 */
	check(op, e, !e || e == ENOENT ||
	      (e == EINVAL && (stopped(sl) || !sl->cond)),
	      "verdict %u for %llu on %u", verdict, id, sl->port);
	if (e == ENOENT)
		count(C_V_ENOENT);
	if (e)
		return e;
	count(verdict == WSP_CF_ACCEPT ? C_V_ACCEPT :
	      verdict == WSP_CF_REJECT ? C_V_REJECT : C_V_DEFER);
	return 0;
}

static void remember(struct seen *ring, unsigned int *n, int slot, __u64 id)
{
	ring[(*n)++ % NMEMO] = (struct seen){ .slot = slot, .id = id };
}

/*
 * A stale id (never handed out, or decided already) gives ENOENT, or
 * EINVAL as any verdict does on a stopped or automatic listener.
 */
static void stale_verdict(struct worker *w, struct slot *sl, struct memo *m)
{
	unsigned int pick = rnd(w, 3);
	__u64 id;
	int e;

	if (pick == 0 && !m->ndecided)
		pick = 2;
	if (pick == 0)
		id = m->decided[rnd(w, m->ndecided < NMEMO ? m->ndecided :
				    NMEMO)].id;
	else if (pick == 1)
		id = 0;
	else
		id = (1ULL << 62) + rnd(w, 1U << 30);
	e = err_of(wsp_verdict(sl->fd, id, rnd(w, 3)));
	check(OP_STALE, e, e == ENOENT ||
	      (e == EINVAL && (stopped(sl) || !sl->cond)),
	      "verdict for stale id %llu on %u", id, sl->port);
	if (e == ENOENT) {
		count(C_V_ENOENT);
		if (pick)
			count(C_V_UNKNOWN);
	}
}

/* Decide a request this thread deferred, by its id alone. */
static void decide_later(struct worker *w, int i, struct memo *m)
{
	unsigned int n = m->ndeferred < NMEMO ? m->ndeferred : NMEMO;
	struct seen *s;

	if (!n)
		return;
	s = &m->deferred[rnd(w, n)];
	if (s->slot != i || !s->id)
		return;
	if (!give(w, &st.slots[i], s->id, rnd(w, 2), OP_DEFERRED))
		remember(m->decided, &m->ndecided, i, s->id);
	s->id = 0;
}

static void decide(struct worker *w, int i, struct memo *m)
{
	struct slot *sl = &st.slots[i];
	union peek_buf pb, next;
	unsigned int verdict;
	enum op op = OP_VERDICT;
	int e;

	e = peek_one(sl, 0, &pb);
	/* Nothing to decide: wait for EPOLLPRI rather than spin. */
	if (e == EAGAIN)
		must(OP_POLL, wsp_poll1(sl->fd, POLLPRI, IDLE_WAIT_MS),
		     "poll(POLLPRI) on a listener");
	if (!e) {
		/* Walk on at times: the cursor skips the oldest. */
		if (!rnd(w, 3) && !peek_one(sl, pb.r.id, &next))
			pb = next;
		if (pb.r.flags & WSP_REQ_DEFERRED) {
			verdict = rnd(w, 2);
			op = OP_DEFERRED;
		} else {
			verdict = rnd(w, 10);
			verdict = verdict < 4 ? WSP_CF_ACCEPT :
				  verdict < 7 ? WSP_CF_REJECT : WSP_CF_DEFER;
		}
		if (!give(w, sl, pb.r.id, verdict, op)) {
			if (verdict == WSP_CF_DEFER)
				remember(m->deferred, &m->ndeferred, i,
					 pb.r.id);
			else
				remember(m->decided, &m->ndecided, i,
					 pb.r.id);
		}
	}
	if (!rnd(w, 4))
		decide_later(w, i, m);
	if (!rnd(w, 32))
		stale_verdict(w, sl, m);
}

static void *verdicter(void *arg)
{
	struct worker *w = arg;
	struct memo m = { 0 };
	struct slot *sl;
	int i;

	pthread_barrier_wait(&st.start);
	while (running()) {
		i = rnd(w, NSLOTS);
		sl = &st.slots[i];
		pthread_rwlock_rdlock(&sl->lock);
		if (sl->fd >= 0)
			decide(w, i, &m);
		pthread_rwlock_unlock(&sl->lock);
	}
	return NULL;
}

/* ---- accept ---------------------------------------------------------- */

/* A socket accept() returned: the client's caller data, its port. */
static void took_child(struct worker *w, int fd, int type)
{
	long long peer;

	data_ok(OP_CONNDATA, fd, WSP_CALLER_DATA, SALT_CALLER, true);
	data_ok(OP_CONNDATA, fd, WSP_CALLEE_DATA, SALT_CALLEE, true);
	peer = wsp_peer_port(fd);
	if (peer < WSP_DEF_EPH_LO)
		bad(OP_CONNDATA, peer < 0 ? errno : 0,
		    "getpeername of an accepted socket: %lld", peer);
	conn_keep(w, fd, type);
}

static void *acceptor(void *arg)
{
	struct worker *w = arg;
	struct slot *sl;
	int fd, e, type;
	bool ok;

	pthread_barrier_wait(&st.start);
	while (running()) {
		sl = any_slot(w);
		pthread_rwlock_rdlock(&sl->lock);
		if (sl->fd < 0) {
			pthread_rwlock_unlock(&sl->lock);
			continue;
		}
		w->doing = "accept";
		fd = accept(sl->fd, NULL, NULL);
		e = err_of(fd);
		w->doing = NULL;
		/* EAGAIN: none within SO_RCVTIMEO, or none at once on a
		 * non-blocking listener; EINVAL: only once stopped.
		 */
		ok = check(OP_ACCEPT, e, !e || e == EAGAIN ||
			   (e == EINVAL && stopped(sl)), "accept on %u",
			   sl->port);
		if (e == EAGAIN)
			must(OP_POLL, wsp_poll1(sl->fd, POLLIN, IDLE_WAIT_MS),
			     "poll(POLLIN) on a listener");
		type = sl->type;
		pthread_rwlock_unlock(&sl->lock);
		if (ok)
			took_child(w, fd, type);
	}
	return NULL;
}

/* ---- listeners ------------------------------------------------------- */

/* A listener on sl->port, in sl->cond's mode, with random extras. */
static int slot_listen(struct worker *w, struct slot *sl)
{
	struct timeval tv = { 0, ACCEPT_WAIT_MS * 1000 };
	struct wsp_qos q;
	int fd;

	/* The old one is closed: its port is free again at once. */
	fd = wsp_listener_mode(sl->type, sl->port, 1 + rnd(w, 16), NULL,
			       sl->cond);
	if (!check(OP_RECREATE, err_of(fd), fd >= 0, "listener on %u",
		   sl->port))
		return -1;
	must(OP_SOCKET, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				   sizeof(tv)), "SO_RCVTIMEO");
	small_buffers(fd);
	if (!rnd(w, 3))
		must(OP_SOCKET, wsp_set_nonblock(fd, true), "O_NONBLOCK");
	if (!rnd(w, 3)) {
		random_qos(w, &q);
		must(OP_QOS, wsp_set_qos(fd, &q), "WSP_QOS limits");
	}
	if (rnd(w, 2))
		event_select(w, fd);
	return fd;
}

/* listen() again: another backlog, or a stopped listener restarted. */
static void relisten(struct worker *w, struct slot *sl, bool restart)
{
	int n = rnd(w, 20), cap;

	if (restart)
		pthread_rwlock_wrlock(&sl->lock);
	else
		pthread_rwlock_rdlock(&sl->lock);
	if (sl->fd < 0)
		goto out;
	if (!must(OP_RELISTEN, listen(sl->fd, n), "listen again"))
		goto out;
	cap = wsp_get_int(sl->fd, SOL_WSP, WSP_BACKLOG);
	if (cap != (n ? n : 1))
		bad(OP_RELISTEN, cap == INT_MIN ? errno : 0,
		    "WSP_BACKLOG %d after listen(%d)", cap, n);
	if (restart)
		__atomic_store_n(&sl->stopped, 0, __ATOMIC_SEQ_CST);
out:
	pthread_rwlock_unlock(&sl->lock);
}

static void toggle(struct slot *sl)
{
	int want, e, now;

	pthread_rwlock_wrlock(&sl->lock);
	if (sl->fd < 0)
		goto out;
	want = !sl->cond;
	__atomic_add_fetch(&sl->mode_seq, 1, __ATOMIC_SEQ_CST);
	e = err_of(wsp_set_int(sl->fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, want));
	/* Turning it off strands no request: EBUSY while some wait. */
	if (check(OP_TOGGLE, e, !e || (e == EBUSY && !want),
		  "WSP_CONDITIONAL_ACCEPT %d on %u", want, sl->port))
		__atomic_store_n(&sl->cond, want, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&sl->mode_seq, 1, __ATOMIC_SEQ_CST);
	now = wsp_get_int(sl->fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT);
	if (now != sl->cond)
		bad(OP_TOGGLE, now == INT_MIN ? errno : 0,
		    "WSP_CONDITIONAL_ACCEPT reads %d, not %d", now, sl->cond);
out:
	pthread_rwlock_unlock(&sl->lock);
}

/* Stop the listener under the others' feet: they may see EINVAL now. */
static void stop(struct worker *w, struct slot *sl)
{
	pthread_rwlock_rdlock(&sl->lock);
	if (sl->fd >= 0) {
		__atomic_store_n(&sl->stopped, 1, __ATOMIC_SEQ_CST);
		must(OP_LSTOP, shutdown(sl->fd, rnd(w, 2) ? SHUT_RD :
					SHUT_RDWR), "shutdown of a listener");
	}
	pthread_rwlock_unlock(&sl->lock);
}

/* Close the listener, queued requests and all; a new one on its port. */
static void recreate(struct worker *w, struct slot *sl)
{
	pthread_rwlock_wrlock(&sl->lock);
	if (sl->fd >= 0) {
		if (wsp_revents(sl->fd) & (POLLIN | POLLPRI))
			count(C_CLOSE_QUEUED);
		must(OP_RECREATE, close(sl->fd), "close of a listener");
	}
	sl->fd = slot_listen(w, sl);
	__atomic_store_n(&sl->stopped, 0, __ATOMIC_SEQ_CST);
	pthread_rwlock_unlock(&sl->lock);
}

static void listener_extra(struct worker *w, struct slot *sl)
{
	struct wsp_qos q;

	pthread_rwlock_rdlock(&sl->lock);
	if (sl->fd < 0)
		goto out;
	switch (rnd(w, 3)) {
	case 0:
		event_select(w, sl->fd);
		break;
	case 1:
		random_qos(w, &q);
		must(OP_QOS, wsp_set_qos(sl->fd, &q), "WSP_QOS limits");
		break;
	case 2:
		/* SHUT_WR alone leaves a listener listening. */
		must(OP_LSTOP, shutdown(sl->fd, SHUT_WR), "SHUT_WR listener");
		break;
	}
out:
	pthread_rwlock_unlock(&sl->lock);
}

static void *churner(void *arg)
{
	struct worker *w = arg;
	struct slot *sl;

	pthread_barrier_wait(&st.start);
	while (running()) {
		sl = any_slot(w);
		/* Only this thread changes sl->fd while they run. */
		if (sl->fd < 0) {
			recreate(w, sl);
		} else if (stopped(sl)) {
			relisten(w, sl, true);
		} else {
			switch (rnd(w, 10)) {
			case 0: case 1: case 2:
				relisten(w, sl, false);
				break;
			case 3:
				toggle(sl);
				break;
			case 4:
				stop(w, sl);
				break;
			case 5: case 6:
				recreate(w, sl);
				break;
			default:
				listener_extra(w, sl);
				break;
			}
		}
		/* Let requests pile up between two changes. */
		wsp_msleep(1 + rnd(w, 5));
	}
	return NULL;
}

/* ---- connections ----------------------------------------------------- */

/* A QoS change while data flows: in force at once, within the grant. */
static void qos_change(struct worker *w, int fd)
{
	struct wsp_qos q;

	random_qos(w, &q);
	if (!must(OP_QOS, wsp_set_qos(fd, &q), "WSP_QOS change"))
		return;
	if (!must(OP_QOS, wsp_get_qos(fd, &q), "getsockopt(WSP_QOS)"))
		return;
	if (!qos_ok(&q))
		bad(OP_QOS, 0, "QoS in force: rate %u bucket %u / %u %u",
		    q.sending.token_rate, q.sending.token_bucket_size,
		    q.receiving.token_rate, q.receiving.token_bucket_size);
}

static void conn_misc(struct worker *w, struct conn *c)
{
	struct wsp_network_events ne;
	int e, v;

	switch (rnd(w, 4)) {
	case 0:
		e = err_of(setsockopt(c->fd, SOL_WSP, WSP_CALLER_DATA, "x",
				      1));
		/* Caller data is for a connect to come. */
		check(OP_CONNDATA, e, e == EISCONN,
		      "WSP_CALLER_DATA once connected");
		break;
	case 1:
		data_ok(OP_CONNDATA, c->fd, WSP_CALLER_DATA, SALT_CALLER, true);
		data_ok(OP_CONNDATA, c->fd, WSP_CALLEE_DATA, SALT_CALLEE, true);
		break;
	case 2:
		must(OP_RECV, ioctl(c->fd, SIOCINQ, &v), "SIOCINQ");
		must(OP_SEND, ioctl(c->fd, SIOCOUTQ, &v), "SIOCOUTQ");
		break;
	case 3:
		event_select(w, c->fd);
		net_events(c->fd, &ne);
		break;
	}
}

static void *controller(void *arg)
{
	static const int hows[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };
	struct worker *w = arg;
	struct conn *c;
	unsigned int what;

	pthread_barrier_wait(&st.start);
	while (running()) {
		what = rnd(w, 10);
		if (what >= 8) {
			conn_close(&st.conns[rnd(w, NCONNS)]);
			continue;
		}
		c = conn_get(w);
		if (!c) {
			sched_yield();
			continue;
		}
		if (what < 4)
			qos_change(w, c->fd);
		else if (what == 4)
			must(OP_SHUTDOWN, shutdown(c->fd, hows[rnd(w, 3)]),
			     "shutdown");
		else
			conn_misc(w, c);
		pthread_rwlock_unlock(&c->lock);
	}
	return NULL;
}

static void *mover(void *arg)
{
	struct worker *w = arg;
	unsigned int i, n;
	struct conn *c;
	bool dead;

	pthread_barrier_wait(&st.start);
	while (running()) {
		c = conn_get(w);
		if (!c) {
			sched_yield();
			continue;
		}
		n = 1 + rnd(w, 8);
		for (i = 0, dead = false; i < n && !dead; i++)
			dead = rnd(w, 2) ? send_one(w, c) : recv_one(w, c);
		pthread_rwlock_unlock(&c->lock);
		/* Make room for connections that still carry data. */
		if (dead && rnd(w, 2))
			conn_close(c);
	}
	return NULL;
}

/* ---- events, rmmod, /proc -------------------------------------------- */

static void *watcher(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[NEFDS];
	struct wsp_network_events ne;
	struct slot *sl;
	struct conn *c;
	long long v;
	int i, r;

	for (i = 0; i < NEFDS; i++)
		pfd[i] = (struct pollfd){ .fd = st.efd[i], .events = POLLIN };
	pthread_barrier_wait(&st.start);
	while (running()) {
		r = poll(pfd, NEFDS, 10);
		if (!must(OP_EFD, r, "poll on the eventfds"))
			continue;
		for (i = 0; r > 0 && i < NEFDS; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			v = wsp_efd_take(st.efd[i]);
			if (must(OP_EFD, v, "eventfd read") && v > 0)
				count(C_EFD);
		}
		sl = any_slot(w);
		pthread_rwlock_rdlock(&sl->lock);
		if (sl->fd >= 0)
			net_events(sl->fd, &ne);
		pthread_rwlock_unlock(&sl->lock);
		c = conn_get(w);
		if (c) {
			net_events(c->fd, &ne);
			pthread_rwlock_unlock(&c->lock);
		}
	}
	return NULL;
}

static void *unloader(void *arg)
{
	struct worker *w = arg;
	long refs;
	int e;

	pthread_barrier_wait(&st.start);
	while (running()) {
		/* Never try it on a module that nothing holds. */
		refs = wsp_mod_refcnt();
		if (refs <= 0) {
			bad(OP_RMMOD, 0, "module refcount %ld, guard open",
			    refs);
			break;
		}
		w->doing = "delete_module";
		e = err_of(syscall(SYS_delete_module, "wsp", O_NONBLOCK));
		w->doing = NULL;
		/* In use: EBUSY, or EWOULDBLOCK (EAGAIN) as 6.1's
		 * try_stop_module() says it, and while wsp_kunit.ko
		 * depends on it.
		 */
		check(OP_RMMOD, e, e == EBUSY || e == EWOULDBLOCK,
		      "delete_module(wsp) with the guard open");
		if (!e) {
			/* Unloaded under our sockets: stop at once. */
			__atomic_store_n(&st.stop, 1, __ATOMIC_SEQ_CST);
			break;
		}
		wsp_msleep(1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct worker *w = arg;
	int r, n, unparsed;

	pthread_barrier_wait(&st.start);
	while (running()) {
		r = wsp_proc_find_ino(st.guard_ino, NULL, &n, &unparsed);
		/* Listed throughout: the guard; parsed: every line. */
		if (must(OP_PROC, r, WSP_PROC_NET) && (r || unparsed))
			bad(OP_PROC, 0, "guard %s, %d of %d lines unparsed",
			    r ? "not listed" : "listed", unparsed, n);
		if (wsp_stat("requests") < 0)
			must(OP_PROC, -1, WSP_PROC_STAT);
		wsp_msleep(5 + rnd(w, 20));
	}
	return NULL;
}

/* ---- the test ------------------------------------------------------- */

static const struct {
	const char *role;
	void *(*fn)(void *arg);
	unsigned int n;
} roles[] = {
	{ "connect",	connector,	2 },
	{ "connect_nb",	nb_connector,	2 },
	{ "verdict",	verdicter,	2 },
	{ "accept",	acceptor,	2 },
	{ "listener",	churner,	1 },
	{ "conn",	controller,	1 },
	{ "data",	mover,		2 },
	{ "events",	watcher,	1 },
	{ "rmmod",	unloader,	1 },
	{ "proc",	reader,		1 },
};

#define NWORKERS	15

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0:			return "ok";
	case EAGAIN:		return "EAGAIN";
	case EALREADY:		return "EALREADY";
	case EBUSY:		return "EBUSY";
	case ECONNREFUSED:	return "ECONNREFUSED";
	case ECONNRESET:	return "ECONNRESET";
	case EINPROGRESS:	return "EINPROGRESS";
	case EINVAL:		return "EINVAL";
	case EISCONN:		return "EISCONN";
	case ENOENT:		return "ENOENT";
	case EPIPE:		return "EPIPE";
	case ETIMEDOUT:		return "ETIMEDOUT";
	case NERR - 1:		return "other";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

static void print_op(enum op op)
{
	const struct op_stat *o = &st.ops[op];
	char line[512];
	int i, n;

	n = snprintf(line, sizeof(line), "%-22s %8ld", op_names[op],
		     o->calls);
	for (i = 0; i < NERR && n < (int)sizeof(line); i++)
		if (o->by_err[i])
			n += snprintf(line + n, sizeof(line) - n, ", %s %ld",
				      errname(i), o->by_err[i]);
	ksft_print_msg("stress:   %s\n", line);
}

/* Join every worker by @timeout_ms from now; returns how many hang. */
static int join_all(struct __test_metadata *_metadata, struct worker *w,
		    int n, int timeout_ms)
{
	struct timespec ts;
	int i, hung = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000 + 1;
	for (i = 0; i < n; i++) {
		if (!pthread_timedjoin_np(w[i].th, NULL, &ts))
			continue;
		TH_LOG("%s thread %d hangs in %s", w[i].role, i,
		       w[i].doing ? w[i].doing : "?");
		hung++;
	}
	return hung;
}

/* Wait until /proc/net/wsp lists the guard alone; false on a timeout. */
static bool settled(int *lines)
{
	long long end = wsp_now_ms() + WSP_SLOW_MS;
	int r, unparsed;

	do {
		r = wsp_proc_find_ino(st.guard_ino, NULL, lines, &unparsed);
		if (!r && *lines == 1)
			return true;
		wsp_msleep(50);
	} while (wsp_now_ms() < end);
	return false;
}

static void dump_proc(struct __test_metadata *_metadata)
{
	char buf[4096], *line, *save = NULL;
	int n = 0;

	if (wsp_read_file(WSP_PROC_NET, buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line && n < 20;
	     line = strtok_r(NULL, "\n", &save), n++)
		TH_LOG("%s", line);
}

/* Append "@name @n" to the summary line @buf. */
static void add(char *buf, size_t len, const char *name, long n)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s %ld", used ? ", " : "", name,
		 n);
}

static void print_summary(long long elapsed_ms, bool debug)
{
	char line[512] = "";
	unsigned int i;

	add(line, sizeof(line), "connects",
	    op_calls(OP_CONNECT) + op_calls(OP_CONNECT_NB));
	add(line, sizeof(line), "verdicts", op_calls(OP_VERDICT) +
	    op_calls(OP_DEFERRED) + op_calls(OP_STALE));
	add(line, sizeof(line), "peeks", op_calls(OP_PEEK));
	add(line, sizeof(line), "accepts", op_calls(OP_ACCEPT));
	add(line, sizeof(line), "listener ops", op_calls(OP_RELISTEN) +
	    op_calls(OP_TOGGLE) + op_calls(OP_LSTOP) +
	    op_calls(OP_RECREATE));
	add(line, sizeof(line), "shutdowns", op_calls(OP_SHUTDOWN));
	add(line, sizeof(line), "qos", op_calls(OP_QOS));
	add(line, sizeof(line), "sends", op_calls(OP_SEND));
	add(line, sizeof(line), "recvs", op_calls(OP_RECV));
	add(line, sizeof(line), "events", op_calls(OP_EVSELECT) +
	    op_calls(OP_NETEVENTS) + op_calls(OP_EFD));
	add(line, sizeof(line), "closes", op_calls(OP_CLOSE) +
	    op_calls(OP_MIDCLOSE));
	add(line, sizeof(line), "rmmod attempts", op_calls(OP_RMMOD));
	ksft_print_msg("stress: %lld s%s, %s\n", (elapsed_ms + 500) / 1000,
		       debug ? " (debug kernel)" : "", line);
	for (i = 0; i < OP_MAX; i++)
		print_op(i);

	line[0] = '\0';
	add(line, sizeof(line), "connected", counted(C_CONNECTED));
	add(line, sizeof(line), "timed out", counted(C_TIMEDOUT));
	add(line, sizeof(line), "refused at once", counted(C_REFUSED_NOW));
	add(line, sizeof(line), "accepted", counted(C_V_ACCEPT));
	add(line, sizeof(line), "rejected", counted(C_V_REJECT));
	add(line, sizeof(line), "deferred", counted(C_V_DEFER));
	add(line, sizeof(line), "ENOENT", counted(C_V_ENOENT));
	add(line, sizeof(line), "never issued", counted(C_V_UNKNOWN));
	add(line, sizeof(line), "closed with requests queued",
	    counted(C_CLOSE_QUEUED));
	add(line, sizeof(line), "eventfds signalled", counted(C_EFD));
	add(line, sizeof(line), "O_NONBLOCK connects accepted by verdict",
	    counted(C_NB_COND_OK));
	ksft_print_msg("stress:   seen: %s\n", line);
	/* The harness ends the test with _exit(): no stdio flush. */
	fflush(stdout);
}

struct progress {
	const char *what;
	long n;
};

/* Progress in every role: a failure unless every count is above 0. */
static void expect_progress(struct __test_metadata *_metadata)
{
	const struct progress roles_done[] = {
		{ "connects that succeed", op_ok(OP_CONNECT) },
		{ "non-blocking connects", op_calls(OP_CONNECT_NB) },
		{ "connect completions", op_calls(OP_CONNECT_DONE) },
		{ "peeks that find one", op_ok(OP_PEEK) },
		{ "accept verdicts", counted(C_V_ACCEPT) },
		{ "reject verdicts", counted(C_V_REJECT) },
		{ "defer verdicts", counted(C_V_DEFER) },
		{ "stale ids refused", op_err(OP_STALE, ENOENT) },
		{ "accepts", op_ok(OP_ACCEPT) },
		{ "listener changes", op_ok(OP_RELISTEN) + op_ok(OP_TOGGLE) +
		  op_ok(OP_LSTOP) + op_ok(OP_RECREATE) },
		{ "shutdowns", op_ok(OP_SHUTDOWN) },
		{ "QoS changes", op_ok(OP_QOS) },
		{ "closes", op_ok(OP_CLOSE) },
		{ "sends", op_ok(OP_SEND) },
		{ "recvs", op_ok(OP_RECV) },
		{ "event selects", op_ok(OP_EVSELECT) },
		{ "network events", op_ok(OP_NETEVENTS) },
		{ "rmmod attempts", op_calls(OP_RMMOD) },
		{ "/proc reads", op_ok(OP_PROC) },
	};
	unsigned int i;

	/* Braces: EXPECT_*() and its handler are two statements. */
	for (i = 0; i < ARRAY_SIZE(roles_done); i++) {
		EXPECT_LT(0, roles_done[i].n)
			TH_LOG("no %s", roles_done[i].what);
	}
}

/*
 * Outcomes that the mix makes likely but that a starved guest (several
 * VMs on two cores) may miss: reported, not failed.
 */
static void report_coverage(void)
{
	const struct progress outcomes[] = {
		{ "connect timeouts", counted(C_TIMEDOUT) },
		{ "connects again", op_calls(OP_CONNECT_AGAIN) },
		{ "closes mid-connect", op_calls(OP_MIDCLOSE) },
		{ "deferred ones decided", op_ok(OP_DEFERRED) },
		{ "re-listens", op_ok(OP_RELISTEN) },
		{ "toggles", op_ok(OP_TOGGLE) },
		{ "listener stops", op_ok(OP_LSTOP) },
		{ "re-creations", op_ok(OP_RECREATE) },
		{ "closes with requests queued", counted(C_CLOSE_QUEUED) },
		{ "eventfds signalled", counted(C_EFD) },
		{ "withdrawals by close", wsp_stat("withdrawn_close") },
	};
	char line[512] = "";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(outcomes); i++)
		if (outcomes[i].n <= 0)
			add(line, sizeof(line), outcomes[i].what,
			    outcomes[i].n);
	if (line[0])
		ksft_print_msg("stress:   not covered this time: %s\n", line);
	fflush(stdout);
}

/*
 * /proc/net/wsp_stat against what the threads saw.  A request ends once:
 * accepted, rejected, withdrawn (timeout, close) or refused by a stop,
 * which has no counter.  An automatic accept always reaches its client
 * as connect()'s 0; an accept by verdict may not (closed first).
 */
static void expect_stats(struct __test_metadata *_metadata)
{
	static const char * const names[] = {
		"requests", "accepted", "rejected", "deferred",
		"withdrawn_timeout", "withdrawn_close", "backlog_overflows",
		"unknown_verdicts",
	};
	enum { REQ, ACC, REJ, DEF, WT, WC, OVF, UNK, NSTATS };
	long long s[NSTATS];
	unsigned int i;

	for (i = 0; i < NSTATS; i++) {
		s[i] = wsp_stat(names[i]);
		ksft_print_msg("stress:   %s %lld\n", names[i], s[i]);
		fflush(stdout);
		ASSERT_LE(0, s[i]) TH_LOG("no %s in " WSP_PROC_STAT, names[i]);
	}
	EXPECT_GE(s[REQ], s[ACC] + s[REJ] + s[WT] + s[WC]);
	EXPECT_GE(s[ACC], counted(C_CONNECTED));
	EXPECT_GE(s[ACC], counted(C_V_ACCEPT));
	EXPECT_LE(s[ACC] - counted(C_V_ACCEPT), counted(C_CONNECTED));
	EXPECT_GE(s[REJ], counted(C_V_REJECT));
	EXPECT_LE(s[DEF], counted(C_V_DEFER));
	/* A request two threads defer at once is counted once. */
	EXPECT_TRUE(!counted(C_V_DEFER) || s[DEF] > 0);
	EXPECT_GE(s[WT], counted(C_TIMEDOUT));
	EXPECT_LE(s[OVF], counted(C_REFUSED_NOW));
	EXPECT_LE(s[UNK], counted(C_V_ENOENT));
	EXPECT_GE(s[UNK], counted(C_V_UNKNOWN));
}

FIXTURE(stress) {
	int guard;
};

FIXTURE_SETUP(stress)
{
	self->guard = -1;
}

FIXTURE_TEARDOWN(stress)
{
	unsigned int i;

	wsp_close(&self->guard);
	for (i = 0; i < NEFDS; i++)
		if (st.efd[i] > 0)
			close(st.efd[i]);
}

TEST_F_TIMEOUT(stress, everything_at_once, 130)
{
	bool debug = !access("/proc/lockdep_stats", F_OK);
	int secs = debug ? STRESS_DEBUG_S : STRESS_S;
	struct worker main_w = { .seed = getpid() };
	struct worker w[NWORKERS];
	pthread_rwlockattr_t attr;
	long long t0, elapsed;
	unsigned int i, j, k;
	long total_bad = 0;
	int lines, hung;

	ASSERT_EQ(0, wsp_private_netns());
	self->guard = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, self->guard);
	st.guard_ino = wsp_ino(self->guard);
	ASSERT_LT(0, wsp_mod_refcnt()) TH_LOG("wsp.ko is not referenced");

	for (i = 0; i < NEFDS; i++) {
		st.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, st.efd[i]);
	}
	/* The listener thread must get its turn between the readers. */
	ASSERT_EQ(0, pthread_rwlockattr_init(&attr));
	ASSERT_EQ(0, pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
	for (i = 0; i < NSLOTS; i++) {
		struct slot *sl = &st.slots[i];

		ASSERT_EQ(0, pthread_rwlock_init(&sl->lock, &attr));
		sl->type = i & 1 ? SOCK_SEQPACKET : SOCK_STREAM;
		sl->port = BASE_PORT + i;
		sl->cond = i >= NSLOTS / 2;
		sl->fd = slot_listen(&main_w, sl);
		ASSERT_LE(0, sl->fd)
			TH_LOG("%s", st.ops[OP_RECREATE].first_what);
	}
	for (i = 0; i < NCONNS; i++) {
		ASSERT_EQ(0, pthread_rwlock_init(&st.conns[i].lock, NULL));
		st.conns[i].fd = -1;
	}

	ASSERT_EQ(0, pthread_barrier_init(&st.start, NULL, NWORKERS + 1));
	for (i = 0, k = 0; i < ARRAY_SIZE(roles); i++) {
		for (j = 0; j < roles[i].n; j++, k++) {
			ASSERT_GT(NWORKERS, k);
			w[k] = (struct worker){
				.role = roles[i].role,
				.seed = getpid() * 31 + k,
			};
			ASSERT_EQ(0, pthread_create(&w[k].th, NULL,
						    roles[i].fn, &w[k]));
		}
	}
	ASSERT_EQ(NWORKERS, k);
	pthread_barrier_wait(&st.start);
	t0 = wsp_now_ms();
	while (running() && wsp_now_ms() < t0 + secs * 1000LL)
		wsp_msleep(100);
	__atomic_store_n(&st.stop, 1, __ATOMIC_SEQ_CST);
	elapsed = wsp_now_ms() - t0;
	hung = join_all(_metadata, w, NWORKERS, MAX_TMO_MS + 2 * WSP_SLOW_MS);
	print_summary(elapsed, debug);
	ASSERT_EQ(0, hung);

	for (i = 0; i < NCONNS; i++)
		conn_close(&st.conns[i]);
	for (i = 0; i < NSLOTS; i++)
		if (st.slots[i].fd >= 0)
			must(OP_RECREATE, close(st.slots[i].fd), "close");
	/* Every request is withdrawn or refused by now; timeout works
	 * already running finish before the counters are read.
	 */
	wsp_msleep(MAX_TMO_MS);
	EXPECT_TRUE(settled(&lines)) {
		TH_LOG("%d sockets listed, the guard alone expected:", lines);
		dump_proc(_metadata);
	}

	expect_stats(_metadata);
	for (i = 0; i < OP_MAX; i++) {
		const struct op_stat *o = &st.ops[i];

		if (!o->bad)
			continue;
		TH_LOG("%s: %ld unexpected, the first: %s: %s", op_names[i],
		       o->bad, o->first_what,
		       o->first_err > 0 ? strerror(o->first_err) :
		       o->first_err ? "succeeded" : "wrong result");
		total_bad += o->bad;
	}
	EXPECT_EQ(0, total_bad);
	/* The guard kept the module: every attempt was refused. */
	EXPECT_EQ(op_calls(OP_RMMOD),
		  op_err(OP_RMMOD, EBUSY) + op_err(OP_RMMOD, EWOULDBLOCK));
	expect_progress(_metadata);
	report_coverage();
}

TEST_HARNESS_MAIN
