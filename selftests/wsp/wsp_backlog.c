// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP backlog cap (SPEC section 2): the silent clamp, the exact cap,
 * re-listen, WSP_BACKLOG, SO_ACCEPTCONN and the overflow counter.
 *
 * Every test runs in its own network namespace, so net.wsp.max_backlog
 * can be changed freely and /proc/net/wsp_stat deltas are exact.
 */
#define _GNU_SOURCE
#include "wsp_util.h"

static int cap_of(int fd)
{
	return wsp_get_int(fd, SOL_WSP, WSP_BACKLOG);
}

FIXTURE(backlog) {
	int lfd;
	__u32 port;
	int cli[64];
	int ncli;
};

FIXTURE_VARIANT(backlog) {
	int type;
};

FIXTURE_VARIANT_ADD(backlog, stream) {
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(backlog, seqpacket) {
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(backlog)
{
	ASSERT_EQ(0, wsp_private_netns());
	self->lfd = wsp_socket(variant->type);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, wsp_bind(self->lfd, 0));
	self->port = wsp_local_port(self->lfd);
	self->ncli = 0;
}

FIXTURE_TEARDOWN(backlog)
{
	int i;

	for (i = 0; i < self->ncli; i++)
		close(self->cli[i]);
	wsp_close(&self->lfd);
}

/* Blocking connect of a new client; returns 0 or errno. */
static int __add_client(int *cli, int *ncli, __u32 port, int type)
{
	int fd = wsp_client(type, port);

	if (fd < 0)
		return errno;
	cli[(*ncli)++] = fd;
	return 0;
}

#define add_client(self, type) \
	__add_client((self)->cli, &(self)->ncli, (self)->port, type)

/* Blocking connect that must fail at once with ECONNREFUSED. */
static int refused_at_once(__u32 port, int type)
{
	long long t0 = wsp_now_ms();
	int fd, err;

	fd = wsp_client(type, port);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = errno;
	if (wsp_now_ms() - t0 > 2000)
		return -1;	/* it waited: not "at once" */
	return err;
}

TEST_F(backlog, clamp_small)
{
	ASSERT_EQ(0, listen(self->lfd, 5));
	EXPECT_EQ(5, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, 1));
	EXPECT_EQ(1, cap_of(self->lfd));
	/* listen(0) is clamped up to 1, silently. */
	ASSERT_EQ(0, listen(self->lfd, 0));
	EXPECT_EQ(1, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, 4096));
	EXPECT_EQ(4096, cap_of(self->lfd));
}

TEST_F(backlog, clamp_to_max_backlog)
{
	ASSERT_EQ(0, wsp_sysctl_set_ll("max_backlog", 8));
	ASSERT_EQ(0, listen(self->lfd, 100));
	EXPECT_EQ(8, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, 9));
	EXPECT_EQ(8, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, 8));
	EXPECT_EQ(8, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, 7));
	EXPECT_EQ(7, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, INT_MAX));
	EXPECT_EQ(8, cap_of(self->lfd));
}

/*
 * A negative backlog never reaches the family: __sys_listen() turns any
 * backlog above net.core.somaxconn, negative ones included (unsigned
 * compare), into somaxconn.  So listen(-1) is silent and gives
 * clamp(somaxconn, 1, max_backlog), as for TCP.
 */
TEST_F(backlog, clamp_negative)
{
	char buf[32];
	long long somaxconn;

	ASSERT_LE(0, wsp_read_file("/proc/sys/net/core/somaxconn", buf,
				   sizeof(buf)));
	somaxconn = strtoll(buf, NULL, 10);
	ASSERT_LT(8, somaxconn);

	ASSERT_EQ(0, wsp_sysctl_set_ll("max_backlog", 8));
	ASSERT_EQ(0, listen(self->lfd, -1));
	EXPECT_EQ(8, cap_of(self->lfd));
	ASSERT_EQ(0, listen(self->lfd, INT_MIN));
	EXPECT_EQ(8, cap_of(self->lfd));

	ASSERT_EQ(0, wsp_sysctl_set_ll("max_backlog", 1048576));
	ASSERT_EQ(0, listen(self->lfd, -100));
	EXPECT_EQ(somaxconn, cap_of(self->lfd));
}

TEST_F(backlog, max_backlog_sysctl)
{
	static const char * const bad[] = { "0\n", "-1\n", "1048577\n",
					    "2147483647\n" };
	unsigned int i;

	EXPECT_EQ(WSP_DEF_MAX_BACKLOG, wsp_sysctl_get("max_backlog"));
	EXPECT_EQ(0, wsp_sysctl_set_ll("max_backlog", 1));
	EXPECT_EQ(1, wsp_sysctl_get("max_backlog"));
	EXPECT_EQ(0, wsp_sysctl_set_ll("max_backlog", 1048576));
	EXPECT_EQ(1048576, wsp_sysctl_get("max_backlog"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, wsp_sysctl_set("max_backlog", bad[i]))
			TH_LOG("\"%s\" accepted", bad[i]);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(1048576, wsp_sysctl_get("max_backlog"));
	}
}

TEST_F(backlog, backlog_option_errors)
{
	socklen_t len = 2;
	int val;

	ASSERT_EQ(0, listen(self->lfd, 3));
	EXPECT_EQ(-1, getsockopt(self->lfd, SOL_WSP, WSP_BACKLOG, &val, &len));
	EXPECT_EQ(EINVAL, errno);
	len = sizeof(val);
	EXPECT_EQ(-1, getsockopt(self->lfd, SOL_WSP, WSP_BACKLOG, (void *)8,
				 &len));
	EXPECT_EQ(EFAULT, errno);
	/* WSP_BACKLOG is read-only: setting it is refused, cap unchanged. */
	val = 100;
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_WSP, WSP_BACKLOG, &val,
				 sizeof(val)));
	EXPECT_EQ(3, cap_of(self->lfd));
}

TEST_F(backlog, exact_cap)
{
	long long over0 = wsp_stat("backlog_overflows");
	int i, fd, err, sfd;

	EXPECT_EQ(0, over0);
	ASSERT_EQ(0, listen(self->lfd, 3));
	ASSERT_EQ(3, cap_of(self->lfd));
	/* Exactly cap connections fit; they are accepted on arrival. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, add_client(self, variant->type)) TH_LOG("client %d", i);
	/* cap + 1: refused at once, blocking ... */
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
	/* ... and non-blocking: no EINPROGRESS, the refusal is immediate. */
	fd = wsp_client_nb(variant->type, self->port, &err);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ECONNREFUSED, err);
	close(fd);
	EXPECT_EQ(2, wsp_stat("backlog_overflows"));

	/* accept() frees one slot: exactly one more fits. */
	sfd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, add_client(self, variant->type));
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
	EXPECT_EQ(3, wsp_stat("backlog_overflows"));
	close(sfd);
}

TEST_F(backlog, cap_one)
{
	ASSERT_EQ(0, listen(self->lfd, 0));
	ASSERT_EQ(0, add_client(self, variant->type));
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
	EXPECT_EQ(1, wsp_stat("backlog_overflows"));
}

TEST_F(backlog, cap_from_sysctl)
{
	int i;

	ASSERT_EQ(0, wsp_sysctl_set_ll("max_backlog", 2));
	ASSERT_EQ(0, listen(self->lfd, 50));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, add_client(self, variant->type));
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
}

TEST_F(backlog, relisten_grow)
{
	int i, fd;

	ASSERT_EQ(0, listen(self->lfd, 2));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, add_client(self, variant->type));
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
	ASSERT_EQ(0, listen(self->lfd, 4));
	EXPECT_EQ(4, cap_of(self->lfd));
	EXPECT_EQ(1, wsp_get_int(self->lfd, SOL_SOCKET, SO_ACCEPTCONN));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, add_client(self, variant->type));
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
	/* The two queued before re-listen are still there: 4 to accept. */
	ASSERT_EQ(0, wsp_set_nonblock(self->lfd, true));
	for (i = 0; i < 4; i++) {
		fd = accept(self->lfd, NULL, NULL);
		EXPECT_LE(0, fd) TH_LOG("accept %d: %s", i, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	EXPECT_EQ(-1, accept(self->lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(backlog, relisten_shrink)
{
	int i, fd;

	ASSERT_EQ(0, listen(self->lfd, 4));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, add_client(self, variant->type));
	ASSERT_EQ(0, listen(self->lfd, 1));
	EXPECT_EQ(1, cap_of(self->lfd));
	/* Over the new cap: nothing new fits, nothing queued is dropped. */
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
	for (i = 0; i < self->ncli; i++)
		EXPECT_EQ(0, wsp_revents(self->cli[i]) & (POLLERR | POLLHUP));
	ASSERT_EQ(0, wsp_set_nonblock(self->lfd, true));
	for (i = 0; i < 3; i++) {
		fd = accept(self->lfd, NULL, NULL);
		EXPECT_LE(0, fd) TH_LOG("accept %d: %s", i, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	EXPECT_EQ(0, add_client(self, variant->type));
	EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port, variant->type));
}

TEST_F(backlog, relisten_keeps_pending)
{
	int i, fd, err, c[3];

	ASSERT_EQ(0, listen(self->lfd, 2));
	ASSERT_EQ(0, wsp_set_int(self->lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, 1));
	for (i = 0; i < 2; i++) {
		c[i] = wsp_client_nb(variant->type, self->port, &err);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(EINPROGRESS, err);
	}
	fd = wsp_client_nb(variant->type, self->port, &err);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ECONNREFUSED, err);
	close(fd);

	ASSERT_EQ(0, listen(self->lfd, 3));
	EXPECT_EQ(3, cap_of(self->lfd));
	/* The pending requests neither failed nor completed. */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, wsp_revents(c[i])) TH_LOG("client %d", i);
	c[2] = wsp_client_nb(variant->type, self->port, &err);
	ASSERT_LE(0, c[2]);
	EXPECT_EQ(EINPROGRESS, err);
	fd = wsp_client_nb(variant->type, self->port, &err);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ECONNREFUSED, err);
	close(fd);
	for (i = 0; i < 3; i++)
		close(c[i]);
}

TEST_F(backlog, so_acceptconn)
{
	int cfd, sfd;

	EXPECT_EQ(0, wsp_get_int(self->lfd, SOL_SOCKET, SO_ACCEPTCONN));
	ASSERT_EQ(0, listen(self->lfd, 2));
	EXPECT_EQ(1, wsp_get_int(self->lfd, SOL_SOCKET, SO_ACCEPTCONN));
	cfd = wsp_client(variant->type, self->port);
	ASSERT_LE(0, cfd);
	sfd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, wsp_get_int(cfd, SOL_SOCKET, SO_ACCEPTCONN));
	EXPECT_EQ(0, wsp_get_int(sfd, SOL_SOCKET, SO_ACCEPTCONN));
	close(cfd);
	close(sfd);
}

TEST_F(backlog, overflow_counter_per_listener)
{
	__u32 port2;
	int l2, i;

	/* Two listeners, each full: both count in the namespace total. */
	ASSERT_EQ(0, listen(self->lfd, 1));
	l2 = wsp_listener(variant->type, 0, 1, &port2);
	ASSERT_LE(0, l2);
	ASSERT_EQ(0, add_client(self, variant->type));
	self->cli[self->ncli] = wsp_client(variant->type, port2);
	ASSERT_LE(0, self->cli[self->ncli]);
	self->ncli++;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(ECONNREFUSED, refused_at_once(self->port,
							variant->type));
		EXPECT_EQ(ECONNREFUSED, refused_at_once(port2, variant->type));
	}
	EXPECT_EQ(6, wsp_stat("backlog_overflows"));
	close(l2);
}

TEST_HARNESS_MAIN
