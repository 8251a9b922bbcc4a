// SPDX-License-Identifier: GPL-2.0
/* AF_WSP socket options (SOL_WSP) and the connect data they carry. */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "wsp.h"

int wsp_optmem_max(const struct sock *sk)
{
#ifdef COMPAT_HAVE_OPTMEM_MAX_PERNET
	return READ_ONCE(sock_net(sk)->core.sysctl_optmem_max);
#else
	return READ_ONCE(sysctl_optmem_max);
#endif
}

/* Copy @len bytes at @offset of @src into a new buffer charged to @sk.
 * As sock_kmalloc(), the socket's option memory stays within optmem_max:
 * net.wsp.max_connect_data alone can be raised in any user namespace.
 */
struct wsp_buf *wsp_buf_copy(struct sock *sk, sockptr_t src,
			     size_t offset, u32 len)
{
	struct wsp_buf *buf;

	if (atomic_read(&sk->sk_omem_alloc) + len > wsp_optmem_max(sk))
		return ERR_PTR(-ENOBUFS);
	buf = kmalloc(struct_size(buf, data, len), GFP_KERNEL_ACCOUNT);
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

struct wsp_buf *wsp_buf_get(struct sock *sk, struct wsp_buf *buf)
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

/* Give the client the callee (or reject) data of its latest request,
 * replacing what an earlier, refused attempt left.  client->lock held.
 */
void __wsp_set_callee_data(struct wsp_sock *client,
			   struct wsp_buf *callee)
{
	struct wsp_buf *old = client->callee_data;

	lockdep_assert_held(&client->lock);
	client->callee_data = wsp_buf_get(&client->sk, callee);
	wsp_buf_put(&client->sk, old);
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

/* Before the first change of a connected socket's QoS, keep what it
 * connected with as its ceiling.  wsk->lock must be held.
 */
static const struct wsp_qos *__wsp_qos_ceiling(struct wsp_sock *wsk,
					       struct wsp_ext *ext)
{
	lockdep_assert_held(&wsk->lock);

	if (!ext->ceiling_set) {
		ext->ceiling = wsk->qos;
		ext->ceiling_set = true;
	}
	return &ext->ceiling;
}

/* Whether @wsk is connected, and its peer (held) if it still has one. */
static bool wsp_get_peer(struct wsp_sock *wsk, struct wsp_sock **peer)
{
	bool connected;

	spin_lock(&wsk->lock);
	connected = wsk->sk.sk_state == TCP_ESTABLISHED;
	*peer = connected ? wsk->peer : NULL;
	if (*peer)
		sock_hold(&(*peer)->sk);
	spin_unlock(&wsk->lock);
	return connected;
}

/* Unconnected, the QoS is the request; on a listener, its limits.
 * Connected, the grant is a ceiling that neither end can lift: a new QoS
 * is bounded by it, field by field, and both ends see the result.
 */
static int wsp_set_qos(struct wsp_sock *wsk, sockptr_t optval,
		       unsigned int optlen)
{
	struct wsp_ext *ext = NULL, *pext = NULL;
	struct sock *sk = &wsk->sk;
	struct wsp_sock *peer;
	struct wsp_qos qos;
	bool connected;
	int err;

	if (optlen < sizeof(qos))
		return -EINVAL;
	if (copy_from_sockptr(&qos, optval, sizeof(qos)))
		return -EFAULT;
	err = wsp_qos_validate(&qos);
	if (err)
		return err;

again:
	/* The ceilings live in the extras, made here, outside the locks. */
	connected = wsp_get_peer(wsk, &peer);
	err = -ENOMEM;
	if (connected) {
		ext = wsp_ext_get(wsk, GFP_KERNEL);
		if (!ext)
			goto out_put;
	}
	if (peer) {
		pext = wsp_ext_get(peer, GFP_KERNEL);
		if (!pext)
			goto out_put;
	}

	spin_lock(&wsk->lock);
	if ((sk->sk_state == TCP_ESTABLISHED) != connected ||
	    wsk->peer != peer) {
		/* Connected or left since we looked: look again. */
		spin_unlock(&wsk->lock);
		if (peer)
			sock_put(&peer->sk);
		goto again;
	}
	if (connected)
		wsp_qos_bound(&qos, &qos, __wsp_qos_ceiling(wsk, ext));
	wsk->qos = qos;
	if (connected)
		wsp_shaper_reset(wsk);
	spin_unlock(&wsk->lock);

	/* Both ends see the QoS in force, each in its own directions. */
	if (peer) {
		struct wsp_qos mirror = {
			.sending = qos.receiving,
			.receiving = qos.sending,
		};

		spin_lock(&peer->lock);
		wsp_qos_bound(&peer->qos, &mirror,
			      __wsp_qos_ceiling(peer, pext));
		wsp_shaper_reset(peer);
		spin_unlock(&peer->lock);
		wsp_event_record(peer, WSP_FD_QOS_BIT, 0);
		peer->sk.sk_write_space(&peer->sk);
	}
	/* A new rate may let a waiting sender go. */
	sk->sk_write_space(sk);
	err = 0;
out_put:
	if (peer)
		sock_put(&peer->sk);
	return err;
}

int wsp_setsockopt(struct socket *sock, int level, int optname,
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
	case WSP_ATTACH_FILTER:
		return wsp_filter_attach(wsk, optval, optlen);
	case WSP_DETACH_FILTER:
		return wsp_filter_detach(wsk);
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

/* The id of the request a connected socket came from (SPEC section 10). */
static int wsp_get_request_id(struct wsp_sock *wsk, char __user *optval,
			      int __user *optlen)
{
	u64 id = 0;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(id))
		return -EINVAL;
	spin_lock(&wsk->lock);
	if (wsk->sk.sk_state == TCP_ESTABLISHED)
		id = wsk->req_id;
	spin_unlock(&wsk->lock);
	if (!id)
		return -ENOTCONN;
	if (copy_to_user(optval, &id, sizeof(id)) ||
	    put_user(sizeof(id), optlen))
		return -EFAULT;
	return 0;
}

int wsp_getsockopt(struct socket *sock, int level, int optname,
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
	case WSP_REQUEST_ID:
		return wsp_get_request_id(wsk, optval, optlen);
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
