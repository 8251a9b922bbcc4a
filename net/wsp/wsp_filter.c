// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP in-kernel condition: a classic BPF program on a listener decides
 * each request before it takes a backlog slot (WSP_ATTACH_FILTER).
 *
 * Built as seccomp builds its filters: bpf_prog_create_from_user() with a
 * check that turns the word loads of struct wsp_filter_data into loads
 * from the context and refuses everything that would read an skb.  The
 * program runs in the connecting task, under RCU and without any listener
 * lock; a replaced or detached program is freed after a grace period.
 *
 * No capability is needed: a program only decides requests to its own
 * socket, sees nothing the peek would not show its owner, and can only
 * load from a fixed-size context, so it cannot read or write elsewhere.
 */
#include <linux/cred.h>
#include <linux/filter.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <net/sock.h>

#include <kunit/visibility.h>

#include "wsp.h"
#include "wsp_trace.h"

struct wsp_filter {
	struct bpf_prog		*prog;
	/* The attaching task's: the credentials are shown as it sees them,
	 * whoever connects.
	 */
	struct user_namespace	*user_ns;
	struct pid_namespace	*pid_ns;
	u32			charge;		/* in sk_omem_alloc */
	u64			loads;		/* words it reads, by index */
	struct rcu_head		rcu;
};

/* Words of struct wsp_filter_data, for wsp_filter::loads, in the groups
 * that wsp_filter_fill() fills together; the layout is uapi and
 * KUnit-tested, and checked again in wsp_filter_fill().
 */
#define WSP_FILTER_WORDS	(sizeof(struct wsp_filter_data) / 4)
#define WSP_LOADS_REQUEST	(BIT_ULL(0) | GENMASK_ULL(7, 4))
#define WSP_LOADS_PID		BIT_ULL(1)
#define WSP_LOADS_CRED		(BIT_ULL(2) | BIT_ULL(3))
#define WSP_LOADS_QOS		GENMASK_ULL(23, 8)
#define WSP_LOADS_DATA		GENMASK_ULL(39, 24)

/* bpf_aux_classic_check_t: word loads of the context, nothing else that
 * loads.  bpf_check_classic() has run; this also rewrites the loads.
 */
int wsp_filter_check(struct sock_filter *filter, unsigned int flen)
{
	unsigned int pc;

	for (pc = 0; pc < flen; pc++) {
		struct sock_filter *insn = &filter[pc];

		switch (insn->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			/* Aligned and inside: the ancillary SKF_AD_* offsets
			 * and the skb's negative ones are neither.
			 */
			if (insn->k >= sizeof(struct wsp_filter_data) ||
			    insn->k & 3)
				return -EINVAL;
			/* bpf_convert_filter() makes this a load from ctx. */
			insn->code = BPF_LDX | BPF_W | BPF_ABS;
			continue;
		case BPF_LD | BPF_W | BPF_LEN:
			insn->code = BPF_LD | BPF_IMM;
			insn->k = sizeof(struct wsp_filter_data);
			continue;
		case BPF_LDX | BPF_W | BPF_LEN:
			insn->code = BPF_LDX | BPF_IMM;
			insn->k = sizeof(struct wsp_filter_data);
			continue;
		case BPF_RET | BPF_K:
		case BPF_RET | BPF_A:
		case BPF_ALU | BPF_ADD | BPF_K:
		case BPF_ALU | BPF_ADD | BPF_X:
		case BPF_ALU | BPF_SUB | BPF_K:
		case BPF_ALU | BPF_SUB | BPF_X:
		case BPF_ALU | BPF_MUL | BPF_K:
		case BPF_ALU | BPF_MUL | BPF_X:
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_DIV | BPF_X:
		case BPF_ALU | BPF_MOD | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_X:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_ALU | BPF_AND | BPF_X:
		case BPF_ALU | BPF_OR | BPF_K:
		case BPF_ALU | BPF_OR | BPF_X:
		case BPF_ALU | BPF_XOR | BPF_K:
		case BPF_ALU | BPF_XOR | BPF_X:
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_LSH | BPF_X:
		case BPF_ALU | BPF_RSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_X:
		case BPF_ALU | BPF_NEG:
		case BPF_LD | BPF_IMM:
		case BPF_LDX | BPF_IMM:
		case BPF_MISC | BPF_TAX:
		case BPF_MISC | BPF_TXA:
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
		case BPF_JMP | BPF_JA:
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_X:
			continue;
		default:
			/* Byte, half-word, indirect and MSH loads. */
			return -EINVAL;
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsp_filter_check);

/* The words of the context the program loads.  bpf_convert_filter()
 * made each of our context loads an LDX from BPF_REG_CTX; any other use
 * of that register (none is expected) counts as reading everything.
 */
static u64 wsp_filter_loads(const struct bpf_prog *prog)
{
	const struct bpf_insn *insn = prog->insnsi;
	u64 loads = 0;
	u32 i;

	for (i = 0; i < prog->len; i++, insn++) {
		if (insn->code == (BPF_LDX | BPF_MEM | BPF_W) &&
		    insn->src_reg == BPF_REG_CTX && insn->off >= 0 &&
		    insn->off / 4 < WSP_FILTER_WORDS) {
			loads |= BIT_ULL(insn->off / 4);
			continue;
		}
		/* The prologue's ctx = R1. */
		if (insn->code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
		    insn->dst_reg == BPF_REG_CTX && insn->src_reg == BPF_REG_1)
			continue;
		if (insn->src_reg == BPF_REG_CTX ||
		    insn->dst_reg == BPF_REG_CTX)
			return GENMASK_ULL(WSP_FILTER_WORDS - 1, 0);
	}
	return loads;
}

static void wsp_filter_free_rcu(struct rcu_head *rcu)
{
	struct wsp_filter *f = container_of(rcu, struct wsp_filter, rcu);

	bpf_prog_destroy(f->prog);
	put_user_ns(f->user_ns);
	put_pid_ns(f->pid_ns);
	kfree(f);
}

/* @f is no longer reachable from @sk: uncharge it, free it after the
 * grace period in which a connect may still be running it.
 */
static void wsp_filter_release(struct sock *sk, struct wsp_filter *f)
{
	atomic_sub(f->charge, &sk->sk_omem_alloc);
	call_rcu(&f->rcu, wsp_filter_free_rcu);
}

/* Swap in @f (NULL detaches) and release the old one.  -ENOENT if there
 * was nothing to detach.
 */
static int wsp_filter_swap(struct wsp_sock *wsk, struct wsp_ext *ext,
			   struct wsp_filter *f)
{
	struct sock *sk = &wsk->sk;
	struct wsp_filter *old;

	lock_sock(sk);
	if (sock_flag(sk, SOCK_FILTER_LOCKED)) {
		release_sock(sk);
		return -EPERM;
	}
	if (f) {
		if (atomic_read(&sk->sk_omem_alloc) + f->charge >
		    wsp_optmem_max(sk)) {
			release_sock(sk);
			return -ENOMEM;
		}
		atomic_add(f->charge, &sk->sk_omem_alloc);
	}
	old = rcu_replace_pointer(ext->filter, f, lockdep_sock_is_held(sk));
	release_sock(sk);
	if (!old)
		return f ? 0 : -ENOENT;
	wsp_filter_release(sk, old);
	return 0;
}

int wsp_filter_attach(struct wsp_sock *wsk, sockptr_t optval,
		      unsigned int optlen)
{
	struct sock_fprog fprog;
	struct wsp_filter *f;
	struct wsp_ext *ext;
	int err;

	/* Cheap refusals first; wsp_filter_swap() decides under the lock. */
	if (sock_flag(&wsk->sk, SOCK_FILTER_LOCKED))
		return -EPERM;
	err = copy_bpf_fprog_from_user(&fprog, optval, optlen);
	if (err)
		return err;
	ext = wsp_ext_get(wsk, GFP_KERNEL);
	if (!ext)
		return -ENOMEM;
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	err = bpf_prog_create_from_user(&f->prog, &fprog, wsp_filter_check,
					false);
	/* With the JIT required, a JIT that ran out of memory leaves the
	 * program unjited and the BPF core says ENOTSUPP, which is not a
	 * userspace errno.
	 */
	if (err == -ENOTSUPP)
		err = -ENOMEM;
	if (err)
		goto out_free;
	f->charge = sizeof(*f) + bpf_prog_size(f->prog->len);
	f->loads = wsp_filter_loads(f->prog);
	f->user_ns = get_user_ns(current_user_ns());
	f->pid_ns = get_pid_ns(task_active_pid_ns(current));
	err = wsp_filter_swap(wsk, ext, f);
	if (err)
		goto out_put;
	return 0;

out_put:
	put_user_ns(f->user_ns);
	put_pid_ns(f->pid_ns);
	bpf_prog_destroy(f->prog);
out_free:
	kfree(f);
	return err;
}

int wsp_filter_detach(struct wsp_sock *wsk)
{
	struct wsp_ext *ext = wsp_ext(wsk);

	if (sock_flag(&wsk->sk, SOCK_FILTER_LOCKED))
		return -EPERM;
	return ext ? wsp_filter_swap(wsk, ext, NULL) : -ENOENT;
}

/* The socket is closed; a connect that found it may still run the program
 * until the grace period ends.
 */
void wsp_filter_drop(struct wsp_sock *wsk, struct wsp_ext *ext)
{
	struct wsp_filter *f;

	f = rcu_replace_pointer(ext->filter, NULL, true);
	if (f)
		wsp_filter_release(&wsk->sk, f);
}

bool wsp_filter_attached(const struct wsp_sock *wsk)
{
	const struct wsp_ext *ext = wsp_ext(wsk);

	return ext && rcu_access_pointer(ext->filter);
}

/* The request as the program sees it: only the words it loads.  The
 * check admits no other read of the context, so the rest is left
 * unwritten: translating credentials, copying data and even clearing
 * the 160 bytes are most of the cost of a refusal.  @client is
 * connecting: it holds its socket lock, so its caller data and QoS
 * cannot change.
 */
static void wsp_filter_fill(struct wsp_filter_data *d,
			    const struct wsp_filter *f,
			    const struct wsp_sock *listener,
			    const struct wsp_sock *client)
{
	const struct wsp_buf *data = client->caller_data;
	const struct cred *cred;
	u32 len;

	BUILD_BUG_ON(offsetof(struct wsp_filter_data, caller_port) != 0 ||
		     offsetof(struct wsp_filter_data, pid) != 4 ||
		     offsetof(struct wsp_filter_data, uid) != 8 ||
		     offsetof(struct wsp_filter_data, gid) != 12 ||
		     offsetof(struct wsp_filter_data, sock_type) != 16 ||
		     offsetof(struct wsp_filter_data, backlog_cap) != 28 ||
		     offsetof(struct wsp_filter_data, qos) != 32 ||
		     offsetof(struct wsp_filter_data, data) != 96 ||
		     WSP_FILTER_WORDS != 40);
	/* Each word is filled by exactly one of the groups: a sum equal to
	 * the union means that no two overlap.
	 */
	BUILD_BUG_ON(WSP_LOADS_REQUEST + WSP_LOADS_PID + WSP_LOADS_CRED +
		     WSP_LOADS_QOS + WSP_LOADS_DATA !=
		     GENMASK_ULL(WSP_FILTER_WORDS - 1, 0));
	if (f->loads & WSP_LOADS_REQUEST) {
		d->caller_port = client->port;
		d->sock_type = client->sk.sk_type;
		d->data_len = data ? data->len : 0;
		d->backlog_count = READ_ONCE(listener->backlog_count);
		d->backlog_cap = READ_ONCE(listener->backlog_cap);
	}
	if (f->loads & WSP_LOADS_PID)
		d->pid = pid_nr_ns(task_tgid(current), f->pid_ns);
	if (f->loads & WSP_LOADS_CRED) {
		cred = current_cred();
		d->uid = from_kuid_munged(f->user_ns, cred->euid);
		d->gid = from_kgid_munged(f->user_ns, cred->egid);
	}
	if (f->loads & WSP_LOADS_QOS)
		d->qos = client->qos;
	if (f->loads & WSP_LOADS_DATA) {
		len = data ? min_t(u32, data->len, WSP_FILTER_DATA_MAX) : 0;
		if (len)
			memcpy(d->data, data->data, len);
		memset(d->data + len, 0, WSP_FILTER_DATA_MAX - len);
	}
}

/* The program's verdict on @client's request: one of WSP_FILTER_*, and
 * WSP_FILTER_PASS when the listener has no program.
 */
u32 wsp_filter_run(struct wsp_net *wn, struct wsp_sock *listener,
		   struct wsp_sock *client)
{
	struct wsp_ext *ext = wsp_ext(listener);
	/* Filled word by word: keep CONFIG_INIT_STACK_ALL_ZERO off it. */
	struct wsp_filter_data d __uninitialized;
	struct wsp_filter *f;
	u32 ret;

	if (!ext)
		return WSP_FILTER_PASS;
	/* A sched-RCU section both keeps a replaced program until its grace
	 * period (call_rcu() waits for preempt-disabled readers) and pins
	 * the CPU, as bpf_prog_run() needs, for two instructions where
	 * rcu_read_lock() and bpf_prog_run_pin_on_cpu() take four calls.
	 */
	rcu_read_lock_sched();
	f = rcu_dereference_sched(ext->filter);
	if (!f) {
		rcu_read_unlock_sched();
		return WSP_FILTER_PASS;
	}
	wsp_filter_fill(&d, f, listener, client);
	ret = bpf_prog_run(f->prog, &d);
	rcu_read_unlock_sched();

	switch (ret) {
	case WSP_FILTER_ACCEPT:
		wsp_count(wn, WSP_MIB_FILTER_ACCEPTED);
		break;
	case WSP_FILTER_DEFER:
		wsp_count(wn, WSP_MIB_FILTER_DEFERRED);
		break;
	case WSP_FILTER_PASS:
		wsp_count(wn, WSP_MIB_FILTER_PASSED);
		break;
	default:
		/* Anything else is a refusal, and counts as one. */
		ret = WSP_FILTER_REJECT;
		wsp_count(wn, WSP_MIB_FILTER_REJECTED);
		break;
	}
	trace_filter(listener->port, client->port, ret);
	return ret;
}
