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
 * listener->req_index (id -> req, for verdicts and the peek cursor) until
 * a verdict, a withdrawal or the listener's close.  An accepted request
 * turns into a child socket on listener->accept_list; accept() takes it.
 *
 * Lock order:
 *
 *   lock_sock(sk)                    one socket at a time, never nested
 *     listener->lock                 request and accept queues, counts
 *       client->lock (nested)        client state, peer, error
 *     wsp_net.port_lock              port table (never with a wsk->lock)
 *
 * A socket's own ->lock also guards its sk_state, peer and sk_shutdown
 * against a peer's transport.  Two connected sockets' locks are never
 * held together: each side only takes the other's lock, alone.
 *
 * Reference rules:
 *
 *  - wsk->peer holds a sock reference, dropped when the socket is released.
 *  - A queued request holds a reference on its client; the request itself
 *    holds a reference on its listener for its whole life.
 *  - struct wsp_req is kref counted: one for client->req, one while
 *    queued, one while its timeout work is pending.
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

static struct workqueue_struct *wsp_wq;
static atomic64_t wsp_req_ids = ATOMIC64_INIT(0);
static struct proto wsp_proto;
static const struct proto_ops wsp_ops;

/* ---- connect data ------------------------------------------------------ */

/* Copy @len bytes at @offset of @src into a new buffer charged to @sk. */
static struct wsp_buf *wsp_buf_copy(struct sock *sk, sockptr_t src,
				    size_t offset, u32 len)
{
	struct wsp_buf *buf;

	buf = kmalloc(struct_size(buf, data, len), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_sockptr_offset(buf->data, src, offset, len)) {
		kfree(buf);
		return ERR_PTR(-EFAULT);
	}
	refcount_set(&buf->ref, 1);
	buf->len = len;
	atomic_add(len, &sk->sk_omem_alloc);
	return buf;
}

static struct wsp_buf *wsp_buf_get(struct sock *sk, struct wsp_buf *buf)
{
	if (buf) {
		refcount_inc(&buf->ref);
		atomic_add(buf->len, &sk->sk_omem_alloc);
	}
	return buf;
}

void wsp_buf_put(struct sock *sk, struct wsp_buf *buf)
{
	if (!buf)
		return;
	atomic_sub(buf->len, &sk->sk_omem_alloc);
	if (refcount_dec_and_test(&buf->ref))
		kfree(buf);
}

/*
 * Give the client the callee (or reject) data of its latest request,
 * replacing what an earlier, refused attempt left.  client->lock held.
 */
static void __wsp_set_callee_data(struct wsp_sock *client,
				  struct wsp_buf *callee)
{
	struct wsp_buf *old = client->callee_data;

	lockdep_assert_held(&client->lock);
	client->callee_data = wsp_buf_get(&client->sk, callee);
	wsp_buf_put(&client->sk, old);
}

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

/* ---- requests ----------------------------------------------------------- */

static void wsp_req_release(struct kref *ref)
{
	struct wsp_req *req = container_of(ref, struct wsp_req, ref);

	put_pid(req->pid);
	put_cred(req->cred);
	sock_put(&req->listener->sk);
	kfree(req);
}

static void wsp_req_put(struct wsp_req *req)
{
	kref_put(&req->ref, wsp_req_release);
}

static void wsp_req_timeout(struct work_struct *work);

static struct wsp_req *wsp_req_alloc(struct wsp_sock *client,
				     struct wsp_sock *listener)
{
	struct wsp_req *req;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return NULL;
	kref_init(&req->ref);
	INIT_LIST_HEAD(&req->node);
	INIT_DELAYED_WORK(&req->timeout_work, wsp_req_timeout);
	req->state = WSP_REQ_PENDING;
	sock_hold(&listener->sk);
	req->listener = listener;
	req->client = client;
	req->caller_port = client->port;
	req->pid = get_pid(task_tgid(current));
	req->cred = get_current_cred();
	req->qos = client->qos;
	return req;
}

static bool wsp_req_queued(const struct wsp_req *req)
{
	return req->state == WSP_REQ_PENDING ||
	       req->state == WSP_REQ_DEFERRED_STATE;
}

/* Take @req off its listener's queue and set its final state.  The caller
 * inherits the queue's references (on @req and on its client) and must
 * drop them with wsp_req_unqueued() once the lock is released.
 * listener->lock must be held.
 */
static void __wsp_req_unqueue(struct wsp_sock *listener, struct wsp_req *req,
			      enum wsp_req_state state)
{
	lockdep_assert_held(&listener->lock);

	if (req->state == WSP_REQ_PENDING)
		listener->nr_undecided--;
	list_del_init(&req->node);
	xa_erase(&listener->req_index, req->id);
	req->state = state;
	/* A running timeout work finds the request decided and does nothing. */
	if (cancel_delayed_work(&req->timeout_work))
		kref_put(&req->ref, wsp_req_release);	/* never the last */
}

static void wsp_req_unqueued(struct wsp_req *req)
{
	sock_put(&req->client->sk);
	wsp_req_put(req);
}

/* Set the client of a failed request back to unconnected with @err. */
static void wsp_client_fail(struct wsp_sock *client, int err)
{
	struct sock *sk = &client->sk;

	spin_lock_nested(&client->lock, SINGLE_DEPTH_NESTING);
	sk->sk_state = TCP_CLOSE;
	if (err)
		WRITE_ONCE(sk->sk_err, err);
	spin_unlock(&client->lock);
}

static void wsp_client_notify(struct wsp_sock *client, int err)
{
	struct sock *sk = &client->sk;

	if (err) {
		wsp_event_record(client, WSP_FD_CONNECT_BIT, err);
		sk_error_report(sk);
	} else {
		wsp_event_record(client, WSP_FD_CONNECT_BIT, 0);
		wsp_event_record(client, WSP_FD_WRITE_BIT, 0);
		sk->sk_state_change(sk);
		/* sock_def_wakeup() alone sends no SIGIO. */
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/* The client gives up on @req: close (@err 0) or timeout.  Returns true
 * if the request was still queued and is now withdrawn.
 */
static bool wsp_withdraw(struct wsp_req *req, int err)
{
	struct wsp_sock *listener = req->listener;
	struct wsp_sock *client = req->client;
	bool withdrawn = false;

	spin_lock(&listener->lock);
	if (wsp_req_queued(req)) {
		__wsp_req_unqueue(listener, req, WSP_REQ_WITHDRAWN);
		listener->backlog_count--;
		wsp_client_fail(client, err);
		withdrawn = true;
	}
	spin_unlock(&listener->lock);
	if (!withdrawn)
		return false;

	wsp_count(sock_net(&listener->sk), err ? WSP_MIB_WITHDRAWN_TIMEOUT :
					       WSP_MIB_WITHDRAWN_CLOSE);
	trace_withdraw(listener->port, req->id, err);
	if (err)
		wsp_client_notify(client, err);
	wsp_req_unqueued(req);
	return true;
}

static void wsp_req_timeout(struct work_struct *work)
{
	struct wsp_req *req = container_of(to_delayed_work(work),
					   struct wsp_req, timeout_work);

	wsp_withdraw(req, ETIMEDOUT);
	wsp_req_put(req);
}

/* ---- sockets ------------------------------------------------------------ */

static void wsp_destruct(struct sock *sk)
{
	struct wsp_sock *wsk = wsp_sk(sk);

	wsp_bucket_stop(&wsk->bucket);
	skb_queue_purge(&sk->sk_receive_queue);
	wsp_buf_put(sk, wsk->caller_data);
	wsp_buf_put(sk, wsk->callee_data);
	wsp_events_release(&wsk->events);
	xa_destroy(&wsk->req_index);
	wsp_sock_unlink(wsk);
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
	INIT_HLIST_NODE(&wsk->port_node);
	INIT_LIST_HEAD(&wsk->req_list);
	INIT_LIST_HEAD(&wsk->accept_list);
	INIT_LIST_HEAD(&wsk->accept_node);
	xa_init(&wsk->req_index);
	mutex_init(&wsk->rx_mutex);
	atomic_set(&wsk->rx_queued, 0);
	wsp_qos_init(&wsk->qos);
	wsp_bucket_init(&wsk->bucket);
	wsp_events_init(&wsk->events);
	wsp_sock_link(wsk);
	return wsk;
}

/* Free a child that was never accepted; it has no struct socket. */
static void wsp_child_free(struct wsp_sock *child)
{
	sock_set_flag(&child->sk, SOCK_DEAD);
	sock_put(&child->sk);
}

/* A child takes the listener's attributes as they are now: the socket
 * options SPEC lists, the SOL_WSP options that are not listener-only,
 * and the event registration.
 */
static struct wsp_sock *wsp_child_alloc(struct wsp_sock *listener)
{
	struct sock *lsk = &listener->sk;
	struct wsp_sock *child;
	struct sock *sk;

	child = wsp_sk_alloc(sock_net(lsk), NULL, lsk->sk_type, GFP_KERNEL, 0);
	if (!child)
		return NULL;
	sk = &child->sk;
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
	child->passcred = lsk->sk_socket &&
			  test_bit(SOCK_PASSCRED, &lsk->sk_socket->flags);
	child->connect_timeout_ms = listener->connect_timeout_ms;
	child->connect_timeout_set = listener->connect_timeout_set;
	child->port = listener->port;
	wsp_events_inherit(child, listener);
	return child;
}

/* Link @child and the client of @req into a connected pair and queue the
 * child for accept().  @callee is the verdict's data, or NULL; @granted
 * is the QoS in force, seen from the caller.
 * listener->lock must be held; the client's lock is taken nested.
 */
static void __wsp_establish(struct wsp_sock *listener, struct wsp_req *req,
			    struct wsp_sock *child, struct wsp_buf *callee,
			    const struct wsp_qos *granted)
{
	u64 now = ktime_get_ns();

	struct wsp_sock *client = req->client;
	struct sock *csk = &client->sk;

	lockdep_assert_held(&listener->lock);

	child->peer = client;
	sock_hold(csk);
	child->peer_port = client->port;
	child->caller_data = wsp_buf_get(&child->sk, client->caller_data);
	child->callee_data = wsp_buf_get(&child->sk, callee);
	child->sk.sk_peer_pid = get_pid(req->pid);
	child->sk.sk_peer_cred = get_cred(req->cred);
	child->qos.sending = granted->receiving;
	child->qos.receiving = granted->sending;
	wsp_bucket_set(&child->bucket, &child->qos.sending, now);
	child->sk.sk_state = TCP_ESTABLISHED;

	spin_lock_nested(&client->lock, SINGLE_DEPTH_NESTING);
	client->peer = child;
	sock_hold(&child->sk);
	client->peer_port = listener->port;
	__wsp_set_callee_data(client, callee);
	spin_lock(&csk->sk_peer_lock);
	csk->sk_peer_pid = get_pid(listener->sk.sk_peer_pid);
	csk->sk_peer_cred = get_cred(listener->sk.sk_peer_cred);
	spin_unlock(&csk->sk_peer_lock);
	client->qos = *granted;
	wsp_bucket_set(&client->bucket, &client->qos.sending, now);
	csk->sk_state = TCP_ESTABLISHED;
	spin_unlock(&client->lock);

	list_add_tail(&child->accept_node, &listener->accept_list);
}

/* The listener has something new: an acceptable child or a request. */
static void wsp_listener_wake(struct wsp_sock *listener, bool conditional)
{
	struct sock *sk = &listener->sk;

	if (conditional) {
		struct socket_wq *wq;

		rcu_read_lock();
		wq = rcu_dereference(sk->sk_wq);
		if (skwq_has_sleeper(wq))
			wake_up_interruptible_sync_poll(&wq->wait,
							EPOLLPRI | EPOLLRDBAND);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_PRI);
		rcu_read_unlock();
	} else {
		sk->sk_data_ready(sk);
		wsp_event_record(listener, WSP_FD_ACCEPT_BIT, 0);
	}
}

/* Put a request to the listener bound at @port; with automatic accept,
 * the pair is connected before this returns.
 */
static int wsp_connect_start(struct wsp_sock *client, u32 port)
{
	struct sock *sk = &client->sk;
	struct net *net = sock_net(sk);
	struct wsp_sock *listener, *child = NULL;
	struct wsp_qos granted;
	struct wsp_req *req;
	bool conditional;
	u32 timeout;
	int err;

	listener = wsp_lookup_listener(net, port);
	if (!listener)
		return -ECONNREFUSED;
	err = -EPROTOTYPE;
	if (listener->sk.sk_type != sk->sk_type)
		goto out_put_listener;
	err = -ENOMEM;
	req = wsp_req_alloc(client, listener);
	if (!req)
		goto out_put_listener;
again:
	if (!child && !READ_ONCE(listener->conditional)) {
		child = wsp_child_alloc(listener);
		if (!child)
			goto out_put_req;
	}

	spin_lock(&listener->lock);
	conditional = listener->conditional;
	err = -ECONNREFUSED;
	if (listener->sk.sk_state != TCP_LISTEN)
		goto out_unlock;
	if (wsp_backlog_full(listener->backlog_count, listener->backlog_cap)) {
		wsp_count(net, WSP_MIB_BACKLOG_OVERFLOWS);
		goto out_unlock;
	}
	if (!conditional && !child) {
		spin_unlock(&listener->lock);
		goto again;
	}
	req->id = atomic64_inc_return(&wsp_req_ids);
	if (conditional) {
		err = xa_insert(&listener->req_index, req->id, req, GFP_ATOMIC);
		if (err)
			goto out_unlock;
		list_add_tail(&req->node, &listener->req_list);
		listener->nr_undecided++;
		kref_get(&req->ref);		/* the queue's */
		sock_hold(sk);			/* likewise */
		spin_lock_nested(&client->lock, SINGLE_DEPTH_NESTING);
		sk->sk_state = TCP_SYN_SENT;
		client->req = req;		/* takes the allocation's ref */
		spin_unlock(&client->lock);
		timeout = client->connect_timeout_set ?
			  client->connect_timeout_ms :
			  READ_ONCE(wsp_net(net)->connect_timeout_ms);
		if (timeout) {
			kref_get(&req->ref);	/* the work's */
			queue_delayed_work(wsp_wq, &req->timeout_work,
					   msecs_to_jiffies(timeout));
		}
	} else {
		req->state = WSP_REQ_ACCEPTED;
		wsp_qos_grant(&granted, &req->qos, &listener->qos);
		__wsp_establish(listener, req, child, NULL, &granted);
		child = NULL;
	}
	listener->backlog_count++;
	spin_unlock(&listener->lock);

	wsp_count(net, WSP_MIB_REQUESTS);
	trace_request(listener->port, req->id, client->port, conditional);
	if (!conditional) {
		wsp_count(net, WSP_MIB_ACCEPTED);
		wsp_client_notify(client, 0);
		wsp_req_put(req);
	}
	wsp_listener_wake(listener, conditional);
	sock_put(&listener->sk);
	return 0;

out_unlock:
	spin_unlock(&listener->lock);
	if (child) {
		/* Never published: no peer, no queue. */
		wsp_child_free(child);
	}
out_put_req:
	wsp_req_put(req);
out_put_listener:
	sock_put(&listener->sk);
	return err;
}

/* Drop the request a previous connect left behind. */
static void wsp_req_forget(struct wsp_sock *wsk)
{
	struct wsp_req *req;

	spin_lock(&wsk->lock);
	req = wsk->req;
	wsk->req = NULL;
	spin_unlock(&wsk->lock);
	if (req)
		wsp_req_put(req);
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
	if (err)
		goto out;

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
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
		sock->state = SS_UNCONNECTED;
	}
	release_sock(sk);
	return err;
}

static int wsp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	int max_backlog = READ_ONCE(wsp_net(sock_net(sk))->max_backlog);
	const struct cred *old_cred;
	struct pid *old_pid;
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
	spin_lock(&sk->sk_peer_lock);
	old_pid = sk->sk_peer_pid;
	old_cred = sk->sk_peer_cred;
	sk->sk_peer_pid = get_pid(task_tgid(current));
	sk->sk_peer_cred = get_current_cred();
	spin_unlock(&sk->sk_peer_lock);
	put_pid(old_pid);
	put_cred(old_cred);

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

/* Stop a listener: refuse the requests awaiting a verdict and reset the
 * accepted children nobody took.  lock_sock(listener) must be held.
 */
static void __wsp_listener_stop(struct wsp_sock *listener)
{
	struct sock *sk = &listener->sk;
	struct wsp_sock *child, *ctmp;
	struct wsp_req *req, *rtmp;
	LIST_HEAD(children);
	LIST_HEAD(reqs);

	spin_lock(&listener->lock);
	sk->sk_state = TCP_CLOSE;
	list_for_each_entry_safe(req, rtmp, &listener->req_list, node) {
		__wsp_req_unqueue(listener, req, WSP_REQ_REFUSED);
		list_add_tail(&req->node, &reqs);
	}
	list_splice_init(&listener->accept_list, &children);
	listener->backlog_count = 0;
	listener->nr_undecided = 0;
	spin_unlock(&listener->lock);

	list_for_each_entry_safe(req, rtmp, &reqs, node) {
		list_del_init(&req->node);
		wsp_client_fail(req->client, ECONNREFUSED);
		wsp_client_notify(req->client, ECONNREFUSED);
		wsp_req_unqueued(req);
	}
	list_for_each_entry_safe(child, ctmp, &children, accept_node) {
		list_del_init(&child->accept_node);
		wsp_disconnect(child, true);
		wsp_child_free(child);
	}
	sk->sk_state_change(sk);
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
	wsp_disconnect(wsk, abort);
	wsp_bucket_stop(&wsk->bucket);
	wsp_unbind(wsk);
	wsp_events_release(&wsk->events);
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

static int __wsp_accept(struct socket *sock, struct socket *newsock,
			int flags)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *listener = wsp_sk(sk);
	DEFINE_WAIT(wait);
	struct wsp_sock *child;
	long timeo;
	int err = 0;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	for (;;) {
		if (sk->sk_state != TCP_LISTEN) {
			err = -EINVAL;
			goto out;
		}
		child = wsp_accept_dequeue(listener);
		if (child)
			break;
		if (!timeo) {
			err = -EAGAIN;
			goto out;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			goto out;
		}
		/* Exclusive: one child wakes one accept(). */
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (list_empty_careful(&listener->accept_list) &&
		    READ_ONCE(sk->sk_state) == TCP_LISTEN)
			timeo = schedule_timeout(timeo);
		lock_sock(sk);
		finish_wait(sk_sleep(sk), &wait);
	}

	sock_graft(&child->sk, newsock);
	if (child->passcred)
		set_bit(SOCK_PASSCRED, &newsock->flags);
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
	return __wsp_accept(sock, newsock, arg->flags);
}
#else
static int wsp_accept(struct socket *sock, struct socket *newsock, int flags,
		      bool kern)
{
	return __wsp_accept(sock, newsock, flags);
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

/* ---- SOL_WSP options ---------------------------------------------------- */

static int wsp_set_verdict(struct wsp_sock *listener, sockptr_t optval,
			   unsigned int optlen)
{
	struct sock *sk = &listener->sk;
	struct net *net = sock_net(sk);
	struct wsp_sock *child = NULL;
	struct wsp_buf *callee = NULL;
	struct wsp_verdict v;
	struct wsp_req *req;
	bool decided = false;
	int err;

	if (optlen < sizeof(v))
		return -EINVAL;
	if (copy_from_sockptr(&v, optval, sizeof(v)))
		return -EFAULT;
	if (v.verdict > WSP_CF_DEFER || (v.flags & ~WSP_VERDICT_QOS) ||
	    v.__reserved)
		return -EINVAL;
	if (v.data_len > optlen - sizeof(v))
		return -EINVAL;
	if (v.data_len > READ_ONCE(wsp_net(net)->max_connect_data))
		return -EMSGSIZE;
	if (v.flags & WSP_VERDICT_QOS) {
		err = wsp_qos_validate(&v.qos);
		if (err)
			return err;
	}

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN || !listener->conditional)
		goto out;
	if (v.verdict != WSP_CF_DEFER) {
		callee = wsp_buf_copy(sk, optval, sizeof(v), v.data_len);
		if (IS_ERR(callee)) {
			err = PTR_ERR(callee);
			callee = NULL;
			goto out;
		}
	}
	if (v.verdict == WSP_CF_ACCEPT) {
		err = -ENOMEM;
		child = wsp_child_alloc(listener);
		if (!child)
			goto out;
	}

	spin_lock(&listener->lock);
	req = xa_load(&listener->req_index, v.id);
	if (!req || !wsp_req_queued(req)) {
		spin_unlock(&listener->lock);
		wsp_count(net, WSP_MIB_UNKNOWN_VERDICTS);
		err = -ENOENT;
		goto out;
	}
	switch (v.verdict) {
	case WSP_CF_ACCEPT:
		__wsp_req_unqueue(listener, req, WSP_REQ_ACCEPTED);
		__wsp_establish(listener, req, child, callee,
				v.flags & WSP_VERDICT_QOS ? &v.qos : &req->qos);
		child = NULL;
		decided = true;
		wsp_count(net, WSP_MIB_ACCEPTED);
		break;
	case WSP_CF_REJECT:
		__wsp_req_unqueue(listener, req, WSP_REQ_REFUSED);
		listener->backlog_count--;
		spin_lock_nested(&req->client->lock, SINGLE_DEPTH_NESTING);
		__wsp_set_callee_data(req->client, callee);
		spin_unlock(&req->client->lock);
		wsp_client_fail(req->client, ECONNREFUSED);
		decided = true;
		wsp_count(net, WSP_MIB_REJECTED);
		break;
	case WSP_CF_DEFER:
		if (req->state == WSP_REQ_PENDING) {
			req->state = WSP_REQ_DEFERRED_STATE;
			listener->nr_undecided--;
			wsp_count(net, WSP_MIB_DEFERRED);
		}
		break;
	}
	spin_unlock(&listener->lock);
	err = 0;

	trace_verdict(listener->port, v.id, v.verdict);
	if (decided) {
		wsp_client_notify(req->client,
				  v.verdict == WSP_CF_ACCEPT ? 0 : ECONNREFUSED);
		wsp_req_unqueued(req);
		if (v.verdict == WSP_CF_ACCEPT)
			wsp_listener_wake(listener, false);
	}
out:
	if (child)
		wsp_child_free(child);
	wsp_buf_put(sk, callee);
	release_sock(sk);
	return err;
}

static int wsp_set_caller_data(struct wsp_sock *wsk, sockptr_t optval,
			       unsigned int optlen)
{
	struct sock *sk = &wsk->sk;
	struct wsp_buf *buf = NULL, *old;
	int err;

	if (optlen > READ_ONCE(wsp_net(sock_net(sk))->max_connect_data))
		return -EMSGSIZE;
	if (optlen) {
		buf = wsp_buf_copy(sk, optval, 0, optlen);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
	}

	lock_sock(sk);
	err = sk->sk_state == TCP_LISTEN ? -EINVAL : -EISCONN;
	if (sk->sk_state != TCP_CLOSE)
		goto out;
	spin_lock(&wsk->lock);
	old = wsk->caller_data;
	wsk->caller_data = buf;
	spin_unlock(&wsk->lock);
	buf = old;
	err = 0;
out:
	release_sock(sk);
	wsp_buf_put(sk, buf);
	return err;
}

static int wsp_set_conditional(struct wsp_sock *wsk, int val)
{
	int err = 0;

	if (val != 0 && val != 1)
		return -EINVAL;
	spin_lock(&wsk->lock);
	/* Turning it off would strand requests that wait for a verdict. */
	if (!val && !list_empty(&wsk->req_list))
		err = -EBUSY;
	else
		wsk->conditional = val;
	spin_unlock(&wsk->lock);
	return err;
}

static int wsp_set_qos(struct wsp_sock *wsk, sockptr_t optval,
		       unsigned int optlen)
{
	struct sock *sk = &wsk->sk;
	struct wsp_sock *peer = NULL;
	struct wsp_qos qos;
	int err;

	if (optlen < sizeof(qos))
		return -EINVAL;
	if (copy_from_sockptr(&qos, optval, sizeof(qos)))
		return -EFAULT;
	err = wsp_qos_validate(&qos);
	if (err)
		return err;

	spin_lock(&wsk->lock);
	wsk->qos = qos;
	if (sk->sk_state == TCP_ESTABLISHED) {
		wsp_bucket_set(&wsk->bucket, &qos.sending, ktime_get_ns());
		peer = wsk->peer;
		if (peer)
			sock_hold(&peer->sk);
	}
	spin_unlock(&wsk->lock);

	/* Both ends see the QoS in force, each in its own directions. */
	if (peer) {
		spin_lock(&peer->lock);
		peer->qos.sending = qos.receiving;
		peer->qos.receiving = qos.sending;
		wsp_bucket_set(&peer->bucket, &peer->qos.sending,
			       ktime_get_ns());
		spin_unlock(&peer->lock);
		wsp_event_record(peer, WSP_FD_QOS_BIT, 0);
		peer->sk.sk_write_space(&peer->sk);
		sock_put(&peer->sk);
	}
	/* A new rate may let a waiting sender go. */
	sk->sk_write_space(sk);
	return 0;
}

static int wsp_setsockopt(struct socket *sock, int level, int optname,
			  sockptr_t optval, unsigned int optlen)
{
	struct wsp_sock *wsk = wsp_sk(sock->sk);
	u32 val;

	if (level != SOL_WSP)
		return -ENOPROTOOPT;

	switch (optname) {
	case WSP_VERDICT:
		return wsp_set_verdict(wsk, optval, optlen);
	case WSP_CALLER_DATA:
		return wsp_set_caller_data(wsk, optval, optlen);
	case WSP_QOS:
		return wsp_set_qos(wsk, optval, optlen);
	case WSP_EVENT_SELECT:
		return wsp_event_select(wsk, optval, optlen);
	case WSP_CONDITIONAL_ACCEPT:
	case WSP_CONNECT_TIMEOUT:
		break;
	default:
		return -ENOPROTOOPT;
	}

	if (optlen < sizeof(u32))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	if (optname == WSP_CONDITIONAL_ACCEPT)
		return wsp_set_conditional(wsk, val);

	WRITE_ONCE(wsk->connect_timeout_ms, val);
	WRITE_ONCE(wsk->connect_timeout_set, true);
	return 0;
}

static int wsp_get_peek(struct wsp_sock *listener, char __user *optval,
			int __user *optlen)
{
	struct sock *sk = &listener->sk;
	struct wsp_request r;
	struct wsp_buf *data = NULL;
	unsigned long index;
	struct wsp_req *req;
	int len, copy, err;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0 || len < sizeof(r))
		return -EINVAL;
	if (copy_from_user(&r.id, optval, sizeof(r.id)))
		return -EFAULT;
	index = r.id;
	memset(&r, 0, sizeof(r));

	spin_lock(&listener->lock);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out_unlock;
	err = -EAGAIN;
	if (!index)
		req = list_first_entry_or_null(&listener->req_list,
					       struct wsp_req, node);
	else if (index == ULONG_MAX)
		req = NULL;
	else
		req = xa_find_after(&listener->req_index, &index, ULONG_MAX,
				    XA_PRESENT);
	if (!req)
		goto out_unlock;
	r.id = req->id;
	r.caller.swsp_family = AF_WSP;
	r.caller.swsp_port = req->caller_port;
	r.pid = pid_vnr(req->pid);
	r.uid = from_kuid_munged(current_user_ns(), req->cred->euid);
	r.gid = from_kgid_munged(current_user_ns(), req->cred->egid);
	if (req->state == WSP_REQ_DEFERRED_STATE)
		r.flags |= WSP_REQ_DEFERRED;
	r.qos = req->qos;
	/* The client cannot change its caller data while it connects. */
	data = wsp_buf_get(sk, req->client->caller_data);
	spin_unlock(&listener->lock);

	r.data_len = data ? data->len : 0;
	err = -EFAULT;
	if (copy_to_user(optval, &r, sizeof(r)))
		goto out;
	copy = min_t(int, len - sizeof(r), r.data_len);
	if (copy && copy_to_user(optval + sizeof(r), data->data, copy))
		goto out;
	err = put_user(sizeof(r) + copy, optlen);
out:
	wsp_buf_put(sk, data);
	return err;
out_unlock:
	spin_unlock(&listener->lock);
	return err;
}

/* Copy out connect data; a short buffer gets ERANGE and the length. */
static int wsp_get_buf(struct wsp_sock *wsk, bool callee, char __user *optval,
		       int __user *optlen)
{
	struct sock *sk = &wsk->sk;
	struct wsp_buf *buf;
	int len, err;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	spin_lock(&wsk->lock);
	buf = wsp_buf_get(sk, callee ? wsk->callee_data : wsk->caller_data);
	spin_unlock(&wsk->lock);

	err = 0;
	if (!buf)
		goto out_len;
	err = -ERANGE;
	if (len < buf->len)
		goto out_len;
	err = copy_to_user(optval, buf->data, buf->len) ? -EFAULT : 0;
out_len:
	if (put_user(buf ? buf->len : 0, optlen))
		err = -EFAULT;
	wsp_buf_put(sk, buf);
	return err;
}

static int wsp_getsockopt(struct socket *sock, int level, int optname,
			  char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	struct wsp_qos qos;
	int len, val;

	if (level != SOL_WSP)
		return -ENOPROTOOPT;

	switch (optname) {
	case WSP_PEEK_REQUEST:
		return wsp_get_peek(wsk, optval, optlen);
	case WSP_CALLER_DATA:
	case WSP_CALLEE_DATA:
		return wsp_get_buf(wsk, optname == WSP_CALLEE_DATA, optval,
				   optlen);
	case WSP_NETWORK_EVENTS:
		return wsp_event_enum(wsk, optval, optlen);
	case WSP_QOS:
		if (get_user(len, optlen))
			return -EFAULT;
		if (len < (int)sizeof(qos))
			return -EINVAL;
		spin_lock(&wsk->lock);
		qos = wsk->qos;
		spin_unlock(&wsk->lock);
		if (copy_to_user(optval, &qos, sizeof(qos)) ||
		    put_user(sizeof(qos), optlen))
			return -EFAULT;
		/* As SIO_GET_QOS, reading the QoS re-enables FD_QOS. */
		wsp_event_rearm(wsk, WSP_FD_QOS_BIT);
		return 0;
	case WSP_BACKLOG:
		val = READ_ONCE(wsk->backlog_cap);
		break;
	case WSP_CONDITIONAL_ACCEPT:
		val = READ_ONCE(wsk->conditional);
		break;
	case WSP_CONNECT_TIMEOUT:
		val = READ_ONCE(wsk->connect_timeout_set) ?
		      READ_ONCE(wsk->connect_timeout_ms) :
		      READ_ONCE(wsp_net(sock_net(sk))->connect_timeout_ms);
		break;
	default:
		return -ENOPROTOOPT;
	}

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(int))
		return -EINVAL;
	if (put_user(val, (int __user *)optval) ||
	    put_user(sizeof(int), optlen))
		return -EFAULT;
	return 0;
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

	wsp_wq = alloc_workqueue("wsp", 0, 0);
	if (!wsp_wq)
		return -ENOMEM;
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
	destroy_workqueue(wsp_wq);
	return err;
}

static void __exit wsp_exit(void)
{
	sock_unregister(PF_WSP);
	/* Timeout works may still run their last reference drops. */
	destroy_workqueue(wsp_wq);
	wsp_net_exit();
	proto_unregister(&wsp_proto);
}

module_init(wsp_init);
module_exit(wsp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_WSP sockets with conditional accept");
MODULE_ALIAS_NETPROTO(PF_WSP);
