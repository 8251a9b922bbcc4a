// SPDX-License-Identifier: GPL-2.0
/*
 * The local transport: both ends of a connection live in this kernel, so
 * delivery is a queue operation on the peer socket.
 */
#include <net/sock.h>

#include <kunit/visibility.h>

#include "wsp.h"

static int wsp_local_enqueue(struct wsp_sock *peer, struct sk_buff *skb)
{
	struct sock *sk = &peer->sk;

	/* Checked under the peer's lock: once its release has set
	 * RCV_SHUTDOWN and purged the queue, nothing may be added.
	 */
	spin_lock(&peer->lock);
	if (sk->sk_shutdown & RCV_SHUTDOWN) {
		spin_unlock(&peer->lock);
		return -EPIPE;
	}
	atomic_add(skb->len, &peer->rx_queued);
	skb_queue_tail(&sk->sk_receive_queue, skb);
	spin_unlock(&peer->lock);

	/* Events are recorded before the wakeup they go with. */
	wsp_event_record(peer, WSP_FD_READ_BIT, 0);
	sk->sk_data_ready(sk);
	return 0;
}

static void wsp_local_peer_shutdown(struct wsp_sock *peer, int how, int err)
{
	struct sock *sk = &peer->sk;

	spin_lock(&peer->lock);
	sk->sk_shutdown |= how;
	if (err)
		WRITE_ONCE(sk->sk_err, err);
	spin_unlock(&peer->lock);

	if (how & RCV_SHUTDOWN)
		wsp_event_record(peer, WSP_FD_CLOSE_BIT, err);
	sk->sk_state_change(sk);
	if (how & RCV_SHUTDOWN)
		sk_wake_async(sk, SOCK_WAKE_WAITD,
			      how == SHUTDOWN_MASK ? POLL_HUP : POLL_IN);
	if (err)
		sk_error_report(sk);
}

const struct wsp_transport wsp_local_transport = {
	.name		= "local",
	.enqueue	= wsp_local_enqueue,
	.peer_shutdown	= wsp_local_peer_shutdown,
};
EXPORT_SYMBOL_IF_KUNIT(wsp_local_transport);
