// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP addressing: socket(), bind(), getsockname(), getpeername(),
 * implicit binds and the ephemeral port range (SPEC section 1), plus the
 * generic option and copy-out robustness rules of section 8.
 */
#define _GNU_SOURCE
#include <grp.h>

#include "wsp_util.h"

/* Explicit ports used below: above 1023, below the default ephemeral range. */
#define PORT_A	7001
#define PORT_B	7002

TEST(socket_types)
{
	static const int bad[] = { SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_DCCP,
				   SOCK_PACKET };
	unsigned int i;
	int fd;

	fd = socket(AF_WSP, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	close(fd);
	fd = socket(AF_WSP, SOCK_SEQPACKET, 0);
	ASSERT_LE(0, fd);
	close(fd);
	fd = socket(PF_WSP, SOCK_STREAM, PF_WSP);
	ASSERT_LE(0, fd) TH_LOG("protocol PF_WSP must be accepted");
	close(fd);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = socket(AF_WSP, bad[i], 0);
		EXPECT_EQ(-1, fd) TH_LOG("type %d", bad[i]);
		EXPECT_EQ(ESOCKTNOSUPPORT, errno) TH_LOG("type %d", bad[i]);
		if (fd >= 0)
			close(fd);
	}
}

TEST(socket_protocol)
{
	static const int bad[] = { 1, 6, 17, PF_WSP + 1, 255 };
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = socket(AF_WSP, SOCK_STREAM, bad[i]);
		EXPECT_EQ(-1, fd) TH_LOG("protocol %d", bad[i]);
		EXPECT_EQ(EPROTONOSUPPORT, errno) TH_LOG("protocol %d", bad[i]);
		if (fd >= 0)
			close(fd);
		fd = socket(AF_WSP, SOCK_SEQPACKET, bad[i]);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(EPROTONOSUPPORT, errno);
		if (fd >= 0)
			close(fd);
	}
}

TEST(socket_flags)
{
	int fd;

	fd = socket(AF_WSP, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(SOCK_SEQPACKET, wsp_get_int(fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(AF_WSP, wsp_get_int(fd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(0, wsp_get_int(fd, SOL_SOCKET, SO_PROTOCOL));
	close(fd);
}

FIXTURE(addr) {
	int fd;
	int fd2;
};

FIXTURE_SETUP(addr)
{
	/* Private namespace: explicit ports never collide with leftovers. */
	ASSERT_EQ(0, wsp_private_netns());
	self->fd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, self->fd);
	self->fd2 = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, self->fd2);
}

FIXTURE_TEARDOWN(addr)
{
	wsp_close(&self->fd);
	wsp_close(&self->fd2);
}

TEST_F(addr, bind_explicit)
{
	struct sockaddr_wsp a;
	socklen_t len = sizeof(a) + 8;
	char buf[sizeof(a) + 8];

	ASSERT_EQ(0, wsp_bind(self->fd, PORT_A));
	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, getsockname(self->fd, (struct sockaddr *)buf, &len));
	EXPECT_EQ(sizeof(a), len);
	memcpy(&a, buf, sizeof(a));
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(PORT_A, a.swsp_port);
	/* Section 8: copied-out structs are fully initialised. */
	EXPECT_EQ(0, a.swsp_reserved);
	EXPECT_EQ(0, memcmp(a.swsp_zero, "\0\0\0\0\0\0\0\0", 8));
	/* Nothing is written past the address. */
	EXPECT_EQ((char)0xaa, buf[sizeof(a)]);
}

TEST_F(addr, bind_ephemeral)
{
	long long p1, p2;
	int lo, hi;

	ASSERT_EQ(0, wsp_eph_range(&lo, &hi));
	EXPECT_EQ(WSP_DEF_EPH_LO, lo);
	EXPECT_EQ(WSP_DEF_EPH_HI, hi);
	ASSERT_EQ(0, wsp_bind(self->fd, 0));
	ASSERT_EQ(0, wsp_bind(self->fd2, 0));
	p1 = wsp_local_port(self->fd);
	p2 = wsp_local_port(self->fd2);
	EXPECT_LE(lo, p1);
	EXPECT_GE(hi, p1);
	EXPECT_LE(lo, p2);
	EXPECT_GE(hi, p2);
	EXPECT_NE(p1, p2);
}

TEST_F(addr, bind_in_use)
{
	int fd3;

	ASSERT_EQ(0, wsp_bind(self->fd, PORT_A));
	EXPECT_EQ(-1, wsp_bind(self->fd2, PORT_A));
	EXPECT_EQ(EADDRINUSE, errno);
	/* A listener holds its port as well. */
	ASSERT_EQ(0, listen(self->fd, 1));
	EXPECT_EQ(-1, wsp_bind(self->fd2, PORT_A));
	EXPECT_EQ(EADDRINUSE, errno);
	/* The port is free again once its owner is closed. */
	wsp_close(&self->fd);
	EXPECT_EQ(0, wsp_bind(self->fd2, PORT_A));
	/* And busy again for everyone else. */
	fd3 = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, fd3);
	EXPECT_EQ(-1, wsp_bind(fd3, PORT_A));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd3);
}

TEST_F(addr, bind_twice)
{
	ASSERT_EQ(0, wsp_bind(self->fd, PORT_A));
	EXPECT_EQ(-1, wsp_bind(self->fd, PORT_B));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, wsp_bind(self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(PORT_A, wsp_local_port(self->fd));
	/* A failed bind does not leak a port: PORT_B is still free. */
	EXPECT_EQ(0, wsp_bind(self->fd2, PORT_B));
}

TEST_F(addr, bind_after_implicit)
{
	__u32 port;
	int lfd;

	lfd = wsp_listener(SOCK_STREAM, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_connect(self->fd, port));
	EXPECT_EQ(-1, wsp_bind(self->fd, PORT_A));
	EXPECT_EQ(EINVAL, errno);
	close(lfd);
}

TEST_F(addr, bind_bad_len)
{
	struct sockaddr_wsp a = wsp_sa(PORT_A);
	static const socklen_t lens[] = { 0, 1, 2, 4, 8, sizeof(a) - 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		EXPECT_EQ(-1, bind(self->fd, (struct sockaddr *)&a, lens[i]))
			TH_LOG("len %u", lens[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("len %u", lens[i]);
	}
	/* Nothing got bound by the failures. */
	EXPECT_EQ(0, wsp_bind(self->fd, PORT_A));
}

TEST_F(addr, bind_bad_family)
{
	static const int fam[] = { AF_INET, AF_UNIX, AF_INET6, AF_WSP + 1 };
	struct sockaddr_wsp a = wsp_sa(PORT_A);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fam); i++) {
		a.swsp_family = fam[i];
		EXPECT_EQ(-1, bind(self->fd, (struct sockaddr *)&a, sizeof(a)))
			TH_LOG("family %d", fam[i]);
		EXPECT_EQ(EAFNOSUPPORT, errno) TH_LOG("family %d", fam[i]);
	}
	EXPECT_EQ(0, wsp_bind(self->fd, PORT_A));
}

TEST_F(addr, bind_nonzero_padding)
{
	struct sockaddr_wsp a = wsp_sa(PORT_A);
	unsigned int i;

	a.swsp_reserved = 1;
	EXPECT_EQ(-1, bind(self->fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	a.swsp_reserved = 0x8000;
	EXPECT_EQ(-1, bind(self->fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	a.swsp_reserved = 0;
	for (i = 0; i < sizeof(a.swsp_zero); i++) {
		a.swsp_zero[i] = 0x01;
		EXPECT_EQ(-1, bind(self->fd, (struct sockaddr *)&a, sizeof(a)))
			TH_LOG("zero[%u]", i);
		EXPECT_EQ(EINVAL, errno);
		a.swsp_zero[i] = 0;
	}
	EXPECT_EQ(0, bind(self->fd, (struct sockaddr *)&a, sizeof(a)));
}

TEST_F(addr, bind_bad_pointer)
{
	EXPECT_EQ(-1, bind(self->fd, (struct sockaddr *)8,
			   sizeof(struct sockaddr_wsp)));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(addr, connect_bad_addr)
{
	struct sockaddr_wsp a = wsp_sa(PORT_A);
	__u32 port;
	int lfd;

	lfd = wsp_listener(SOCK_STREAM, PORT_A, 4, &port);
	ASSERT_LE(0, lfd);

	EXPECT_EQ(-1, connect(self->fd, (struct sockaddr *)&a, sizeof(a) - 1));
	EXPECT_EQ(EINVAL, errno);
	a.swsp_family = AF_INET;
	EXPECT_EQ(-1, connect(self->fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	a = wsp_sa(PORT_A);
	a.swsp_reserved = 7;
	EXPECT_EQ(-1, connect(self->fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	a = wsp_sa(PORT_A);
	a.swsp_zero[3] = 1;
	EXPECT_EQ(-1, connect(self->fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	/* None of those left the socket connected: a good connect works. */
	EXPECT_EQ(0, wsp_connect(self->fd, PORT_A));
	close(lfd);
}

TEST_F(addr, connect_refused)
{
	int lfd;

	/* Port 0 never has a listener. */
	EXPECT_EQ(-1, wsp_connect(self->fd, 0));
	EXPECT_EQ(ECONNREFUSED, errno);
	/* Nothing bound. */
	EXPECT_EQ(-1, wsp_connect(self->fd, PORT_A));
	EXPECT_EQ(ECONNREFUSED, errno);
	/* Bound but not listening. */
	lfd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_bind(lfd, PORT_A));
	EXPECT_EQ(-1, wsp_connect(self->fd, PORT_A));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(lfd);
}

TEST_F(addr, getsockname_unbound)
{
	struct sockaddr_wsp a;
	socklen_t len = sizeof(a);

	memset(&a, 0xaa, sizeof(a));
	ASSERT_EQ(0, getsockname(self->fd, (struct sockaddr *)&a, &len));
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(0, a.swsp_port);
	EXPECT_EQ(0, a.swsp_reserved);
	EXPECT_EQ(0, memcmp(a.swsp_zero, "\0\0\0\0\0\0\0\0", 8));
}

TEST_F(addr, getsockname_short_buffer)
{
	struct sockaddr_wsp a;
	socklen_t len = 4;

	ASSERT_EQ(0, wsp_bind(self->fd, PORT_A));
	memset(&a, 0xaa, sizeof(a));
	ASSERT_EQ(0, getsockname(self->fd, (struct sockaddr *)&a, &len));
	/* The full length is reported, only 4 bytes are copied. */
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(0xaaaaaaaa, a.swsp_port);
}

TEST_F(addr, getpeername)
{
	struct sockaddr_wsp a;
	socklen_t len = sizeof(a);
	int lfd, sfd;
	__u32 port;

	EXPECT_EQ(-1, wsp_peer_port(self->fd));
	EXPECT_EQ(ENOTCONN, errno);

	lfd = wsp_listener(SOCK_STREAM, PORT_A, 4, &port);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(-1, wsp_peer_port(lfd));
	EXPECT_EQ(ENOTCONN, errno);

	ASSERT_EQ(0, wsp_connect(self->fd, PORT_A));
	memset(&a, 0xaa, sizeof(a));
	ASSERT_EQ(0, getpeername(self->fd, (struct sockaddr *)&a, &len));
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(PORT_A, a.swsp_port);
	EXPECT_EQ(0, a.swsp_reserved);
	EXPECT_EQ(0, memcmp(a.swsp_zero, "\0\0\0\0\0\0\0\0", 8));

	memset(&a, 0xaa, sizeof(a));
	len = sizeof(a);
	sfd = accept(lfd, (struct sockaddr *)&a, &len);
	ASSERT_LE(0, sfd);
	/* accept() reports the caller's address, fully initialised. */
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(wsp_local_port(self->fd), a.swsp_port);
	EXPECT_EQ(0, a.swsp_reserved);
	EXPECT_EQ(0, memcmp(a.swsp_zero, "\0\0\0\0\0\0\0\0", 8));
	/* The accepted socket: its peer is the client, it lives on PORT_A. */
	EXPECT_EQ(wsp_local_port(self->fd), wsp_peer_port(sfd));
	EXPECT_EQ(PORT_A, wsp_local_port(sfd));
	close(sfd);
	close(lfd);
}

TEST_F(addr, implicit_bind_connect)
{
	long long p;
	__u32 port;
	int lfd;

	lfd = wsp_listener(SOCK_STREAM, PORT_A, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_connect(self->fd, PORT_A));
	p = wsp_local_port(self->fd);
	EXPECT_LE(WSP_DEF_EPH_LO, p);
	EXPECT_GE(WSP_DEF_EPH_HI, p);
	/* The implicit port is really taken. */
	EXPECT_EQ(-1, wsp_bind(self->fd2, p));
	EXPECT_EQ(EADDRINUSE, errno);
	close(lfd);
}

TEST_F(addr, implicit_bind_listen)
{
	long long p;
	int cfd;

	ASSERT_EQ(0, listen(self->fd, 4));
	p = wsp_local_port(self->fd);
	EXPECT_LE(WSP_DEF_EPH_LO, p);
	EXPECT_GE(WSP_DEF_EPH_HI, p);
	cfd = wsp_client(SOCK_STREAM, p);
	EXPECT_LE(0, cfd);
	if (cfd >= 0)
		close(cfd);
}

TEST_F(addr, implicit_bind_custom_range)
{
	long long p1, p2;

	ASSERT_EQ(0, wsp_sysctl_set("ephemeral_ports", "30000 30001\n"));
	ASSERT_EQ(0, wsp_bind(self->fd, 0));
	ASSERT_EQ(0, listen(self->fd2, 4));
	p1 = wsp_local_port(self->fd);
	p2 = wsp_local_port(self->fd2);
	EXPECT_LE(30000, p1);
	EXPECT_GE(30001, p1);
	EXPECT_LE(30000, p2);
	EXPECT_GE(30001, p2);
	EXPECT_NE(p1, p2);
}

TEST_F(addr, ephemeral_exhaustion)
{
	int lfd, a, b, c;
	long long pa;

	lfd = wsp_listener(SOCK_STREAM, PORT_A, 16, NULL);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, wsp_sysctl_set("ephemeral_ports", "40000 40001\n"));
	/* Two ports in the range, taken by fd (bind) and fd2 (connect). */
	ASSERT_EQ(0, wsp_bind(self->fd, 0));
	ASSERT_EQ(0, wsp_connect(self->fd2, PORT_A));

	a = wsp_socket(SOCK_STREAM);
	b = wsp_socket(SOCK_STREAM);
	c = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	EXPECT_EQ(-1, wsp_bind(a, 0));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(-1, wsp_connect(a, PORT_A));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(-1, listen(b, 4));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(-1, wsp_bind(c, 0));
	EXPECT_EQ(EADDRINUSE, errno);
	/* Explicit ports outside the range still work. */
	EXPECT_EQ(0, wsp_bind(c, PORT_B));

	/* Freeing one port makes it available again. */
	pa = wsp_local_port(self->fd);
	wsp_close(&self->fd);
	EXPECT_EQ(0, wsp_connect(a, PORT_A));
	EXPECT_EQ(pa, wsp_local_port(a));
	close(a);
	close(b);
	close(c);
	close(lfd);
}

TEST_F(addr, ephemeral_sysctl_validation)
{
	static const char * const bad[] = {
		"5 4\n", "0 10\n", "-1 10\n", "0 0\n", "3001 2999\n",
	};
	char buf[64];
	unsigned int i;
	int lo, hi;

	ASSERT_EQ(0, wsp_sysctl_set("ephemeral_ports", "1024 2047\n"));
	ASSERT_EQ(0, wsp_eph_range(&lo, &hi));
	EXPECT_EQ(1024, lo);
	EXPECT_EQ(2047, hi);
	/* lo == hi is a valid single-port range. */
	ASSERT_EQ(0, wsp_sysctl_set("ephemeral_ports", "3000 3000\n"));
	ASSERT_EQ(0, wsp_eph_range(&lo, &hi));
	EXPECT_EQ(3000, lo);
	EXPECT_EQ(3000, hi);
	ASSERT_EQ(0, wsp_bind(self->fd, 0));
	EXPECT_EQ(3000, wsp_local_port(self->fd));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, wsp_sysctl_set("ephemeral_ports", bad[i]))
			TH_LOG("value \"%s\" accepted", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("value \"%s\"", bad[i]);
		ASSERT_EQ(0, wsp_sysctl_read("ephemeral_ports", buf,
					     sizeof(buf)));
		EXPECT_EQ(2, sscanf(buf, "%d %d", &lo, &hi));
		EXPECT_EQ(3000, lo) TH_LOG("value changed by \"%s\"", bad[i]);
		EXPECT_EQ(3000, hi);
	}
}

/*
 * Ports below 1024 need CAP_NET_BIND_SERVICE in the user namespace that
 * owns the socket's network namespace.
 */
TEST(privileged_port_root)
{
	int fd;

	ASSERT_EQ(0, wsp_private_netns());
	fd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, wsp_bind(fd, 80));
	close(fd);
	fd = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, wsp_bind(fd, 1023));
	close(fd);
}

static void unpriv_child(bool new_userns, bool new_netns)
{
	int fd, flags = 0;

	CHILD_CHECK(setgroups(0, NULL) == 0);
	CHILD_CHECK(setgid(65534) == 0);
	CHILD_CHECK(setuid(65534) == 0);
	if (new_userns)
		flags |= CLONE_NEWUSER;
	if (new_netns)
		flags |= CLONE_NEWNET;
	if (flags)
		CHILD_CHECK(unshare(flags) == 0);

	fd = wsp_socket(SOCK_STREAM);
	CHILD_CHECK(fd >= 0);
	if (new_netns) {
		/* Root of the user ns that owns this netns: allowed. */
		CHILD_CHECK(wsp_bind(fd, 80) == 0);
		close(fd);
		fd = wsp_socket(SOCK_STREAM);
		CHILD_CHECK(fd >= 0);
		CHILD_CHECK(wsp_bind(fd, 1) == 0);
		_exit(0);
	}
	/* No CAP_NET_BIND_SERVICE over the init netns. */
	CHILD_CHECK(wsp_bind(fd, 80) == -1 && errno == EACCES);
	CHILD_CHECK(wsp_bind(fd, 1023) == -1 && errno == EACCES);
	CHILD_CHECK(wsp_bind(fd, 1) == -1 && errno == EACCES);
	/* Implicit binds never pick a privileged port, so they work. */
	CHILD_CHECK(wsp_bind(fd, 0) == 0);
	CHILD_CHECK(wsp_local_port(fd) >= 1024);
	close(fd);
	fd = wsp_socket(SOCK_STREAM);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(wsp_bind(fd, 1024) == 0);
	_exit(0);
}

static int run_unpriv(bool new_userns, bool new_netns)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		unpriv_child(new_userns, new_netns);
	return wsp_wait_child(pid, WSP_SLOW_MS);
}

TEST(privileged_port_unprivileged)
{
	/* The init netns's port 1024 must be free for the child. */
	ASSERT_EQ(0, wsp_private_netns());
	EXPECT_EQ(0, run_unpriv(false, false));
}

TEST(privileged_port_other_userns)
{
	/* Full caps in a new user ns do not cover a netns it does not own. */
	ASSERT_EQ(0, wsp_private_netns());
	EXPECT_EQ(0, run_unpriv(true, false));
}

TEST(privileged_port_own_userns)
{
	EXPECT_EQ(0, run_unpriv(true, true));
}

/* Section 1: SOL_WSP integer options take an int; section 8: bad input. */
TEST(option_errors)
{
	socklen_t len;
	int fd, val;
	char small[2];

	fd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);

	val = 1;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &val, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT,
				 (void *)8, sizeof(__u32)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &val, 2));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, 9999, &val, sizeof(val)));
	EXPECT_EQ(ENOPROTOOPT, errno);
	len = sizeof(val);
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, 9999, &val, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);

	len = sizeof(small);
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, small, &len));
	EXPECT_EQ(EINVAL, errno);
	len = -1;
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &val, &len));
	EXPECT_EQ(EINVAL, errno);
	len = sizeof(val);
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, (void *)8,
				 &len));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &val,
				 (socklen_t *)8));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

TEST(connect_timeout_option)
{
	__u32 ms = 1234, out = 0;
	socklen_t len = 16;
	char big[16];
	int fd;

	fd = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &ms,
				sizeof(ms)));
	/* A larger buffer is fine; exactly 4 bytes come back. */
	memset(big, 0xaa, sizeof(big));
	ASSERT_EQ(0, getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, big, &len));
	EXPECT_EQ(sizeof(__u32), len);
	memcpy(&out, big, sizeof(out));
	EXPECT_EQ(1234, out);
	ms = 0;
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &ms,
				sizeof(ms)));
	len = sizeof(out);
	ASSERT_EQ(0, getsockopt(fd, SOL_WSP, WSP_CONNECT_TIMEOUT, &out, &len));
	EXPECT_EQ(0, out);
	close(fd);
}

TEST_HARNESS_MAIN
