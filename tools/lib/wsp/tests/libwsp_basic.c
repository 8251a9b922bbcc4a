// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: addresses and their text form, sockets, ports, conditional
 * mode, request ids and QoS.
 */
#include <sys/un.h>

#include "libwsp_test.h"

TEST(make_addr)
{
	struct sockaddr_wsp a;

	memset(&a, 0xa5, sizeof(a));
	wsp_make_addr(&a, 4242);
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(0, a.swsp_reserved);
	EXPECT_EQ(4242, a.swsp_port);
	for (unsigned int i = 0; i < sizeof(a.swsp_zero); i++)
		EXPECT_EQ(0, a.swsp_zero[i]);
}

TEST(addr_to_str)
{
	char buf[WSP_ADDRSTRLEN];
	struct sockaddr_wsp a;

	wsp_make_addr(&a, 0);
	EXPECT_EQ(5, wsp_addr_to_str(&a, buf, sizeof(buf)));
	EXPECT_STREQ("wsp:0", buf);
	wsp_make_addr(&a, 4294967295U);
	EXPECT_EQ(14, wsp_addr_to_str(&a, buf, sizeof(buf)));
	EXPECT_STREQ("wsp:4294967295", buf);
	/* WSP_ADDRSTRLEN is exactly the longest, NUL included. */
	EXPECT_EQ(WSP_ADDRSTRLEN - 1, strlen("wsp:4294967295") + 1);

	/* One byte short: ENOSPC, and nothing written. */
	memset(buf, 'x', sizeof(buf));
	errno = 0;
	EXPECT_EQ(-1, wsp_addr_to_str(&a, buf, 14));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ('x', buf[0]);
	EXPECT_EQ(14, wsp_addr_to_str(&a, buf, 15));
	errno = 0;
	EXPECT_EQ(-1, wsp_addr_to_str(&a, NULL, 0));
	EXPECT_EQ(ENOSPC, errno);

	a.swsp_family = AF_UNIX;
	errno = 0;
	EXPECT_EQ(-1, wsp_addr_to_str(&a, buf, sizeof(buf)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_addr_to_str(NULL, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

TEST(str_to_addr)
{
	static const char * const bad[] = {
		"", "wsp:", "wsp", "-1", "+1", " 1", "1 ", "0x10", "wsp:12a",
		"4294967296", "wsp:99999999999999999999", "WSP:1", "wsp: 1",
		"1.5", "wsp:wsp:1",
	};
	struct sockaddr_wsp a, b;
	char buf[WSP_ADDRSTRLEN];
	unsigned int i;

	ASSERT_EQ(0, wsp_str_to_addr("123", &a));
	EXPECT_EQ(AF_WSP, a.swsp_family);
	EXPECT_EQ(123, a.swsp_port);
	ASSERT_EQ(0, wsp_str_to_addr("wsp:4294967295", &a));
	EXPECT_EQ(4294967295U, a.swsp_port);
	ASSERT_EQ(0, wsp_str_to_addr("wsp:007", &a));
	EXPECT_EQ(7, a.swsp_port);
	ASSERT_EQ(0, wsp_str_to_addr("0", &a));
	EXPECT_EQ(0, a.swsp_port);

	/* Round trips, both ways. */
	for (i = 0; i < 32; i++) {
		uint32_t port = i < 31 ? (1U << i) + i : 4294967295U;

		wsp_make_addr(&a, port);
		ASSERT_LT(0, wsp_addr_to_str(&a, buf, sizeof(buf)));
		memset(&b, 0xff, sizeof(b));
		ASSERT_EQ(0, wsp_str_to_addr(buf, &b));
		EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	}

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		wsp_make_addr(&a, 77);
		errno = 0;
		EXPECT_EQ(-1, wsp_str_to_addr(bad[i], &a)) TH_LOG("\"%s\"", bad[i]);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(77, a.swsp_port);	/* untouched */
	}
	errno = 0;
	EXPECT_EQ(-1, wsp_str_to_addr(NULL, &a));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_str_to_addr("1", NULL));
	EXPECT_EQ(EINVAL, errno);
}

TEST(socket_bind_port)
{
	uint32_t port = 0, port2 = 0;
	int fd, fd2, fl;

	fd = wsp_socket(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, fd);
	fl = fcntl(fd, F_GETFL);
	EXPECT_TRUE(fl & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Unbound: port 0. */
	ASSERT_EQ(0, wsp_local_port(fd, &port));
	EXPECT_EQ(0, port);
	ASSERT_EQ(0, wsp_bind(fd, 0));
	ASSERT_EQ(0, wsp_local_port(fd, &port));
	EXPECT_NE(0, port);

	fd2 = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, fcntl(fd2, F_GETFL) & O_NONBLOCK);
	errno = 0;
	EXPECT_EQ(-1, wsp_bind(fd2, port));
	EXPECT_EQ(EADDRINUSE, errno);
	ASSERT_EQ(0, wsp_bind(fd2, 0));
	ASSERT_EQ(0, wsp_local_port(fd2, &port2));
	EXPECT_NE(port, port2);
	close(fd2);
	close(fd);

	errno = 0;
	EXPECT_EQ(-1, wsp_socket(SOCK_DGRAM));
	EXPECT_NE(0, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_local_port(-1, &port));
	EXPECT_EQ(EBADF, errno);
}

TEST(local_port_other_family)
{
	uint32_t port = 5;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_local_port(fd, &port));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	EXPECT_EQ(5, port);
	/* And the SOL_WSP options are not AF_UNIX's. */
	errno = 0;
	EXPECT_EQ(-1, wsp_set_conditional(fd, 1));
	EXPECT_NE(0, errno);
	close(fd);
}

TEST(conditional)
{
	socklen_t len = sizeof(int);
	int fd, val = -1;

	fd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wsp_set_conditional(fd, 1));
	ASSERT_EQ(0, getsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &val,
				&len));
	EXPECT_EQ(1, val);
	ASSERT_EQ(0, wsp_set_conditional(fd, 0));
	ASSERT_EQ(0, getsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &val,
				&len));
	EXPECT_EQ(0, val);
	/* A BOOL, as Winsock's: any nonzero value turns it on. */
	ASSERT_EQ(0, wsp_set_conditional(fd, 2));
	ASSERT_EQ(0, getsockopt(fd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &val,
				&len));
	EXPECT_EQ(1, val);
	close(fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_set_conditional(-1, 1));
	EXPECT_EQ(EBADF, errno);
}

TEST(request_id)
{
	uint64_t cid = 0, sid = 0, id2 = 0;
	int lfd, cfd, sfd, cfd2, sfd2;
	uint32_t port;

	lfd = listener(SOCK_STREAM, false, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, cfd);
	errno = 0;
	EXPECT_EQ(-1, wsp_request_id(cfd, &cid));
	EXPECT_EQ(ENOTCONN, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_request_id(lfd, &cid));
	EXPECT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, wsp_request_id(cfd, &cid));
	ASSERT_EQ(0, wsp_request_id(sfd, &sid));
	EXPECT_NE(0, cid);
	EXPECT_EQ(cid, sid);

	/* Ids are never reused: the next request has another. */
	cfd2 = wsp_socket(SOCK_STREAM);
	ASSERT_LE(0, cfd2);
	ASSERT_EQ(0, wsp_connect_ex(cfd2, port, NULL, 0, NULL, NULL, NULL));
	sfd2 = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd2);
	ASSERT_EQ(0, wsp_request_id(sfd2, &id2));
	EXPECT_LT(cid, id2);
	close(sfd2);
	close(cfd2);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST(flowspec_unspecified)
{
	struct wsp_flowspec fs;
	const __u32 *w = (const __u32 *)&fs;

	memset(&fs, 0, sizeof(fs));
	wsp_flowspec_unspecified(&fs);
	for (unsigned int i = 0; i < sizeof(fs) / sizeof(*w); i++)
		EXPECT_EQ(WSP_QOS_NOT_SPECIFIED, w[i]);
}

TEST(qos_set_get)
{
	struct wsp_qos q, got;
	int fd;

	fd = wsp_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	wsp_flowspec_unspecified(&q.sending);
	wsp_flowspec_unspecified(&q.receiving);
	q.sending.token_rate = 100000;
	q.sending.token_bucket_size = 8192;
	q.sending.service_type = WSP_SERVICETYPE_GUARANTEED;
	q.receiving.max_sdu_size = 1500;
	ASSERT_EQ(0, wsp_set_qos(fd, &q));
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, wsp_get_qos(fd, &got));
	EXPECT_EQ(0, memcmp(&q, &got, sizeof(q)));

	/* The kernel's validation: a service type it does not know. */
	q.sending.service_type = 77;
	errno = 0;
	EXPECT_EQ(-1, wsp_set_qos(fd, &q));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_get_qos(-1, &got));
	EXPECT_EQ(EBADF, errno);
}

TEST_HARNESS_MAIN
