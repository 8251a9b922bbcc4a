// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP visibility (SPEC section 7): /proc/net/wsp lines,
 * /proc/net/wsp_stat counters and the wsp:* tracepoints.
 *
 * /proc/net/wsp: a header line, then per socket
 *   inode type state lport pport backlog cap cond rxq txq
 * Each test runs in a private namespace so that lines and counters are
 * exactly the test's own.
 */
#define _GNU_SOURCE
#include <sys/mount.h>

#include "wsp_util.h"

static const char * const stat_names[] = {
	"requests", "accepted", "rejected", "deferred", "withdrawn_timeout",
	"withdrawn_close", "backlog_overflows", "unknown_verdicts",
	"filter_accepted", "filter_rejected", "filter_deferred",
	"filter_passed",
};
#define NSTATS	(ARRAY_SIZE(stat_names))

FIXTURE(proc) {
	struct wsp_proc_line l;
};

FIXTURE_SETUP(proc)
{
	ASSERT_EQ(0, wsp_private_netns());
}

FIXTURE_TEARDOWN(proc)
{
}

TEST_F(proc, header_and_format)
{
	int lfd, cfd, sfd, ufd, n, bad;
	char buf[4096];

	ASSERT_LT(0, wsp_read_file(WSP_PROC_NET, buf, sizeof(buf)));
	/* Only the header in an empty namespace. */
	ASSERT_NE(NULL, strchr(buf, '\n'));
	EXPECT_EQ(NULL, strchr(strchr(buf, '\n') + 1, '\n'));
	EXPECT_FALSE(buf[0] >= '0' && buf[0] <= '9');

	ASSERT_EQ(0, wsp_pair(SOCK_STREAM, &lfd, &cfd, &sfd, NULL));
	ufd = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, ufd);
	ASSERT_EQ(0, wsp_proc_find_ino(wsp_ino(ufd), NULL, &n, &bad));
	EXPECT_EQ(4, n);
	EXPECT_EQ(0, bad);
	close(ufd);
	ASSERT_EQ(1, wsp_proc_find_ino(wsp_ino(ufd), NULL, &n, &bad));
	EXPECT_EQ(3, n);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_F(proc, unconnected)
{
	int fd;

	fd = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wsp_proc_find(fd, &self->l));
	EXPECT_STREQ("SEQPACKET", self->l.type);
	EXPECT_STREQ("UNCONNECTED", self->l.state);
	EXPECT_EQ(0, self->l.lport);
	EXPECT_EQ(0, self->l.pport);
	EXPECT_EQ(0, self->l.cond);
	ASSERT_EQ(0, wsp_bind(fd, 7200));
	ASSERT_EQ(0, wsp_proc_find(fd, &self->l));
	EXPECT_EQ(7200, self->l.lport);
	EXPECT_STREQ("UNCONNECTED", self->l.state);
	close(fd);
}

TEST_F(proc, listener)
{
	int lfd, cfd, sfd;
	__u32 port;

	lfd = wsp_listener(SOCK_STREAM, 0, 5, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_STREQ("STREAM", self->l.type);
	EXPECT_STREQ("LISTEN", self->l.state);
	EXPECT_EQ(port, self->l.lport);
	EXPECT_EQ(0, self->l.pport);
	EXPECT_EQ(0, self->l.backlog);
	EXPECT_EQ(5, self->l.cap);
	EXPECT_EQ(0, self->l.cond);
	cfd = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_EQ(1, self->l.backlog);
	ASSERT_EQ(0, listen(lfd, 9));
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_EQ(9, self->l.cap);
	EXPECT_EQ(1, self->l.backlog);
	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_EQ(0, self->l.backlog);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_F(proc, conditional_and_connecting)
{
	int lfd, cfd, err;
	__u32 port;

	lfd = wsp_cond_listener(SOCK_SEQPACKET, 0, 3, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_EQ(1, self->l.cond);
	EXPECT_EQ(3, self->l.cap);
	cfd = wsp_client_nb(SOCK_SEQPACKET, port, &err);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(EINPROGRESS, err);
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_EQ(1, self->l.backlog);
	ASSERT_EQ(0, wsp_proc_find(cfd, &self->l));
	EXPECT_STREQ("CONNECTING", self->l.state);
	EXPECT_STREQ("SEQPACKET", self->l.type);
	EXPECT_EQ(wsp_local_port(cfd), self->l.lport);
	close(cfd);
	ASSERT_EQ(0, wsp_proc_find(lfd, &self->l));
	EXPECT_EQ(0, self->l.backlog);
	close(lfd);
}

TEST_F(proc, connected_and_disconnected)
{
	int lfd, cfd, sfd;
	__u32 port;

	ASSERT_EQ(0, wsp_pair(SOCK_STREAM, &lfd, &cfd, &sfd, &port));
	ASSERT_EQ(0, wsp_proc_find(cfd, &self->l));
	EXPECT_STREQ("CONNECTED", self->l.state);
	EXPECT_EQ(wsp_local_port(cfd), self->l.lport);
	EXPECT_EQ(port, self->l.pport);
	ASSERT_EQ(0, wsp_proc_find(sfd, &self->l));
	EXPECT_STREQ("CONNECTED", self->l.state);
	EXPECT_EQ(wsp_local_port(sfd), self->l.lport);
	EXPECT_EQ(wsp_local_port(cfd), self->l.pport);
	close(sfd);
	ASSERT_EQ(0, wsp_proc_find(cfd, &self->l));
	EXPECT_STREQ("DISCONNECTED", self->l.state);
	close(cfd);
	close(lfd);
}

TEST_F(proc, queue_sizes)
{
	int lfd, cfd, sfd;
	char buf[100];

	ASSERT_EQ(0, wsp_pair(SOCK_SEQPACKET, &lfd, &cfd, &sfd, NULL));
	ASSERT_EQ(0, wsp_proc_find(sfd, &self->l));
	EXPECT_EQ(0, self->l.rxq);
	EXPECT_EQ(0, self->l.txq);
	memset(buf, 'q', sizeof(buf));
	ASSERT_EQ(100, send(cfd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, wsp_proc_find(sfd, &self->l));
	EXPECT_LE(100, self->l.rxq);
	ASSERT_EQ(0, wsp_proc_find(cfd, &self->l));
	EXPECT_LT(0, self->l.txq);
	ASSERT_EQ(100, recv(sfd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, wsp_proc_find(sfd, &self->l));
	EXPECT_EQ(0, self->l.rxq);
	ASSERT_EQ(0, wsp_proc_find(cfd, &self->l));
	EXPECT_EQ(0, self->l.txq);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_F(proc, stat_names)
{
	char buf[4096], key[64], *line, *save = NULL;
	unsigned int i, seen = 0;
	long long val;

	ASSERT_LT(0, wsp_read_file(WSP_PROC_STAT, buf, sizeof(buf)));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ASSERT_EQ(2, sscanf(line, "%63s %lld", key, &val))
			TH_LOG("bad line \"%s\"", line);
		for (i = 0; i < NSTATS; i++)
			if (!strcmp(key, stat_names[i]))
				seen |= 1U << i;
		EXPECT_EQ(0, val) TH_LOG("%s in a fresh namespace", key);
	}
	EXPECT_EQ((1U << NSTATS) - 1, seen);
}

TEST_F(proc, counters)
{
	int lfd, clfd, c[4], s, err, i;
	__u32 port, cport;

	lfd = wsp_listener(SOCK_STREAM, 0, 2, &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 2; i++) {
		c[i] = wsp_client(SOCK_STREAM, port);
		ASSERT_LE(0, c[i]);
	}
	EXPECT_EQ(2, wsp_stat("requests"));
	for (i = 0; i < 2; i++) {
		s = accept(lfd, NULL, NULL);
		ASSERT_LE(0, s);
		close(s);
	}
	EXPECT_EQ(2, wsp_stat("accepted"));
	EXPECT_EQ(0, wsp_stat("backlog_overflows"));
	/* Fill and overflow. */
	for (i = 2; i < 4; i++) {
		c[i] = wsp_client(SOCK_STREAM, port);
		ASSERT_LE(0, c[i]);
	}
	s = wsp_client(SOCK_STREAM, port);
	EXPECT_EQ(-1, s);
	EXPECT_EQ(1, wsp_stat("backlog_overflows"));
	EXPECT_EQ(4, wsp_stat("accepted"));
	EXPECT_EQ(0, wsp_stat("withdrawn_close"));

	/* Withdrawals. */
	clfd = wsp_cond_listener(SOCK_STREAM, 0, 4, &cport);
	ASSERT_LE(0, clfd);
	s = wsp_client_nb(SOCK_STREAM, cport, &err);
	ASSERT_LE(0, s);
	ASSERT_EQ(EINPROGRESS, err);
	close(s);
	EXPECT_EQ(1, wsp_stat("withdrawn_close"));
	s = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, wsp_set_timeout_ms(s, 100));
	EXPECT_EQ(-1, wsp_connect(s, cport));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(1, wsp_stat("withdrawn_timeout"));
	EXPECT_EQ(1, wsp_stat("withdrawn_close"));
	close(s);
	EXPECT_EQ(1, wsp_stat("withdrawn_close"));
	for (i = 0; i < 4; i++)
		close(c[i]);
	close(clfd);
	close(lfd);
}

TEST_F(proc, verdict_counters)
{
	struct wsp_request r;
	int lfd, a, b, err;
	__u64 ra, rb;
	__u32 port;

	lfd = wsp_cond_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	err = wsp_verdict(lfd, 12345, WSP_CF_ACCEPT) ? errno : 0;
	if (err == ENOPROTOOPT)
		SKIP(return, "WSP_VERDICT not implemented yet (issue 4)");
	EXPECT_EQ(ENOENT, err);
	EXPECT_EQ(1, wsp_stat("unknown_verdicts"));

	a = wsp_client_nb(SOCK_STREAM, port, &err);
	ASSERT_LE(0, a);
	ASSERT_EQ(EINPROGRESS, err);
	b = wsp_client_nb(SOCK_STREAM, port, &err);
	ASSERT_LE(0, b);
	ASSERT_EQ(EINPROGRESS, err);
	EXPECT_EQ(2, wsp_stat("requests"));

	ASSERT_EQ(0, wsp_peek(lfd, 0, &r));
	ra = r.id;
	ASSERT_EQ(0, wsp_verdict(lfd, ra, WSP_CF_REJECT));
	EXPECT_EQ(1, wsp_stat("rejected"));
	EXPECT_EQ(ECONNREFUSED, wsp_wait_connect(a, WSP_SLOW_MS));

	ASSERT_EQ(0, wsp_peek(lfd, 0, &r));
	rb = r.id;
	EXPECT_NE(ra, rb);
	ASSERT_EQ(0, wsp_verdict(lfd, rb, WSP_CF_DEFER));
	EXPECT_EQ(1, wsp_stat("deferred"));
	/* A deferred request is decided later, by id. */
	ASSERT_EQ(0, wsp_verdict(lfd, rb, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(b, WSP_SLOW_MS));
	EXPECT_EQ(1, wsp_stat("accepted"));

	/* The rejected request is gone: its id is unknown now. */
	EXPECT_EQ(-1, wsp_verdict(lfd, ra, WSP_CF_ACCEPT));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(2, wsp_stat("unknown_verdicts"));
	close(a);
	close(b);
	close(lfd);
}

/* ---- tracepoints ------------------------------------------------------ */

static char tracing[256];

FIXTURE(trace) {
	char buf[1 << 16];
};

FIXTURE_SETUP(trace)
{
	char p[512];
	struct stat st;

	if (!wsp_trace_instance(tracing, sizeof(tracing), "wsp_selftest")[0])
		SKIP(return, "no tracefs in this kernel");
	snprintf(p, sizeof(p), "%s/events/wsp", tracing);
	ASSERT_EQ(0, stat(p, &st)) TH_LOG("no wsp trace events in %s", p);
	ASSERT_EQ(0, wsp_trace_write(tracing, "events/wsp/request/enable", "1"));
	ASSERT_EQ(0, wsp_trace_write(tracing, "events/wsp/accept/enable", "1"));
	ASSERT_EQ(0, wsp_trace_write(tracing, "events/wsp/withdraw/enable", "1"));
	ASSERT_EQ(0, wsp_trace_write(tracing, "trace", ""));
	ASSERT_EQ(0, wsp_trace_write(tracing, "tracing_on", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	if (!tracing[0])
		return;
	wsp_trace_write(tracing, "events/wsp/enable", "0");
	rmdir(tracing);
}

static int count_event(const char *trace, const char *name)
{
	char pat[64];
	const char *p = trace;
	int n = 0;

	snprintf(pat, sizeof(pat), " %s:", name);
	while ((p = strstr(p, pat))) {
		n++;
		p++;
	}
	return n;
}

TEST_F(trace, request_accept_withdraw)
{
	int lfd, clfd, c, s, err;
	__u32 port, cport;
	char p[512];

	if (!tracing[0])
		return;
	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	c = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, c);
	close(c);
	clfd = wsp_cond_listener(SOCK_STREAM, 0, 4, &cport);
	ASSERT_LE(0, clfd);
	c = wsp_client_nb(SOCK_STREAM, cport, &err);
	ASSERT_LE(0, c);
	ASSERT_EQ(EINPROGRESS, err);
	close(c);		/* withdraw */
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	close(s);

	snprintf(p, sizeof(p), "%s/trace", tracing);
	ASSERT_LT(0, wsp_read_file(p, self->buf, sizeof(self->buf)));
	EXPECT_EQ(2, count_event(self->buf, "request")) TH_LOG("%s", self->buf);
	EXPECT_LE(1, count_event(self->buf, "accept")) TH_LOG("%s", self->buf);
	EXPECT_EQ(1, count_event(self->buf, "withdraw")) TH_LOG("%s", self->buf);
	close(clfd);
	close(lfd);
}

TEST_F(trace, verdict_event_exists)
{
	char p[512];
	struct stat st;

	if (!tracing[0])
		return;
	snprintf(p, sizeof(p), "%s/events/wsp/verdict", tracing);
	EXPECT_EQ(0, stat(p, &st));
	snprintf(p, sizeof(p), "%s/events/wsp/request/format", tracing);
	EXPECT_EQ(0, stat(p, &st));
}

TEST_HARNESS_MAIN
