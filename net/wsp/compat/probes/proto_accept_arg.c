// SPDX-License-Identifier: GPL-2.0
/* 6.10: proto_ops.accept takes struct proto_accept_arg. */
#include <linux/net.h>
int probe(struct socket *s, struct socket *n, struct proto_accept_arg *arg);
int probe(struct socket *s, struct socket *n, struct proto_accept_arg *arg)
{
	struct proto_ops ops = { .accept = probe };

	return arg->flags + (ops.accept != NULL);
}
