// SPDX-License-Identifier: GPL-2.0
/*
 * wspcat: the ncat of AF_WSP.  Listens on or connects to an AF_WSP port
 * and relays stdin and stdout; as a listener it can decide each
 * connection request (conditional accept) by prompting or by policy.
 *
 * See "wspcat --help".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/filter.h>

#include "filter.h"
#include "libwsp.h"

#define MAX_DATA	65536		/* net.wsp.max_connect_data ceiling */
#define RELAY_BUF	65536
#define MAX_DEFERRED	64
#define DEFER_SECS	10

enum policy { POLICY_NONE, POLICY_ACCEPT, POLICY_REJECT, POLICY_MATCH };

struct bytes {
	unsigned char *p;
	size_t len;
};

struct opts {
	bool listen;
	bool seqpacket;
	bool keep;
	bool verbose;
	bool conditional;
	enum policy policy;
	struct bytes match;
	struct bytes reply;
	struct bytes reject;
	struct bytes data;
	const char *answers;
	const char *filter;
	bool grant_qos;
	__u32 grant_rate, grant_bucket;
	bool qos;
	__u32 qos_rate, qos_bucket;
	bool timeout_set;
	__u32 timeout_ms;
	__u32 port;
};

static struct opts o;

/* A request the listener deferred, to be asked about again at @due. */
struct deferred {
	__u64 id;
	time_t due;
};

static struct deferred deferred[MAX_DEFERRED];
static int nr_deferred;

static void info(const char *fmt, ...)
{
	va_list ap;

	fputs("wspcat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("wspcat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void print_help(FILE *f)
{
	fputs(
"Usage: wspcat [OPTIONS] PORT          connect to an AF_WSP port\n"
"       wspcat -l [OPTIONS] PORT       listen on an AF_WSP port\n"
"\n"
"Relays stdin to the connection and the connection to stdout.  At EOF on\n"
"stdin the sending side is shut down (shutdown(SHUT_WR)); wspcat ends when\n"
"the peer ends its side.  Messages go to stderr.\n"
"\n"
"Common options:\n"
"  -l, --listen            listen on PORT instead of connecting to it\n"
"  -s, --seqpacket         use SOCK_SEQPACKET (default SOCK_STREAM); each\n"
"                          read from stdin is sent as one record\n"
"  -v, --verbose           tell what happens (requests, verdicts, data)\n"
"  -h, --help              this text\n"
"\n"
"Listener options:\n"
"  -k, --keep-open         after a connection ends, serve the next one\n"
"                          (connections are served one at a time)\n"
"      --once              serve one connection, then exit (the default)\n"
"  -c, --conditional       decide each request interactively: show the\n"
"                          caller's port, pid, uid, gid, caller data (as text,\n"
"                          or hex if not printable) and requested QoS, then\n"
"                          read an answer line:\n"
"                            a[ccept] [DATA]   accept, DATA overrides --reply\n"
"                            r[eject] [DATA]   reject, DATA overrides\n"
"                                              --reject-data\n"
"                            d[efer] [SECS]    defer; ask again in SECS\n"
"                                              seconds (default 10)\n"
"                          Answers are read from the controlling terminal\n"
"                          (/dev/tty), or from --answers.  While a question\n"
"                          is open, stdin is not relayed.\n"
"      --answers FILE      read the answers from FILE (a FIFO works; '-' is\n"
"                          stdin, which is then not relayed).  At EOF the\n"
"                          remaining requests are rejected.\n"
"  -p, --policy POLICY     decide without asking:\n"
"                            accept        accept every request\n"
"                            reject        reject every request\n"
"                            match:STRING  accept when the caller data is\n"
"                                          exactly STRING, else reject\n"
"      --filter POLICY     let the kernel decide first, with no wakeup of\n"
"                          wspcat: rules separated by commas, the first\n"
"                          that matches decides:\n"
"                            allow-uid:UID[:UID...]  accept these uids\n"
"                            deny-uid:UID[:UID...]   refuse these uids\n"
"                            prefix:STRING           accept callers whose\n"
"                                                    data starts with STRING\n"
"                            else:pass|accept|reject the rest (pass: as\n"
"                                                    without a filter)\n"
"      --reply DATA        callee data sent with each accept\n"
"      --reject-data DATA  data the refused caller reads\n"
"      --grant-qos RATE[:BUCKET]\n"
"                          grant RATE bytes/s (bucket BUCKET bytes) in both\n"
"                          directions; without -c/-p, it is the limit that\n"
"                          the kernel's automatic accept grants\n"
"  Without -c or -p the kernel accepts every request itself; --reply or\n"
"  --reject-data alone imply --policy accept.\n"
"\n"
"Client options:\n"
"  -d, --data DATA         caller data sent with the connection request\n"
"  -q, --qos RATE[:BUCKET] request RATE bytes/s (bucket BUCKET bytes) in\n"
"                          both directions\n"
"  -t, --timeout MS        give up after MS milliseconds without a verdict\n"
"                          (WSP_CONNECT_TIMEOUT; 0 waits forever; default\n"
"                          net.wsp.connect_timeout_ms)\n"
"\n"
"DATA is text, or hex digits after \"hex:\" (hex:00ff10).\n"
"\n"
"Exit status: 0 on success, 1 on an error (refused, timed out, ...),\n"
"2 on a usage error.\n"
"\n"
"Examples:\n"
"  wspcat -l 7000 -p match:secret --reply welcome --reject-data 'go away'\n"
"  echo hi | wspcat --data secret -v 7000\n"
"  wspcat -l 7000 -c -k\n"
"  wspcat -l 7000 -c --filter deny-uid:1000,prefix:TOKN\n", f);
}

/* ---- small helpers ------------------------------------------------------ */

_Noreturn static void bad_usage(const char *msg)
{
	fprintf(stderr, "wspcat: %s\nTry 'wspcat --help'.\n", msg);
	exit(2);
}

_Noreturn static void bad_usage_at(const char *msg, const char *where)
{
	fprintf(stderr, "wspcat: %s: %s\nTry 'wspcat --help'.\n", msg, where);
	exit(2);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse DATA: text, or "hex:" followed by an even number of hex digits. */
static struct bytes parse_data(const char *s, const char *what)
{
	struct bytes b;
	size_t i, n;

	if (strncmp(s, "hex:", 4)) {
		b.len = strlen(s);
		b.p = (unsigned char *)strdup(s);
		if (!b.p)
			die("out of memory");
		return b;
	}
	s += 4;
	n = strlen(s);
	if (n % 2)
		die("%s: odd number of hex digits", what);
	b.len = n / 2;
	b.p = malloc(b.len + 1);
	if (!b.p)
		die("out of memory");
	for (i = 0; i < b.len; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			die("%s: bad hex digit", what);
		b.p[i] = hi << 4 | lo;
	}
	return b;
}

static __u32 parse_u32(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX || *s == '-') {
		fprintf(stderr, "wspcat: %s: not a number: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* RATE[:BUCKET] */
static void parse_qos(const char *s, __u32 *rate, __u32 *bucket)
{
	char *copy = strdup(s), *colon;

	if (!copy)
		die("out of memory");
	colon = strchr(copy, ':');
	if (colon)
		*colon++ = '\0';
	*rate = parse_u32(copy, "QoS rate");
	*bucket = colon ? parse_u32(colon, "QoS bucket") : WSP_QOS_NOT_SPECIFIED;
	if (!*rate || !*bucket) {
		fprintf(stderr, "wspcat: QoS rate and bucket must not be 0\n");
		exit(2);
	}
	free(copy);
}

/* Both directions shaped at @rate with @bucket, everything else open. */
static void make_qos(struct wsp_qos *q, __u32 rate, __u32 bucket)
{
	wsp_flowspec_unspecified(&q->sending);
	wsp_flowspec_unspecified(&q->receiving);
	q->sending.token_rate = rate;
	q->sending.token_bucket_size = bucket;
	q->receiving.token_rate = rate;
	q->receiving.token_bucket_size = bucket;
}

/* Print @len bytes as "text" if printable, else as hex, into @f. */
static void print_data(FILE *f, const unsigned char *p, size_t len,
		       size_t full)
{
	bool text = true;
	size_t i;

	if (!full) {
		fputs("none", f);
		return;
	}
	for (i = 0; i < len; i++)
		if (!isprint(p[i]) && p[i] != '\t')
			text = false;
	if (text) {
		fputc('"', f);
		fwrite(p, 1, len, f);
		fputc('"', f);
	} else {
		fputs("hex:", f);
		for (i = 0; i < len && i < 64; i++)
			fprintf(f, "%02x", p[i]);
	}
	if (full > len || (!text && len > 64))
		fprintf(f, "... (%zu bytes)", full);
}

static void print_flow(FILE *f, const char *name,
		       const struct wsp_flowspec *fs)
{
	fprintf(f, "%s ", name);
	if (fs->token_rate == WSP_QOS_NOT_SPECIFIED)
		fputs("rate=any", f);
	else
		fprintf(f, "rate=%u", fs->token_rate);
	if (fs->token_bucket_size != WSP_QOS_NOT_SPECIFIED)
		fprintf(f, " bucket=%u", fs->token_bucket_size);
	if (fs->max_sdu_size != WSP_QOS_NOT_SPECIFIED)
		fprintf(f, " sdu=%u", fs->max_sdu_size);
}

static void print_qos(FILE *f, const struct wsp_qos *q)
{
	struct wsp_qos none;

	wsp_flowspec_unspecified(&none.sending);
	wsp_flowspec_unspecified(&none.receiving);
	if (!memcmp(q, &none, sizeof(none))) {
		fputs("none", f);
		return;
	}
	print_flow(f, "send", &q->sending);
	print_flow(f, ", receive", &q->receiving);
}

/* An AF_WSP socket of the type the options ask for, with @flags. */
static int open_socket(int flags)
{
	int fd = wsp_socket((o.seqpacket ? SOCK_SEQPACKET : SOCK_STREAM) |
			    flags);

	if (fd < 0 && errno == EAFNOSUPPORT)
		die("AF_WSP is not available: load the module (modprobe wsp or insmod wsp.ko)");
	if (fd < 0)
		die("socket: %s", strerror(errno));
	return fd;
}

/* ---- relay -------------------------------------------------------------- */

static bool write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

struct relay {
	int sock;
	bool in_eof;		/* stdin done; our sending side is shut */
	bool done;		/* the peer ended its side, or an error */
	int err;
};

static void relay_start(struct relay *r, int sock, bool stdin_eof)
{
	r->sock = sock;
	r->in_eof = stdin_eof;
	r->done = false;
	r->err = 0;
	if (stdin_eof)
		shutdown(sock, SHUT_WR);
}

/* stdin -> socket: one read, one send (one record on SEQPACKET). */
static void relay_in(struct relay *r)
{
	static char buf[RELAY_BUF];
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->in_eof = true;
		shutdown(r->sock, SHUT_WR);
		return;
	}
	if (!write_all(r->sock, buf, n)) {
		r->err = errno;
		r->done = true;
	}
}

/* socket -> stdout */
static void relay_out(struct relay *r)
{
	static char buf[RELAY_BUF];
	ssize_t n;

	n = recv(r->sock, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		r->err = errno;
	if (n <= 0) {
		r->done = true;
		return;
	}
	if (!write_all(STDOUT_FILENO, buf, n)) {
		r->err = errno;
		r->done = true;
	}
}

static void relay_end(struct relay *r)
{
	if (r->err == ECONNRESET)
		info("connection reset by peer");
	else if (r->err && r->err != EPIPE)
		info("connection: %s", strerror(r->err));
	else if (o.verbose)
		info("connection closed");
	close(r->sock);
	r->sock = -1;
}

/* ---- client ------------------------------------------------------------- */

/* Why did a connect to @port get ECONNREFUSED without reject data? */
static const char *refusal_reason(__u32 port)
{
	unsigned int lport, backlog, cap;
	char line[256], type[32], state[32];
	const char *why = "no listener on port";
	FILE *f = fopen("/proc/net/wsp", "r");

	if (!f)
		return "refused";
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %31s %31s %u %*u %u %u", type, state,
			   &lport, &backlog, &cap) != 5 || lport != port)
			continue;
		if (strcmp(state, "LISTEN"))
			why = "no listener (a socket is bound, not listening) on port";
		else if (backlog >= cap)
			why = "backlog full at the listener on port";
		else
			why = "connection refused by the listener on port";
	}
	fclose(f);
	return why;
}

/* The callee (or reject) data: net.wsp.max_connect_data is at most MAX_DATA. */
static unsigned char callee[MAX_DATA];

static int client(void)
{
	size_t callee_len = sizeof(callee), shown;
	struct relay r;
	struct wsp_qos q;
	__u32 lport = 0;
	int fd, err;

	fd = open_socket(0);
	if (o.timeout_set &&
	    setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &o.timeout_ms,
		       sizeof(o.timeout_ms)))
		die("timeout: %s", strerror(errno));
	if (o.qos)
		make_qos(&q, o.qos_rate, o.qos_bucket);

	if (o.verbose)
		info("connecting to port %u", o.port);
	err = wsp_connect_ex(fd, o.port, o.data.p, o.data.len, callee,
			     &callee_len, o.qos ? &q : NULL) ? errno : 0;
	/* Caller data and QoS are set: the request only needs its answer. */
	while (err == EINTR) {
		callee_len = sizeof(callee);
		err = wsp_connect_ex(fd, o.port, NULL, 0, callee, &callee_len,
				     NULL) ? errno : 0;
	}
	if (err == EALREADY) {
		/* Interrupted earlier: the request is still queued. */
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t len = sizeof(err);

		poll(&p, 1, -1);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		callee_len = sizeof(callee);
		if (wsp_callee_data(fd, callee, &callee_len))
			callee_len = 0;
	}
	shown = callee_len < sizeof(callee) ? callee_len : sizeof(callee);
	switch (err) {
	case 0:
		break;
	case EMSGSIZE:
		/* Only the caller data can be too long. */
		die("caller data: longer than net.wsp.max_connect_data");
	case ECONNREFUSED:
		if (callee_len) {
			fputs("wspcat: connection refused by the server: ",
			      stderr);
			fwrite(callee, 1, shown, stderr);
			fputc('\n', stderr);
			exit(1);
		}
		die("%s %u", refusal_reason(o.port), o.port);
	case ETIMEDOUT:
		die("timed out: no verdict from the listener on port %u",
		    o.port);
	case EPROTOTYPE:
		die("the listener on port %u is not a %s socket (%s)",
		    o.port, o.seqpacket ? "SEQPACKET" : "STREAM",
		    o.seqpacket ? "drop --seqpacket" : "try --seqpacket");
	default:
		die("connect to port %u: %s", o.port, strerror(err));
	}
	if (o.verbose) {
		wsp_local_port(fd, &lport);
		fprintf(stderr, "wspcat: connected from port %u to port %u; server data: ",
			lport, o.port);
		print_data(stderr, callee, shown, callee_len);
		if (!wsp_get_qos(fd, &q)) {
			fputs("; QoS: ", stderr);
			print_qos(stderr, &q);
		}
		fputc('\n', stderr);
	}

	relay_start(&r, fd, false);
	while (!r.done) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = r.in_eof ? -1 : STDIN_FILENO, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (p[1].revents)
			relay_in(&r);
		if (p[0].revents && !r.done)
			relay_out(&r);
	}
	err = r.err;
	relay_end(&r);
	return err && err != EPIPE ? 1 : 0;
}

/* ---- listener ----------------------------------------------------------- */

static struct wsp_request *cur;	/* the request being asked about */
static bool asking;		/* a question is open for cur */
static FILE *answers;		/* NULL: policy mode or answers at EOF */
static int answers_fd = -1;

static const char * const verdict_name[] = {
	"accepted", "rejected", "deferred"
};

/* The oldest queued request with an id greater than @after, or NULL. */
static struct wsp_request *peek_request(int ls, __u64 after)
{
	struct wsp_request *req;

	if (!wsp_peek_request(ls, after, &req))
		return req;
	if (errno != EAGAIN)
		die("peek: %s", strerror(errno));
	return NULL;
}

/* The oldest request that is not deferred, or NULL. */
static struct wsp_request *peek_pending(int ls)
{
	struct wsp_request *req;
	__u64 after = 0;

	while ((req = peek_request(ls, after))) {
		if (!(req->flags & WSP_REQ_DEFERRED))
			return req;
		after = req->id;
		free(req);
	}
	return NULL;
}

static void describe(const struct wsp_request *r)
{
	fprintf(stderr, "wspcat: request #%llu%s from port %u (pid %u, uid %u, gid %u)\n",
		(unsigned long long)r->id,
		r->flags & WSP_REQ_DEFERRED ? " (deferred)" : "",
		r->caller.swsp_port, r->pid, r->uid, r->gid);
	fputs("wspcat:   caller data: ", stderr);
	print_data(stderr, r->data, r->data_len, r->data_len);
	fputs("\nwspcat:   QoS requested: ", stderr);
	print_qos(stderr, &r->qos);
	fputc('\n', stderr);
}

/* The answer for verdict @v: @data (or the default data) and the QoS. */
static void make_answer(struct wsp_answer *ans, __u32 v,
			const struct bytes *data)
{
	memset(ans, 0, sizeof(*ans));
	if (!data)
		data = v == WSP_CF_ACCEPT ? &o.reply :
		       v == WSP_CF_REJECT ? &o.reject : NULL;
	if (data && v != WSP_CF_DEFER) {
		if (data->len > MAX_DATA)
			die("verdict data too long");
		ans->data = data->p;
		ans->data_len = data->len;
	}
	if (o.grant_qos && v == WSP_CF_ACCEPT) {
		ans->has_qos = 1;
		make_qos(&ans->qos, o.grant_rate, o.grant_bucket);
	}
}

static void tell_verdict(__u64 id, __u32 v)
{
	if (o.verbose || answers)
		info("request #%llu %s", (unsigned long long)id,
		     verdict_name[v]);
}

static void tell_withdrawn(__u64 id)
{
	info("request #%llu was withdrawn by the caller",
	     (unsigned long long)id);
}

/* Give verdict @v on @id with @data (or the default data). */
static void give_verdict(int ls, __u64 id, __u32 v, const struct bytes *data)
{
	struct wsp_answer ans;

	make_answer(&ans, v, data);
	if (wsp_verdict(ls, id, v, ans.data, ans.data_len,
			ans.has_qos ? &ans.qos : NULL)) {
		if (errno == ENOENT) {
			tell_withdrawn(id);
			return;
		}
		die("verdict: %s", errno == EMSGSIZE ?
		    "data longer than net.wsp.max_connect_data" :
		    strerror(errno));
	}
	tell_verdict(id, v);
}

static void defer_add(int ls, __u64 id, unsigned int secs)
{
	if (nr_deferred == MAX_DEFERRED) {
		info("too many deferred requests; rejecting #%llu",
		     (unsigned long long)id);
		give_verdict(ls, id, WSP_CF_REJECT, NULL);
		return;
	}
	deferred[nr_deferred].id = id;
	deferred[nr_deferred].due = time(NULL) + secs;
	nr_deferred++;
}

/* The request @req is the one to ask about: take it as cur. */
static void ask(struct wsp_request *req)
{
	free(cur);
	cur = req;
	describe(cur);
	fputs("wspcat: accept, reject or defer? [a/r/d] ", stderr);
	fflush(stderr);
	asking = true;
}

/* Read one answer line for cur; returns false at EOF. */
static bool read_answer(int ls)
{
	char line[4096], *arg, *nl;
	struct bytes data;
	unsigned int secs;

	if (!fgets(line, sizeof(line), answers))
		return false;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (!isatty(answers_fd))
		fprintf(stderr, "%s\n", line);	/* a transcript reads well */
	arg = line + strcspn(line, " \t");
	if (*arg)
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	if (!strcmp(line, "a") || !strcmp(line, "accept") ||
	    !strcmp(line, "r") || !strcmp(line, "reject")) {
		__u32 v = line[0] == 'a' ? WSP_CF_ACCEPT : WSP_CF_REJECT;

		if (*arg) {
			data = parse_data(arg, "answer");
			give_verdict(ls, cur->id, v, &data);
			free(data.p);
		} else {
			give_verdict(ls, cur->id, v, NULL);
		}
	} else if (!strcmp(line, "d") || !strcmp(line, "defer")) {
		secs = *arg ? strtoul(arg, NULL, 10) : DEFER_SECS;
		give_verdict(ls, cur->id, WSP_CF_DEFER, NULL);
		info("asking about #%llu again in %u s",
		     (unsigned long long)cur->id, secs);
		defer_add(ls, cur->id, secs);
	} else {
		fputs("wspcat: please answer a[ccept] [DATA], r[eject] [DATA] or d[efer] [SECS]: ",
		      stderr);
		fflush(stderr);
		return true;
	}
	asking = false;
	return true;
}

/* Open a question on a due deferred request, if any.  */
static bool ask_deferred(int ls)
{
	struct wsp_request *req;
	time_t now = time(NULL);
	__u64 id;
	int i;

	for (i = 0; i < nr_deferred; i++) {
		if (deferred[i].due > now)
			continue;
		id = deferred[i].id;
		deferred[i] = deferred[--nr_deferred];
		req = peek_request(ls, id - 1);
		if (!req || req->id != id) {
			free(req);
			info("deferred request #%llu was withdrawn by the caller",
			     (unsigned long long)id);
			return false;
		}
		if (!answers) {
			free(req);
			give_verdict(ls, id, WSP_CF_REJECT, NULL);
			return false;
		}
		ask(req);
		return true;
	}
	return false;
}

/* Milliseconds until the next deferred request is due, or -1. */
static int defer_timeout(void)
{
	time_t now = time(NULL), first = 0;
	int i;

	for (i = 0; i < nr_deferred; i++)
		if (!first || deferred[i].due < first)
			first = deferred[i].due;
	if (!nr_deferred)
		return -1;
	return first <= now ? 0 : (first - now) * 1000;
}

/* --conditional: a new request is waiting: ask about it. */
static void on_request(int ls)
{
	struct wsp_request *req = peek_pending(ls);

	if (!req)
		return;
	if (answers) {
		ask(req);
		return;
	}
	give_verdict(ls, req->id, WSP_CF_REJECT, NULL);
	free(req);
}

/* What the policy decided inside wsp_accept(), for the messages. */
struct decision {
	bool made;
	__u64 id;
};

/* --policy: the condition of wsp_accept(). */
static int policy_condition(const struct wsp_request *req,
			    struct wsp_answer *ans, void *ctx)
{
	struct decision *d = ctx;
	bool ok;

	if (o.verbose)
		describe(req);
	switch (o.policy) {
	case POLICY_ACCEPT:
		ok = true;
		break;
	case POLICY_MATCH:
		ok = req->data_len == o.match.len &&
		     !memcmp(req->data, o.match.p, o.match.len);
		break;
	default:
		ok = false;
	}
	make_answer(ans, ok ? WSP_CF_ACCEPT : WSP_CF_REJECT, NULL);
	d->made = true;
	d->id = req->id;
	return ok ? WSP_CF_ACCEPT : WSP_CF_REJECT;
}

/*
 * The next connection, with its caller's port in *@port, or -1 if there
 * is none yet.  With --policy, wsp_accept() returns the connections
 * already accepted first, else decides the oldest request.
 */
static int accept_next(int ls, __u32 *port)
{
	struct decision d = { .made = false };
	struct sockaddr_wsp peer;
	socklen_t len = sizeof(peer);
	int fd;

	memset(&peer, 0, sizeof(peer));
	fd = wsp_accept(ls, &peer, &len,
			o.policy != POLICY_NONE ? policy_condition : NULL, &d);
	if (fd >= 0) {
		if (d.made)
			tell_verdict(d.id, WSP_CF_ACCEPT);
		*port = peer.swsp_port;
		return fd;
	}
	if (d.made) {
		if (errno == ECONNREFUSED)	/* the policy rejected it */
			tell_verdict(d.id, WSP_CF_REJECT);
		else if (errno == ECONNABORTED)
			tell_withdrawn(d.id);
		else
			die("verdict: %s", errno == EMSGSIZE ?
			    "data longer than net.wsp.max_connect_data" :
			    strerror(errno));
		return -1;
	}
	if (errno != EAGAIN && errno != EINTR)
		die("accept: %s", strerror(errno));
	return -1;
}

/*
 * Connections are served one at a time.  With --policy, those accepted
 * while another is served wait here, oldest first.
 */
struct waiting {
	int fd;
	__u32 port;
};

static struct waiting *waiting;
static size_t nr_waiting, waiting_size;

static void wait_add(int fd, __u32 port)
{
	if (nr_waiting == waiting_size) {
		waiting_size = waiting_size ? 2 * waiting_size : 16;
		waiting = realloc(waiting, waiting_size * sizeof(*waiting));
		if (!waiting)
			die("out of memory");
	}
	waiting[nr_waiting].fd = fd;
	waiting[nr_waiting].port = port;
	nr_waiting++;
}

static void serve(struct relay *r, int fd, __u32 port, bool stdin_eof)
{
	if (o.verbose)
		info("connection from port %u", port);
	relay_start(r, fd, stdin_eof);
}

/* The connection ended: serve the next one that waits, if any. */
static void serve_next(int ls, struct relay *r, bool stdin_eof)
{
	__u32 port;
	int fd;

	if (nr_waiting) {
		fd = waiting[0].fd;
		port = waiting[0].port;
		memmove(waiting, waiting + 1, --nr_waiting * sizeof(*waiting));
		serve(r, fd, port, stdin_eof);
		return;
	}
	/*
	 * wsp_accept() may hold a connection it met before its own, which
	 * no poll() shows: ask it once more.
	 */
	if (o.policy != POLICY_NONE) {
		fd = accept_next(ls, &port);
		if (fd >= 0)
			serve(r, fd, port, stdin_eof);
	}
}

static void open_answers(void)
{
	if (o.answers && !strcmp(o.answers, "-")) {
		answers = stdin;
	} else {
		answers = fopen(o.answers ? o.answers : "/dev/tty", "r");
		if (!answers && !o.answers)
			die("--conditional needs a terminal for its questions; use --answers FILE or --policy");
		if (!answers)
			die("%s: %s", o.answers, strerror(errno));
	}
	setvbuf(answers, NULL, _IONBF, 0);	/* poll() sees what is left */
	answers_fd = fileno(answers);
}

/* --filter: the kernel decides what the policy covers, before any
 * wakeup of ours.
 */
static struct sock_filter filter_insns[BPF_MAXINSNS];
static int filter_len;

/* At option time, so that a bad policy is a usage error. */
static void compile_filter(void)
{
	const char *bad;

	filter_len = filter_compile(o.filter, filter_insns, BPF_MAXINSNS,
				    &bad);
	if (filter_len >= 0)
		return;
	if (bad)
		bad_usage_at("--filter: bad rule", bad);
	bad_usage("--filter: the policy does not fit in a program");
}

static void attach_filter(int ls)
{
	struct sock_fprog prog = { .len = filter_len, .filter = filter_insns };

	if (setsockopt(ls, SOL_WSP, WSP_ATTACH_FILTER, &prog, sizeof(prog)))
		die("--filter: %s", strerror(errno));
	if (o.verbose)
		info("filter attached: %s (%d instructions)", o.filter,
		     filter_len);
}

static int listener(void)
{
	struct relay r = { .sock = -1 };
	bool stdin_eof = false;
	int ls, status = 0;
	struct wsp_qos q;
	__u32 port;

	/* Non-blocking: wsp_accept() must not wait for a request. */
	ls = open_socket(SOCK_NONBLOCK);
	if (wsp_bind(ls, o.port)) {
		if (errno == EADDRINUSE)
			die("port %u is in use", o.port);
		if (errno == EACCES)
			die("port %u needs CAP_NET_BIND_SERVICE", o.port);
		die("bind to port %u: %s", o.port, strerror(errno));
	}
	if (o.conditional && wsp_set_conditional(ls, 1))
		die("conditional accept: %s", strerror(errno));
	if (o.filter)
		attach_filter(ls);
	if (o.grant_qos && !o.conditional) {
		make_qos(&q, o.grant_rate, o.grant_bucket);
		if (wsp_set_qos(ls, &q))
			die("QoS: %s", strerror(errno));
	}
	if (listen(ls, 16))
		die("listen: %s", strerror(errno));
	if (o.conditional && o.policy == POLICY_NONE)
		open_answers();
	if (o.verbose)
		info("listening on port %u (%s%s)", o.port,
		     o.seqpacket ? "seqpacket" : "stream",
		     o.conditional ? ", conditional" : "");

	for (;;) {
		bool relay_stdin = r.sock >= 0 && !r.in_eof && !asking &&
				   answers != stdin;
		struct pollfd p[4] = {
			{ .fd = ls, .events = POLLIN },
			{ .fd = asking ? answers_fd : -1, .events = POLLIN },
			{ .fd = r.sock, .events = POLLIN },
			{ .fd = relay_stdin ? STDIN_FILENO : -1,
			  .events = POLLIN },
		};
		int timeout = -1;

		/*
		 * Ask one question at a time; serve one connection (with
		 * --policy, requests are still decided meanwhile).
		 */
		if (o.conditional && !asking)
			p[0].events |= POLLPRI;
		if (r.sock >= 0)
			p[0].events &= ~POLLIN;
		if (!asking)
			timeout = defer_timeout();
		if (poll(p, 4, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}

		if (!asking && ask_deferred(ls))
			continue;
		if (p[1].revents && !read_answer(ls)) {
			info("no more answers; rejecting the rest");
			give_verdict(ls, cur->id, WSP_CF_REJECT, NULL);
			asking = false;
			answers = NULL;
		}
		if (o.policy == POLICY_NONE && !asking &&
		    (p[0].revents & POLLPRI))
			on_request(ls);
		/* --policy: wsp_accept() decides the requests too. */
		if (p[0].revents & (o.policy != POLICY_NONE ?
				    POLLIN | POLLPRI : POLLIN)) {
			int fd = accept_next(ls, &port);

			if (fd >= 0 && r.sock < 0)
				serve(&r, fd, port, stdin_eof);
			else if (fd >= 0)
				wait_add(fd, port);
		}
		if (p[3].revents) {
			relay_in(&r);
			stdin_eof = r.in_eof;
		}
		if (r.sock >= 0 && p[2].revents)
			relay_out(&r);
		if (r.sock >= 0 && r.done) {
			if (r.err && r.err != EPIPE)
				status = 1;
			relay_end(&r);
			if (!o.keep)
				break;
			serve_next(ls, &r, stdin_eof);
		}
	}
	/* Never served: reset, as close(ls) resets those still queued. */
	while (nr_waiting) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		int fd = waiting[--nr_waiting].fd;

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(fd);
	}
	close(ls);
	return status;
}

/* ---- main --------------------------------------------------------------- */

enum {
	OPT_ONCE = 256,
	OPT_ANSWERS,
	OPT_REPLY,
	OPT_REJECT_DATA,
	OPT_GRANT_QOS,
	OPT_FILTER,
};

static const struct option longopts[] = {
	{ "listen",	 no_argument,	    NULL, 'l' },
	{ "seqpacket",	 no_argument,	    NULL, 's' },
	{ "keep-open",	 no_argument,	    NULL, 'k' },
	{ "once",	 no_argument,	    NULL, OPT_ONCE },
	{ "verbose",	 no_argument,	    NULL, 'v' },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ "conditional", no_argument,	    NULL, 'c' },
	{ "answers",	 required_argument, NULL, OPT_ANSWERS },
	{ "policy",	 required_argument, NULL, 'p' },
	{ "reply",	 required_argument, NULL, OPT_REPLY },
	{ "reject-data", required_argument, NULL, OPT_REJECT_DATA },
	{ "grant-qos",	 required_argument, NULL, OPT_GRANT_QOS },
	{ "filter",	 required_argument, NULL, OPT_FILTER },
	{ "data",	 required_argument, NULL, 'd' },
	{ "qos",	 required_argument, NULL, 'q' },
	{ "timeout",	 required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 }
};


static void parse_policy(const char *s)
{
	if (!strcmp(s, "accept")) {
		o.policy = POLICY_ACCEPT;
	} else if (!strcmp(s, "reject")) {
		o.policy = POLICY_REJECT;
	} else if (!strncmp(s, "match:", 6)) {
		o.policy = POLICY_MATCH;
		o.match = parse_data(s + 6, "--policy match");
	} else {
		bad_usage("--policy takes accept, reject or match:STRING");
	}
}

int main(int argc, char *argv[])
{
	bool client_opts = false, listener_opts = false;
	int c;

	while ((c = getopt_long(argc, argv, "lskvhcp:d:q:t:", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = true;
			break;
		case 's':
			o.seqpacket = true;
			break;
		case 'k':
			o.keep = true;
			listener_opts = true;
			break;
		case OPT_ONCE:
			o.keep = false;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'c':
			o.conditional = true;
			listener_opts = true;
			break;
		case OPT_ANSWERS:
			o.answers = optarg;
			listener_opts = true;
			break;
		case 'p':
			parse_policy(optarg);
			listener_opts = true;
			break;
		case OPT_REPLY:
			o.reply = parse_data(optarg, "--reply");
			listener_opts = true;
			break;
		case OPT_REJECT_DATA:
			o.reject = parse_data(optarg, "--reject-data");
			listener_opts = true;
			break;
		case OPT_FILTER:
			o.filter = optarg;
			listener_opts = true;
			break;
		case OPT_GRANT_QOS:
			parse_qos(optarg, &o.grant_rate, &o.grant_bucket);
			o.grant_qos = true;
			listener_opts = true;
			break;
		case 'd':
			o.data = parse_data(optarg, "--data");
			client_opts = true;
			break;
		case 'q':
			parse_qos(optarg, &o.qos_rate, &o.qos_bucket);
			o.qos = true;
			client_opts = true;
			break;
		case 't':
			o.timeout_ms = parse_u32(optarg, "--timeout");
			o.timeout_set = true;
			client_opts = true;
			break;
		default:
			bad_usage("bad option");
		}
	}
	if (optind != argc - 1)
		bad_usage("give exactly one PORT");
	o.port = parse_u32(argv[optind], "PORT");
	if (o.listen && client_opts)
		bad_usage("--data, --qos and --timeout are client options");
	if (!o.listen && listener_opts)
		bad_usage("listener options need -l");
	if (o.answers && o.policy != POLICY_NONE)
		bad_usage("--answers and --policy exclude each other");
	if (o.answers)
		o.conditional = true;
	if (o.policy == POLICY_NONE && !o.conditional &&
	    (o.reply.len || o.reject.len))
		o.policy = POLICY_ACCEPT;
	if (o.policy != POLICY_NONE) {
		if (o.conditional && o.verbose)
			info("--policy given: no questions asked");
		o.conditional = true;
	}
	if (o.listen && !o.port)
		bad_usage("listen on a port other than 0");
	if (o.filter)
		compile_filter();

	signal(SIGPIPE, SIG_IGN);
	return o.listen ? listener() : client();
}
