// SPDX-License-Identifier: GPL-2.0
/*
 * wsp_fuzz: a structure-aware fuzzer of the AF_WSP syscall surface.
 *
 *   wsp_fuzz [-s SEED] [-n SYSCALLS] [-t SECONDS] [-p PROCS] [-j THREADS]
 *
 * PROCS processes of THREADS threads each share a table of descriptors and
 * call, at random, every operation a program can make on the family:
 * socket, bind, connect, listen, accept, each SOL_WSP option with valid,
 * boundary and garbage values, filter programs valid and random, peek
 * and verdict on live and stale ids,
 * send and recv with every flag, shutdown, close, poll and epoll, event
 * registration on eventfds, fork, fd passing over AF_UNIX and switches of
 * network namespace.  The run stops after SYSCALLS syscalls (default
 * 10^6) or SECONDS seconds (default 60 on a debug kernel, 20 elsewhere),
 * whichever comes first: the smoke run of "make check"; "make fuzz" runs
 * it longer.
 *
 * Thread t of process p draws from a generator seeded from (SEED, p, t):
 * a seed replays each thread's sequence of calls, and with -p 1 -j 1 the
 * whole run, up to timing.  The seed is printed first.
 *
 * The fuzzer checks what userspace can see: that no call blocks past its
 * timeouts (every worker stops when told), that no socket outlives its
 * descriptors, and that the module unloads afterwards (the VM's init).
 * The debug kernel checks the rest: KASAN, lockdep, UBSAN, kmemleak.
 * Output is TAP, as the VM harness expects of every test program.
 */
/* The helpers come with the test harness; this program reports TAP itself. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "wsp_util.h"

#include <dirent.h>
#include <linux/filter.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define NR_SLOTS	48	/* descriptors per process */
#define NR_PORTS	12	/* shared by every worker of the namespace */
#define PORT_BASE	30000
#define NR_IDS		32	/* request ids seen recently, and made up */
#define FD_INFRA	900	/* the fuzzer's own descriptors live above */
#define MAX_DATA	(70 * 1024)
#define FORK_OPS	40	/* calls a forked child makes */

/* Outcomes counted to show how deep a run went: the states it reached. */
enum reach {
	R_SOCKET, R_BOUND, R_LISTENING, R_CONNECTED, R_IN_PROGRESS,
	R_REFUSED, R_TIMED_OUT, R_ACCEPTED, R_PEEKED, R_DECIDED, R_SENT,
	R_RECEIVED, R_EVENT_SELECT, R_QOS, R_FD_PASSED, R_EFAULT,
	R_FILTER, R_MAX
};

static const char * const reach_names[R_MAX] = {
	"sockets", "binds", "listens", "connects", "in-progress", "refused",
	"timed-out", "accepts", "peeks", "verdicts", "sends", "recvs",
	"event-selects", "qos-sets", "fds-passed", "efaults",
	"filters-attached",
};

struct shared {
	unsigned long long reached[R_MAX];	/* atomic */
	unsigned long long calls;	/* atomic */
	int stop;			/* atomic */
	int ready;			/* atomic */
};

struct worker {
	int proc;
	int slots[NR_SLOTS];		/* atomic; -1 when empty */
	unsigned long long ids[NR_IDS];	/* atomic */
	int epfd;
	int unix_pair[2];
	int home_netns;			/* the run's namespace */
};

struct rng {
	unsigned long long s;
};

struct thread {
	struct worker *w;
	struct rng r;
	unsigned long long calls;	/* not yet added to shared->calls */
	bool away;			/* in a namespace of its own */
	pthread_t tid;
};

static struct shared *shared;
static unsigned long long opt_seed, opt_max_calls = 1000000;
static int opt_seconds, opt_procs = 2, opt_threads = 3;
static char buf_junk[MAX_DATA];

/* splitmix64: small, fast and good enough to explore with. */
static unsigned long long rnd64(struct rng *r)
{
	unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd(struct rng *r, unsigned int n)
{
	return n ? rnd64(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int one_in)
{
	return !rnd(r, one_in);
}

static void rng_seed(struct rng *r, unsigned long long seed, int p, int t)
{
	r->s = seed ^ ((unsigned long long)p << 40) ^ ((unsigned long long)t << 20);
	rnd64(r);
}

/* Counted at each syscall; flushed to the shared total now and then. */
static void count(struct thread *th)
{
	if (++th->calls == 64) {
		__atomic_add_fetch(&shared->calls, th->calls, __ATOMIC_RELAXED);
		th->calls = 0;
	}
}

static void reached(enum reach what)
{
	if (what < R_MAX)
		__atomic_add_fetch(&shared->reached[what], 1,
				   __ATOMIC_RELAXED);
}

/* What a call's return says, for the ones that are not outcomes. */
static void result(long ret, enum reach ok)
{
	if (ret >= 0)
		reached(ok);
	else if (errno == EFAULT)
		reached(R_EFAULT);
}

static bool stopping(void)
{
	return __atomic_load_n(&shared->stop, __ATOMIC_RELAXED);
}

/* ---- values ------------------------------------------------------------ */

static const unsigned int edge_u32[] = {
	0, 1, 2, 7, 64, 4095, 4096, 4097, 65535, 65536, 65537, 0x7fffffff,
	0x80000000, 0xfffffffe, 0xffffffff,
};

static unsigned int pick_u32(struct rng *r)
{
	switch (rnd(r, 3)) {
	case 0:
		return edge_u32[rnd(r, ARRAY_SIZE(edge_u32))];
	case 1:
		return rnd(r, 256);
	default:
		return rnd64(r);
	}
}

static __u32 pick_port(struct rng *r)
{
	switch (rnd(r, 12)) {
	case 0:
		return 0;
	case 1:
		return pick_u32(r);
	default:
		return PORT_BASE + rnd(r, NR_PORTS);
	}
}

static unsigned long long pick_id(struct thread *th)
{
	struct rng *r = &th->r;

	switch (rnd(r, 8)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return rnd64(r);
	default:
		return __atomic_load_n(&th->w->ids[rnd(r, NR_IDS)],
				       __ATOMIC_RELAXED) + (chance(r, 8) ? 1 : 0);
	}
}

static void note_id(struct thread *th, unsigned long long id)
{
	__atomic_store_n(&th->w->ids[rnd(&th->r, NR_IDS)], id,
			 __ATOMIC_RELAXED);
}

/* Mostly a short length, sometimes an edge: around the data limits. */
static size_t pick_len(struct rng *r, size_t max)
{
	static const size_t edge[] = { 0, 1, 4095, 4096, 4097, 16384, 65536,
				       MAX_DATA };
	size_t len;

	if (chance(r, 4))
		len = edge[rnd(r, ARRAY_SIZE(edge))];
	else
		len = rnd(r, 512);
	return len > max ? max : len;
}

/* A user pointer the kernel must refuse with EFAULT, now and then. */
static void *maybe_bad(struct rng *r, void *good)
{
	switch (rnd(r, 40)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)-4096L;
	default:
		return good;
	}
}

static void pick_flowspec(struct rng *r, struct wsp_flowspec *fs)
{
	unsigned int *f = (unsigned int *)fs;
	size_t i;

	for (i = 0; i < sizeof(*fs) / sizeof(*f); i++)
		f[i] = chance(r, 3) ? WSP_QOS_NOT_SPECIFIED : pick_u32(r);
	if (chance(r, 2)) {
		/* A rate that shapes: the bucket empties in a few sends. */
		fs->token_rate = 1000 + rnd(r, 200000);
		fs->token_bucket_size = 512 + rnd(r, 65536);
		fs->service_type = rnd(r, 5);
	}
}

static void pick_qos(struct rng *r, struct wsp_qos *q)
{
	pick_flowspec(r, &q->sending);
	pick_flowspec(r, &q->receiving);
}

/* A classic BPF program: mostly what the context allows, with loads at
 * every kind of offset, and now and then any opcode at all.
 */
static int pick_program(struct rng *r, struct sock_filter *p, int max)
{
	static const __u16 codes[] = {
		BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_W | BPF_ABS,
		BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN,
		BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
		BPF_LD | BPF_W | BPF_IND, BPF_LDX | BPF_B | BPF_MSH,
		BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_AND | BPF_K,
		BPF_ALU | BPF_DIV | BPF_X, BPF_ALU | BPF_MOD | BPF_K,
		BPF_ALU | BPF_LSH | BPF_X, BPF_MISC | BPF_TAX,
		BPF_ST, BPF_LDX | BPF_MEM, BPF_JMP | BPF_JEQ | BPF_K,
		BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JA,
	};
	int len = chance(r, 30) ? (int)pick_u32(r) % (max + 2) :
		  1 + (int)rnd(r, 12);
	int i, n = len > max ? max : len;

	for (i = 0; i < n; i++) {
		p[i].code = chance(r, 20) ? rnd(r, 0x10000) :
			    codes[rnd(r, ARRAY_SIZE(codes))];
		p[i].jt = rnd(r, n - i);
		p[i].jf = rnd(r, n - i);
		p[i].k = chance(r, 2) ? 4 * rnd(r, 44) : pick_u32(r);
		if (BPF_CLASS(p[i].code) == BPF_JMP && chance(r, 2))
			p[i].k = rnd(r, n - i);
	}
	if (n && !chance(r, 10)) {
		p[n - 1].code = BPF_RET | BPF_K;
		p[n - 1].k = chance(r, 6) ? pick_u32(r) : rnd(r, 4);
	}
	return len;
}

/* ---- the descriptor table ---------------------------------------------- */

static int slot_get(struct thread *th)
{
	return __atomic_load_n(&th->w->slots[rnd(&th->r, NR_SLOTS)],
			       __ATOMIC_RELAXED);
}

/* Store @fd, closing what the slot held: the table never leaks. */
static void slot_put(struct thread *th, int fd)
{
	int old;

	if (fd < 0)
		return;
	if (fd >= FD_INFRA) {
		close(fd);
		count(th);
		return;
	}
	old = __atomic_exchange_n(&th->w->slots[rnd(&th->r, NR_SLOTS)], fd,
				  __ATOMIC_RELAXED);
	if (old >= 0) {
		close(old);
		count(th);
	}
}

static int sock_fd(struct thread *th)
{
	int fd = slot_get(th);

	/* An empty slot or a number reused by now: both are inputs too,
	 * but not stdio, whose flags a stray fcntl() would change.
	 */
	return fd < 0 ? 3 + (int)rnd(&th->r, 61) : fd;
}

/* Timeouts on every new socket, so that no blocking call outlives the run. */
static void tame(struct thread *th, int fd)
{
	struct timeval tv = { 0, 5000 + rnd(&th->r, 40000) };
	__u32 ms = 1 + rnd(&th->r, 60);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &ms, sizeof(ms));
	th->calls += 2;
	count(th);
}

/* ---- operations -------------------------------------------------------- */

static void op_socket(struct thread *th)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_STREAM,
				     SOCK_SEQPACKET, SOCK_DGRAM, SOCK_RAW };
	struct rng *r = &th->r;
	int type = types[rnd(r, ARRAY_SIZE(types))];
	int proto = chance(r, 10) ? (int)pick_u32(r) : 0;
	int fd;

	if (chance(r, 4))
		type |= SOCK_NONBLOCK;
	if (chance(r, 4))
		type |= SOCK_CLOEXEC;
	if (chance(r, 30))
		type = pick_u32(r);
	fd = socket(AF_WSP, type, proto);
	count(th);
	if (fd < 0)
		return;
	reached(R_SOCKET);
	tame(th, fd);
	slot_put(th, fd);
}

/* A valid program that decides on one word of the request, at random. */
static void attach_some_filter(struct thread *th, int fd)
{
	struct rng *r = &th->r;
	struct sock_filter p[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4 * rnd(r, 40)),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, pick_u32(r), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, rnd(r, 5)),
		BPF_STMT(BPF_RET | BPF_K, rnd(r, 5)),
	};
	struct sock_fprog fp = { ARRAY_SIZE(p), p };

	if (!setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp, sizeof(fp)))
		reached(R_FILTER);
	count(th);
}

/* A well-formed server, so that requests have somewhere to queue. */
static void op_server(struct thread *th)
{
	struct rng *r = &th->r;
	struct sockaddr_wsp a = { .swsp_family = AF_WSP,
				  .swsp_port = PORT_BASE + rnd(r, NR_PORTS) };
	int fd, on = !chance(r, 3);

	fd = socket(AF_WSP, chance(r, 2) ? SOCK_STREAM : SOCK_SEQPACKET, 0);
	count(th);
	if (fd < 0)
		return;
	tame(th, fd);
	setsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &on, sizeof(on));
	count(th);
	if (chance(r, 2))
		attach_some_filter(th, fd);
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)))
		reached(R_BOUND);
	count(th);
	if (!listen(fd, 1 + rnd(r, 16)))
		reached(R_LISTENING);
	count(th);
	slot_put(th, fd);
}

/* A well-formed caller, with data and a QoS, that does not wait. */
static void op_client(struct thread *th)
{
	struct rng *r = &th->r;
	struct sockaddr_wsp a = { .swsp_family = AF_WSP,
				  .swsp_port = PORT_BASE + rnd(r, NR_PORTS) };
	__u32 ms = 50 + rnd(r, 2000);
	struct wsp_qos q;
	int fd;

	fd = socket(AF_WSP, (chance(r, 2) ? SOCK_STREAM : SOCK_SEQPACKET) |
		    SOCK_NONBLOCK, 0);
	count(th);
	if (fd < 0)
		return;
	tame(th, fd);
	/* Long enough to be peeked and decided. */
	setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &ms, sizeof(ms));
	count(th);
	if (chance(r, 2)) {
		setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, buf_junk,
			   pick_len(r, 4096));
		count(th);
	}
	if (chance(r, 3)) {
		pick_qos(r, &q);
		setsockopt(fd, SOL_WSP, WSP_QOS, &q, sizeof(q));
		count(th);
	}
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
		reached(R_CONNECTED);
	else if (errno == EINPROGRESS)
		reached(R_IN_PROGRESS);
	count(th);
	slot_put(th, fd);
}

static void fill_addr(struct rng *r, struct sockaddr_wsp *a, socklen_t *len)
{
	memset(a, 0, sizeof(*a));
	a->swsp_family = chance(r, 20) ? rnd(r, 64) : AF_WSP;
	a->swsp_port = pick_port(r);
	if (chance(r, 20))
		a->swsp_reserved = pick_u32(r);
	if (chance(r, 20))
		a->swsp_zero[rnd(r, 8)] = 1 + rnd(r, 255);
	*len = sizeof(*a);
	if (chance(r, 15))
		*len = rnd(r, sizeof(*a) + 16);
}

static void op_bind(struct thread *th)
{
	struct sockaddr_wsp a;
	socklen_t len;

	fill_addr(&th->r, &a, &len);
	result(bind(sock_fd(th), maybe_bad(&th->r, &a), len), R_BOUND);
	count(th);
}

static void op_connect(struct thread *th)
{
	struct sockaddr_wsp a;
	socklen_t len;

	fill_addr(&th->r, &a, &len);
	if (chance(&th->r, 30))
		a.swsp_family = AF_UNSPEC;	/* disconnect, where allowed */
	if (!connect(sock_fd(th), maybe_bad(&th->r, &a), len))
		reached(R_CONNECTED);
	else if (errno == EINPROGRESS)
		reached(R_IN_PROGRESS);
	else if (errno == ECONNREFUSED)
		reached(R_REFUSED);
	else if (errno == ETIMEDOUT)
		reached(R_TIMED_OUT);
	else if (errno == EFAULT)
		reached(R_EFAULT);
	count(th);
}

static void op_listen(struct thread *th)
{
	static const int backlogs[] = { -1, 0, 1, 2, 3, 8, 128, 4096, INT_MAX };
	struct rng *r = &th->r;

	result(listen(sock_fd(th), chance(r, 10) ? (int)pick_u32(r) :
		      backlogs[rnd(r, ARRAY_SIZE(backlogs))]), R_LISTENING);
	count(th);
}

static void op_accept(struct thread *th)
{
	struct rng *r = &th->r;
	struct sockaddr_wsp a;
	socklen_t len = chance(r, 5) ? rnd(r, 32) : sizeof(a);
	int flags = 0, fd;

	if (chance(r, 2))
		flags |= SOCK_NONBLOCK;
	if (chance(r, 4))
		flags |= SOCK_CLOEXEC;
	if (chance(r, 30))
		flags = pick_u32(r);
	fd = accept4(sock_fd(th), chance(r, 3) ? NULL : maybe_bad(r, &a),
		     chance(r, 3) ? NULL : &len, flags);
	count(th);
	result(fd, R_ACCEPTED);
	if (fd >= 0) {
		tame(th, fd);
		slot_put(th, fd);
	}
}


/* One SOL_WSP setsockopt: a well-formed value most of the time. */
static void op_set_wsp(struct thread *th)
{
	static __thread unsigned char v[sizeof(struct wsp_verdict) + MAX_DATA];
	struct wsp_verdict *vd = (struct wsp_verdict *)v;
	struct wsp_event_select *es = (struct wsp_event_select *)v;
	struct rng *r = &th->r;
	int opt = 1 + rnd(r, 14), efd = -1;
	socklen_t len = sizeof(int);

	memset(v, 0, sizeof(struct wsp_verdict) + 64);
	switch (opt) {
	case WSP_CONDITIONAL_ACCEPT:
		*(int *)v = chance(r, 5) ? (int)pick_u32(r) : (int)rnd(r, 2);
		break;
	case WSP_CONNECT_TIMEOUT:
		*(__u32 *)v = chance(r, 8) ? pick_u32(r) : 1 + rnd(r, 100);
		break;
	case WSP_VERDICT:
		vd->id = pick_id(th);
		vd->verdict = chance(r, 10) ? pick_u32(r) : rnd(r, 3);
		if (chance(r, 3))
			vd->flags = chance(r, 5) ? pick_u32(r) : WSP_VERDICT_QOS;
		pick_qos(r, &vd->qos);
		vd->data_len = pick_len(r, MAX_DATA);
		if (chance(r, 30))
			vd->__reserved = 1;
		len = sizeof(*vd) + vd->data_len;
		if (chance(r, 10))
			vd->data_len = pick_u32(r);
		break;
	case WSP_CALLER_DATA:
		len = pick_len(r, MAX_DATA);
		break;
	case WSP_QOS:
		pick_qos(r, (struct wsp_qos *)v);
		len = sizeof(struct wsp_qos);
		break;
	case WSP_ATTACH_FILTER: {
		static __thread struct sock_filter insns[BPF_MAXINSNS + 1];
		struct sock_fprog *fp = (struct sock_fprog *)v;

		fp->len = pick_program(r, insns, BPF_MAXINSNS + 1);
		fp->filter = maybe_bad(r, insns);
		len = sizeof(*fp);
		break;
	}
	case WSP_EVENT_SELECT:
		if (chance(r, 3)) {
			/* Not an eventfd, or not open. */
			es->eventfd = chance(r, 2) ? -1 : sock_fd(th);
		} else {
			efd = eventfd(0, EFD_NONBLOCK);
			count(th);
			es->eventfd = efd;
		}
		es->mask = chance(r, 4) ? pick_u32(r) :
			   rnd(r, WSP_FD_ALL_EVENTS + 1);
		len = sizeof(*es);
		break;
	default:	/* read-only options, and unknown ones */
		len = pick_len(r, 64);
		break;
	}
	if (chance(r, 12))
		len = chance(r, 2) ? rnd(r, len + 1) : len + rnd(r, 16);
	result(setsockopt(sock_fd(th), SOL_WSP, opt, maybe_bad(r, v), len),
	       opt == WSP_VERDICT ? R_DECIDED :
	       opt == WSP_EVENT_SELECT ? R_EVENT_SELECT :
	       opt == WSP_QOS ? R_QOS :
	       opt == WSP_ATTACH_FILTER ? R_FILTER : R_MAX);
	count(th);
	/* Into the table: closed whenever its slot is reused. */
	slot_put(th, efd);
}

static void op_get_wsp(struct thread *th)
{
	static __thread unsigned char v[sizeof(struct wsp_request) + 8192];
	struct wsp_request *req = (struct wsp_request *)v;
	struct rng *r = &th->r;
	int opt = 1 + rnd(r, 14);
	socklen_t len;

	switch (rnd(r, 4)) {
	case 0:
		len = rnd(r, 16);
		break;
	case 1:
		len = sizeof(struct wsp_request);
		break;
	default:
		len = sizeof(v) - rnd(r, 8192);
		break;
	}
	if (chance(r, 6))
		opt = WSP_PEEK_REQUEST;
	req->id = pick_id(th);
	if (getsockopt(sock_fd(th), SOL_WSP, opt, maybe_bad(r, v),
		       chance(r, 50) ? (socklen_t *)1 : &len) == 0 &&
	    opt == WSP_PEEK_REQUEST && len >= sizeof(*req)) {
		note_id(th, req->id);
		reached(R_PEEKED);
	}
	count(th);
}

/* Peek, then decide: the server's loop, racing everything else. */
static void op_decide(struct thread *th)
{
	struct wsp_request req = { .id = chance(&th->r, 2) ? 0 : pick_id(th) };
	struct wsp_verdict v = { .verdict = rnd(&th->r, 3) };
	socklen_t len = sizeof(req);
	int fd = sock_fd(th);

	count(th);
	if (getsockopt(fd, SOL_WSP, WSP_PEEK_REQUEST, &req, &len))
		return;
	note_id(th, req.id);
	reached(R_PEEKED);
	v.id = req.id;
	result(setsockopt(fd, SOL_WSP, WSP_VERDICT, &v, sizeof(v)), R_DECIDED);
	count(th);
}

static void op_sockopt(struct thread *th)
{
	static const int opts[] = { SO_RCVBUF, SO_SNDBUF, SO_LINGER,
				    SO_PASSCRED, SO_KEEPALIVE, SO_RCVLOWAT,
				    SO_PRIORITY, SO_OOBINLINE, SO_PEERCRED,
				    SO_ERROR, SO_TYPE, SO_ACCEPTCONN,
				    SO_DOMAIN, SO_PROTOCOL, SO_SNDLOWAT,
				    SO_MARK, SO_PEEK_OFF, SO_BUSY_POLL,
				    SO_LOCK_FILTER };
	struct rng *r = &th->r;
	int opt = opts[rnd(r, ARRAY_SIZE(opts))], fd = sock_fd(th);
	unsigned char v[64] = { 0 };
	socklen_t len = sizeof(int);

	if (chance(r, 2)) {
		getsockopt(fd, SOL_SOCKET, opt, v, &len);
	} else if (opt == SO_LINGER) {
		/* At most a second: a lingering close blocks. */
		struct linger l = { rnd(r, 2), rnd(r, 2) };

		setsockopt(fd, SOL_SOCKET, opt, &l, sizeof(l));
	} else {
		*(int *)v = chance(r, 3) ? (int)pick_u32(r) : (int)rnd(r, 2);
		setsockopt(fd, SOL_SOCKET, opt, v, len);
	}
	count(th);
}

static int pick_msg_flags(struct rng *r, bool send)
{
	static const int some[] = { MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL,
				    MSG_EOR, MSG_MORE, MSG_ERRQUEUE,
				    MSG_CMSG_CLOEXEC, MSG_CONFIRM, MSG_PROXY };
	int flags = send ? MSG_NOSIGNAL : 0;
	int i, n = rnd(r, 3);

	for (i = 0; i < n; i++)
		flags |= some[rnd(r, ARRAY_SIZE(some))];
	if (!chance(r, 6))
		flags |= MSG_DONTWAIT;
	if (chance(r, 40))
		flags = pick_u32(r);
	return flags;
}

static void op_send(struct thread *th)
{
	struct rng *r = &th->r;
	struct iovec iov[4];
	struct msghdr m = { .msg_iov = iov };
	socklen_t tlen = sizeof(int);
	char cbuf[CMSG_SPACE(sizeof(int))];
	int fd, type;
	size_t i;

	m.msg_iovlen = 1 + rnd(r, 4);
	for (i = 0; i < m.msg_iovlen; i++) {
		iov[i].iov_base = maybe_bad(r, buf_junk);
		iov[i].iov_len = pick_len(r, MAX_DATA);
	}
	if (chance(r, 20)) {
		/* Ancillary data the family does not take. */
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		*(int *)CMSG_DATA(c) = 0;
	}
	switch (rnd(r, 3)) {
	case 0:
		result(send(sock_fd(th), buf_junk, pick_len(r, MAX_DATA),
			    pick_msg_flags(r, true)), R_SENT);
		break;
	case 1:
		result(sendmsg(sock_fd(th), &m, pick_msg_flags(r, true)),
		       R_SENT);
		break;
	default:
		/* Sockets only: FIONBIO may have made an eventfd blocking,
		 * and a write to a full one waits for a reader forever.
		 */
		fd = sock_fd(th);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen))
			break;
		count(th);
		result(write(fd, buf_junk, pick_len(r, 4096)), R_SENT);
	}
	count(th);
}

static void op_recv(struct thread *th)
{
	static __thread char rbuf[MAX_DATA];
	struct rng *r = &th->r;
	struct iovec iov = { rbuf, pick_len(r, MAX_DATA) };
	char cbuf[256];
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = rnd(r, sizeof(cbuf)) };

	if (chance(r, 2))
		result(recv(sock_fd(th), maybe_bad(r, rbuf), iov.iov_len,
			    pick_msg_flags(r, false)), R_RECEIVED);
	else
		result(recvmsg(sock_fd(th), &m, pick_msg_flags(r, false)),
		       R_RECEIVED);
	count(th);
}

static void op_misc(struct thread *th)
{
	/* SIOCINQ, SIOCOUTQ, FIONBIO, SIOCGSTAMP_OLD, SIOCPROTOPRIVATE */
	static const unsigned long cmds[] = { FIONREAD, TIOCOUTQ, FIONBIO,
					      0x8906, 0x89e0 };
	struct rng *r = &th->r;
	int fd = sock_fd(th), v = rnd(r, 2);
	struct sockaddr_wsp a;
	socklen_t len = chance(r, 4) ? rnd(r, 32) : sizeof(a);

	switch (rnd(r, 7)) {
	case 0:
		shutdown(fd, chance(r, 10) ? (int)pick_u32(r) : (int)rnd(r, 3));
		break;
	case 1:
		ioctl(fd, cmds[rnd(r, ARRAY_SIZE(cmds))], maybe_bad(r, &v));
		break;
	case 2:
		getsockname(fd, maybe_bad(r, &a), &len);
		break;
	case 3:
		getpeername(fd, maybe_bad(r, &a), &len);
		break;
	case 4:
		fcntl(fd, F_SETFL, chance(r, 2) ? O_NONBLOCK : 0);
		break;
	case 5:
		slot_put(th, dup(fd));
		break;
	default:
		fd = __atomic_exchange_n(&th->w->slots[rnd(r, NR_SLOTS)], -1,
					 __ATOMIC_RELAXED);
		if (fd >= 0)
			close(fd);
		break;
	}
	count(th);
}

static void op_poll(struct thread *th)
{
	struct rng *r = &th->r;
	struct epoll_event ev = { .events = pick_u32(r) };
	struct pollfd p[4];
	int i;

	switch (rnd(r, 3)) {
	case 0:
		for (i = 0; i < 4; i++) {
			p[i].fd = sock_fd(th);
			p[i].events = chance(r, 3) ? pick_u32(r) :
				      POLLIN | POLLOUT | POLLPRI | POLLRDHUP;
		}
		poll(p, 1 + rnd(r, 4), 0);
		break;
	case 1:
		if (!chance(r, 4))
			ev.events = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP |
				    (chance(r, 3) ? EPOLLET : 0) |
				    (chance(r, 4) ? EPOLLEXCLUSIVE : 0) |
				    (chance(r, 5) ? EPOLLONESHOT : 0);
		epoll_ctl(th->w->epfd, 1 + rnd(r, 3), sock_fd(th), &ev);
		break;
	default: {
		struct epoll_event out[8];

		epoll_wait(th->w->epfd, out, 8, 0);
		break;
	}
	}
	count(th);
}

/* Through an AF_UNIX pair and back: the socket rides an skb meanwhile. */
static void op_pass_fd(struct thread *th)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b = 0;
	struct iovec iov = { &b, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fd;

	if (chance(&th->r, 2)) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		fd = sock_fd(th);
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
		sendmsg(th->w->unix_pair[rnd(&th->r, 2)], &m,
			MSG_DONTWAIT | MSG_NOSIGNAL);
		count(th);
		return;
	}
	if (recvmsg(th->w->unix_pair[rnd(&th->r, 2)], &m, MSG_DONTWAIT) > 0) {
		c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_type == SCM_RIGHTS) {
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
			reached(R_FD_PASSED);
			slot_put(th, fd);
		}
	}
	count(th);
}

/* Sysctls of a namespace that only this run uses. */
static void op_sysctl(struct thread *th)
{
	static const char * const names[] = { "max_backlog",
					      "connect_timeout_ms",
					      "ephemeral_ports",
					      "max_connect_data" };
	struct rng *r = &th->r;
	char val[48];

	if (rnd(r, 4) == 2)
		snprintf(val, sizeof(val), "%u %u\n", pick_u32(r),
			 pick_u32(r));
	else
		snprintf(val, sizeof(val), "%d\n", chance(r, 4) ?
			 (int)pick_u32(r) : 1 + (int)rnd(r, 100));
	wsp_sysctl_set(names[rnd(r, ARRAY_SIZE(names))], val);
	count(th);
}

/* This thread alone goes to a fresh namespace, or comes home. */
static void op_netns(struct thread *th)
{
	/* A namespace is costly to make and to tear down: not too often. */
	if (!chance(&th->r, 8))
		return;
	if (!th->away) {
		if (!unshare(CLONE_NEWNET))
			th->away = true;
	} else if (!setns(th->w->home_netns, CLONE_NEWNET)) {
		th->away = false;
	}
	count(th);
}

static void run_ops(struct thread *th, unsigned long long n);

/* A child with a copy of the table runs a little, then exits: its
 * descriptors close while the parent's copies live on.
 */
static void op_fork(struct thread *th)
{
	pid_t pid;

	if (!chance(&th->r, 4))
		return;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		count(th);
	pid = fork();
	count(th);
	if (pid == 0) {
		th->r.s ^= 0x5bd1e995;
		run_ops(th, FORK_OPS);
		_exit(0);
	}
}

typedef void (*op_fn)(struct thread *th);

static const struct {
	op_fn fn;
	int weight;
} ops[] = {
	{ op_socket, 10 },	{ op_bind, 8 },		{ op_connect, 10 },
	{ op_listen, 6 },	{ op_accept, 8 },	{ op_set_wsp, 14 },
	{ op_get_wsp, 10 },	{ op_decide, 14 },	{ op_sockopt, 4 },
	{ op_send, 10 },	{ op_recv, 10 },	{ op_misc, 8 },
	{ op_poll, 6 },		{ op_pass_fd, 3 },	{ op_sysctl, 1 },
	{ op_netns, 1 },	{ op_fork, 1 },		{ op_server, 3 },
	{ op_client, 8 },
};

static int ops_weight;

static void run_ops(struct thread *th, unsigned long long n)
{
	unsigned long long i;
	size_t k;
	int w;

	for (i = 0; i < n && !stopping(); i++) {
		w = rnd(&th->r, ops_weight);
		for (k = 0; w >= ops[k].weight; k++)
			w -= ops[k].weight;
		ops[k].fn(th);
	}
	__atomic_add_fetch(&shared->calls, th->calls, __ATOMIC_RELAXED);
	th->calls = 0;
}

static void *thread_main(void *arg)
{
	struct thread *th = arg;

	while (!stopping())
		run_ops(th, 256);
	return NULL;
}

/* Keep the fuzzer's own descriptors out of the table's reach. */
static int infra(int fd, int at)
{
	if (fd < 0 || dup2(fd, at) < 0)
		exit(1);
	close(fd);
	return at;
}

static void worker_main(int proc)
{
	struct thread th[16];
	struct worker w = { .proc = proc };
	int pair[2], i;

	for (i = 0; i < NR_SLOTS; i++)
		w.slots[i] = -1;
	w.epfd = infra(epoll_create1(0), FD_INFRA);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair))
		exit(1);
	w.unix_pair[0] = infra(pair[0], FD_INFRA + 1);
	w.unix_pair[1] = infra(pair[1], FD_INFRA + 2);
	w.home_netns = infra(open("/proc/self/ns/net", O_RDONLY), FD_INFRA + 3);

	for (i = 0; i < opt_threads; i++) {
		th[i] = (struct thread){ .w = &w };
		rng_seed(&th[i].r, opt_seed, proc, i);
	}
	for (i = 1; i < opt_threads; i++)
		if (pthread_create(&th[i].tid, NULL, thread_main, &th[i]))
			exit(1);
	thread_main(&th[0]);
	for (i = 1; i < opt_threads; i++)
		pthread_join(th[i].tid, NULL);
	exit(0);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"%s [-s SEED] [-n SYSCALLS] [-t SECONDS] [-p PROCS] [-j THREADS]\n",
		prog);
	exit(2);
}

/* Where the threads of a worker that does not stop are in the kernel. */
static void dump_stuck(pid_t pid)
{
	char path[320], line[256];
	struct dirent *d;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", pid,
			 d->d_name);
		if (wsp_read_file(path, line, sizeof(line)) > 0)
			printf("# stuck: task %s, syscall %s", d->d_name, line);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid,
			 d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			printf("#   %s", line);
		if (f)
			fclose(f);
	}
	closedir(dir);
}

/* Every worker, and every child of theirs, is reaped within @ms. */
static bool reap_all(int ms)
{
	long long end = wsp_now_ms() + ms;

	for (;;) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid < 0 && errno == ECHILD)
			return true;
		if (pid > 0)
			continue;
		if (wsp_now_ms() > end)
			return false;
		wsp_msleep(20);
	}
}

/* Only the header line left in the run's namespace. */
static int sockets_left(int ms)
{
	long long end = wsp_now_ms() + ms;
	char buf[65536];
	int n, lines;

	for (;;) {
		n = wsp_read_file(WSP_PROC_NET, buf, sizeof(buf));
		lines = 0;
		while (n > 0)
			lines += buf[--n] == '\n';
		if (lines <= 1 || wsp_now_ms() > end)
			return lines - 1;
		wsp_msleep(100);
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl = { FD_INFRA + 16, FD_INFRA + 16 };
	unsigned long long calls;
	long long t0, took;
	pid_t pids[16];
	bool stuck, killed = false;
	int c, i, status, crashed = 0, left;

	opt_seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
	while ((c = getopt(argc, argv, "s:n:t:p:j:")) != -1) {
		switch (c) {
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			opt_max_calls = strtoull(optarg, NULL, 0);
			break;
		case 't':
			opt_seconds = atoi(optarg);
			break;
		case 'p':
			opt_procs = atoi(optarg);
			break;
		case 'j':
			opt_threads = atoi(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!opt_seconds)
		opt_seconds = access("/proc/lockdep_stats", F_OK) ? 20 : 60;
	if (opt_procs < 1 || opt_procs > 16 || opt_threads < 1 ||
	    opt_threads > 16 || opt_seconds < 1)
		usage(argv[0]);

	/* Whatever the caller left open (the VM's result channel, say) is
	 * out of the table's reach: only stdio stays.
	 */
	for (i = 3; i < FD_INFRA + 16; i++)
		close(i);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..3\n");
	printf("# seed %llu: replay with %s -s %llu -n %llu -t %d -p %d -j %d\n",
	       opt_seed, argv[0], opt_seed, opt_max_calls, opt_seconds,
	       opt_procs, opt_threads);
	memset(buf_junk, 'w', sizeof(buf_junk));
	for (i = 0; i < (int)ARRAY_SIZE(ops); i++)
		ops_weight += ops[i].weight;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	signal(SIGURG, SIG_IGN);
	/* Room above the table for the fuzzer's own descriptors. */
	if (setrlimit(RLIMIT_NOFILE, &rl) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1) || wsp_private_netns()) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;

	t0 = wsp_now_ms();
	for (i = 0; i < opt_procs; i++) {
		pids[i] = fork();
		if (!pids[i])
			worker_main(i);
	}
	do {
		wsp_msleep(100);
		calls = __atomic_load_n(&shared->calls, __ATOMIC_RELAXED);
	} while (calls < opt_max_calls &&
		 wsp_now_ms() - t0 < opt_seconds * 1000LL);
	__atomic_store_n(&shared->stop, 1, __ATOMIC_RELAXED);
	took = wsp_now_ms() - t0;

	/* Every call is bounded by its timeouts (tens of ms, a second of
	 * linger): a worker that does not stop is stuck in the kernel.
	 */
	for (i = 0; i < opt_procs; i++) {
		long long end = wsp_now_ms() + 20000;
		bool k = false;

		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			if (wsp_now_ms() > end) {
				dump_stuck(pids[i]);
				kill(pids[i], SIGKILL);
				k = killed = true;
				waitpid(pids[i], &status, 0);
				break;
			}
			wsp_msleep(20);
		}
		if (!k && (!WIFEXITED(status) || WEXITSTATUS(status)))
			crashed++;
	}
	stuck = !reap_all(20000);
	calls = __atomic_load_n(&shared->calls, __ATOMIC_RELAXED);
	left = sockets_left(10000);

	printf("# reached:");
	for (i = 0; i < R_MAX; i++)
		printf(" %s %llu", reach_names[i], shared->reached[i]);
	printf("\n");
	printf("%sok 1 fuzz: %llu syscalls in %lld.%llds, %d x %d threads, seed %llu\n",
	       calls ? "" : "not ", calls, took / 1000, took % 1000 / 100,
	       opt_procs, opt_threads, opt_seed);
	printf("%sok 2 fuzz: every worker stopped when told%s\n",
	       killed || stuck || crashed ? "not " : "",
	       killed ? " (one was stuck in a call)" :
	       crashed ? " (one crashed)" : stuck ? " (a child hung)" : "");
	printf("%sok 3 fuzz: no socket outlives its descriptors (%d left)\n",
	       left ? "not " : "", left);
	return calls && !killed && !stuck && !crashed && !left ? 0 : 1;
}
