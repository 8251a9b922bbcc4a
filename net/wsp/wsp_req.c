// SPDX-License-Identifier: GPL-2.0
/* AF_WSP connection requests: putting one to a listener, the verdict,
 * the peek, withdrawal by the client, and refusal when a listener stops.
 * Lock order and reference rules are in af_wsp.c.
 */
#include <linux/cred.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include <kunit/visibility.h>

#include "wsp.h"
#include "wsp_trace.h"

/* Connect timeouts; destroyed at unload after their last put. */
static struct workqueue_struct *wsp_wq;

static void wsp_req_release(struct kref *ref)
{
	struct wsp_req *req = container_of(ref, struct wsp_req, ref);

	put_pid(req->pid);
	put_cred(req->cred);
	sock_put(&req->listener->sk);
	kfree(req);
}

void wsp_req_put(struct wsp_req *req)
{
	kref_put(&req->ref, wsp_req_release);
}

static void wsp_req_timeout(struct work_struct *work);

static struct wsp_req *wsp_req_alloc(struct wsp_sock *client,
				     struct wsp_sock *listener)
{
	struct wsp_req *req;

	req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req)
		return NULL;
	kref_init(&req->ref);
	INIT_LIST_HEAD(&req->node);
	RB_CLEAR_NODE(&req->tree_node);
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

/* The id tree.  Ids are u64 on every architecture, so they are not an
 * xarray's unsigned long index; the tree also costs no allocation under
 * the listener's lock, so queueing cannot fail for want of memory.
 */
static bool wsp_req_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct wsp_req, tree_node)->id <
	       rb_entry(b, struct wsp_req, tree_node)->id;
}

/* listener->lock must be held. */
static void __wsp_req_index(struct wsp_sock *listener, struct wsp_req *req)
{
	lockdep_assert_held(&listener->lock);
	rb_add(&req->tree_node, &listener->req_tree, wsp_req_less);
}

/* The queued request with the smallest id above @after, or NULL.
 * listener->lock must be held.
 */
struct wsp_req *__wsp_req_after(struct wsp_sock *listener, u64 after)
{
	struct rb_node *node = listener->req_tree.rb_node;
	struct wsp_req *req, *found = NULL;

	lockdep_assert_held(&listener->lock);
	while (node) {
		req = rb_entry(node, struct wsp_req, tree_node);
		if (req->id > after) {
			found = req;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(__wsp_req_after);

/* The queued request @id, or NULL.  listener->lock must be held. */
struct wsp_req *__wsp_req_find(struct wsp_sock *listener, u64 id)
{
	struct wsp_req *req = id ? __wsp_req_after(listener, id - 1) : NULL;

	return req && req->id == id ? req : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(__wsp_req_find);

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
	rb_erase(&req->tree_node, &listener->req_tree);
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
bool wsp_withdraw(struct wsp_req *req, int err)
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

	wsp_count(wsp_net(sock_net(&listener->sk)),
		  err ? WSP_MIB_WITHDRAWN_TIMEOUT : WSP_MIB_WITHDRAWN_CLOSE);
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

/* Link @child and the client of @req into a connected pair and queue the
 * child for accept().  @callee is the verdict's data, or NULL; @granted
 * is the QoS in force, seen from the caller.
 * listener->lock must be held; the client's lock is taken nested.
 */
static void __wsp_establish(struct wsp_sock *listener, struct wsp_req *req,
			    struct wsp_sock *child, struct wsp_buf *callee,
			    const struct wsp_qos *granted)
{
	struct wsp_sock *client = req->client;
	struct sock *csk = &client->sk;
	const struct cred *cred;
	struct pid *pid;

	lockdep_assert_held(&listener->lock);

	/* The listener's SO_PEERCRED as of its last listen(), which a
	 * re-listen swaps under sk_peer_lock: take it under that lock too.
	 */
	spin_lock(&listener->sk.sk_peer_lock);
	pid = get_pid(listener->sk.sk_peer_pid);
	cred = get_cred(listener->sk.sk_peer_cred);
	spin_unlock(&listener->sk.sk_peer_lock);

	child->peer = client;
	sock_hold(csk);
	child->peer_port = client->port;
	child->req_id = req->id;
	child->caller_data = wsp_buf_get(&child->sk, client->caller_data);
	child->callee_data = wsp_buf_get(&child->sk, callee);
	child->sk.sk_peer_pid = get_pid(req->pid);
	child->sk.sk_peer_cred = get_cred(req->cred);
	child->qos.sending = granted->receiving;
	child->qos.receiving = granted->sending;
	wsp_shaper_reset(child);
	child->sk.sk_state = TCP_ESTABLISHED;

	spin_lock_nested(&client->lock, SINGLE_DEPTH_NESTING);
	client->peer = child;
	sock_hold(&child->sk);
	client->peer_port = listener->port;
	client->req_id = req->id;
	__wsp_set_callee_data(client, callee);
	wsp_set_peercred(csk, pid, cred);
	client->qos = *granted;
	/* A new grant: the ceiling is taken again at the first change. */
	if (wsp_ext(client))
		wsp_ext(client)->ceiling_set = false;
	wsp_shaper_reset(client);
	csk->sk_state = TCP_ESTABLISHED;
	spin_unlock(&client->lock);

	list_add_tail(&child->accept_node, &listener->accept_list);
}

/* The listener has something new: an acceptable child or a request. */
static void wsp_listener_wake(struct wsp_sock *listener, bool conditional)
{
	struct sock *sk = &listener->sk;

	/* As with WSAAccept's condition function: a request is FD_ACCEPT.
	 * Recorded before the wakeup, so that whoever wakes finds it.
	 */
	wsp_event_record(listener, WSP_FD_ACCEPT_BIT, 0);
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
	}
}

/* Does a request wait in the queue?  The filter's ACCEPT and DEFER
 * override the listener's mode; PASS leaves the choice to the mode.
 * listener->lock makes the mode stable; without it, it is a guess.
 */
static bool wsp_req_queues(const struct wsp_sock *listener, u32 verdict)
{
	if (verdict == WSP_FILTER_PASS)
		return READ_ONCE(listener->conditional);
	return verdict == WSP_FILTER_DEFER;
}

/* Put a request to the listener bound at @port.  With automatic accept
 * it is decided at once, so it needs no queue entry: a request on the
 * stack borrows the caller's pid and cred, and the pair is connected
 * before this returns.  A conditional request is allocated and queued.
 * Returns 1 if it was queued, 0 if connected at once, or an error.
 */
int wsp_connect_start(struct wsp_sock *client, u32 port)
{
	struct sock *sk = &client->sk;
	struct wsp_net *wn = wsp_net(sock_net(sk));
	struct wsp_sock *listener, *child = NULL;
	struct wsp_req *queued = NULL, *req;
	struct wsp_req now = {
		.client = client,
		.pid = task_tgid(current),
		.cred = current_cred(),
		.qos = client->qos,
	};
	struct wsp_qos granted;
	u32 timeout, verdict;
	bool conditional;
	int err;

	listener = wsp_lookup_listener(wn, port);
	if (!listener)
		return -ECONNREFUSED;
	err = -EPROTOTYPE;
	if (listener->sk.sk_type != sk->sk_type)
		goto out_put_listener;
	/* The listener's program decides first, with no listener lock: a
	 * refusal costs no slot, no allocation and no wakeup.
	 */
	verdict = wsp_filter_run(wn, listener, client);
	err = -ECONNREFUSED;
	if (verdict == WSP_FILTER_REJECT)
		goto out_put_listener;
again:
	/* Allocate for the mode the listener is in; recheck under the lock. */
	err = -ENOMEM;
	if (wsp_req_queues(listener, verdict)) {
		if (!queued)
			queued = wsp_req_alloc(client, listener);
		if (!queued)
			goto out_free;
	} else if (!child) {
		child = wsp_child_alloc(listener);
		if (!child)
			goto out_free;
	}

	spin_lock(&listener->lock);
	conditional = wsp_req_queues(listener, verdict);
	err = -ECONNREFUSED;
	if (listener->sk.sk_state != TCP_LISTEN)
		goto out_unlock;
	if (wsp_backlog_full(listener->backlog_count, listener->backlog_cap)) {
		wsp_count(wn, WSP_MIB_BACKLOG_OVERFLOWS);
		goto out_unlock;
	}
	if (conditional ? !queued : !child) {
		spin_unlock(&listener->lock);
		goto again;
	}
	req = conditional ? queued : &now;
	req->id = atomic64_inc_return(&wn->next_req_id);
	if (conditional) {
		__wsp_req_index(listener, req);
		list_add_tail(&req->node, &listener->req_list);
		/* Deferred by the program: no verdict is due, no EPOLLPRI. */
		if (verdict == WSP_FILTER_DEFER)
			req->state = WSP_REQ_DEFERRED_STATE;
		else
			listener->nr_undecided++;
		kref_get(&req->ref);		/* the queue's */
		sock_hold(sk);			/* likewise */
		spin_lock_nested(&client->lock, SINGLE_DEPTH_NESTING);
		sk->sk_state = TCP_SYN_SENT;
		client->req = req;		/* takes the allocation's ref */
		spin_unlock(&client->lock);
		queued = NULL;
		timeout = client->connect_timeout_set ?
			  client->connect_timeout_ms :
			  READ_ONCE(wn->connect_timeout_ms);
		if (timeout) {
			kref_get(&req->ref);	/* the work's */
			queue_delayed_work(wsp_wq, &req->timeout_work,
					   msecs_to_jiffies(timeout));
		}
	} else {
		wsp_qos_grant(&granted, &req->qos, &listener->qos);
		__wsp_establish(listener, req, child, NULL, &granted);
		child = NULL;
	}
	listener->backlog_count++;
	spin_unlock(&listener->lock);

	wsp_count(wn, WSP_MIB_REQUESTS);
	trace_request(listener->port, req->id, client->port, conditional);
	if (!conditional) {
		wsp_count(wn, WSP_MIB_ACCEPTED);
		wsp_client_notify(client, 0);
	}
	if (verdict != WSP_FILTER_DEFER)
		wsp_listener_wake(listener, conditional);
	err = conditional;
	goto out_free;

out_unlock:
	spin_unlock(&listener->lock);
out_free:
	/* What a change of mode left unused; a child never published. */
	if (child)
		wsp_child_free(child);
	if (queued)
		wsp_req_put(queued);
out_put_listener:
	sock_put(&listener->sk);
	return err;
}

/* Drop the request a previous connect left behind. */
void wsp_req_forget(struct wsp_sock *wsk)
{
	struct wsp_req *req;

	spin_lock(&wsk->lock);
	req = wsk->req;
	wsk->req = NULL;
	spin_unlock(&wsk->lock);
	if (req)
		wsp_req_put(req);
}

/* Stop a listener: refuse the requests awaiting a verdict and reset the
 * accepted children nobody took.  lock_sock(listener) must be held.
 */
void __wsp_listener_stop(struct wsp_sock *listener)
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

/* An automatic listener takes verdicts only for the requests a filter
 * program deferred: with no program and none queued, a verdict is a
 * mistake (EINVAL), not an unknown id.  listener->lock, or lock_sock for
 * a first look.
 */
static bool __wsp_no_verdicts(struct wsp_sock *listener)
{
	return !READ_ONCE(listener->conditional) &&
	       list_empty_careful(&listener->req_list) &&
	       !wsp_filter_attached(listener);
}

int wsp_set_verdict(struct wsp_sock *listener, sockptr_t optval,
		    unsigned int optlen)
{
	struct sock *sk = &listener->sk;
	struct wsp_net *wn = wsp_net(sock_net(sk));
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
	if (v.data_len > READ_ONCE(wn->max_connect_data))
		return -EMSGSIZE;
	if (v.flags & WSP_VERDICT_QOS) {
		err = wsp_qos_validate(&v.qos);
		if (err)
			return err;
	}

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN || __wsp_no_verdicts(listener))
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
	req = __wsp_req_find(listener, v.id);
	if (!req || !wsp_req_queued(req)) {
		err = __wsp_no_verdicts(listener) ? -EINVAL : -ENOENT;
		spin_unlock(&listener->lock);
		if (err == -ENOENT)
			wsp_count(wn, WSP_MIB_UNKNOWN_VERDICTS);
		goto out;
	}
	switch (v.verdict) {
	case WSP_CF_ACCEPT:
		__wsp_req_unqueue(listener, req, WSP_REQ_ACCEPTED);
		__wsp_establish(listener, req, child, callee,
				v.flags & WSP_VERDICT_QOS ? &v.qos : &req->qos);
		child = NULL;
		decided = true;
		wsp_count(wn, WSP_MIB_ACCEPTED);
		break;
	case WSP_CF_REJECT:
		__wsp_req_unqueue(listener, req, WSP_REQ_REFUSED);
		listener->backlog_count--;
		spin_lock_nested(&req->client->lock, SINGLE_DEPTH_NESTING);
		__wsp_set_callee_data(req->client, callee);
		spin_unlock(&req->client->lock);
		wsp_client_fail(req->client, ECONNREFUSED);
		decided = true;
		wsp_count(wn, WSP_MIB_REJECTED);
		break;
	case WSP_CF_DEFER:
		if (req->state == WSP_REQ_PENDING) {
			req->state = WSP_REQ_DEFERRED_STATE;
			listener->nr_undecided--;
			wsp_count(wn, WSP_MIB_DEFERRED);
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
		else
			/* WSAAccept re-enables FD_ACCEPT when its condition
			 * rejects, as when it returns a socket.
			 */
			wsp_event_rearm(listener, WSP_FD_ACCEPT_BIT);
	}
out:
	if (child)
		wsp_child_free(child);
	wsp_buf_put(sk, callee);
	release_sock(sk);
	return err;
}

int wsp_get_peek(struct wsp_sock *listener, char __user *optval,
		 int __user *optlen)
{
	struct sock *sk = &listener->sk;
	struct wsp_request r;
	struct wsp_buf *data = NULL;
	struct wsp_req *req;
	int len, copy, err;
	u64 after;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0 || len < sizeof(r))
		return -EINVAL;
	if (copy_from_user(&r.id, optval, sizeof(r.id)))
		return -EFAULT;
	after = r.id;
	memset(&r, 0, sizeof(r));

	spin_lock(&listener->lock);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out_unlock;
	err = -EAGAIN;
	req = __wsp_req_after(listener, after);
	if (!req)
		goto out_unlock;
	r.id = req->id;
	r.caller.swsp_family = AF_WSP;
	r.caller.swsp_port = req->caller_port;
	/* As seen from the listener's namespaces, those of the task that
	 * called listen(), whoever peeks: the fd may have been passed on.
	 */
	spin_lock(&sk->sk_peer_lock);
	r.pid = pid_nr_ns(req->pid, ns_of_pid(sk->sk_peer_pid));
	r.uid = from_kuid_munged(sk->sk_peer_cred->user_ns, req->cred->euid);
	r.gid = from_kgid_munged(sk->sk_peer_cred->user_ns, req->cred->egid);
	spin_unlock(&sk->sk_peer_lock);
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

/* Connect timeouts need no particular CPU.  WQ_UNBOUND also exists on
 * every kernel, where WQ_PERCPU (the other explicit choice that 7.x
 * demands) is new in 6.17.
 */
int wsp_req_init(void)
{
	wsp_wq = alloc_workqueue("wsp", WQ_UNBOUND, 0);
	return wsp_wq ? 0 : -ENOMEM;
}

/* Timeout works may still run their last reference drops. */
void wsp_req_exit(void)
{
	destroy_workqueue(wsp_wq);
}
