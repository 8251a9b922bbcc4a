// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP data path, shared by SOCK_STREAM and SOCK_SEQPACKET.  The only
 * difference between the two is framing: a stream send is cut into
 * chunks and a stream read gathers across skbs, while a seqpacket send is
 * one skb and a read returns at most one.
 *
 * Flow control: every skb in flight is charged to its sender's
 * sk_wmem_alloc (bounded by SO_SNDBUF), and the receiver's queued bytes
 * are bounded by its SO_RCVBUF.  Reading frees skbs, which calls the
 * sender's ->sk_write_space.
 */
#include <asm/ioctls.h>
#include <linux/sched/signal.h>
#include <linux/sockios.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "wsp.h"

/* Bytes of a partly read stream skb already consumed. */
struct wsp_skb_cb {
	u32 consumed;
};

#define WSP_SKB_CB(skb)	((struct wsp_skb_cb *)(skb)->cb)

/* Large sends go in page frags of this order, as AF_UNIX does. */
#define WSP_SKB_FRAGS_SZ	(PAGE_SIZE << get_order(32768))

static bool wsp_is_stream(const struct sock *sk)
{
	return sk->sk_type == SOCK_STREAM;
}

/* Room for a send: our SO_SNDBUF and the peer's SO_RCVBUF. */
bool wsp_writable(struct wsp_sock *wsk)
{
	const struct sock *sk = &wsk->sk;
	const struct wsp_sock *peer = READ_ONCE(wsk->peer);

	if (sk_wmem_alloc_get(sk) >= READ_ONCE(sk->sk_sndbuf))
		return false;
	if (peer && atomic_read(&peer->rx_queued) >=
		    READ_ONCE(peer->sk.sk_rcvbuf))
		return false;
	return wsp_bucket_ready(wsk);
}

void wsp_write_space(struct sock *sk)
{
	struct wsp_sock *wsk = wsp_sk(sk);
	struct socket_wq *wq;

	if (!wsp_writable(wsk))
		return;
	/* Recorded only if a send failed with EAGAIN since the last one;
	 * before the wakeup, so that whoever wakes finds it.
	 */
	wsp_event_record(wsk, WSP_FD_WRITE_BIT, 0);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, EPOLLOUT |
						EPOLLWRNORM | EPOLLWRBAND);
	sk_wake_async(sk, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/* Wait until a send may go on.  Returns 0, or a negative errno with
 * *timeo updated.
 */
static int wsp_wait_for_room(struct wsp_sock *wsk, long *timeo)
{
	struct sock *sk = &wsk->sk;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	/* The common case: room now, no need to queue a waiter. */
	if (!READ_ONCE(sk->sk_err) &&
	    !(READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) && wsp_writable(wsk))
		return 0;

	add_wait_queue(sk_sleep(sk), &wait);
	for (;;) {
		err = sock_error(sk);
		if (err)
			break;
		if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) {
			err = -EPIPE;
			break;
		}
		if (wsp_writable(wsk))
			break;
		/* Ask ->sk_write_space for POLL_OUT (SIGIO) when room comes. */
		sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		if (!*timeo) {
			wsp_event_rearm(wsk, WSP_FD_WRITE_BIT);
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

/* Allocate an skb for @size bytes of payload, charged to @sk. */
static struct sk_buff *wsp_alloc_skb(struct sock *sk, size_t size, int *err)
{
	size_t data_len, linear;
	struct sk_buff *skb;

	data_len = size > SKB_MAX_HEAD(0) ? size - SKB_MAX_HEAD(0) : 0;
	data_len = min_t(size_t, size, PAGE_ALIGN(data_len));
	linear = size - data_len;
	skb = alloc_skb_with_frags(linear, data_len,
				   get_order(WSP_SKB_FRAGS_SZ), err,
				   sk->sk_allocation);
	if (!skb)
		return NULL;
	skb_set_owner_w(skb, sk);
	skb_put(skb, linear);
	skb->data_len = data_len;
	skb->len = size;
	WSP_SKB_CB(skb)->consumed = 0;
	return skb;
}

/* Sender side of one connection: the peer, or an errno.  No reference is
 * taken: wsk->peer keeps one, and only our own release() (which cannot
 * run during our sendmsg) or the reset of a never-accepted child drops it.
 */
static struct wsp_sock *wsp_send_peer(struct wsp_sock *wsk, int *err)
{
	struct sock *sk = &wsk->sk;
	struct wsp_sock *peer = NULL;

	spin_lock(&wsk->lock);
	if (sk->sk_state != TCP_ESTABLISHED)
		*err = -ENOTCONN;
	else if (sk->sk_shutdown & SEND_SHUTDOWN || !wsk->peer)
		*err = -EPIPE;
	else
		peer = wsk->peer;
	spin_unlock(&wsk->lock);
	return peer;
}

int wsp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	bool stream = wsp_is_stream(sk);
	struct wsp_sock *peer;
	struct sk_buff *skb;
	size_t sent = 0, size;
	long timeo;
	int err = 0;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	err = sock_error(sk);
	if (err)
		return err;
	peer = wsp_send_peer(wsk, &err);
	if (!peer)
		goto out_err;
	/* As AF_UNIX: a stream has no empty records, so nothing to queue. */
	if (stream && !len)
		return 0;

	if (!stream) {
		err = -EMSGSIZE;
		if (len > READ_ONCE(sk->sk_sndbuf) - 32 ||
		    len > wsp_qos_max_sdu(wsk))
			goto out_err;
	}
	err = wsp_shaper_prepare(wsk);
	if (err)
		goto out_err;

	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	do {
		size = len - sent;
		if (stream) {
			size = min_t(size_t, size,
				     (READ_ONCE(sk->sk_sndbuf) >> 1) - 64);
			size = min_t(size_t, size,
				     SKB_MAX_HEAD(0) + WSP_SKB_FRAGS_SZ);
		}
		wsp_bucket_want(wsk, size);
		err = wsp_wait_for_room(wsk, &timeo);
		if (err)
			break;
		skb = wsp_alloc_skb(sk, size, &err);
		if (!skb)
			break;
		err = skb_copy_datagram_from_iter(skb, 0, &msg->msg_iter, size);
		if (err) {
			kfree_skb(skb);
			break;
		}
		err = wsk->transport->enqueue(peer, skb);
		if (err) {
			kfree_skb(skb);
			break;
		}
		wsp_bucket_charge(wsk, size);
		sent += size;
	} while (sent < len);

	if (sent)
		return sent;
out_err:
	if (err == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return err;
}

/* Wait for data, EOF or an error.  Called and returns without the
 * socket lock.  Returns 0 when the caller should look again.
 */
static int wsp_wait_for_data(struct sock *sk, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (skb_queue_empty_lockless(&sk->sk_receive_queue)) {
		if (READ_ONCE(sk->sk_err) ||
		    (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
			break;
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
		sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

/* Account @n bytes read from @skb; frees it once fully consumed. */
static void wsp_consume(struct wsp_sock *wsk, struct sk_buff *skb, u32 n,
			bool whole)
{
	struct sock *sk = &wsk->sk;

	WSP_SKB_CB(skb)->consumed += n;
	if (whole) {
		n += skb->len - WSP_SKB_CB(skb)->consumed;
		WSP_SKB_CB(skb)->consumed = skb->len;
	}
	atomic_sub(n, &wsk->rx_queued);
	if (WSP_SKB_CB(skb)->consumed == skb->len) {
		skb_unlink(skb, &sk->sk_receive_queue);
		consume_skb(skb);
	}
}

int wsp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		int flags)
{
	struct sock *sk = sock->sk;
	struct wsp_sock *wsk = wsp_sk(sk);
	bool stream = wsp_is_stream(sk);
	bool peek = flags & MSG_PEEK;
	struct sk_buff *skb, *last = NULL;
	size_t copied = 0;
	int target, err = 0;
	u32 off, chunk;
	long timeo;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -ENOTCONN;

	target = stream ? sock_rcvlowat(sk, flags & MSG_WAITALL, len) : 1;
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);

	/* Nothing queued: wait before taking the lock, not inside it. */
	if (skb_queue_empty_lockless(&sk->sk_receive_queue)) {
		err = wsp_wait_for_data(sk, &timeo);
		if (err)
			return err;
	}
	lock_sock(sk);
	for (;;) {
		spin_lock_irq(&sk->sk_receive_queue.lock);
		skb = last ? skb_peek_next(last, &sk->sk_receive_queue) :
			     skb_peek(&sk->sk_receive_queue);
		spin_unlock_irq(&sk->sk_receive_queue.lock);

		if (!skb) {
			if (copied >= target || last)
				break;
			err = sock_error(sk);
			if (err || (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
				break;
			release_sock(sk);
			err = wsp_wait_for_data(sk, &timeo);
			if (err)
				goto out;
			lock_sock(sk);
			continue;
		}

		off = WSP_SKB_CB(skb)->consumed;
		chunk = min_t(size_t, skb->len - off, len - copied);
		if (skb_copy_datagram_msg(skb, off, msg, chunk)) {
			err = -EFAULT;
			break;
		}
		copied += chunk;

		if (!stream) {
			if (chunk < skb->len) {
				msg->msg_flags |= MSG_TRUNC;
				if (flags & MSG_TRUNC)
					copied = skb->len;
			} else {
				msg->msg_flags |= MSG_EOR;
			}
			if (!peek)
				wsp_consume(wsk, skb, chunk, true);
			break;
		}
		if (peek)
			last = skb;
		else
			wsp_consume(wsk, skb, chunk, false);
		if (copied >= len)
			break;
	}
	release_sock(sk);
out:
	if (copied) {
		if (!peek)
			wsp_event_rearm(wsk, WSP_FD_READ_BIT);
		return copied;
	}
	return err;
}

/* Drop everything queued to us; called once nothing can enqueue more. */
void wsp_rx_purge(struct wsp_sock *wsk)
{
	skb_queue_purge(&wsk->sk.sk_receive_queue);
	atomic_set(&wsk->rx_queued, 0);
}

int wsp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	int amount;

	switch (cmd) {
	case SIOCINQ:
		if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
			return -EINVAL;
		amount = atomic_read(&wsp_sk(sk)->rx_queued);
		break;
	case SIOCOUTQ:
		amount = sk_wmem_alloc_get(sk);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(amount, (int __user *)arg);
}
