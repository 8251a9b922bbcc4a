// SPDX-License-Identifier: GPL-2.0
/*
 * Winsock network events: WSAEventSelect (WSP_EVENT_SELECT) with an
 * eventfd as the event object, and WSAEnumNetworkEvents
 * (WSP_NETWORK_EVENTS).
 *
 * An event is recorded when it happens, if selected and armed; recording
 * disarms it until the call Winsock names re-enables it (accept() for
 * FD_ACCEPT, a read for FD_READ, a send failing with EAGAIN for
 * FD_WRITE).  FD_CONNECT and FD_CLOSE are recorded once.  Re-enabling
 * while the condition still holds records the event again at once.
 *
 * ev->lock is taken from the token bucket's timer (softirq): always _bh.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "wsp.h"

/* Drop a registration's eventfd: its context and the file behind it. */
static void wsp_eventfd_put(struct eventfd_ctx *efd, struct file *efile)
{
	if (efd)
		eventfd_ctx_put(efd);
	if (efile)
		fput(efile);
}

/* The socket's Winsock extras, allocated on first use.  Two first users
 * may race; one allocation wins and the other is freed.
 */
struct wsp_ext *wsp_ext_get(struct wsp_sock *wsk, gfp_t gfp)
{
	struct wsp_ext *ext = wsp_ext(wsk);

	if (ext)
		return ext;
	ext = kzalloc(sizeof(*ext), gfp | __GFP_ACCOUNT);
	if (!ext)
		return NULL;
	ext->wsk = wsk;
	spin_lock_init(&ext->events.lock);
	ext->events.armed = WSP_FD_ALL_EVENTS;
	wsp_bucket_init(&ext->bucket, &wsk->qos.sending);
	if (cmpxchg_release(&wsk->ext, NULL, ext)) {
		kfree(ext);
		return wsp_ext(wsk);
	}
	return ext;
}

/* The socket is closed: no more timer, no more eventfd. */
void wsp_ext_release(struct wsp_sock *wsk)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_events *ev;
	struct eventfd_ctx *efd;
	struct file *efile;

	if (!ext)
		return;
	wsp_filter_drop(wsk, ext);
	wsp_bucket_stop(&ext->bucket);
	ev = &ext->events;
	spin_lock_bh(&ev->lock);
	efd = ev->efd;
	efile = ev->efile;
	ev->efd = NULL;
	ev->efile = NULL;
	ev->mask = 0;
	spin_unlock_bh(&ev->lock);
	wsp_eventfd_put(efd, efile);
}

void wsp_ext_free(struct wsp_sock *wsk)
{
	wsp_ext_release(wsk);
	kfree(wsk->ext);
}

static void wsp_eventfd_signal(struct eventfd_ctx *efd)
{
#ifdef COMPAT_HAVE_EVENTFD_SIGNAL_NOARG
	eventfd_signal(efd);
#else
	eventfd_signal(efd, 1);
#endif
}

void wsp_event_record(struct wsp_sock *wsk, unsigned int bit, int err)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_events *ev;
	u32 ev_bit = BIT(bit);

	if (!ext)
		return;
	ev = &ext->events;
	if (!(READ_ONCE(ev->mask) & ev_bit))
		return;
	spin_lock_bh(&ev->lock);
	if ((ev->mask & ev->armed & ev_bit)) {
		ev->recorded |= ev_bit;
		ev->armed &= ~ev_bit;
		ev->errors[bit] = err;
		if (ev->efd)
			wsp_eventfd_signal(ev->efd);
	}
	spin_unlock_bh(&ev->lock);
}

/* Does the condition behind @bit hold now? */
static bool wsp_event_holds(struct wsp_sock *wsk, unsigned int bit)
{
	struct sock *sk = &wsk->sk;
	u8 state = READ_ONCE(sk->sk_state);

	switch (bit) {
	case WSP_FD_READ_BIT:
		return !skb_queue_empty_lockless(&sk->sk_receive_queue);
	case WSP_FD_WRITE_BIT:
		return state == TCP_ESTABLISHED &&
		       !(READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) &&
		       wsp_writable(wsk);
	case WSP_FD_ACCEPT_BIT:
		return state == TCP_LISTEN &&
		       (!list_empty_careful(&wsk->accept_list) ||
			READ_ONCE(wsk->nr_undecided));
	case WSP_FD_CLOSE_BIT:
		return state == TCP_ESTABLISHED &&
		       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
	default:
		return false;
	}
}

void wsp_event_rearm(struct wsp_sock *wsk, unsigned int bit)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_events *ev;

	if (!ext)
		return;
	ev = &ext->events;
	if (!(READ_ONCE(ev->mask) & BIT(bit)))
		return;
	spin_lock_bh(&ev->lock);
	ev->armed |= BIT(bit);
	spin_unlock_bh(&ev->lock);
	if (wsp_event_holds(wsk, bit))
		wsp_event_record(wsk, bit, 0);
}

int wsp_event_select(struct wsp_sock *wsk, sockptr_t optval,
		     unsigned int optlen)
{
	struct eventfd_ctx *efd = NULL, *old;
	struct file *efile = NULL, *old_file;
	struct wsp_event_select sel;
	struct wsp_events *ev;
	struct wsp_ext *ext;
	unsigned int bit;

	if (optlen < sizeof(sel))
		return -EINVAL;
	if (copy_from_sockptr(&sel, optval, sizeof(sel)))
		return -EFAULT;
	if (sel.mask & ~WSP_FD_ALL_EVENTS || sel.eventfd < -1)
		return -EINVAL;
	if (sel.eventfd >= 0) {
		/* The file lets an accepted child take its own reference. */
		efile = eventfd_fget(sel.eventfd);
		if (IS_ERR(efile))
			return PTR_ERR(efile);
		efd = eventfd_ctx_fileget(efile);
	}
	ext = wsp_ext_get(wsk, GFP_KERNEL);
	if (!ext) {
		wsp_eventfd_put(efd, efile);
		return -ENOMEM;
	}
	ev = &ext->events;

	/* As WSAEventSelect: replaces the registration, clears the record. */
	spin_lock_bh(&ev->lock);
	old = ev->efd;
	old_file = ev->efile;
	ev->efd = efd;
	ev->efile = efile;
	ev->mask = sel.mask;
	ev->recorded = 0;
	ev->armed = WSP_FD_ALL_EVENTS;
	memset(ev->errors, 0, sizeof(ev->errors));
	spin_unlock_bh(&ev->lock);
	wsp_eventfd_put(old, old_file);

	for (bit = 0; bit <= WSP_FD_QOS_BIT; bit++)
		if ((sel.mask & BIT(bit)) && wsp_event_holds(wsk, bit))
			wsp_event_record(wsk, bit, 0);
	return 0;
}

/* The caller did not get @ne: record it again, under what came since. */
static void wsp_events_restore(struct wsp_events *ev,
			       const struct wsp_network_events *ne)
{
	unsigned int bit;

	spin_lock_bh(&ev->lock);
	for (bit = 0; bit < WSP_FD_MAX_EVENTS; bit++)
		if ((ne->events & BIT(bit)) && !(ev->recorded & BIT(bit)))
			ev->errors[bit] = ne->errors[bit];
	ev->recorded |= ne->events;
	spin_unlock_bh(&ev->lock);
}

int wsp_event_enum(struct wsp_sock *wsk, char __user *optval,
		   int __user *optlen)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_network_events ne;
	struct wsp_events *ev;
	unsigned int bit;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(ne))
		return -EINVAL;

	memset(&ne, 0, sizeof(ne));
	if (!ext)
		goto out;
	ev = &ext->events;
	spin_lock_bh(&ev->lock);
	ne.events = ev->recorded;
	for (bit = 0; bit < WSP_FD_MAX_EVENTS; bit++)
		if (ne.events & BIT(bit))
			ne.errors[bit] = ev->errors[bit];
	ev->recorded = 0;
	memset(ev->errors, 0, sizeof(ev->errors));
	spin_unlock_bh(&ev->lock);
out:
	if (copy_to_user(optval, &ne, sizeof(ne)) ||
	    put_user(sizeof(ne), optlen)) {
		if (ext)
			wsp_events_restore(&ext->events, &ne);
		return -EFAULT;
	}
	return 0;
}

/* Called before @child is visible to anyone. */
int wsp_events_inherit(struct wsp_sock *child, struct wsp_sock *parent)
{
	struct wsp_ext *pext = wsp_ext(parent), *cext;
	struct wsp_events *pev, *cev;

	if (!pext || !READ_ONCE(pext->events.mask))
		return 0;
	cext = wsp_ext_get(child, GFP_KERNEL);
	if (!cext)
		return -ENOMEM;
	pev = &pext->events;
	cev = &cext->events;
	spin_lock_bh(&pev->lock);
	cev->mask = pev->mask;
	if (pev->efile) {
		cev->efile = get_file(pev->efile);
		cev->efd = eventfd_ctx_fileget(cev->efile);
	}
	spin_unlock_bh(&pev->lock);
	return 0;
}
