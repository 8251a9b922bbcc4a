// SPDX-License-Identifier: GPL-2.0
/* 6.19: proto_ops.bind and .connect take struct sockaddr_unsized. */
#include <linux/net.h>
int probe(struct socket *s, struct sockaddr_unsized *a, int len);
int probe(struct socket *s, struct sockaddr_unsized *a, int len)
{
	struct proto_ops ops = { .bind = probe };

	return ops.bind != NULL;
}
