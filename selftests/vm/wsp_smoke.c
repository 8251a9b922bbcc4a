// SPDX-License-Identifier: GPL-2.0
/*
 * Harness smoke test: after insmod, AF_WSP sockets can be created and
 * closed.  The protocol's own tests live in selftests/wsp.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/wsp.h>

#include "kselftest_harness.h"

TEST(stream_socket)
{
	int fd = socket(AF_WSP, SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("socket(AF_WSP, SOCK_STREAM): errno %d", errno);
	EXPECT_EQ(0, close(fd));
}

TEST(seqpacket_socket)
{
	int fd = socket(AF_WSP, SOCK_SEQPACKET, 0);

	ASSERT_LE(0, fd) TH_LOG("socket(AF_WSP, SOCK_SEQPACKET): errno %d", errno);
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
