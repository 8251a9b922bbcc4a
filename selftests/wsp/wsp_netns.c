// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP and network namespaces (SPEC sections 1, 2, 7): ports, sysctls,
 * /proc files and counters are per namespace; sockets in different
 * namespaces never meet; a socket stays in the namespace it was made in.
 */
#define _GNU_SOURCE
#include "wsp_util.h"

#define PORT	7100

TEST(isolated_ports)
{
	int lfd, cfd, sfd;
	pid_t pid;

	ASSERT_EQ(0, wsp_private_netns());
	lfd = wsp_listener(SOCK_STREAM, PORT, 4, NULL);
	ASSERT_LE(0, lfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd, l2, c2, s2;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		fd = wsp_socket(SOCK_STREAM);
		CHILD_CHECK(fd >= 0);
		/* The parent's listener is invisible from here. */
		CHILD_CHECK(wsp_connect(fd, PORT) == -1);
		CHILD_CHECK(errno == ECONNREFUSED);
		close(fd);
		/* And its port is free here. */
		l2 = wsp_listener(SOCK_STREAM, PORT, 4, NULL);
		CHILD_CHECK(l2 >= 0);
		c2 = wsp_client(SOCK_STREAM, PORT);
		CHILD_CHECK(c2 >= 0);
		s2 = accept(l2, NULL, NULL);
		CHILD_CHECK(s2 >= 0);
		CHILD_CHECK(send(c2, "ns", 2, 0) == 2);
		CHILD_CHECK(wsp_recv_n(s2, 2) == 2);
		_exit(0);
	}
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	/* Nothing reached the parent's listener. */
	ASSERT_EQ(0, wsp_set_nonblock(lfd, true));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	/* Which still works for its own namespace. */
	cfd = wsp_client(SOCK_STREAM, PORT);
	ASSERT_LE(0, cfd);
	sfd = accept(lfd, NULL, NULL);
	EXPECT_LE(0, sfd);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST(socket_keeps_its_namespace)
{
	int s, c_old, c_new, sfd, l_new;
	long long port;

	ASSERT_EQ(0, wsp_private_netns());
	s = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, s);
	c_old = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, c_old);
	/* Move the task; the sockets stay behind. */
	ASSERT_EQ(0, wsp_private_netns());
	ASSERT_EQ(0, listen(s, 4));
	port = wsp_local_port(s);
	ASSERT_LT(0, port);
	/*
	 * The port is taken in the old namespace only.  Bind it here first:
	 * the refused connect below binds c_new to an ephemeral port of
	 * this namespace, which may well be the same number.
	 */
	l_new = wsp_listener(SOCK_SEQPACKET, port, 4, NULL);
	EXPECT_LE(0, l_new);
	close(l_new);
	c_new = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, c_new);
	EXPECT_EQ(-1, wsp_connect(c_new, port));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(0, wsp_connect(c_old, port));
	sfd = accept(s, NULL, NULL);
	EXPECT_LE(0, sfd);
	close(sfd);
	close(c_new);
	close(c_old);
	close(s);
}

static const char * const sysctls[] = {
	"max_backlog", "connect_timeout_ms", "ephemeral_ports",
	"max_connect_data",
};

TEST(sysctl_defaults)
{
	char buf[64];
	int lo, hi;

	ASSERT_EQ(0, wsp_private_netns());
	EXPECT_EQ(WSP_DEF_MAX_BACKLOG, wsp_sysctl_get("max_backlog"));
	EXPECT_EQ(WSP_DEF_CONNECT_TIMEOUT,
		  wsp_sysctl_get("connect_timeout_ms"));
	EXPECT_EQ(WSP_DEF_CONNECT_DATA, wsp_sysctl_get("max_connect_data"));
	ASSERT_EQ(0, wsp_sysctl_read("ephemeral_ports", buf, sizeof(buf)));
	ASSERT_EQ(2, sscanf(buf, "%d %d", &lo, &hi));
	EXPECT_EQ(WSP_DEF_EPH_LO, lo);
	EXPECT_EQ(WSP_DEF_EPH_HI, hi);
}

TEST(max_connect_data_range)
{
	static const char * const bad[] = { "-1\n", "65537\n", "1000000\n" };
	unsigned int i;

	ASSERT_EQ(0, wsp_private_netns());
	EXPECT_EQ(0, wsp_sysctl_set("max_connect_data", "0\n"));
	EXPECT_EQ(0, wsp_sysctl_get("max_connect_data"));
	EXPECT_EQ(0, wsp_sysctl_set("max_connect_data", "65536\n"));
	EXPECT_EQ(65536, wsp_sysctl_get("max_connect_data"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, wsp_sysctl_set("max_connect_data", bad[i]))
			TH_LOG("\"%s\" accepted", bad[i]);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(65536, wsp_sysctl_get("max_connect_data"));
	}
}

TEST(sysctls_per_namespace)
{
	char before[4][64], after[4][64];
	unsigned int i;
	pid_t pid;

	ASSERT_EQ(0, wsp_private_netns());
	ASSERT_EQ(0, wsp_sysctl_set("max_backlog", "77\n"));
	ASSERT_EQ(0, wsp_sysctl_set("connect_timeout_ms", "1234\n"));
	ASSERT_EQ(0, wsp_sysctl_set("ephemeral_ports", "20000 20010\n"));
	ASSERT_EQ(0, wsp_sysctl_set("max_connect_data", "100\n"));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, wsp_sysctl_read(sysctls[i], before[i], 64));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int lfd;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		/* A new namespace starts from the defaults ... */
		CHILD_CHECK(wsp_sysctl_get("max_backlog") ==
			    WSP_DEF_MAX_BACKLOG);
		CHILD_CHECK(wsp_sysctl_get("connect_timeout_ms") ==
			    WSP_DEF_CONNECT_TIMEOUT);
		CHILD_CHECK(wsp_sysctl_get("ephemeral_ports") ==
			    WSP_DEF_EPH_LO);
		CHILD_CHECK(wsp_sysctl_get("max_connect_data") ==
			    WSP_DEF_CONNECT_DATA);
		/* ... and its own changes stay in it. */
		CHILD_CHECK(wsp_sysctl_set("max_backlog", "3\n") == 0);
		CHILD_CHECK(wsp_sysctl_set("connect_timeout_ms", "9\n") == 0);
		CHILD_CHECK(wsp_sysctl_set("ephemeral_ports",
					   "30000 30000\n") == 0);
		CHILD_CHECK(wsp_sysctl_set("max_connect_data", "7\n") == 0);
		/* And they apply to it. */
		lfd = wsp_listener(SOCK_STREAM, 0, 100, NULL);
		CHILD_CHECK(lfd >= 0);
		CHILD_CHECK(wsp_get_int(lfd, SOL_WSP, WSP_BACKLOG) == 3);
		CHILD_CHECK(wsp_local_port(lfd) == 30000);
		_exit(0);
	}
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, wsp_sysctl_read(sysctls[i], after[i], 64));
		EXPECT_STREQ(before[i], after[i]);
	}
	/* The parent's own values apply to the parent. */
	{
		int lfd = wsp_listener(SOCK_STREAM, 0, 100, NULL);
		long long p;

		ASSERT_LE(0, lfd);
		EXPECT_EQ(77, wsp_get_int(lfd, SOL_WSP, WSP_BACKLOG));
		p = wsp_local_port(lfd);
		EXPECT_LE(20000, p);
		EXPECT_GE(20010, p);
		close(lfd);
	}
}

TEST(proc_per_namespace)
{
	int lfd, n, bad;
	pid_t pid;

	ASSERT_EQ(0, wsp_private_netns());
	lfd = wsp_listener(SOCK_STREAM, 0, 4, NULL);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_proc_find_ino(wsp_ino(lfd), NULL, &n, &bad));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, bad);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		CHILD_CHECK(wsp_proc_find_ino(wsp_ino(lfd), NULL, &n,
					      &bad) == 1);
		CHILD_CHECK(n == 0);
		CHILD_CHECK(wsp_stat("requests") == 0);
		CHILD_CHECK(wsp_stat("backlog_overflows") == 0);
		_exit(0);
	}
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	close(lfd);
}

TEST(counters_per_namespace)
{
	int lfd, cfd;
	__u32 port;
	pid_t pid;

	ASSERT_EQ(0, wsp_private_netns());
	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(1, wsp_stat("requests"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int l2, c2, i;
		__u32 p2;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		l2 = wsp_listener(SOCK_STREAM, 0, 8, &p2);
		CHILD_CHECK(l2 >= 0);
		for (i = 0; i < 3; i++) {
			c2 = wsp_client(SOCK_STREAM, p2);
			CHILD_CHECK(c2 >= 0);
		}
		CHILD_CHECK(wsp_stat("requests") == 3);
		_exit(0);
	}
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	EXPECT_EQ(1, wsp_stat("requests"));
	close(cfd);
	close(lfd);
}

/* A namespace that dies with sockets in every state must clean up. */
TEST(namespace_exit_with_live_sockets)
{
	int lfd, cfd, sfd;
	pid_t pid;
	int i;

	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			int l, c, s, cl, p, err;
			__u32 port, cport;

			CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
			l = wsp_listener(SOCK_STREAM, 0, 8, &port);
			CHILD_CHECK(l >= 0);
			c = wsp_client(SOCK_STREAM, port);	/* unaccepted */
			CHILD_CHECK(c >= 0);
			c = wsp_client(SOCK_STREAM, port);
			CHILD_CHECK(c >= 0);
			s = accept(l, NULL, NULL);
			CHILD_CHECK(s >= 0);
			CHILD_CHECK(send(c, "inflight", 8, 0) == 8);
			cl = wsp_cond_listener(SOCK_SEQPACKET, 0, 8, &cport);
			CHILD_CHECK(cl >= 0);
			p = wsp_client_nb(SOCK_SEQPACKET, cport, &err);
			CHILD_CHECK(p >= 0 && err == EINPROGRESS);
			_exit(0);	/* everything still open */
		}
		EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	}
	/* The family still works afterwards. */
	ASSERT_EQ(0, wsp_pair(SOCK_STREAM, &lfd, &cfd, &sfd, NULL));
	EXPECT_EQ(1, send(cfd, "k", 1, 0));
	EXPECT_EQ(1, wsp_recv_n(sfd, 1));
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_HARNESS_MAIN
