/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the AF_WSP selftests.
 *
 * Every helper returns -1 with errno set on failure (or a positive errno
 * where noted), so that tests can assert on the exact error.  Helpers never
 * use the harness ASSERT_* macros: they may run in forked children or in
 * threads, where the harness longjmp() must not be used.
 *
 * Tests that change a net.wsp.* sysctl, or that count /proc/net/wsp_stat
 * deltas, first move into a private network namespace with
 * wsp_private_netns().  Sysctls and counters are per namespace, so the
 * change dies with the test process and the init namespace is never
 * modified; nothing needs restoring.
 */
#ifndef __WSP_UTIL_H
#define __WSP_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/types.h>
#include <sys/socket.h>
#include <linux/wsp.h>

#include "kselftest_harness.h"

#define WSP_SYSCTL_DIR		"/proc/sys/net/wsp/"
#define WSP_PROC_NET		"/proc/net/wsp"
#define WSP_PROC_STAT		"/proc/net/wsp_stat"

/* Defaults that SPEC and Documentation fix for a fresh namespace. */
#define WSP_DEF_MAX_BACKLOG	4096
#define WSP_DEF_CONNECT_TIMEOUT	30000
#define WSP_DEF_EPH_LO		65536
#define WSP_DEF_EPH_HI		2147483647
#define WSP_DEF_CONNECT_DATA	4096

/* Generous upper bound for "this should happen now" on a slow TCG guest. */
#define WSP_SLOW_MS		5000

/* For checks in forked children: report and exit non-zero. */
#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: check failed: %s (errno %d: %s)\n", \
			getpid(), __FILE__, __LINE__, #cond, errno,	\
			strerror(errno));				\
		_exit(1);						\
	}								\
} while (0)

/* ---- time ---------------------------------------------------------- */

static inline long long wsp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void wsp_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- files, sysctls, /proc ------------------------------------------ */

static inline int wsp_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - total);
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		if (!n)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Returns 0, or -1 with errno from open() or write(). */
static inline int wsp_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	return 0;
}

static inline int wsp_sysctl_read(const char *name, char *buf, size_t len)
{
	char path[128];
	int n;

	snprintf(path, sizeof(path), WSP_SYSCTL_DIR "%s", name);
	n = wsp_read_file(path, buf, len);
	if (n < 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* First integer of a sysctl, or LLONG_MIN on error. */
static inline long long wsp_sysctl_get(const char *name)
{
	char buf[64];

	if (wsp_sysctl_read(name, buf, sizeof(buf)))
		return LLONG_MIN;
	return strtoll(buf, NULL, 10);
}

static inline int wsp_sysctl_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), WSP_SYSCTL_DIR "%s", name);
	return wsp_write_file(path, val);
}

static inline int wsp_sysctl_set_ll(const char *name, long long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld\n", val);
	return wsp_sysctl_set(name, buf);
}

static inline int wsp_eph_range(int *lo, int *hi)
{
	char buf[64];

	if (wsp_sysctl_read("ephemeral_ports", buf, sizeof(buf)))
		return -1;
	if (sscanf(buf, "%d %d", lo, hi) != 2) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A counter from /proc/net/wsp_stat, or -1 if absent. */
static inline long long wsp_stat(const char *name)
{
	char buf[4096], key[64], *line, *save = NULL;
	long long val;

	if (wsp_read_file(WSP_PROC_STAT, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %lld", key, &val) == 2 &&
		    !strcmp(key, name))
			return val;
	}
	return -1;
}

struct wsp_proc_line {
	unsigned long ino;
	char type[16];
	char state[16];
	unsigned long lport, pport, backlog, cap, cond, rxq, txq;
};

static inline int wsp_proc_parse(const char *line, struct wsp_proc_line *p)
{
	return sscanf(line, "%lu %15s %15s %lu %lu %lu %lu %lu %lu %lu",
		      &p->ino, p->type, p->state, &p->lport, &p->pport,
		      &p->backlog, &p->cap, &p->cond, &p->rxq, &p->txq) == 10 ?
		0 : -1;
}

/*
 * Look up the /proc/net/wsp line of socket @fd.  Returns 0 when found,
 * 1 when not listed, -1 on error.  *nlines gets the number of socket
 * lines (header excluded) when non-NULL; *bad the number of lines that
 * did not parse.
 */
static inline int wsp_proc_find_ino(unsigned long ino, struct wsp_proc_line *out,
				    int *nlines, int *bad)
{
	static char buf[1 << 20];
	char *line, *save = NULL;
	struct wsp_proc_line p;
	int found = 1, first = 1;

	if (nlines)
		*nlines = 0;
	if (bad)
		*bad = 0;
	if (wsp_read_file(WSP_PROC_NET, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (first) {	/* header */
			first = 0;
			continue;
		}
		if (nlines)
			(*nlines)++;
		if (wsp_proc_parse(line, &p)) {
			if (bad)
				(*bad)++;
			continue;
		}
		if (p.ino == ino && out) {
			*out = p;
			found = 0;
		} else if (p.ino == ino) {
			found = 0;
		}
	}
	return found;
}

static inline unsigned long wsp_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

static inline int wsp_proc_find(int fd, struct wsp_proc_line *out)
{
	return wsp_proc_find_ino(wsp_ino(fd), out, NULL, NULL);
}

/* ---- namespaces and children ---------------------------------------- */

static inline int wsp_private_netns(void)
{
	return unshare(CLONE_NEWNET);
}

/*
 * Wait for @pid up to @timeout_ms.  Returns the exit code, 128 + signal
 * if it was killed, or -1 on timeout (the child is then killed).
 */
static inline int wsp_wait_child(pid_t pid, int timeout_ms)
{
	long long end = wsp_now_ms() + timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (wsp_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		wsp_msleep(5);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* ---- sockets -------------------------------------------------------- */

static inline struct sockaddr_wsp wsp_sa(__u32 port)
{
	struct sockaddr_wsp a;

	memset(&a, 0, sizeof(a));
	a.swsp_family = AF_WSP;
	a.swsp_port = port;
	return a;
}

static inline int wsp_socket(int type)
{
	return socket(AF_WSP, type, 0);
}

static inline int wsp_bind(int fd, __u32 port)
{
	struct sockaddr_wsp a = wsp_sa(port);

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static inline int wsp_connect(int fd, __u32 port)
{
	struct sockaddr_wsp a = wsp_sa(port);

	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

/* Local port of @fd, or -1. */
static inline long long wsp_local_port(int fd)
{
	struct sockaddr_wsp a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return a.swsp_port;
}

/* Peer port of @fd, or -1. */
static inline long long wsp_peer_port(int fd)
{
	struct sockaddr_wsp a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getpeername(fd, (struct sockaddr *)&a, &len))
		return -1;
	return a.swsp_port;
}

static inline int wsp_set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/* Returns the value, or INT_MIN with errno set. */
static inline int wsp_get_int(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int val = 0;

	if (getsockopt(fd, level, opt, &val, &len))
		return INT_MIN;
	return val;
}

/*
 * From 6.16 the socket core refuses SO_PASSCRED, set or get, on every
 * family but AF_UNIX, netlink and Bluetooth (sk_may_scm_recv()), AF_WSP
 * included.  The release names the rule this kernel follows; the tests
 * check that AF_WSP follows exactly that one.
 */
static inline bool wsp_kernel_refuses_passcred(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 16);
}

static inline int wsp_so_error(int fd)
{
	return wsp_get_int(fd, SOL_SOCKET, SO_ERROR);
}

static inline int wsp_set_timeout_ms(int fd, __u32 ms)
{
	return setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &ms, sizeof(ms));
}

static inline int wsp_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

static inline int wsp_close(int *fd)
{
	int r = 0;

	if (*fd >= 0)
		r = close(*fd);
	*fd = -1;
	return r;
}

/*
 * Listener, conditional or not: @port 0 binds an ephemeral port.  Returns
 * the fd, or -1 with errno set.  *out_port gets the bound port when
 * non-NULL.  Conditional mode is set before listen(), so no request can
 * slip in automatically.
 */
static inline int wsp_listener_mode(int type, __u32 port, int backlog,
				    __u32 *out_port, bool conditional)
{
	int fd, e;

	fd = wsp_socket(type);
	if (fd < 0)
		return -1;
	if ((conditional &&
	     wsp_set_int(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, 1)) ||
	    wsp_bind(fd, port) || listen(fd, backlog))
		goto err;
	if (out_port) {
		long long p = wsp_local_port(fd);

		if (p < 0)
			goto err;
		*out_port = p;
	}
	return fd;
err:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static inline int wsp_listener(int type, __u32 port, int backlog,
			       __u32 *out_port)
{
	return wsp_listener_mode(type, port, backlog, out_port, false);
}

/*
 * Conditional listener: requests wait for a verdict, so connects to it
 * stay pending until withdrawn, timed out, or the listener goes away.
 */
static inline int wsp_cond_listener(int type, __u32 port, int backlog,
				    __u32 *out_port)
{
	return wsp_listener_mode(type, port, backlog, out_port, true);
}

/* Blocking client: returns the connected fd, or -1 with errno set. */
static inline int wsp_client(int type, __u32 port)
{
	int fd, e;

	fd = wsp_socket(type);
	if (fd < 0)
		return -1;
	if (wsp_connect(fd, port)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Non-blocking connect: returns 0 or the positive errno. */
static inline int wsp_connect_nb(int fd, __u32 port)
{
	if (wsp_set_nonblock(fd, true))
		return errno;
	return wsp_connect(fd, port) ? errno : 0;
}

/*
 * Non-blocking client socket with a connect in flight or done.  *err gets
 * 0 or the positive errno of connect().  Returns the fd, or -1.
 */
static inline int wsp_client_nb(int type, __u32 port, int *err)
{
	int fd = wsp_socket(type);

	if (fd < 0)
		return -1;
	*err = wsp_connect_nb(fd, port);
	return fd;
}

/* poll() one fd; returns revents, 0 on timeout, -1 on error. */
static inline int wsp_poll1(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -1;
	return r ? pfd.revents : 0;
}

#define WSP_POLL_ALL	(POLLIN | POLLPRI | POLLOUT | POLLRDHUP)

/* Current readiness of @fd, without waiting. */
static inline int wsp_revents(int fd)
{
	return wsp_poll1(fd, WSP_POLL_ALL, 0);
}

/*
 * Wait for a non-blocking connect to finish.  Returns SO_ERROR (0 on
 * success), or -1 if nothing happened within @timeout_ms.
 */
static inline int wsp_wait_connect(int fd, int timeout_ms)
{
	int r = wsp_poll1(fd, POLLOUT, timeout_ms);

	if (r <= 0)
		return -1;
	return wsp_so_error(fd);
}

/*
 * Final outcome of a non-blocking connect to @port, whether it fails at
 * once or reports through poll: 0 or a positive errno, -1 on a hang.
 */
static inline int wsp_connect_outcome(int fd, __u32 port, int timeout_ms)
{
	int e = wsp_connect_nb(fd, port);

	if (e != EINPROGRESS)
		return e;
	return wsp_wait_connect(fd, timeout_ms);
}

/*
 * Listener + connected client + accepted server socket.  Returns 0, or -1
 * with errno set (every fd is then closed).
 */
static inline int wsp_pair(int type, int *lfd, int *cfd, int *sfd,
			   __u32 *port)
{
	__u32 p;
	int e;

	*cfd = *sfd = -1;
	*lfd = wsp_listener(type, 0, 16, &p);
	if (*lfd < 0)
		return -1;
	*cfd = wsp_client(type, p);
	if (*cfd < 0)
		goto err;
	*sfd = accept(*lfd, NULL, NULL);
	if (*sfd < 0)
		goto err;
	if (port)
		*port = p;
	return 0;
err:
	e = errno;
	wsp_close(lfd);
	wsp_close(cfd);
	wsp_close(sfd);
	errno = e;
	return -1;
}

/* recv() up to @n (at most 64) bytes and throw them away. */
static inline ssize_t wsp_recv_n(int fd, size_t n)
{
	char buf[64];

	return recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
}

/* Queue bytes until the send side would block; returns the byte count. */
static inline long wsp_fill(int fd, size_t chunk)
{
	char buf[4096];
	long total = 0;
	ssize_t n;

	memset(buf, 'f', sizeof(buf));
	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	for (;;) {
		n = send(fd, buf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? total : -1;
		total += n;
		if (total > (64L << 20)) {	/* no flow control at all */
			errno = EOVERFLOW;
			return -1;
		}
	}
}

/* Read everything currently queued; returns the byte count. */
static inline long wsp_drain(int fd)
{
	char buf[4096];
	long total = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? total : -1;
		if (!n)
			return total;
		total += n;
	}
}

/* ---- conditional accept (SPEC section 4) ---------------------------- */

/*
 * Oldest request after @cursor without a verdict.  Returns 0, or -1 with
 * errno (EAGAIN: none; ENOPROTOOPT: conditional accept not built).
 */
static inline int wsp_peek(int lfd, __u64 cursor, struct wsp_request *r)
{
	socklen_t len = sizeof(*r);

	memset(r, 0, sizeof(*r));
	r->id = cursor;
	return getsockopt(lfd, SOL_WSP, WSP_PEEK_REQUEST, r, &len);
}

static inline int wsp_verdict(int lfd, __u64 id, __u32 verdict)
{
	struct wsp_verdict v;

	memset(&v, 0, sizeof(v));
	v.id = id;
	v.verdict = verdict;
	return setsockopt(lfd, SOL_WSP, WSP_VERDICT, &v, sizeof(v));
}

/* Give the oldest undecided request @verdict; returns 0 or -1. */
static inline int wsp_decide_oldest(int lfd, __u32 verdict)
{
	struct wsp_request r;

	if (wsp_peek(lfd, 0, &r))
		return -1;
	return wsp_verdict(lfd, r.id, verdict);
}

/*
 * Peek into a caller-sized buffer @buf of @len bytes (a struct
 * wsp_request and room for data).  *outlen gets the returned optlen.
 */
static inline int wsp_peek_buf(int lfd, __u64 cursor, void *buf,
			       socklen_t len, socklen_t *outlen)
{
	struct wsp_request *r = buf;

	r->id = cursor;
	*outlen = len;
	return getsockopt(lfd, SOL_WSP, WSP_PEEK_REQUEST, buf, outlen);
}

/*
 * Verdict with callee data and an optional QoS (@qos NULL: none).
 * Returns 0, or -1 with errno set.
 */
static inline int wsp_verdict_data(int lfd, __u64 id, __u32 verdict,
				   const void *data, __u32 len,
				   const struct wsp_qos *qos)
{
	struct wsp_verdict *v;
	int r, e;

	v = calloc(1, sizeof(*v) + len);
	if (!v)
		return -1;
	v->id = id;
	v->verdict = verdict;
	if (qos) {
		v->flags = WSP_VERDICT_QOS;
		v->qos = *qos;
	}
	v->data_len = len;
	if (len)
		memcpy(v->data, data, len);
	r = setsockopt(lfd, SOL_WSP, WSP_VERDICT, v, sizeof(*v) + len);
	e = errno;
	free(v);
	errno = e;
	return r;
}

/*
 * accept() that never blocks.  accept4(SOCK_NONBLOCK) only makes the new
 * fd non-blocking; whether accept() waits depends on the listener's own
 * O_NONBLOCK, which this sets for the call.  Returns the fd or -1.
 */
static inline int wsp_accept_nb(int lfd)
{
	int fl, fd, e;

	fl = fcntl(lfd, F_GETFL);
	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK))
		return -1;
	fd = accept(lfd, NULL, NULL);
	e = errno;
	fcntl(lfd, F_SETFL, fl);
	errno = e;
	return fd;
}

/* Wait up to @timeout_ms for an undecided request; 0 when one is there. */
static inline int wsp_wait_request(int lfd, int timeout_ms)
{
	int r = wsp_poll1(lfd, POLLPRI, timeout_ms);

	if (r < 0)
		return -1;
	if (!(r & POLLPRI)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/*
 * Read connect data (WSP_CALLER_DATA or WSP_CALLEE_DATA) into @buf.
 * Returns the length, or -1 with errno set.
 */
static inline int wsp_get_data(int fd, int opt, void *buf, socklen_t len)
{
	socklen_t l = len;

	if (getsockopt(fd, SOL_WSP, opt, buf, &l))
		return -1;
	return l;
}

/* ---- QoS (SPEC section 5) ------------------------------------------- */

static inline void wsp_flowspec_unspec(struct wsp_flowspec *fs)
{
	memset(fs, 0xff, sizeof(*fs));
}

static inline void wsp_qos_unspec(struct wsp_qos *q)
{
	memset(q, 0xff, sizeof(*q));
}

static inline int wsp_set_qos(int fd, const struct wsp_qos *q)
{
	return setsockopt(fd, SOL_WSP, WSP_QOS, q, sizeof(*q));
}

static inline int wsp_get_qos(int fd, struct wsp_qos *q)
{
	socklen_t len = sizeof(*q);

	memset(q, 0, sizeof(*q));
	return getsockopt(fd, SOL_WSP, WSP_QOS, q, &len);
}

/* A QoS whose sending direction is shaped to @rate and @bucket. */
static inline void wsp_qos_shaped(struct wsp_qos *q, __u32 rate,
				  __u32 bucket)
{
	wsp_qos_unspec(q);
	q->sending.token_rate = rate;
	q->sending.token_bucket_size = bucket;
}

/* ---- network events (SPEC section 6) --------------------------------- */

static inline int wsp_event_select(int fd, __u32 mask, int efd)
{
	struct wsp_event_select sel = { .mask = mask, .eventfd = efd };

	return setsockopt(fd, SOL_WSP, WSP_EVENT_SELECT, &sel, sizeof(sel));
}

/* Enumerate (and clear) the recorded events; -1 with errno on error. */
static inline int wsp_net_events(int fd, struct wsp_network_events *ne)
{
	socklen_t len = sizeof(*ne);

	memset(ne, 0xaa, sizeof(*ne));
	return getsockopt(fd, SOL_WSP, WSP_NETWORK_EVENTS, ne, &len);
}

/* Recorded events only, or ~0U on error. */
static inline __u32 wsp_events_now(int fd)
{
	struct wsp_network_events ne;

	if (wsp_net_events(fd, &ne))
		return ~0U;
	return ne.events;
}

/* Read and reset a non-blocking eventfd's counter: 0 if unsignalled. */
static inline long long wsp_efd_take(int efd)
{
	__u64 v;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return errno == EAGAIN ? 0 : -1;
	return v;
}

/* ---- module refcount (rmmod must be refused while sockets exist) ---- */

static inline long wsp_mod_refcnt(void)
{
	char buf[32];

	if (wsp_read_file("/sys/module/wsp/refcnt", buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/*
 * Try to unload the module, only when it is referenced (so that the
 * attempt must fail).  0 if refused with EBUSY/EWOULDBLOCK; otherwise a
 * code for the log (-2: not referenced, so not attempted; -3: unloaded).
 */
static inline int wsp_rmmod_refused(void)
{
	long r = wsp_mod_refcnt();

	if (r < 0)
		return -1;
	if (r == 0)
		return -2;
	if (syscall(__NR_delete_module, "wsp", O_NONBLOCK) == 0)
		return -3;
	if (errno != EBUSY && errno != EWOULDBLOCK)
		return errno;
	return 0;
}

/* A signal handler that only interrupts. */
static inline void wsp_nop_handler(int sig)
{
	(void)sig;
}

/* Install @sig's handler without SA_RESTART, so syscalls see EINTR. */
static inline int wsp_interrupting_signal(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wsp_nop_handler;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* ---- tracepoints ------------------------------------------------------ */

/*
 * Find or mount tracefs and make a private instance named @tag_<pid>;
 * its path goes to @dir, which is "" when the kernel has no tracefs.
 */
static inline const char *wsp_trace_instance(char *dir, size_t len,
					     const char *tag)
{
	static const char * const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	struct stat st;
	unsigned int i;
	char p[300];

	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/instances", roots[i]);
		if (stat(p, &st) && i == 0)
			mount("nodev", roots[0], "tracefs", 0, NULL);
		if (stat(p, &st) && i == 1)
			mount("nodev", "/sys/kernel/debug", "debugfs", 0, NULL);
		if (stat(p, &st))
			continue;
		snprintf(dir, len, "%s/instances/%s_%d", roots[i], tag,
			 getpid());
		if (mkdir(dir, 0700) && errno != EEXIST)
			continue;
		return dir;
	}
	dir[0] = '\0';
	return dir;
}

/* Write @val to the file @rel of the trace instance @dir. */
static inline int wsp_trace_write(const char *dir, const char *rel,
				  const char *val)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return wsp_write_file(p, val);
}

#endif /* __WSP_UTIL_H */
