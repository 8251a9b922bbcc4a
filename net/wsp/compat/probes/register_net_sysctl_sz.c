// SPDX-License-Identifier: GPL-2.0
/* 6.6: register_net_sysctl_sz() takes the table size. */
/* The old name became a macro that needs an array. */
#include <net/net_namespace.h>

void *probe(struct net *net, struct ctl_table *t);
void *probe(struct net *net, struct ctl_table *t)
{
#ifdef WSP_PROBE_NEW
	return register_net_sysctl_sz(net, "net/x", t, 1);
#else
	return register_net_sysctl(net, "net/x", t);
#endif
}
