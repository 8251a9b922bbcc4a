// SPDX-License-Identifier: GPL-2.0
/* 6.19: kernel_bind() and kernel_connect() take a struct sockaddr_unsized. */
#include <linux/net.h>

#ifdef WSP_PROBE_NEW
#define PROBE_ADDR struct sockaddr_unsized
#else
#define PROBE_ADDR struct sockaddr
#endif

int probe(struct socket *s, PROBE_ADDR *a, int len);
int probe(struct socket *s, PROBE_ADDR *a, int len)
{
	return kernel_bind(s, a, len) ?: kernel_connect(s, a, len, 0);
}
