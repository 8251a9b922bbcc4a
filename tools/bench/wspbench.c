// SPDX-License-Identifier: GPL-2.0
/*
 * wspbench: AF_WSP against AF_UNIX and TCP loopback, side by side.
 *
 *   wspbench [-d SECONDS] [-r REPS] [WORKLOAD...]
 *
 * Workloads: connrate connrate-cond filter pingpong stream seqpacket
 * scale memory qos (default: all).  Every figure is the median of REPS runs
 * (default 3), each about SECONDS long (default 0.5).  Progress goes to
 * stderr as "# ..." lines; the table, with ratios against the targets of
 * issue 6, goes to stdout at the end.  Only the ratios mean anything
 * under an emulator: the absolute figures are there to sanity-check them.
 *
 * Run as root in a throwaway VM: scale and memory raise sysctls
 * (somaxconn, net.wsp.*, fs.file-max) and the fd limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/types.h>
#include <linux/wsp.h>

enum fam { F_WSP, F_UNIX, F_TCP, F_NR };
static const char *fam_name[F_NR] = { "AF_WSP", "AF_UNIX", "TCP" };

static double dur = 0.5;	/* seconds per repetition */
static int reps = 3;
static int verbose_fail;

/* ---- helpers ------------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	fprintf(stderr, "wspbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
	va_end(ap);
	exit(1);
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "# ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fflush(stderr);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double t[64];

	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_dbl);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -1 : 0;
}

static void read_sysctl(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static void raise_nofile(void)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };

	write_sysctl("/proc/sys/fs/nr_open", "1048576");
	write_sysctl("/proc/sys/fs/file-max", "4194304");
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE, 1M)");
}

/* A listener and the address to reach it. */
struct lsn {
	enum fam fam;
	int type;
	int fd;
	struct sockaddr_storage addr;
	socklen_t alen;
};

static int sock_of(enum fam f, int type)
{
	int fd;

	switch (f) {
	case F_WSP:
		fd = socket(AF_WSP, type, 0);
		break;
	case F_UNIX:
		fd = socket(AF_UNIX, type, 0);
		break;
	default:
		fd = socket(AF_INET, type, 0);
		break;
	}
	if (fd < 0)
		die("socket(%s)", fam_name[f]);
	return fd;
}

static void lsn_open(struct lsn *l, enum fam f, int type, int backlog)
{
	static int seq;
	int one = 1;

	memset(l, 0, sizeof(*l));
	l->fam = f;
	l->type = type;
	l->fd = sock_of(f, type);
	if (f == F_WSP) {
		struct sockaddr_wsp *a = (struct sockaddr_wsp *)&l->addr;

		a->swsp_family = AF_WSP;
		l->alen = sizeof(*a);
		if (bind(l->fd, (struct sockaddr *)a, l->alen))
			die("bind(AF_WSP)");
	} else if (f == F_UNIX) {
		struct sockaddr_un *a = (struct sockaddr_un *)&l->addr;
		int n;

		a->sun_family = AF_UNIX;
		n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
			     "wspbench-%d-%d", getpid(), seq++);
		l->alen = offsetof(struct sockaddr_un, sun_path) + 1 + n;
		if (bind(l->fd, (struct sockaddr *)a, l->alen))
			die("bind(AF_UNIX)");
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&l->addr;

		setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l->alen = sizeof(*a);
		if (bind(l->fd, (struct sockaddr *)a, l->alen))
			die("bind(TCP)");
	}
	if (listen(l->fd, backlog))
		die("listen(%s)", fam_name[f]);
	l->alen = sizeof(l->addr);
	if (getsockname(l->fd, (struct sockaddr *)&l->addr, &l->alen))
		die("getsockname");
}

static void set_nodelay(struct lsn *l, int fd)
{
	int one = 1;

	if (l->fam == F_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A connected pair through @l: *c the client, *a the accepted end. */
static void lsn_pair(struct lsn *l, int *c, int *a)
{
	*c = sock_of(l->fam, l->type);
	if (connect(*c, (struct sockaddr *)&l->addr, l->alen))
		die("connect(%s)", fam_name[l->fam]);
	*a = accept(l->fd, NULL, NULL);
	if (*a < 0)
		die("accept(%s)", fam_name[l->fam]);
	set_nodelay(l, *c);
	set_nodelay(l, *a);
}

static void set_conditional(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &one, sizeof(one)))
		die("WSP_CONDITIONAL_ACCEPT");
}

/* Peek the request at @cursor (0: the oldest); returns its id or 0. */
static uint64_t peek(int lfd, uint64_t cursor)
{
	struct wsp_request r = { .id = cursor };
	socklen_t len = sizeof(r);

	if (getsockopt(lfd, SOL_WSP, WSP_PEEK_REQUEST, &r, &len)) {
		if (errno == EAGAIN)
			return 0;
		die("WSP_PEEK_REQUEST");
	}
	return r.id;
}

static void verdict(int lfd, uint64_t id, unsigned int v)
{
	struct wsp_verdict vd = { .id = id, .verdict = v };

	if (setsockopt(lfd, SOL_WSP, WSP_VERDICT, &vd, sizeof(vd)))
		die("WSP_VERDICT");
}

/* A non-blocking connect that must stay pending. */
static int connect_pending(struct lsn *l)
{
	int c = socket(AF_WSP, l->type | SOCK_NONBLOCK, 0);

	if (c < 0)
		die("socket(AF_WSP)");
	if (!connect(c, (struct sockaddr *)&l->addr, l->alen) ||
	    errno != EINPROGRESS)
		die("non-blocking connect: expected EINPROGRESS");
	return c;
}

/* ---- results ------------------------------------------------------------- */

#define MAXRES 64
struct res {
	char key[48];	/* workload/variant/family */
	double v;
};
static struct res results[MAXRES];
static int nres;

static void put(const char *key, double v)
{
	if (nres == MAXRES)
		return;
	snprintf(results[nres].key, sizeof(results[nres].key), "%s", key);
	results[nres++].v = v;
	printf("R %s %.6g\n", key, v);
	fflush(stdout);
}

static double get(const char *key)
{
	int i;

	for (i = 0; i < nres; i++)
		if (!strcmp(results[i].key, key))
			return results[i].v;
	return -1;
}

/* Run @fn @reps times; report each and store the median under @key. */
static double repeat(const char *key, const char *unit,
		     double (*fn)(void *), void *arg)
{
	double v[64];
	int i;

	for (i = 0; i < reps; i++) {
		v[i] = fn(arg);
		progress("%-28s rep %d/%d: %.4g %s", key, i + 1, reps, v[i],
			 unit);
	}
	put(key, median(v, reps));
	return median(v, reps);
}

/* A program that returns @verdict for every request. */
static void attach_verdict(int fd, unsigned int verdict)
{
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, verdict);
	struct sock_fprog prog = { 1, &insn };

	if (setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &prog, sizeof(prog)))
		die("WSP_ATTACH_FILTER");
}

/* ---- connrate ---------------------------------------------------------- */

struct cr_arg {
	enum fam fam;
	int cond;
	int filter;	/* conditional, with a program that accepts */
};

/* Connections per second: socket, connect, accept, two closes. */
static double connrate_one(void *p)
{
	struct cr_arg *a = p;
	struct lsn l;
	double t0, t;
	long n = 0;
	int c, s, i;

	lsn_open(&l, a->fam, SOCK_STREAM, 128);
	if (a->cond || a->filter)
		set_conditional(l.fd);
	if (a->filter)
		attach_verdict(l.fd, WSP_FILTER_ACCEPT);
	t0 = now();
	do {
		for (i = 0; i < 32; i++) {
			if (a->cond) {
				c = connect_pending(&l);
				verdict(l.fd, peek(l.fd, 0), WSP_CF_ACCEPT);
			} else {
				c = sock_of(a->fam, SOCK_STREAM);
				if (connect(c, (struct sockaddr *)&l.addr,
					    l.alen))
					die("connect(%s)", fam_name[a->fam]);
			}
			s = accept(l.fd, NULL, NULL);
			if (s < 0)
				die("accept");
			close(s);
			close(c);
		}
		n += 32;
		t = now() - t0;
	} while (t < dur);
	close(l.fd);
	return n / t;
}

/*
 * Where a connection's time goes: the mean cost of each system call of
 * the connrate loop, for the profile that explains a connrate ratio.
 */
static void connrate_breakdown(enum fam f, int cond)
{
	static const char *const what[] = { "socket", "connect", "peek+verdict",
					    "accept", "close(accepted)",
					    "close(client)" };
	double t[6] = { 0 }, a, b, t0;
	struct lsn l;
	long n = 0;
	int c, s, i;

	lsn_open(&l, f, SOCK_STREAM, 128);
	if (cond)
		set_conditional(l.fd);
	t0 = now();
	do {
		a = now();
		c = cond ? socket(AF_WSP, SOCK_STREAM | SOCK_NONBLOCK, 0) :
			   sock_of(f, SOCK_STREAM);
		b = now();
		t[0] += b - a;
		if (connect(c, (struct sockaddr *)&l.addr, l.alen) &&
		    !(cond && errno == EINPROGRESS))
			die("connect");
		a = now();
		t[1] += a - b;
		if (cond)
			verdict(l.fd, peek(l.fd, 0), WSP_CF_ACCEPT);
		b = now();
		t[2] += b - a;
		s = accept(l.fd, NULL, NULL);
		if (s < 0)
			die("accept");
		a = now();
		t[3] += a - b;
		close(s);
		b = now();
		t[4] += b - a;
		close(c);
		a = now();
		t[5] += a - b;
		n++;
	} while (a - t0 < dur);
	close(l.fd);
	{
		char line[256];
		int len = 0;

		for (i = 0; i < 6; i++)
			if (i != 2 || cond)
				len += snprintf(line + len, sizeof(line) - len,
						" %s %.1f", what[i],
						t[i] / n * 1e6);
		progress("connrate%s %s breakdown, us per call:%s",
			 cond ? "-cond" : "", fam_name[f], line);
	}
	if (cond)
		return;
	/* A socket's own life, with no connection: socket() and close(). */
	n = 0;
	t0 = now();
	do {
		for (i = 0; i < 16; i++)
			close(sock_of(f, SOCK_STREAM));
		n += 16;
		a = now();
	} while (a - t0 < dur);
	progress("connrate %s breakdown: unconnected socket+close %.1f us",
		 fam_name[f], (a - t0) / n * 1e6);
}

static void w_connrate(void)
{
	struct cr_arg a = { 0 };
	char key[48];

	for (a.fam = 0; a.fam < F_NR; a.fam++) {
		/* TCP's first run is ~10% slower (TIME_WAIT and slab
		 * warm-up); one unreported run levels the field.
		 */
		progress("connrate/%s warm-up: %.4g conn/s", fam_name[a.fam],
			 connrate_one(&a));
		snprintf(key, sizeof(key), "connrate/%s", fam_name[a.fam]);
		repeat(key, "conn/s", connrate_one, &a);
	}
	for (a.fam = 0; a.fam < F_NR; a.fam++)
		connrate_breakdown(a.fam, 0);
}

static void w_connrate_cond(void)
{
	struct cr_arg a = { .fam = F_WSP, .cond = 1 };

	repeat("connrate-cond/AF_WSP", "conn/s", connrate_one, &a);
	connrate_breakdown(F_WSP, 1);
	if (get("connrate/AF_UNIX") < 0) {
		a.fam = F_UNIX;
		a.cond = 0;
		repeat("connrate/AF_UNIX", "conn/s", connrate_one, &a);
	}
}

/* ---- filter: requests decided by the listener's program ---------------- */

/* Microseconds per refused connect(): *@p set, a listener whose program
 * rejects; clear, no listener bound on the port at all.
 */
static double refused_one(void *p)
{
	int by_filter = *(int *)p;
	struct lsn l;
	double t0, t;
	long n = 0;
	int c, i;

	lsn_open(&l, F_WSP, SOCK_STREAM, 128);
	if (by_filter) {
		set_conditional(l.fd);
		attach_verdict(l.fd, WSP_FILTER_REJECT);
	} else {
		close(l.fd);	/* its port is free again: nobody is bound */
	}
	c = sock_of(F_WSP, SOCK_STREAM);
	t0 = now();
	do {
		for (i = 0; i < 64; i++)
			if (!connect(c, (struct sockaddr *)&l.addr, l.alen) ||
			    errno != ECONNREFUSED)
				die("connect: expected ECONNREFUSED");
		n += 64;
		t = now() - t0;
	} while (t < dur);
	close(c);
	if (by_filter)
		close(l.fd);
	return t / n * 1e6;
}

struct waker {
	int fd;
	volatile int stop;
	long wakeups;
};

/* Counts every return of poll() on the listener that reports something. */
static void *count_wakeups(void *p)
{
	struct waker *w = p;
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN | POLLPRI };

	while (!w->stop)
		if (poll(&pfd, 1, 50) > 0) {
			w->wakeups++;
			break;
		}
	return NULL;
}

/* A flood of callers the program refuses: the listener must not wake. */
static void filter_flood(long n)
{
	struct waker w = { 0 };
	pthread_t t;
	struct lsn l;
	long i;
	int c;

	lsn_open(&l, F_WSP, SOCK_STREAM, 128);
	set_conditional(l.fd);
	attach_verdict(l.fd, WSP_FILTER_REJECT);
	w.fd = l.fd;
	if (pthread_create(&t, NULL, count_wakeups, &w))
		die("pthread_create");
	c = sock_of(F_WSP, SOCK_STREAM);
	for (i = 0; i < n; i++)
		if (!connect(c, (struct sockaddr *)&l.addr, l.alen) ||
		    errno != ECONNREFUSED)
			die("flood: expected ECONNREFUSED");
	w.stop = 1;
	pthread_join(t, NULL);
	close(c);
	close(l.fd);
	progress("filter flood: %ld refused connects, %ld listener wakeups",
		 n, w.wakeups);
	put("filter-flood-wakeups/AF_WSP", w.wakeups);
}

static void w_filter(void)
{
	struct cr_arg a = { .fam = F_WSP };
	int by_filter;

	if (get("connrate/AF_WSP") < 0)
		repeat("connrate/AF_WSP", "conn/s", connrate_one, &a);
	a.filter = 1;
	repeat("connrate-filter/AF_WSP", "conn/s", connrate_one, &a);
	by_filter = 0;
	repeat("refused-nolistener/AF_WSP", "us", refused_one, &by_filter);
	by_filter = 1;
	repeat("refused-filter/AF_WSP", "us", refused_one, &by_filter);
	filter_flood(100000);
}

/* ---- data path: pingpong, stream, seqpacket, qos ------------------------ */

/* Round trip time in microseconds. */
static double pingpong_one(void *p)
{
	enum fam f = *(enum fam *)p;
	struct lsn l;
	double t0, t;
	long n = 0;
	char b = 'x';
	int c, s, i;
	pid_t pid;

	lsn_open(&l, f, SOCK_STREAM, 8);
	lsn_pair(&l, &c, &s);
	close(l.fd);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(c);
		while (read(s, &b, 1) == 1)
			if (write(s, &b, 1) != 1)
				break;
		_exit(0);
	}
	close(s);
	t0 = now();
	do {
		for (i = 0; i < 64; i++)
			if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1)
				die("pingpong");
		n += 64;
		t = now() - t0;
	} while (t < dur);
	close(c);
	waitpid(pid, NULL, 0);
	return t / n * 1e6;
}

static void w_pingpong(void)
{
	enum fam f;
	char key[48];

	for (f = 0; f < F_NR; f++) {
		snprintf(key, sizeof(key), "pingpong/%s", fam_name[f]);
		repeat(key, "us/rtt", pingpong_one, &f);
	}
}

struct flow_arg {
	enum fam fam;
	int type;
	size_t size;	/* bytes per write */
	int records;	/* report records/s rather than MB/s */
};

/*
 * A child writes @size-byte messages for dur seconds and closes; we read
 * until EOF.  Returns MB/s or records/s as seen by the reader.
 */
static double flow_one(void *p)
{
	struct flow_arg *a = p;
	size_t bufsz = a->size > 65536 ? a->size : 65536;
	char *buf = malloc(bufsz);
	long recs = 0;
	double bytes = 0, t0, t;
	struct lsn l;
	int c, s;
	ssize_t n;
	pid_t pid;

	if (!buf)
		die("malloc");
	memset(buf, 'w', bufsz);
	lsn_open(&l, a->fam, a->type, 8);
	lsn_pair(&l, &c, &s);
	close(l.fd);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		double end = now() + dur;
		int i;

		close(s);
		do {
			for (i = 0; i < 16; i++)
				if (write(c, buf, a->size) != (ssize_t)a->size)
					_exit(1);
		} while (now() < end);
		_exit(0);
	}
	close(c);
	t0 = now();
	while ((n = read(s, buf, bufsz)) > 0) {
		bytes += n;
		recs++;
	}
	t = now() - t0;
	if (n < 0)
		die("read");
	close(s);
	waitpid(pid, NULL, 0);
	free(buf);
	return a->records ? recs / t : bytes / t / 1e6;
}

static void w_stream(void)
{
	struct flow_arg a = { 0, SOCK_STREAM, 65536, 0 };
	char key[48];

	for (a.fam = 0; a.fam < F_NR; a.fam++) {
		snprintf(key, sizeof(key), "stream/%s", fam_name[a.fam]);
		repeat(key, "MB/s", flow_one, &a);
	}
}

static void w_seqpacket(void)
{
	static const size_t sizes[] = { 64, 4096 };
	struct flow_arg a = { 0, SOCK_SEQPACKET, 0, 1 };
	char key[48];
	int i;

	for (i = 0; i < 2; i++) {
		a.size = sizes[i];
		for (a.fam = 0; a.fam < F_TCP; a.fam++) {
			snprintf(key, sizeof(key), "seqpacket-%zu/%s", a.size,
				 fam_name[a.fam]);
			repeat(key, "rec/s", flow_one, &a);
		}
	}
}

/*
 * QoS: the client asks for @rate bytes/s with a 10 ms bucket, is
 * auto-accepted (the listener sets no limits) and writes 4 KiB chunks
 * for 1.5 s.  The rate is measured at the reader between 10% and 90% of
 * the bytes, so neither the initial burst nor the tail counts.
 */
static double qos_one(void *p)
{
	uint32_t rate = *(uint32_t *)p;
	size_t chunk = 4096, total = (size_t)(rate * 1.5);
	char buf[65536];
	double t10 = 0, t90 = 0, b10 = 0, b90 = 0, got = 0;
	struct wsp_qos q;
	struct lsn l;
	int c, s;
	ssize_t n;
	pid_t pid;

	memset(&q, 0xff, sizeof(q));
	q.sending.token_rate = rate;
	q.sending.token_bucket_size = rate / 100 > chunk ? rate / 100 : chunk;
	lsn_open(&l, F_WSP, SOCK_STREAM, 8);
	c = sock_of(F_WSP, SOCK_STREAM);
	if (setsockopt(c, SOL_WSP, WSP_QOS, &q, sizeof(q)))
		die("WSP_QOS");
	if (connect(c, (struct sockaddr *)&l.addr, l.alen))
		die("connect");
	s = accept(l.fd, NULL, NULL);
	if (s < 0)
		die("accept");
	close(l.fd);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		size_t sent = 0;

		close(s);
		memset(buf, 'q', chunk);
		while (sent < total) {
			if (write(c, buf, chunk) != (ssize_t)chunk)
				_exit(1);
			sent += chunk;
		}
		_exit(0);
	}
	close(c);
	while ((n = read(s, buf, sizeof(buf))) > 0) {
		got += n;
		if (!t10 && got >= total * 0.1) {
			t10 = now();
			b10 = got;
		}
		if (!t90 && got >= total * 0.9) {
			t90 = now();
			b90 = got;
		}
	}
	close(s);
	waitpid(pid, NULL, 0);
	if (!t90 || t90 <= t10)
		return 0;
	return (b90 - b10) / (t90 - t10) / rate;
}

static void w_qos(void)
{
	static uint32_t rates[] = { 1000000, 10000000 };
	char key[48];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "qos-%uMB/AF_WSP", rates[i] / 1000000);
		repeat(key, "x token_rate", qos_one, &rates[i]);
	}
}

/* ---- scale ---------------------------------------------------------------- */

/*
 * With @depth requests pending on a conditional listener: the cost of
 * one more request (socket, non-blocking connect, peek of the oldest,
 * accept verdict, accept, two closes; the queue stays at @depth), and the
 * cost of one WSP_PEEK_REQUEST walking the queue by cursor.
 */
struct scale {
	struct lsn l;
	int *ring;
	int depth, head;
};

static double scale_verdict(void *p)
{
	struct scale *sc = p;
	double t0, t;
	long n = 0;
	int i, s;

	t0 = now();
	do {
		for (i = 0; i < 16; i++) {
			int c = connect_pending(&sc->l);

			verdict(sc->l.fd, peek(sc->l.fd, 0), WSP_CF_ACCEPT);
			s = accept(sc->l.fd, NULL, NULL);
			if (s < 0)
				die("accept");
			close(s);
			close(sc->ring[sc->head]);
			sc->ring[sc->head] = c;
			sc->head = (sc->head + 1) % sc->depth;
		}
		n += 16;
		t = now() - t0;
	} while (t < dur);
	return t / n * 1e6;
}

static double scale_peek(void *p)
{
	struct scale *sc = p;
	uint64_t cur = 0;
	double t0, t;
	long n = 0;
	int i;

	t0 = now();
	do {
		for (i = 0; i < 64; i++) {
			cur = peek(sc->l.fd, cur);
			n++;
		}
		t = now() - t0;
	} while (t < dur);
	return t / n * 1e6;
}

/*
 * The port table's share: socket, bind to an ephemeral port, close, with
 * the pending clients still bound.  Not a target; a profile note.
 */
static void scale_bind(int depth)
{
	struct sockaddr_wsp a = { .swsp_family = AF_WSP };
	double t0, t;
	long n = 0;
	int i, c;

	t0 = now();
	do {
		for (i = 0; i < 16; i++) {
			c = sock_of(F_WSP, SOCK_STREAM);
			if (bind(c, (struct sockaddr *)&a, sizeof(a)))
				die("bind");
			close(c);
		}
		n += 16;
		t = now() - t0;
	} while (t < dur);
	progress("scale: %d bound: socket+bind(0)+close %.1f us", depth,
		 t / n * 1e6);
}

static void w_scale(void)
{
	static const int depths[] = { 16, 1024, 65536 };
	char tmo[64], eph[64], key[48];
	struct scale sc;
	double t0;
	int d, i;

	raise_nofile();
	read_sysctl("/proc/sys/net/wsp/connect_timeout_ms", tmo, sizeof(tmo));
	read_sysctl("/proc/sys/net/wsp/ephemeral_ports", eph, sizeof(eph));
	if (write_sysctl("/proc/sys/net/wsp/max_backlog", "1048576") ||
	    write_sysctl("/proc/sys/net/core/somaxconn", "1048576") ||
	    write_sysctl("/proc/sys/net/wsp/ephemeral_ports", "16384 1000000") ||
	    /* No request may time out while the queue fills slowly. */
	    write_sysctl("/proc/sys/net/wsp/connect_timeout_ms", "0"))
		die("scale: sysctls (run as root)");

	for (d = 0; d < 3; d++) {
		sc.depth = depths[d];
		sc.head = 0;
		sc.ring = calloc(sc.depth, sizeof(int));
		if (!sc.ring)
			die("calloc");
		lsn_open(&sc.l, F_WSP, SOCK_STREAM, sc.depth + 64);
		set_conditional(sc.l.fd);
		t0 = now();
		for (i = 0; i < sc.depth; i++) {
			sc.ring[i] = connect_pending(&sc.l);
			if ((i + 1) % 16384 == 0)
				progress("scale: %d of %d pending", i + 1,
					 sc.depth);
		}
		progress("scale: %d pending in %.2f s (%.1f us each)",
			 sc.depth, now() - t0, (now() - t0) / sc.depth * 1e6);
		snprintf(key, sizeof(key), "scale-verdict-%d/AF_WSP", sc.depth);
		repeat(key, "us/request", scale_verdict, &sc);
		snprintf(key, sizeof(key), "scale-peek-%d/AF_WSP", sc.depth);
		repeat(key, "us/peek", scale_peek, &sc);
		scale_bind(sc.depth);
		t0 = now();
		close(sc.l.fd);
		for (i = 0; i < sc.depth; i++)
			close(sc.ring[i]);
		progress("scale: torn down %d in %.2f s", sc.depth, now() - t0);
		free(sc.ring);
	}
	write_sysctl("/proc/sys/net/wsp/connect_timeout_ms", tmo);
	write_sysctl("/proc/sys/net/wsp/ephemeral_ports", eph);
}

/* ---- memory ------------------------------------------------------------- */

/* Active slab objects per cache, from /proc/slabinfo. */
#define MAXSLAB 512
struct slabsnap {
	int n;
	char name[MAXSLAB][40];
	double bytes[MAXSLAB];	/* active objects x object size */
	unsigned long objsize[MAXSLAB];
};

static void slab_snap(struct slabsnap *ss)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[128];
	unsigned long act, num, osz;

	if (!f)
		die("/proc/slabinfo");
	ss->n = 0;
	while (fgets(line, sizeof(line), f) && ss->n < MAXSLAB)
		if (sscanf(line, "%127s %lu %lu %lu", name, &act, &num,
			   &osz) == 4) {
			snprintf(ss->name[ss->n], sizeof(ss->name[0]), "%.39s",
				 name);
			ss->bytes[ss->n] = (double)act * osz;
			ss->objsize[ss->n++] = osz;
		}
	fclose(f);
}

static double slab_total(const struct slabsnap *ss)
{
	double sum = 0;
	int i;

	for (i = 0; i < ss->n; i++)
		sum += ss->bytes[i];
	return sum;
}

static double slab_active(void)
{
	static struct slabsnap ss;

	slab_snap(&ss);
	return slab_total(&ss);
}

/* The caches that grew most between @a and @b, per @pairs. */
static void slab_top(const char *who, const struct slabsnap *a,
		     const struct slabsnap *b, int pairs)
{
	double d[MAXSLAB];
	int i, j, k, used[MAXSLAB] = { 0 };
	char line[512];
	int len = 0;

	for (i = 0; i < b->n; i++) {
		d[i] = b->bytes[i];
		for (j = 0; j < a->n; j++)
			if (!strcmp(a->name[j], b->name[i])) {
				d[i] -= a->bytes[j];
				break;
			}
	}
	for (k = 0; k < 8; k++) {
		int best = -1;

		for (i = 0; i < b->n; i++)
			if (!used[i] && (best < 0 || d[i] > d[best]))
				best = i;
		if (best < 0 || d[best] / pairs < 16)
			break;
		used[best] = 1;
		len += snprintf(line + len, sizeof(line) - len, " %s(%lu)=%.0f",
				b->name[best], b->objsize[best],
				d[best] / pairs);
		if (len >= (int)sizeof(line))
			break;
	}
	progress("memory %s per pair by cache (object size)=bytes:%s", who,
		 line);
}

/* Slab + SUnreclaim-free kernel memory: the "Slab:" line of meminfo. */
static double meminfo_kb(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t n = strlen(field);
	double v = -1;

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtod(line + n + 1, NULL);
	fclose(f);
	return v;
}

/* Wait until freed sockets (RCU, deferred fput) have left the slabs. */
static void settle(void)
{
	double a, b = slab_active();
	int i;

	for (i = 0; i < 20; i++) {
		usleep(200000);
		a = b;
		b = slab_active();
		if (a - b < 64 * 1024 && b - a < 64 * 1024)
			break;
	}
}

#define MEM_PAIRS 10000
static double mem_slab_meminfo;	/* last run's meminfo-based figure */

/* Kernel memory per connected pair, bytes, from slab active objects. */
static double memory_one(void *p)
{
	enum fam f = *(enum fam *)p;
	static int fds[2 * MEM_PAIRS];
	static struct slabsnap sa, sb;
	double m0, m1;
	struct lsn l;
	int i;

	lsn_open(&l, f, SOCK_STREAM, 64);
	settle();
	slab_snap(&sa);
	m0 = meminfo_kb("Slab");
	for (i = 0; i < MEM_PAIRS; i++)
		lsn_pair(&l, &fds[2 * i], &fds[2 * i + 1]);
	slab_snap(&sb);
	m1 = meminfo_kb("Slab");
	for (i = 0; i < 2 * MEM_PAIRS; i++)
		close(fds[i]);
	close(l.fd);
	mem_slab_meminfo = (m1 - m0) * 1024 / MEM_PAIRS;
	progress("memory %s: meminfo Slab delta %.0f B/pair",
		 fam_name[f], mem_slab_meminfo);
	slab_top(fam_name[f], &sa, &sb, MEM_PAIRS);
	return (slab_total(&sb) - slab_total(&sa)) / MEM_PAIRS;
}

static void w_memory(void)
{
	enum fam f;
	char key[48];

	raise_nofile();
	write_sysctl("/proc/sys/net/wsp/max_backlog", "1048576");
	write_sysctl("/proc/sys/net/core/somaxconn", "1048576");
	for (f = 0; f < F_TCP; f++) {
		snprintf(key, sizeof(key), "memory/%s", fam_name[f]);
		repeat(key, "B/pair", memory_one, &f);
	}
}

/* ---- report ------------------------------------------------------------- */

static int npass, nfail;

static void row(const char *name, const char *unit, const char *k0,
		const char *k1, const char *k2)
{
	char v[3][16];
	const char *k[3] = { k0, k1, k2 };
	int i;

	for (i = 0; i < 3; i++) {
		double x = k[i] ? get(k[i]) : -1;

		if (x < 0)
			snprintf(v[i], sizeof(v[i]), "-");
		else
			snprintf(v[i], sizeof(v[i]), "%.4g", x);
	}
	printf("%-22s %-10s %11s %11s %11s\n", name, unit, v[0], v[1], v[2]);
}

/*
 * A ratio line: @num/@den, compared with @target; @le: pass if <=.
 * Ratios are "how AF_WSP does", so for costs the test is <=.
 */
static void ratio(const char *what, const char *num, const char *den,
		  double target, int le)
{
	double a = get(num), b = get(den), r;
	const char *st;

	if (a < 0 || b <= 0) {
		printf("  %-40s %8s   target %s %.2fx   %s\n", what, "-",
		       le ? "<=" : ">=", target, "NOT RUN");
		return;
	}
	r = a / b;
	st = (le ? r <= target : r >= target) ? "PASS" : "MISS";
	if (!strcmp(st, "PASS"))
		npass++;
	else
		nfail++;
	printf("  %-40s %7.2fx   target %s %.2fx   %s\n", what, r,
		       le ? "<=" : ">=", target, st);
}

/* @key counts something that must not happen. */
static void none(const char *what, const char *key)
{
	double v = get(key);

	if (v < 0) {
		printf("  %-40s %8s   target 0          NOT RUN\n", what, "-");
		return;
	}
	if (v == 0)
		npass++;
	else
		nfail++;
	printf("  %-40s %8.0f   target 0          %s\n", what, v,
	       v == 0 ? "PASS" : "MISS");
}

/* @key is already a ratio (achieved / token_rate): pass within @tol. */
static void ratio1(const char *what, const char *key, double tol)
{
	double r = get(key);
	const char *st = r >= 1 - tol && r <= 1 + tol ? "PASS" : "MISS";

	if (r < 0) {
		printf("  %-40s %8s   target 1 +/- %.0f%%     NOT RUN\n", what,
		       "-", tol * 100);
		return;
	}
	if (*st == 'P')
		npass++;
	else
		nfail++;
	printf("  %-40s %7.3fx   target 1 +/- %.0f%%     %s\n", what, r,
	       tol * 100, st);
}

static void report(void)
{
	printf("\n== results (median of %d runs of ~%.2g s) ==\n", reps, dur);
	printf("%-22s %-10s %11s %11s %11s\n", "workload", "unit",
	       "AF_WSP", "AF_UNIX", "TCP");
	row("connrate", "conn/s", "connrate/AF_WSP", "connrate/AF_UNIX",
	    "connrate/TCP");
	row("connrate-cond", "conn/s", "connrate-cond/AF_WSP", NULL, NULL);
	row("connrate filter", "conn/s", "connrate-filter/AF_WSP", NULL, NULL);
	row("refused, no listener", "us", "refused-nolistener/AF_WSP", NULL,
	    NULL);
	row("refused by filter", "us", "refused-filter/AF_WSP", NULL, NULL);
	row("flood wakeups", "count", "filter-flood-wakeups/AF_WSP", NULL,
	    NULL);
	row("pingpong", "us/rtt", "pingpong/AF_WSP", "pingpong/AF_UNIX",
	    "pingpong/TCP");
	row("stream 64K", "MB/s", "stream/AF_WSP", "stream/AF_UNIX",
	    "stream/TCP");
	row("seqpacket 64B", "rec/s", "seqpacket-64/AF_WSP",
	    "seqpacket-64/AF_UNIX", NULL);
	row("seqpacket 4K", "rec/s", "seqpacket-4096/AF_WSP",
	    "seqpacket-4096/AF_UNIX", NULL);
	row("scale verdict @16", "us/req", "scale-verdict-16/AF_WSP", NULL,
	    NULL);
	row("scale verdict @1024", "us/req", "scale-verdict-1024/AF_WSP",
	    NULL, NULL);
	row("scale verdict @65536", "us/req", "scale-verdict-65536/AF_WSP",
	    NULL, NULL);
	row("scale peek @16", "us/peek", "scale-peek-16/AF_WSP", NULL, NULL);
	row("scale peek @1024", "us/peek", "scale-peek-1024/AF_WSP", NULL,
	    NULL);
	row("scale peek @65536", "us/peek", "scale-peek-65536/AF_WSP", NULL,
	    NULL);
	row("memory (10k pairs)", "B/pair", "memory/AF_WSP",
	    "memory/AF_UNIX", NULL);
	row("qos 1 MB/s", "x rate", "qos-1MB/AF_WSP", NULL, NULL);
	row("qos 10 MB/s", "x rate", "qos-10MB/AF_WSP", NULL, NULL);

	printf("\n== ratios against the targets (issues 6 and 13) ==\n");
	ratio("connrate AF_WSP / AF_UNIX", "connrate/AF_WSP",
	      "connrate/AF_UNIX", 1.0, 0);
	ratio("connrate AF_WSP / TCP", "connrate/AF_WSP", "connrate/TCP",
	      4.0, 0);
	ratio("connrate-cond AF_WSP / connrate AF_UNIX",
	      "connrate-cond/AF_WSP", "connrate/AF_UNIX", 0.7, 0);
	ratio("connrate filter-accept / automatic", "connrate-filter/AF_WSP",
	      "connrate/AF_WSP", 0.95, 0);
	ratio("refused by filter / no listener (cost)",
	      "refused-filter/AF_WSP", "refused-nolistener/AF_WSP", 1.0, 1);
	none("listener wakeups, 100000 filtered out", "filter-flood-wakeups/AF_WSP");
	ratio("pingpong RTT AF_WSP / AF_UNIX", "pingpong/AF_WSP",
	      "pingpong/AF_UNIX", 1.0, 1);
	ratio("stream AF_WSP / AF_UNIX", "stream/AF_WSP", "stream/AF_UNIX",
	      1.0, 0);
	ratio("seqpacket 64B AF_WSP / AF_UNIX", "seqpacket-64/AF_WSP",
	      "seqpacket-64/AF_UNIX", 1.0, 0);
	ratio("seqpacket 4K AF_WSP / AF_UNIX", "seqpacket-4096/AF_WSP",
	      "seqpacket-4096/AF_UNIX", 1.0, 0);
	ratio("scale verdict cost @65536 / @16", "scale-verdict-65536/AF_WSP",
	      "scale-verdict-16/AF_WSP", 1.2, 1);
	ratio("scale peek cost @65536 / @16", "scale-peek-65536/AF_WSP",
	      "scale-peek-16/AF_WSP", 1.2, 1);
	ratio("memory per pair AF_WSP / AF_UNIX", "memory/AF_WSP",
	      "memory/AF_UNIX", 1.0, 1);
	ratio1("qos achieved / token_rate @1 MB/s", "qos-1MB/AF_WSP", 0.05);
	ratio1("qos achieved / token_rate @10 MB/s", "qos-10MB/AF_WSP", 0.05);
	printf("\n%d targets met, %d missed\n", npass, nfail);
	fflush(stdout);
}

/* ---- main ------------------------------------------------------------------ */

static const struct {
	const char *name;
	void (*fn)(void);
} workloads[] = {
	{ "connrate", w_connrate },
	{ "connrate-cond", w_connrate_cond },
	{ "filter", w_filter },
	{ "pingpong", w_pingpong },
	{ "stream", w_stream },
	{ "seqpacket", w_seqpacket },
	{ "scale", w_scale },
	{ "memory", w_memory },
	{ "qos", w_qos },
};
#define NW (int)(sizeof(workloads) / sizeof(workloads[0]))

static void run(int i)
{
	double t0 = now();

	progress("== %s ==", workloads[i].name);
	workloads[i].fn();
	progress("== %s done in %.1f s ==", workloads[i].name, now() - t0);
}

int main(int argc, char **argv)
{
	int opt, i, j, any = 0;
	double t0 = now();

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "d:r:v")) != -1) {
		switch (opt) {
		case 'd':
			dur = atof(optarg);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'v':
			verbose_fail = 1;
			break;
		default:
			fprintf(stderr,
				"usage: wspbench [-d seconds] [-r reps] [workload...]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 63 || dur <= 0) {
		fprintf(stderr, "wspbench: bad -r or -d\n");
		return 2;
	}
	for (i = optind; i < argc; i++) {
		for (j = 0; j < NW; j++)
			if (!strcmp(argv[i], workloads[j].name) ||
			    !strcmp(argv[i], "all"))
				break;
		if (j == NW) {
			fprintf(stderr, "wspbench: unknown workload %s\n",
				argv[i]);
			return 2;
		}
	}
	for (j = 0; j < NW; j++) {
		int want = optind == argc;

		for (i = optind; i < argc; i++)
			if (!strcmp(argv[i], workloads[j].name) ||
			    !strcmp(argv[i], "all"))
				want = 1;
		if (want) {
			run(j);
			any = 1;
		}
	}
	if (any)
		report();
	progress("wspbench: finished in %.1f s", now() - t0);
	return 0;
}
