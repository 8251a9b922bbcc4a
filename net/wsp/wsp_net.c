// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP per network namespace state: the port table, the index of
 * sockets for /proc, the net.wsp.* sysctls and the counters.
 */
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include <kunit/visibility.h>

#include "wsp.h"

#ifdef COMPAT_HAVE_SYSCTL_CONST_TABLE
#define wsp_ctl_table const struct ctl_table
#else
#define wsp_ctl_table struct ctl_table
#endif

static unsigned int wsp_net_id __read_mostly;

static int wsp_backlog_max = WSP_MAX_BACKLOG_MAX;
static int wsp_connect_data_max = WSP_CONNECT_DATA_MAX;

struct wsp_net *wsp_net(const struct net *net)
{
	return net_generic(net, wsp_net_id);
}
EXPORT_SYMBOL_IF_KUNIT(wsp_net);

u64 wsp_mib_sum(const struct wsp_net *wn, enum wsp_mib mib)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(wn->mibs, cpu)->mibs[mib];
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(wsp_mib_sum);

/* Index 0 is never allocated (XA_FLAGS_ALLOC1): it means "not listed". */
int wsp_sock_link(struct wsp_sock *wsk)
{
	struct wsp_net *wn = wsp_net(sock_net(&wsk->sk));
	int err;

	err = xa_alloc(&wn->socks, &wsk->sock_index, wsk, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	/* A failed xa_alloc() may have written the index it found. */
	if (err)
		wsk->sock_index = 0;
	return err;
}

void wsp_sock_unlink(struct wsp_sock *wsk)
{
	struct wsp_net *wn = wsp_net(sock_net(&wsk->sk));

	if (wsk->sock_index) {
		xa_erase(&wn->socks, wsk->sock_index);
		wsk->sock_index = 0;
	}
}

/* "lo hi", as ip_local_port_range; both change under the port lock. */
static int wsp_ephemeral_handler(wsp_ctl_table *table, int write,
				 void *buffer, size_t *lenp, loff_t *ppos)
{
	int *range = table->data;
	struct wsp_net *wn = container_of(range, struct wsp_net,
					  ephemeral_ports[0]);
	int tmp[2] = { READ_ONCE(range[0]), READ_ONCE(range[1]) };
	struct ctl_table t = {
		.data	= tmp,
		.maxlen	= sizeof(tmp),
		.mode	= table->mode,
		.extra1	= SYSCTL_ONE,
		.extra2	= SYSCTL_INT_MAX,
	};
	int err;

	err = proc_dointvec_minmax(&t, write, buffer, lenp, ppos);
	if (!write || err)
		return err;
	if (tmp[0] > tmp[1])
		return -EINVAL;
	spin_lock(&wn->port_lock);
	WRITE_ONCE(range[0], tmp[0]);
	WRITE_ONCE(range[1], tmp[1]);
	spin_unlock(&wn->port_lock);
	return 0;
}

static struct ctl_table wsp_sysctl_template[] = {
	{
		.procname	= "max_backlog",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ONE,
		.extra2		= &wsp_backlog_max,
	},
	{
		.procname	= "connect_timeout_ms",
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec,
	},
	{
		.procname	= "ephemeral_ports",
		.maxlen		= 2 * sizeof(int),
		.mode		= 0644,
		.proc_handler	= wsp_ephemeral_handler,
	},
	{
		.procname	= "max_connect_data",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= &wsp_connect_data_max,
	},
	{ }
};

#define WSP_SYSCTL_ENTRIES	(ARRAY_SIZE(wsp_sysctl_template) - 1)

static int wsp_sysctl_register(struct net *net, struct wsp_net *wn)
{
	struct ctl_table *t;

	t = kmemdup(wsp_sysctl_template, sizeof(wsp_sysctl_template),
		    GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t[0].data = &wn->max_backlog;
	t[1].data = &wn->connect_timeout_ms;
	t[2].data = &wn->ephemeral_ports;
	t[3].data = &wn->max_connect_data;
#ifdef COMPAT_HAVE_REGISTER_NET_SYSCTL_SZ
	wn->sysctl_hdr = register_net_sysctl_sz(net, "net/wsp", t,
						WSP_SYSCTL_ENTRIES);
#else
	wn->sysctl_hdr = register_net_sysctl(net, "net/wsp", t);
#endif
	if (!wn->sysctl_hdr) {
		kfree(t);
		return -ENOMEM;
	}
	wn->sysctl_table = t;
	return 0;
}

static int __net_init wsp_net_init_one(struct net *net)
{
	struct wsp_net *wn = wsp_net(net);
	int err;

	spin_lock_init(&wn->port_lock);
	xa_init_flags(&wn->socks, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	wn->max_backlog = WSP_MAX_BACKLOG_DEF;
	wn->connect_timeout_ms = WSP_CONNECT_TIMEOUT_DEF;
	wn->ephemeral_ports[0] = WSP_EPHEMERAL_LO;
	wn->ephemeral_ports[1] = WSP_EPHEMERAL_HI;
	wn->max_connect_data = WSP_CONNECT_DATA_DEF;
	atomic64_set(&wn->next_req_id, 0);

	err = rhashtable_init(&wn->ports, &wsp_port_params);
	if (err)
		return err;
	err = -ENOMEM;
	wn->mibs = alloc_percpu(struct wsp_mibs);
	if (!wn->mibs)
		goto out_ports;
	err = wsp_sysctl_register(net, wn);
	if (err)
		goto out_mibs;
	err = wsp_proc_init(net);
	if (err)
		goto out_sysctl;
	return 0;

out_sysctl:
	unregister_net_sysctl_table(wn->sysctl_hdr);
	kfree(wn->sysctl_table);
out_mibs:
	free_percpu(wn->mibs);
out_ports:
	rhashtable_destroy(&wn->ports);
	return err;
}

static void __net_exit wsp_net_exit_one(struct net *net)
{
	struct wsp_net *wn = wsp_net(net);

	wsp_proc_exit(net);
	unregister_net_sysctl_table(wn->sysctl_hdr);
	kfree(wn->sysctl_table);
	free_percpu(wn->mibs);
	/* Every socket of the namespace is gone, and with it its port. */
	WARN_ON_ONCE(!xa_empty(&wn->socks));
	xa_destroy(&wn->socks);
	rhashtable_destroy(&wn->ports);
}

static struct pernet_operations wsp_net_ops = {
	.init	= wsp_net_init_one,
	.exit	= wsp_net_exit_one,
	.id	= &wsp_net_id,
	.size	= sizeof(struct wsp_net),
};

int wsp_net_init(void)
{
	return register_pernet_subsys(&wsp_net_ops);
}

void wsp_net_exit(void)
{
	unregister_pernet_subsys(&wsp_net_ops);
}
