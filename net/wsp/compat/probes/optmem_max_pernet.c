// SPDX-License-Identifier: GPL-2.0
/* 6.9: net.core.optmem_max is per network namespace. */
#include <net/sock.h>

int probe(struct sock *sk);
int probe(struct sock *sk)
{
#ifdef WSP_PROBE_NEW
	return READ_ONCE(sock_net(sk)->core.sysctl_optmem_max);
#else
	return READ_ONCE(sysctl_optmem_max);
#endif
}
