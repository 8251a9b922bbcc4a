// SPDX-License-Identifier: GPL-2.0
/* 6.19: proto_ops.bind and .connect take a struct sockaddr_unsized. */
#include <linux/net.h>

#ifdef WSP_PROBE_NEW
#define PROBE_ADDR struct sockaddr_unsized
#else
#define PROBE_ADDR struct sockaddr
#endif

int probe_bind(struct socket *s, PROBE_ADDR *a, int len);
int probe_bind(struct socket *s, PROBE_ADDR *a, int len)
{
	return len;
}

int probe_connect(struct socket *s, PROBE_ADDR *a, int len, int flags);
int probe_connect(struct socket *s, PROBE_ADDR *a, int len, int flags)
{
	return len + flags;
}

const struct proto_ops probe_ops = {
	.bind = probe_bind,
	.connect = probe_connect,
};
