// SPDX-License-Identifier: GPL-2.0
/*
 * Regressions for the findings of the outside review (hardening, part 1).
 * Each test names its finding.  Some only fail through the debug kernel's
 * checks (kmemleak, KASAN) at the end of the run; they say so.
 */
#include "wsp_util.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

FIXTURE(review)
{
	int type;
};

FIXTURE_VARIANT(review)
{
	int type;
};

FIXTURE_VARIANT_ADD(review, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(review, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(review)
{
	self->type = variant->type;
}

FIXTURE_TEARDOWN(review)
{
}

static pid_t peercred_pid(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return -1;
	return uc.pid;
}

/*
 * Finding 2: a socket that listened, stopped (shutdown) and then
 * connected had its listen()-time SO_PEERCRED overwritten without a put:
 * kmemleak reported the pid and the cred on the debug kernels.  Here the
 * old credentials are a child's, so the leak is of an exited task's.
 */
TEST_F(review, peercred_of_a_former_listener)
{
	int lfd, fd, s, i;
	__u32 port;
	pid_t pid;

	lfd = wsp_listener(self->type, 0, 8, &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 4; i++) {
		fd = wsp_socket(self->type);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, wsp_bind(fd, 0));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(listen(fd, 1) ? 1 : 0);
		ASSERT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS));
		EXPECT_EQ(pid, peercred_pid(fd));
		ASSERT_EQ(0, shutdown(fd, SHUT_RD));
		ASSERT_EQ(0, wsp_connect(fd, port));
		/* Now the listener's, as of its listen(): ours. */
		EXPECT_EQ(getpid(), peercred_pid(fd));
		s = accept(lfd, NULL, NULL);
		ASSERT_LE(0, s);
		EXPECT_EQ(getpid(), peercred_pid(s));
		close(s);
		close(fd);
	}
	close(lfd);
}

struct relisten_race {
	int lfd;
	__u32 port;
	volatile int stop;
};

static void *relisten_loop(void *arg)
{
	struct relisten_race *r = arg;
	pid_t pid;

	while (!r->stop) {
		pid = fork();
		if (pid == 0)
			_exit(listen(r->lfd, 64) ? 1 : 0);
		if (pid < 0 || wsp_wait_child(pid, WSP_SLOW_MS))
			return (void *)1;
	}
	return NULL;
}

/*
 * Finding 1: a re-listen swaps the listener's SO_PEERCRED under
 * sk_peer_lock and puts the old one; an automatic accept copied it
 * without that lock.  Each re-listen here is by a child that exits at
 * once, so the credentials put are the last reference to that child's
 * pid: a copy that races with it is a use-after-free that KASAN reports.
 */
TEST_F(review, relisten_vs_automatic_accept)
{
	struct relisten_race r = { 0 };
	long long end = wsp_now_ms() + 3000;
	pthread_t t;
	void *ret;
	int c, s, n = 0;

	r.lfd = wsp_listener(self->type, 0, 64, &r.port);
	ASSERT_LE(0, r.lfd);
	ASSERT_EQ(0, pthread_create(&t, NULL, relisten_loop, &r));
	while (wsp_now_ms() < end) {
		c = wsp_client(self->type, r.port);
		ASSERT_LE(0, c);
		s = accept(r.lfd, NULL, NULL);
		ASSERT_LE(0, s);
		/* Whoever listened last: us or one of the children. */
		EXPECT_LT(0, peercred_pid(c));
		close(s);
		close(c);
		n++;
	}
	r.stop = 1;
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_LT(0, n);
	close(r.lfd);
}

TEST_HARNESS_MAIN
