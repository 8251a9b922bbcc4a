// SPDX-License-Identifier: GPL-2.0
/* 6.10: proto_ops.accept takes a struct proto_accept_arg. */
#include <linux/net.h>
#include <net/sock.h>

#ifdef WSP_PROBE_NEW
int probe(struct socket *s, struct socket *n, struct proto_accept_arg *arg);
int probe(struct socket *s, struct socket *n, struct proto_accept_arg *arg)
{
	return arg->flags + arg->kern;
}
#else
int probe(struct socket *s, struct socket *n, int flags, bool kern);
int probe(struct socket *s, struct socket *n, int flags, bool kern)
{
	return flags + kern;
}
#endif

const struct proto_ops probe_ops = { .accept = probe };
