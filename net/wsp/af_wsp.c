// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP: local sockets with Winsock-grade connection control.
 * (skeleton: family registration only; the protocol follows.)
 */
#include <linux/module.h>
#include <linux/net.h>
#include <net/sock.h>
#include <uapi/linux/wsp.h>

static int wsp_family = AF_WSP;
module_param_named(family, wsp_family, int, 0444);
MODULE_PARM_DESC(family, "address family number in use (read-only)");

static struct proto wsp_proto = {
	.name = "WSP",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct sock),
};

static int wsp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	sock_orphan(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static const struct proto_ops wsp_stream_ops = {
	.family = PF_WSP,
	.owner = THIS_MODULE,
	.release = wsp_release,
	.bind = sock_no_bind,
	.connect = sock_no_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = sock_no_getname,
	.poll = datagram_poll,
	.ioctl = sock_no_ioctl,
	.listen = sock_no_listen,
	.shutdown = sock_no_shutdown,
	.sendmsg = sock_no_sendmsg,
	.recvmsg = sock_no_recvmsg,
	.mmap = sock_no_mmap,
};

static int wsp_create(struct net *net, struct socket *sock, int protocol,
		      int kern)
{
	struct sock *sk;

	if (protocol && protocol != PF_WSP)
		return -EPROTONOSUPPORT;
	if (sock->type != SOCK_STREAM && sock->type != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;
	sk = sk_alloc(net, PF_WSP, GFP_KERNEL, &wsp_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock->ops = &wsp_stream_ops;
	sock_init_data(sock, sk);
	return 0;
}

static const struct net_proto_family wsp_family_ops = {
	.family = PF_WSP,
	.create = wsp_create,
	.owner = THIS_MODULE,
};

static int __init wsp_init(void)
{
	int err;

	err = proto_register(&wsp_proto, 1);
	if (err)
		return err;
	err = sock_register(&wsp_family_ops);
	if (err) {
		pr_err("wsp: address family %d is already registered\n",
		       AF_WSP);
		proto_unregister(&wsp_proto);
	}
	return err;
}

static void __exit wsp_exit(void)
{
	sock_unregister(PF_WSP);
	proto_unregister(&wsp_proto);
}

module_init(wsp_init);
module_exit(wsp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_WSP sockets with conditional accept");
MODULE_ALIAS_NETPROTO(PF_WSP);
