// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP module lifetime (SPEC sections 1 and 8): the family parameter,
 * and rmmod refused while any AF_WSP socket exists.
 *
 * The module is never unloaded here: every delete_module() call is made
 * only after /sys/module/wsp/refcnt shows a reference, so it must fail.
 *
 * On 6.1, delete_module() of a referenced module fails with EWOULDBLOCK
 * (try_stop_module()); kmod's rmmod reports EBUSY ("in use") from the
 * refcnt file before calling it.  Both are accepted as "refused".
 */
#define _GNU_SOURCE
#include "wsp_util.h"

#define REFCNT	"/sys/module/wsp/refcnt"

static long refcnt(void)
{
	char buf[32];

	if (wsp_read_file(REFCNT, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/* The refcount once it has stopped moving (at most ~2 s), or -1. */
static long stable_refcnt(void)
{
	long long end = wsp_now_ms() + 2000;
	long prev = refcnt(), r;

	for (;;) {
		wsp_msleep(100);
		r = refcnt();
		if (r == prev || wsp_now_ms() > end)
			return r;
		prev = r;
	}
}

/* 0 if rmmod is refused as it must be, else a code for the log. */
static int rmmod_refused(void)
{
	long r = refcnt();

	if (r < 0)
		return -1;	/* no refcnt file */
	if (r == 0)
		return -2;	/* would unload: do not try */
	if (syscall(__NR_delete_module, "wsp", O_NONBLOCK) == 0)
		return -3;	/* unloaded! */
	if (errno != EBUSY && errno != EWOULDBLOCK)
		return errno;
	return 0;
}

/*
 * Wait up to 5 s for the module refcount to fall back to @want or below
 * (sockets of namespaces that earlier tests left may still be going away
 * while the baseline is taken, so it can end up lower).
 */
static long refcnt_settles(long want)
{
	long long end = wsp_now_ms() + WSP_SLOW_MS;
	long r;

	while ((r = refcnt()) > want && wsp_now_ms() < end)
		wsp_msleep(10);
	return r;
}

TEST(family_parameter)
{
	char buf[32];
	struct stat st;

	ASSERT_LT(0, wsp_read_file("/sys/module/wsp/parameters/family", buf,
				   sizeof(buf)));
	EXPECT_EQ(AF_WSP, strtol(buf, NULL, 10));
	ASSERT_EQ(0, stat("/sys/module/wsp/parameters/family", &st));
	EXPECT_EQ(0, st.st_mode & 0222) TH_LOG("family must be read-only");
	EXPECT_EQ(-1, wsp_write_file("/sys/module/wsp/parameters/family",
				     "23\n"));
}

TEST(refused_with_plain_socket)
{
	long base = stable_refcnt();
	int fd;

	ASSERT_LE(0, base);
	fd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	EXPECT_LT(base, refcnt());
	EXPECT_EQ(0, rmmod_refused());
	close(fd);
	EXPECT_GE(base, refcnt_settles(base));
}

TEST(refused_with_any_kind_of_socket)
{
	int lfd, clfd, cfd, sfd, pfd, err;
	__u32 port, cport;
	long base = stable_refcnt();

	ASSERT_LE(0, base);
	lfd = wsp_listener(SOCK_SEQPACKET, 0, 4, &port);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(0, rmmod_refused());
	cfd = wsp_client(SOCK_SEQPACKET, port);
	ASSERT_LE(0, cfd);
	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	clfd = wsp_cond_listener(SOCK_STREAM, 0, 4, &cport);
	ASSERT_LE(0, clfd);
	pfd = wsp_client_nb(SOCK_STREAM, cport, &err);
	ASSERT_LE(0, pfd);
	EXPECT_EQ(EINPROGRESS, err);

	/* Only the accepted socket left. */
	close(lfd);
	close(cfd);
	close(clfd);
	close(pfd);
	EXPECT_EQ(0, rmmod_refused());
	close(sfd);
	EXPECT_GE(base, refcnt_settles(base));
}

TEST(refused_with_unaccepted_child_only)
{
	long base = stable_refcnt();
	int lfd, cfd;
	__u32 port;

	ASSERT_LE(0, base);
	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_client(SOCK_STREAM, port);
	ASSERT_LE(0, cfd);
	close(cfd);
	/* The listener still holds a child nobody accepted. */
	EXPECT_EQ(0, rmmod_refused());
	close(lfd);
	EXPECT_GE(base, refcnt_settles(base));
}

TEST(refused_with_socket_in_other_netns)
{
	long base = stable_refcnt();
	int ready[2], quit[2];
	pid_t pid;
	char c;

	ASSERT_LE(0, base);
	/* One pipe each way: a shared one lets the child eat its own byte. */
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(quit));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		close(ready[0]);
		close(quit[1]);
		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		fd = wsp_listener(SOCK_STREAM, 0, 4, NULL);
		CHILD_CHECK(fd >= 0);
		CHILD_CHECK(write(ready[1], "r", 1) == 1);
		CHILD_CHECK(read(quit[0], &c, 1) >= 0);	/* EOF: quit */
		_exit(0);
	}
	close(ready[1]);
	close(quit[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(0, rmmod_refused());
	close(quit[1]);
	close(ready[0]);
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
	/* Its namespace goes away asynchronously, and with it the socket. */
	EXPECT_GE(base, refcnt_settles(base));
}

TEST(no_reference_leak)
{
	long base = stable_refcnt();
	int i, lfd, cfd, sfd;
	__u32 port;

	ASSERT_LE(0, base);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, wsp_pair(i & 1 ? SOCK_STREAM : SOCK_SEQPACKET,
				      &lfd, &cfd, &sfd, &port));
		send(cfd, "x", 1, 0);
		close(i & 2 ? cfd : sfd);
		close(lfd);
		close(i & 2 ? sfd : cfd);
	}
	EXPECT_GE(base, refcnt_settles(base));
}

TEST_HARNESS_MAIN
