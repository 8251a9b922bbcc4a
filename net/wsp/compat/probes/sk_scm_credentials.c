// SPDX-License-Identifier: GPL-2.0
/* 6.16: SO_PASSCRED moves from socket->flags to sk->sk_scm_credentials. */
#include <net/sock.h>

int probe(struct sock *sk);
int probe(struct sock *sk)
{
#ifdef WSP_PROBE_NEW
	return sk->sk_scm_credentials;
#else
	return test_bit(SOCK_PASSCRED, &sk->sk_socket->flags);
#endif
}
