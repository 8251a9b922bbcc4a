// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/wsp (one line per socket) and /proc/net/wsp_stat (counters).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "wsp.h"

static const char *const wsp_mib_names[WSP_MIB_MAX] = {
	[WSP_MIB_REQUESTS]		= "requests",
	[WSP_MIB_ACCEPTED]		= "accepted",
	[WSP_MIB_REJECTED]		= "rejected",
	[WSP_MIB_DEFERRED]		= "deferred",
	[WSP_MIB_WITHDRAWN_TIMEOUT]	= "withdrawn_timeout",
	[WSP_MIB_WITHDRAWN_CLOSE]	= "withdrawn_close",
	[WSP_MIB_BACKLOG_OVERFLOWS]	= "backlog_overflows",
	[WSP_MIB_UNKNOWN_VERDICTS]	= "unknown_verdicts",
	[WSP_MIB_FILTER_ACCEPTED]	= "filter_accepted",
	[WSP_MIB_FILTER_REJECTED]	= "filter_rejected",
	[WSP_MIB_FILTER_DEFERRED]	= "filter_deferred",
	[WSP_MIB_FILTER_PASSED]		= "filter_passed",
};

const char *wsp_state_name(const struct wsp_sock *wsk)
{
	switch (READ_ONCE(wsk->sk.sk_state)) {
	case TCP_LISTEN:
		return "LISTEN";
	case TCP_SYN_SENT:
		return "CONNECTING";
	case TCP_ESTABLISHED:
		return READ_ONCE(wsk->sk.sk_shutdown) == SHUTDOWN_MASK ?
		       "DISCONNECTED" : "CONNECTED";
	default:
		return "UNCONNECTED";
	}
}

/* A socket's position is its index in wsp_net.socks (never 0, which is
 * the header), so a read that resumes finds its place in O(log n) however
 * many sockets come before it.  The walk holds the xarray's lock, which
 * keeps the sockets it finds alive, for one buffer of lines at a time, and
 * never the port lock that bind and connect take.
 */
static void *wsp_seq_find(struct seq_file *seq, loff_t *pos)
{
	struct wsp_net *wn = wsp_net(seq_file_net(seq));
	unsigned long index = *pos;
	struct wsp_sock *wsk;

	wsk = xa_find(&wn->socks, &index, U32_MAX, XA_PRESENT);
	if (wsk)
		*pos = index;
	return wsk;
}

static void *wsp_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(&wsp_net(seq_file_net(seq))->socks.xa_lock)
{
	xa_lock(&wsp_net(seq_file_net(seq))->socks);
	return *pos ? wsp_seq_find(seq, pos) : SEQ_START_TOKEN;
}

static void *wsp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return wsp_seq_find(seq, pos);
}

static void wsp_seq_stop(struct seq_file *seq, void *v)
	__releases(&wsp_net(seq_file_net(seq))->socks.xa_lock)
{
	xa_unlock(&wsp_net(seq_file_net(seq))->socks);
}

static int wsp_seq_show(struct seq_file *seq, void *v)
{
	struct wsp_sock *wsk = v;
	struct sock *sk;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "inode type state lport pport backlog cap cond rxq txq\n");
		return 0;
	}
	sk = &wsk->sk;
	seq_printf(seq, WSP_INO_FMT " %s %s %u %u %u %u %d %d %d\n",
		   sock_i_ino(sk),
		   sk->sk_type == SOCK_STREAM ? "STREAM" : "SEQPACKET",
		   wsp_state_name(wsk), READ_ONCE(wsk->port),
		   READ_ONCE(wsk->peer_port), READ_ONCE(wsk->backlog_count),
		   READ_ONCE(wsk->backlog_cap), READ_ONCE(wsk->conditional),
		   atomic_read(&wsk->rx_queued), sk_wmem_alloc_get(sk));
	return 0;
}

static const struct seq_operations wsp_seq_ops = {
	.start	= wsp_seq_start,
	.next	= wsp_seq_next,
	.stop	= wsp_seq_stop,
	.show	= wsp_seq_show,
};

static int wsp_stat_show(struct seq_file *seq, void *v)
{
	struct wsp_net *wn = wsp_net(seq_file_single_net(seq));
	int i;

	for (i = 0; i < WSP_MIB_MAX; i++)
		seq_printf(seq, "%s %llu\n", wsp_mib_names[i],
			   wsp_mib_sum(wn, i));
	return 0;
}

int wsp_proc_init(struct net *net)
{
	if (!proc_create_net("wsp", 0444, net->proc_net, &wsp_seq_ops,
			     sizeof(struct seq_net_private)))
		return -ENOMEM;
	if (!proc_create_net_single("wsp_stat", 0444, net->proc_net,
				    wsp_stat_show, NULL)) {
		remove_proc_entry("wsp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void wsp_proc_exit(struct net *net)
{
	remove_proc_entry("wsp_stat", net->proc_net);
	remove_proc_entry("wsp", net->proc_net);
}
