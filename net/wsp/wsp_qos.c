// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP QoS: Winsock flowspecs, the grant on automatic accept, and the
 * token bucket that enforces token_rate on each sender.
 */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/string.h>

#include <kunit/visibility.h>

#include "wsp.h"

#define NS	WSP_QOS_NOT_SPECIFIED
/* One byte's worth of tokens: a sender needs at least that to go. */
#define WSP_TB_BYTE	((s64)NSEC_PER_SEC)

void wsp_qos_init(struct wsp_qos *qos)
{
	memset(qos, 0xff, sizeof(*qos));
}
EXPORT_SYMBOL_IF_KUNIT(wsp_qos_init);

static int wsp_flowspec_validate(const struct wsp_flowspec *fs)
{
	u32 sdu = fs->max_sdu_size;

	/* A zero rate would stall the sender forever (and divide by 0). */
	if (!fs->token_rate || !fs->token_bucket_size || !sdu)
		return -EINVAL;
	if (fs->service_type != NS &&
	    fs->service_type > WSP_SERVICETYPE_GUARANTEED)
		return -EINVAL;
	if (fs->token_bucket_size != NS && sdu != NS &&
	    fs->token_bucket_size < sdu)
		return -EINVAL;
	return 0;
}

int wsp_qos_validate(const struct wsp_qos *qos)
{
	return wsp_flowspec_validate(&qos->sending) ? :
	       wsp_flowspec_validate(&qos->receiving);
}
EXPORT_SYMBOL_IF_KUNIT(wsp_qos_validate);

static u32 wsp_spec_min(u32 a, u32 b)
{
	if (a == NS)
		return b;
	if (b == NS)
		return a;
	return min(a, b);
}

static void wsp_flowspec_grant(struct wsp_flowspec *out,
			       const struct wsp_flowspec *req,
			       const struct wsp_flowspec *lim)
{
	*out = *req;
	out->token_rate = wsp_spec_min(req->token_rate, lim->token_rate);
	out->token_bucket_size = wsp_spec_min(req->token_bucket_size,
					      lim->token_bucket_size);
	out->peak_bandwidth = wsp_spec_min(req->peak_bandwidth,
					   lim->peak_bandwidth);
	out->max_sdu_size = wsp_spec_min(req->max_sdu_size, lim->max_sdu_size);
	if (out->service_type == NS)
		out->service_type = lim->service_type;
	/* The grant must stay valid: no SDU larger than the bucket. */
	if (out->token_bucket_size != NS && out->max_sdu_size != NS &&
	    out->max_sdu_size > out->token_bucket_size)
		out->max_sdu_size = out->token_bucket_size;
}

/* The QoS an automatic accept grants: what the caller asked for, bounded
 * field by field by the listener's limits.  Directions are the caller's.
 */
void wsp_qos_grant(struct wsp_qos *granted, const struct wsp_qos *req,
		   const struct wsp_qos *limit)
{
	/* The listener's own sending is the caller's receiving. */
	wsp_flowspec_grant(&granted->sending, &req->sending, &limit->receiving);
	wsp_flowspec_grant(&granted->receiving, &req->receiving,
			   &limit->sending);
}
EXPORT_SYMBOL_IF_KUNIT(wsp_qos_grant);

/* A connected socket's new QoS: what it asks for, bounded field by field
 * by the grant it connected with.  Same directions on both sides.
 */
void wsp_qos_bound(struct wsp_qos *out, const struct wsp_qos *req,
		   const struct wsp_qos *ceiling)
{
	wsp_flowspec_grant(&out->sending, &req->sending, &ceiling->sending);
	wsp_flowspec_grant(&out->receiving, &req->receiving,
			   &ceiling->receiving);
}
EXPORT_SYMBOL_IF_KUNIT(wsp_qos_bound);

u32 wsp_qos_max_sdu(struct wsp_sock *wsk)
{
	return READ_ONCE(wsk->qos.sending.max_sdu_size);
}

/* Refill @tokens over @dt_ns at @rate, capped at @depth; never overflows. */
s64 wsp_tb_refill(s64 tokens, u64 depth, u64 rate, u64 dt_ns)
{
	u64 room;

	if (tokens >= 0 && (u64)tokens >= depth)
		return depth;
	room = depth - tokens;
	if (!rate || dt_ns < div64_u64(room, rate))
		return tokens + rate * dt_ns;
	return depth;
}
EXPORT_SYMBOL_IF_KUNIT(wsp_tb_refill);

/* Nanoseconds until the balance holds one whole byte again. */
u64 wsp_tb_wait_ns(s64 tokens, u64 rate)
{
	if (tokens >= WSP_TB_BYTE || !rate)
		return 0;
	return DIV64_U64_ROUND_UP((u64)WSP_TB_BYTE - tokens, rate);
}
EXPORT_SYMBOL_IF_KUNIT(wsp_tb_wait_ns);

static enum hrtimer_restart wsp_bucket_fire(struct hrtimer *timer)
{
	struct wsp_ext *ext = container_of(timer, struct wsp_ext, bucket.timer);

	ext->wsk->sk.sk_write_space(&ext->wsk->sk);
	return HRTIMER_NORESTART;
}

/* Process context; the socket is going away. */
void wsp_bucket_stop(struct wsp_bucket *b)
{
	hrtimer_cancel(&b->timer);
}

static void wsp_bucket_set(struct wsp_bucket *b,
			   const struct wsp_flowspec *fs, u64 now)
{
	u64 rate = fs->token_rate == NS ? 0 : fs->token_rate;
	u64 size = fs->token_bucket_size;

	/* Unspecified depth: 1/16 s worth of tokens, at least one page. */
	if (size == NS)
		size = max_t(u64, rate >> 4, PAGE_SIZE);

	spin_lock_bh(&b->lock);
	b->rate = rate;
	b->depth = size * NSEC_PER_SEC;
	b->tokens = b->depth;
	b->need = WSP_TB_BYTE;
	b->stamp = now;
	spin_unlock_bh(&b->lock);
}

/* A bucket starts full, before anyone can see it. */
void wsp_bucket_init(struct wsp_bucket *b, const struct wsp_flowspec *fs)
{
	spin_lock_init(&b->lock);
#ifdef COMPAT_HAVE_HRTIMER_SETUP
	hrtimer_setup(&b->timer, wsp_bucket_fire, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_SOFT);
#else
	hrtimer_init(&b->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	b->timer.function = wsp_bucket_fire;
#endif
	wsp_bucket_set(b, fs, ktime_get_ns());
}

/* A new QoS, or a new connection: a full bucket at the sending rate. */
void wsp_shaper_reset(struct wsp_sock *wsk)
{
	struct wsp_ext *ext = wsp_ext(wsk);

	/* Without extras the bucket is made, full, at the first send. */
	if (ext)
		wsp_bucket_set(&ext->bucket, &wsk->qos.sending,
			       ktime_get_ns());
}

/* Before a send: a shaped sender needs its bucket. */
int wsp_shaper_prepare(struct wsp_sock *wsk)
{
	if (READ_ONCE(wsk->qos.sending.token_rate) == NS || wsp_ext(wsk))
		return 0;
	return wsp_ext_get(wsk, GFP_KERNEL) ? 0 : -ENOMEM;
}

/* Sender may go; if not, the timer calls ->sk_write_space when it can. */
bool wsp_bucket_ready(struct wsp_sock *wsk)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_bucket *b;
	u64 now, wait;
	bool ready;

	if (!ext || !READ_ONCE(ext->bucket.rate))
		return true;
	b = &ext->bucket;
	spin_lock_bh(&b->lock);
	now = ktime_get_ns();
	b->tokens = wsp_tb_refill(b->tokens, b->depth, b->rate,
				  now - b->stamp);
	b->stamp = now;
	ready = b->tokens >= b->need;
	if (!ready) {
		/* Until tokens reach need: as long as from need - 1 byte to 1. */
		wait = wsp_tb_wait_ns(b->tokens - (b->need - WSP_TB_BYTE),
				      b->rate);
		hrtimer_start(&b->timer, ns_to_ktime(wait),
			      HRTIMER_MODE_REL_SOFT);
	}
	spin_unlock_bh(&b->lock);
	return ready;
}

void wsp_bucket_charge(struct wsp_sock *wsk, size_t len)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_bucket *b;

	if (!ext || !READ_ONCE(ext->bucket.rate))
		return;
	b = &ext->bucket;
	spin_lock_bh(&b->lock);
	b->tokens -= (s64)len * NSEC_PER_SEC;
	b->need = WSP_TB_BYTE;
	spin_unlock_bh(&b->lock);
}

/* The next send is of @len bytes: the sender is ready again only when
 * that many tokens are there (at most a full bucket, which a larger send
 * may then overdraw).  So readiness after EAGAIN means the refused send
 * would now pass, not that a single byte has trickled in.
 */
void wsp_bucket_want(struct wsp_sock *wsk, size_t len)
{
	struct wsp_ext *ext = wsp_ext(wsk);
	struct wsp_bucket *b;

	if (!ext || !READ_ONCE(ext->bucket.rate))
		return;
	b = &ext->bucket;
	spin_lock_bh(&b->lock);
	b->need = clamp_t(s64, (s64)len * NSEC_PER_SEC, WSP_TB_BYTE,
			  b->depth);
	spin_unlock_bh(&b->lock);
}
