// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP: local stream and seqpacket sockets with Winsock-grade
 * connection control.  A listener may accept, reject or defer each
 * connection request before the connection exists.
 *
 * Implementation notes
 * ====================
 *
 * Objects.  A connect() creates a struct wsp_req on the listener.  With
 * automatic accept it is decided at once; in conditional mode it waits on
 * listener->req_list (arrival order, which is id order) and in
 * listener->req_tree (by id, for verdicts and the peek cursor) until
 * a verdict, a withdrawal or the listener's close.  An accepted request
 * turns into a child socket on listener->accept_list; accept() takes it.
 *
 * Files: this one holds the socket operations; wsp_req.c the requests
 * and verdicts; wsp_opt.c the options; wsp_data.c the data path shared by
 * both socket types; wsp_local.c the transport; wsp_addr.c ports;
 * wsp_net.c, wsp_proc.c per-namespace state; wsp_event.c, wsp_qos.c
 * Winsock events and QoS; wsp_filter.c the listener's BPF program.
 *
 * Lock order:
 *
 *   lock_sock(sk)                    one socket at a time, never nested
 *     listener->lock                 request and accept queues, counts
 *       listener's sk_peer_lock      its SO_PEERCRED, which listen()
 *                                    swaps; copied out, then dropped
 *       client->lock (nested)        client state, peer, error
 *         sk_peer_lock, sk_receive_queue.lock
 *           bucket.lock, events.lock innermost, _bh: the token bucket's
 *                                    timer takes them in softirq
 *     wsp_net.port_lock              port table; never taken under a
 *                                    wsk->lock
 *     wsp_net.socks' xa_lock         the /proc/net/wsp index; a reader
 *       sk_callback_lock             holds it for one buffer of lines
 *
 * Readers hold lock_sock(sk) but drop it while waiting; senders never
 * take it, so a reader and a writer of one socket never wait on each
 * other.
 *
 * A socket's own ->lock also guards its sk_state, peer and sk_shutdown
 * against a peer's transport.  Two connected sockets' locks are never
 * held together: each side only takes the other's lock, alone.
 *
 * Reference rules:
 *
 *  - wsk->peer holds a sock reference, dropped when the socket is released,
 *    after the token bucket's timer is cancelled: its callback reads the
 *    peer (wsp_writable()).
 *  - sk_peer_pid and sk_peer_cred hold a reference each; they are only
 *    replaced through wsp_set_peercred(), which puts the old ones.
 *  - A queued request holds a reference on its client; the request itself
 *    holds a reference on its listener for its whole life.
 *  - struct wsp_req is kref counted: one for client->req, one while
 *    queued, one while its timeout work is pending.  A request that
 *    automatic accept decides at once lives on the connecting task's
 *    stack and is never seen after connect() returns.
 *  - The Winsock extras (wsk->ext) are freed only with the socket.
 *  - A listener's filter program (ext->filter) is replaced under
 *    lock_sock and run under rcu_read_lock_sched(), with no listener
 *    lock, by connecting tasks that hold a reference on the listener; a
 *    replaced or closed listener's program is freed after a grace period
 *    (call_rcu(), which waits for sched-RCU readers too).
 *  - A child on accept_list is owned by that list (its initial reference).
 *  - Each outstanding skb charges its sender's sk_wmem_alloc; readers
 *    free skbs, which wakes the sender through ->sk_write_space.
 *  - wsp_buf (connect data) is refcounted; every holder is charged in its
 *    sk_omem_alloc.
 *
 * A request leaves the queued states (PENDING, DEFERRED) exactly once,
 * under listener->lock; whoever makes that transition tells the client.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/security.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include <kunit/visibility.h>

#include "wsp.h"

#define CREATE_TRACE_POINTS
#include "wsp_trace.h"

static int wsp_family = AF_WSP;
module_param_named(family, wsp_family, int, 0444);
MODULE_PARM_DESC(family, "address family number in use (read-only)");

static struct proto wsp_proto;
static const struct proto_ops wsp_ops;

/* ---- backlog arithmetic ------------------------------------------------- */

/* The provider cap: silent clamp into [1, max_backlog]. */
u32 wsp_backlog_clamp(int backlog, int max_backlog)
{
	if (max_backlog < 1)
		max_backlog = 1;
	return clamp(backlog, 1, max_backlog);
}
EXPORT_SYMBOL_IF_KUNIT(wsp_backlog_clamp);

/* Exactly @cap entries fit: unlike sk_acceptq_is_full(), not cap + 1. */
bool wsp_backlog_full(u32 count, u32 cap)
{
	return count >= cap;
}
EXPORT_SYMBOL_IF_KUNIT(wsp_backlog_full);

static void wsp_destruct(struct sock *sk)
{
	struct wsp_sock *wsk = wsp_sk(sk);

	wsp_ext_free(wsk);
	skb_queue_purge(&sk->sk_receive_queue);
	wsp_buf_put(sk, wsk->caller_data);
	wsp_buf_put(sk, wsk->callee_data);
	/* Every path to here unhashed the socket: release() or
	 * wsp_child_free().
	 */
	if (WARN_ON_ONCE(wsk->sock_index))
		wsp_sock_unhash(wsk);
}

static struct wsp_sock *wsp_sk_alloc(struct net *net, struct socket *sock,
				     int type, gfp_t gfp, int kern)
{
	struct wsp_sock *wsk;
	struct sock *sk;

	sk = sk_alloc(net, PF_WSP, gfp, &wsp_proto, kern);
	if (!sk)
		return NULL;
	sock_init_data(sock, sk);
	sk->sk_type = type;
	sk->sk_destruct = wsp_destruct;
	sk->sk_write_space = wsp_write_space;

	wsk = wsp_sk(sk);
	wsk->transport = &wsp_local_transport;
	spin_lock_init(&wsk->lock);
	INIT_LIST_HEAD(&wsk->req_list);
	INIT_LIST_HEAD(&wsk->accept_list);
	INIT_LIST_HEAD(&wsk->accept_node);
	wsk->req_tree = RB_ROOT;
	atomic_set(&wsk->rx_queued, 0);
	wsp_qos_init(&wsk->qos);
	/* Listed only once initialised: /proc/net/wsp reads it at once. */
	if (wsp_sock_link(wsk))
		goto out_free;
	return wsk;

out_free:
	if (sock)
		sock->sk = NULL;
	sk_free(sk);
	return NULL;
}

/* Free a child that was never accepted; it has no struct socket. */
void wsp_child_free(struct wsp_sock *child)
{
	wsp_sock_unhash(child);
	sock_set_flag(&child->sk, SOCK_DEAD);
	sock_put(&child->sk);
}

/* A child takes the listener's attributes as they are now: the socket
 * options SPEC lists, the SOL_WSP options that are not listener-only,
 * and the event registration.
 */
struct wsp_sock *wsp_child_alloc(struct wsp_sock *listener)
{
	struct sock *lsk = &listener->sk;
	struct wsp_sock *child;
	struct sock *sk;

	child = wsp_sk_alloc(sock_net(lsk), NULL, lsk->sk_type, GFP_KERNEL, 0);
	if (!child)
		return NULL;
	sk = &child->sk;
	/* The LSM labels the child after its listener, as for TCP's and
	 * AF_VSOCK's children; without it SELinux leaves it unlabeled.
	 */
	security_sk_clone(lsk, sk);
	sk->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	sk->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	sk->sk_userlocks = lsk->sk_userlocks;
	sk->sk_sndtimeo = READ_ONCE(lsk->sk_sndtimeo);
	sk->sk_rcvtimeo = READ_ONCE(lsk->sk_rcvtimeo);
	sk->sk_lingertime = READ_ONCE(lsk->sk_lingertime);
	sock_valbool_flag(sk, SOCK_LINGER, sock_flag(lsk, SOCK_LINGER));
	sock_valbool_flag(sk, SOCK_URGINLINE, sock_flag(lsk, SOCK_URGINLINE));
	sk->sk_priority = READ_ONCE(lsk->sk_priority);
	sk->sk_mark = READ_ONCE(lsk->sk_mark);
	child->passcred = wsp_sk_passcred(lsk);
	child->connect_timeout_ms = listener->connect_timeout_ms;
	child->connect_timeout_set = listener->connect_timeout_set;
	child->port = listener->port;
	if (wsp_events_inherit(child, listener)) {
		wsp_child_free(child);
		return NULL;
	}
	return child;
}

static int wsp_connect(struct socket *sock, struct sockaddr *addr,
		       int alen, int flags)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo;
	u32 port;
	int err;

	err = wsp_addr_check(addr, alen, &port);
	if (err)
		return err;

	lock_sock(sk);
	/* A request that failed after connect() returned (refused, timed
	 * out, withdrawn by the listener's close): as TCP, the next
	 * connect() reports that and only the one after starts anew.
	 */
	if (sock->state == SS_CONNECTING && sk->sk_state == TCP_CLOSE) {
		err = sock_error(sk) ? : -ECONNABORTED;
		goto out;
	}
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		err = -EISCONN;
		goto out;
	case TCP_SYN_SENT:
		err = -EALREADY;
		goto out;
	case TCP_LISTEN:
		err = -EINVAL;
		goto out;
	}
	wsp_req_forget(wsk);
	err = -ECONNREFUSED;
	if (!port)
		goto out;
	if (!wsk->bound) {
		err = wsp_autobind(wsk);
		if (err)
			goto out;
	}
	err = wsp_connect_start(wsk, port);
	if (err < 0)
		goto out;

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	/* Queued, and not waiting: in progress, even if a verdict or the
	 * timeout has already ended it.  SO_ERROR, or the next connect(),
	 * tells how.
	 */
	if (err && !timeo) {
		err = -EINPROGRESS;
		goto out;
	}
	err = 0;
	add_wait_queue(sk_sleep(sk), &wait);
	while (READ_ONCE(sk->sk_state) == TCP_SYN_SENT) {
		if (!timeo) {
			err = -EINPROGRESS;
			break;
		}
		/* The request stays queued, as in TCP; no restart. */
		if (signal_pending(current)) {
			err = -EINTR;
			break;
		}
		sk_wait_event(sk, &timeo,
			      READ_ONCE(sk->sk_state) != TCP_SYN_SENT, &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (err)
		goto out;

	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		err = sock_error(sk) ? : -ECONNREFUSED;
out:
	switch (READ_ONCE(sk->sk_state)) {
	case TCP_ESTABLISHED:
		sock->state = SS_CONNECTED;
		break;
	case TCP_SYN_SENT:
		sock->state = SS_CONNECTING;
		break;
	default:
		/* Reported in progress but already failed: the next
		 * connect() reports the failure.
		 */
		sock->state = err == -EINPROGRESS ? SS_CONNECTING :
			      SS_UNCONNECTED;
	}
	release_sock(sk);
	return err;
}

/* Give @sk the SO_PEERCRED @pid and @cred, whose references it takes
 * over, and put the ones it had (a socket may listen, then connect).
 * Safe under spinlocks.
 */
void wsp_set_peercred(struct sock *sk, struct pid *pid,
		      const struct cred *cred)
{
	const struct cred *old_cred;
	struct pid *old_pid;

	spin_lock(&sk->sk_peer_lock);
	old_pid = sk->sk_peer_pid;
	old_cred = sk->sk_peer_cred;
	sk->sk_peer_pid = pid;
	sk->sk_peer_cred = cred;
	spin_unlock(&sk->sk_peer_lock);
	put_pid(old_pid);
	put_cred(old_cred);
}

static int wsp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	int max_backlog = READ_ONCE(wsp_net(sock_net(sk))->max_backlog);
	int err = 0;

	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN) {
		err = -EINVAL;
		goto out;
	}
	if (!wsk->bound) {
		err = wsp_autobind(wsk);
		if (err)
			goto out;
	}

	/* SO_PEERCRED of the clients: the listener as of listen(). */
	wsp_set_peercred(sk, get_pid(task_tgid(current)), get_current_cred());

	spin_lock(&wsk->lock);
	wsk->backlog_cap = wsp_backlog_clamp(backlog, max_backlog);
	sk->sk_max_ack_backlog = wsk->backlog_cap;
	sk->sk_shutdown = 0;
	sk->sk_state = TCP_LISTEN;
	spin_unlock(&wsk->lock);
out:
	release_sock(sk);
	return err;
}

/* Tear down our side of a connection.  The peer sees EOF, or a reset if
 * @reset or if data we never read is thrown away.
 */
void wsp_disconnect(struct wsp_sock *wsk, bool reset)
{
	struct sock *sk = &wsk->sk;
	struct wsp_sock *peer;

	spin_lock(&wsk->lock);
	peer = wsk->peer;
	wsk->peer = NULL;
	if (sk->sk_state != TCP_LISTEN)
		sk->sk_state = TCP_CLOSE;
	sk->sk_shutdown = SHUTDOWN_MASK;
	if (!skb_queue_empty(&sk->sk_receive_queue))
		reset = true;
	spin_unlock(&wsk->lock);

	if (peer) {
		wsk->transport->peer_shutdown(peer, SHUTDOWN_MASK,
					      reset ? ECONNRESET : 0);
		sock_put(&peer->sk);
	}
	wsp_rx_purge(wsk);
}

/* Everything we sent has been read, or the peer is gone.  The peer's
 * queue holds only our data, and a reader accounts for it before it
 * frees the skb, which wakes us through ->sk_write_space.
 */
static bool wsp_sent_all_read(struct wsp_sock *wsk)
{
	return !atomic_read(&wsk->peer->rx_queued) ||
	       (READ_ONCE(wsk->sk.sk_shutdown) & SEND_SHUTDOWN);
}

/* Wait for the peer to read what we sent, for at most the linger time. */
static void wsp_linger(struct wsp_sock *wsk)
{
	struct sock *sk = &wsk->sk;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo = sk->sk_lingertime;

	if (!wsk->peer)
		return;
	add_wait_queue(sk_sleep(sk), &wait);
	while (timeo && !signal_pending(current) && !wsp_sent_all_read(wsk))
		sk_wait_event(sk, &timeo, wsp_sent_all_read(wsk), &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
}

static int wsp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk;
	struct wsp_req *req;
	bool abort = false;

	if (!sk)
		return 0;
	wsk = wsp_sk(sk);

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN)
		__wsp_listener_stop(wsk);

	spin_lock(&wsk->lock);
	req = wsk->req;
	wsk->req = NULL;
	spin_unlock(&wsk->lock);
	if (req) {
		wsp_withdraw(req, 0);
		wsp_req_put(req);
	}

	if (sk->sk_state == TCP_ESTABLISHED && sock_flag(sk, SOCK_LINGER)) {
		if (sk->sk_lingertime)
			wsp_linger(wsk);
		else
			abort = true;
	}
	/* The token bucket's timer reads the peer (wsp_writable()): stop it
	 * before the peer reference goes.  No send can re-arm it now.
	 */
	wsp_ext_release(wsk);
	wsp_disconnect(wsk, abort);
	wsp_sock_unhash(wsk);
	sock_orphan(sk);
	sock->sk = NULL;
	release_sock(sk);
	sock_put(sk);
	return 0;
}

static struct wsp_sock *wsp_accept_dequeue(struct wsp_sock *listener)
{
	struct wsp_sock *child;

	spin_lock(&listener->lock);
	child = list_first_entry_or_null(&listener->accept_list,
					 struct wsp_sock, accept_node);
	if (child) {
		list_del_init(&child->accept_node);
		listener->backlog_count--;
	}
	spin_unlock(&listener->lock);
	return child;
}

/* A request that waits for a verdict wakes its listener with EPOLLPRI
 * alone: not for accept().  Decline it, so that the wakeup goes on to an
 * exclusive poller queued behind us (EPOLLEXCLUSIVE) instead of ending
 * here.
 */
static int wsp_accept_wake_function(struct wait_queue_entry *wait,
				    unsigned int mode, int sync, void *key)
{
	if (key && !(key_to_poll(key) &
		     (EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP)))
		return 0;
	return woken_wake_function(wait, mode, sync, key);
}

/* *@is_empty, where the kernel asks (io_uring), says whether more
 * connections wait: a hint, read after taking this one.
 */
static int __wsp_accept(struct socket *sock, struct socket *newsock,
			int flags, int *is_empty)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *listener = wsp_sk(sk);
	DEFINE_WAIT_FUNC(wait, wsp_accept_wake_function);
	struct wsp_sock *child;
	bool waiting = false;
	long timeo;
	int err = 0;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	for (;;) {
		if (sk->sk_state != TCP_LISTEN) {
			err = -EINVAL;
			break;
		}
		child = wsp_accept_dequeue(listener);
		if (child)
			break;
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		/* Queue an exclusive waiter (one child wakes one accept()),
		 * then look once more before sleeping.
		 */
		if (!waiting) {
			add_wait_queue_exclusive(sk_sleep(sk), &wait);
			waiting = true;
			continue;
		}
		/* wait_woken() leaves us TASK_RUNNING for lock_sock(). */
		release_sock(sk);
		if (list_empty_careful(&listener->accept_list) &&
		    READ_ONCE(sk->sk_state) == TCP_LISTEN)
			timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
	}
	if (waiting)
		remove_wait_queue(sk_sleep(sk), &wait);
	if (err)
		goto out;

	if (is_empty)
		*is_empty = list_empty_careful(&listener->accept_list);
	sock_graft(&child->sk, newsock);
	wsp_sock_set_passcred(newsock, child->passcred);
	newsock->state = SS_CONNECTED;

	trace_accept(listener->port, child->peer_port);
	wsp_event_rearm(listener, WSP_FD_ACCEPT_BIT);
	wsp_event_record(child, WSP_FD_WRITE_BIT, 0);
out:
	release_sock(sk);
	return err;
}

#ifdef COMPAT_HAVE_PROTO_ACCEPT_ARG
static int wsp_accept(struct socket *sock, struct socket *newsock,
		      struct proto_accept_arg *arg)
{
	return __wsp_accept(sock, newsock, arg->flags, &arg->is_empty);
}
#else
static int wsp_accept(struct socket *sock, struct socket *newsock, int flags,
		      bool kern)
{
	return __wsp_accept(sock, newsock, flags, NULL);
}
#endif

static __poll_t wsp_poll(struct file *file, struct socket *sock,
			 poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	u8 shutdown, state;
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);
	state = READ_ONCE(sk->sk_state);
	shutdown = READ_ONCE(sk->sk_shutdown);

	if (state == TCP_LISTEN) {
		if (!list_empty_careful(&wsk->accept_list))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (READ_ONCE(wsk->nr_undecided))
			mask |= EPOLLPRI | EPOLLRDBAND;
		return mask;
	}

	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (!skb_queue_empty_lockless(&sk->sk_receive_queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (state == TCP_SYN_SENT)
		return mask;
	if (state == TCP_CLOSE || (shutdown & SEND_SHUTDOWN) ||
	    wsp_writable(wsk))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	else
		sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	return mask;
}

static int wsp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	struct wsp_sock *peer;
	int mask, peer_mask;
	int err = 0;

	/* SHUT_RD (0), SHUT_WR (1), SHUT_RDWR (2) to RCV/SEND_SHUTDOWN bits. */
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mask = how + 1;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		if (mask & RCV_SHUTDOWN)
			__wsp_listener_stop(wsk);
		goto out;
	}
	if (sk->sk_state != TCP_ESTABLISHED) {
		err = -ENOTCONN;
		goto out;
	}

	spin_lock(&wsk->lock);
	sk->sk_shutdown |= mask;
	peer = wsk->peer;
	if (peer)
		sock_hold(&peer->sk);
	spin_unlock(&wsk->lock);
	sk->sk_state_change(sk);

	if (peer) {
		peer_mask = 0;
		if (mask & RCV_SHUTDOWN)
			peer_mask |= SEND_SHUTDOWN;
		if (mask & SEND_SHUTDOWN)
			peer_mask |= RCV_SHUTDOWN;
		wsk->transport->peer_shutdown(peer, peer_mask, 0);
		sock_put(&peer->sk);
	}
out:
	release_sock(sk);
	return err;
}

#ifdef COMPAT_HAVE_SOCKADDR_UNSIZED
static int wsp_bind(struct socket *sock, struct sockaddr_unsized *addr,
		    int alen)
#else
static int wsp_bind(struct socket *sock, struct sockaddr *addr, int alen)
#endif
{
	struct sock *sk = sock->sk;
	u32 port;
	int err;

	err = wsp_addr_check((struct sockaddr *)addr, alen, &port);
	if (err)
		return err;
	lock_sock(sk);
	err = wsp_bind_port(wsp_sk(sk), port);
	release_sock(sk);
	return err;
}

#ifdef COMPAT_HAVE_SOCKADDR_UNSIZED
static int wsp_connect_op(struct socket *sock, struct sockaddr_unsized *addr,
			  int alen, int flags)
{
	return wsp_connect(sock, (struct sockaddr *)addr, alen, flags);
}
#else
#define wsp_connect_op wsp_connect
#endif

/* One table for both types: only the framing in wsp_data.c differs. */
static const struct proto_ops wsp_ops = {
	.family		= PF_WSP,
	.owner		= THIS_MODULE,
	.release	= wsp_release,
	.bind		= wsp_bind,
	.connect	= wsp_connect_op,
	.socketpair	= sock_no_socketpair,
	.accept		= wsp_accept,
	.getname	= wsp_getname,
	.poll		= wsp_poll,
	.ioctl		= wsp_ioctl,
	.listen		= wsp_listen,
	.shutdown	= wsp_shutdown,
	.setsockopt	= wsp_setsockopt,
	.getsockopt	= wsp_getsockopt,
	.sendmsg	= wsp_sendmsg,
	.recvmsg	= wsp_recvmsg,
	.mmap		= sock_no_mmap,
};

static struct proto wsp_proto = {
	.name		= "WSP",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct wsp_sock),
};

static int wsp_create(struct net *net, struct socket *sock, int protocol,
		      int kern)
{
	struct wsp_sock *wsk;

	if (protocol && protocol != PF_WSP)
		return -EPROTONOSUPPORT;
	if (sock->type != SOCK_STREAM && sock->type != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;

	wsk = wsp_sk_alloc(net, sock, sock->type, GFP_KERNEL, kern);
	if (!wsk)
		return -ENOMEM;
	sock->ops = &wsp_ops;
	sock->state = SS_UNCONNECTED;
	return 0;
}

static const struct net_proto_family wsp_family_ops = {
	.family		= PF_WSP,
	.create		= wsp_create,
	.owner		= THIS_MODULE,
};

static int __init wsp_init(void)
{
	int err;

	err = wsp_req_init();
	if (err)
		return err;
	err = proto_register(&wsp_proto, 1);
	if (err)
		goto out_wq;
	err = wsp_net_init();
	if (err)
		goto out_proto;
	err = sock_register(&wsp_family_ops);
	if (err) {
		pr_err("wsp: address family %d is already registered; not loading\n",
		       AF_WSP);
		goto out_net;
	}
	return 0;

out_net:
	wsp_net_exit();
out_proto:
	proto_unregister(&wsp_proto);
out_wq:
	wsp_req_exit();
	return err;
}

static void __exit wsp_exit(void)
{
	sock_unregister(PF_WSP);
	wsp_req_exit();
	/* Filter programs are freed after a grace period, by our code. */
	rcu_barrier();
	wsp_net_exit();
	proto_unregister(&wsp_proto);
}

module_init(wsp_init);
module_exit(wsp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_WSP sockets with conditional accept");
MODULE_ALIAS_NETPROTO(PF_WSP);
