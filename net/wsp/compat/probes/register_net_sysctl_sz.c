// SPDX-License-Identifier: GPL-2.0
/* 6.6: register_net_sysctl_sz() takes the table size. */
#include <net/net_namespace.h>
void *probe(struct net *net, struct ctl_table *t);
void *probe(struct net *net, struct ctl_table *t)
{
	return register_net_sysctl_sz(net, "net/x", t, 1);
}
