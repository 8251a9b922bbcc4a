// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP addressing: the per-namespace port table, explicit and
 * ephemeral binding, and getsockname/getpeername.
 */
#include <linux/capability.h>
#include <linux/math.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <net/net_namespace.h>

#include "wsp.h"

/* Validate a sockaddr_wsp from userspace and return its port. */
int wsp_addr_check(const struct sockaddr *addr, int len, u32 *port)
{
	const struct sockaddr_wsp *swsp = (const struct sockaddr_wsp *)addr;

	if (len < (int)sizeof(*swsp))
		return -EINVAL;
	if (swsp->swsp_family != AF_WSP)
		return -EAFNOSUPPORT;
	if (swsp->swsp_reserved ||
	    memchr_inv(swsp->swsp_zero, 0, sizeof(swsp->swsp_zero)))
		return -EINVAL;
	*port = swsp->swsp_port;
	return 0;
}

/* The port table: a resizable hash of bound sockets keyed by port, so a
 * lookup costs the same with 16 sockets bound or a million.  Changes are
 * made under wsp_net.port_lock, which also makes find-then-insert atomic
 * and keeps a found socket alive until the caller holds it.
 */
static int wsp_port_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct wsp_sock *wsk = obj;

	return wsk->port != *(const u32 *)arg->key;
}

/* The default compare is a memcmp() of key_len bytes, which the compiler
 * cannot inline since it reads the length from the table: a word compare
 * is a tenth of the instructions, on every lookup that hits.
 */
const struct rhashtable_params wsp_port_params = {
	.key_len		= sizeof(u32),
	.key_offset		= offsetof(struct wsp_sock, port),
	.head_offset		= offsetof(struct wsp_sock, port_node),
	.obj_cmpfn		= wsp_port_cmp,
	.automatic_shrinking	= true,
};

/* wsp_net.port_lock must be held. */
static struct wsp_sock *__wsp_port_find(struct wsp_net *wn, u32 port)
{
	return rhashtable_lookup_fast(&wn->ports, &port, wsp_port_params);
}

/* wsp_net.port_lock must be held.  Fails with -EEXIST if @port is taken. */
static int __wsp_port_insert(struct wsp_net *wn, struct wsp_sock *wsk,
			     u32 port)
{
	int err;

	wsk->port = port;
	err = rhashtable_lookup_insert_fast(&wn->ports, &wsk->port_node,
					    wsp_port_params);
	if (err) {
		wsk->port = 0;
		return err;
	}
	wsk->bound = true;
	return 0;
}

/* Bind to a free port in net.wsp.ephemeral_ports, probing from a random
 * one.  In the default range of 2^31 ports a probe is all but always free
 * at once, however many sockets are bound; only a range narrowed by hand
 * can fill up, and then every port in it is tried.  wsp_net.port_lock
 * must be held.
 */
static int __wsp_port_ephemeral(struct wsp_net *wn, struct wsp_sock *wsk)
{
	u32 lo = READ_ONCE(wn->ephemeral_ports[0]);
	u32 hi = READ_ONCE(wn->ephemeral_ports[1]);
	u32 range, start, i;
	int err;

	if (lo > hi)
		return -EADDRINUSE;
	range = hi - lo + 1;
	start = reciprocal_scale(get_random_u32(), range);
	for (i = 0; i < range; i++) {
		err = __wsp_port_insert(wn, wsk, lo + (start + i) % range);
		if (err != -EEXIST)
			return err;
	}
	return -EADDRINUSE;
}

/* Bind to @port, or to an ephemeral port if 0.  lock_sock must be held. */
int wsp_bind_port(struct wsp_sock *wsk, u32 port)
{
	struct net *net = sock_net(&wsk->sk);
	struct wsp_net *wn = wsp_net(net);
	int err = 0;

	if (wsk->bound || wsk->sk.sk_state != TCP_CLOSE)
		return -EINVAL;
	if (port && port < PROT_SOCK &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	spin_lock(&wn->port_lock);
	if (!port)
		err = __wsp_port_ephemeral(wn, wsk);
	else
		err = __wsp_port_insert(wn, wsk, port);
	spin_unlock(&wn->port_lock);
	return err == -EEXIST ? -EADDRINUSE : err;
}

int wsp_autobind(struct wsp_sock *wsk)
{
	return wsp_bind_port(wsk, 0);
}

/* The socket leaves the port table, then /proc/net/wsp. */
void wsp_sock_unhash(struct wsp_sock *wsk)
{
	struct wsp_net *wn = wsp_net(sock_net(&wsk->sk));

	spin_lock(&wn->port_lock);
	if (wsk->bound) {
		rhashtable_remove_fast(&wn->ports, &wsk->port_node,
				       wsp_port_params);
		wsk->bound = false;
	}
	spin_unlock(&wn->port_lock);
	wsp_sock_unlink(wsk);
}

/* The socket bound at @port, with a reference, or NULL. */
struct wsp_sock *wsp_lookup_listener(struct wsp_net *wn, u32 port)
{
	struct wsp_sock *wsk;

	spin_lock(&wn->port_lock);
	wsk = __wsp_port_find(wn, port);
	if (wsk)
		sock_hold(&wsk->sk);
	spin_unlock(&wn->port_lock);
	return wsk;
}

int wsp_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	struct sockaddr_wsp *swsp = (struct sockaddr_wsp *)addr;
	struct wsp_sock *wsk = wsp_sk(sock->sk);
	u32 port;

	if (peer) {
		spin_lock(&wsk->lock);
		port = wsk->peer_port;
		if (wsk->sk.sk_state != TCP_ESTABLISHED)
			port = 0;
		spin_unlock(&wsk->lock);
		if (!port)
			return -ENOTCONN;
	} else {
		port = READ_ONCE(wsk->port);
	}
	memset(swsp, 0, sizeof(*swsp));
	swsp->swsp_family = AF_WSP;
	swsp->swsp_port = port;
	return sizeof(*swsp);
}
