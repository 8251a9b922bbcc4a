// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for AF_WSP internals: backlog arithmetic, the ephemeral
 * port allocator, the request queue and its state machine, counters, the
 * token bucket, QoS rules, the send path through a mock transport, and
 * the filter program's check and context.
 *
 * Built as wsp_kunit.ko; load it after wsp.ko.  The socket tests use
 * kernel sockets in init_net on ports 61000-61199.
 */
#include <kunit/test.h>
#include <linux/filter.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/uio.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "wsp.h"

/* 6.19: kernel_bind() and kernel_connect() take a sockaddr_unsized. */
#ifdef COMPAT_HAVE_KERNEL_BIND_UNSIZED
#define WSP_KADDR(a)	((struct sockaddr_unsized *)(a))
#else
#define WSP_KADDR(a)	((struct sockaddr *)(a))
#endif

static void wsp_test_backlog_clamp(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(0, 4096), 1U);
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(-5, 4096), 1U);
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(10, 4096), 10U);
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(4096, 4096), 4096U);
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(5000, 4096), 4096U);
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(INT_MAX, 1), 1U);
	KUNIT_EXPECT_EQ(test, wsp_backlog_clamp(7, 0), 1U);
}

static void wsp_test_backlog_exact_cap(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, wsp_backlog_full(0, 1));
	KUNIT_EXPECT_TRUE(test, wsp_backlog_full(1, 1));
	KUNIT_EXPECT_FALSE(test, wsp_backlog_full(4, 5));
	KUNIT_EXPECT_TRUE(test, wsp_backlog_full(5, 5));
	KUNIT_EXPECT_TRUE(test, wsp_backlog_full(6, 5));
}

/* ---- kernel socket helpers ------------------------------------------ */

static struct socket *wsp_test_sock(struct kunit *test, int type)
{
	struct socket *sock;

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_WSP, type, 0,
					       &sock), 0);
	return sock;
}

static void wsp_test_addr(struct sockaddr_wsp *a, u32 port)
{
	memset(a, 0, sizeof(*a));
	a->swsp_family = AF_WSP;
	a->swsp_port = port;
}

static int wsp_test_bind(struct socket *sock, u32 port)
{
	struct sockaddr_wsp a;

	wsp_test_addr(&a, port);
	return kernel_bind(sock, WSP_KADDR(&a), sizeof(a));
}

static int wsp_test_connect(struct socket *sock, u32 port, int flags)
{
	struct sockaddr_wsp a;

	wsp_test_addr(&a, port);
	return kernel_connect(sock, WSP_KADDR(&a), sizeof(a), flags);
}

static int wsp_test_setint(struct socket *sock, int opt, int val)
{
	return sock->ops->setsockopt(sock, SOL_WSP, opt, KERNEL_SOCKPTR(&val),
				     sizeof(val));
}

static int wsp_test_verdict(struct socket *listener, u64 id, u32 verdict)
{
	struct wsp_verdict v = { .id = id, .verdict = verdict };

	return listener->ops->setsockopt(listener, SOL_WSP, WSP_VERDICT,
					 KERNEL_SOCKPTR(&v), sizeof(v));
}

static struct socket *wsp_test_listener(struct kunit *test, int type,
					u32 port, bool conditional)
{
	struct socket *l = wsp_test_sock(test, type);

	KUNIT_ASSERT_EQ(test, wsp_test_bind(l, port), 0);
	if (conditional)
		KUNIT_ASSERT_EQ(test, wsp_test_setint(l, WSP_CONDITIONAL_ACCEPT,
						      1), 0);
	KUNIT_ASSERT_EQ(test, kernel_listen(l, 8), 0);
	return l;
}

static u64 wsp_test_mib(enum wsp_mib mib)
{
	return wsp_mib_sum(wsp_net(&init_net), mib);
}

/* ---- ports ------------------------------------------------------------ */

static void wsp_test_port_exhaustion(struct kunit *test)
{
	struct wsp_net *wn = wsp_net(&init_net);
	int saved[2] = { wn->ephemeral_ports[0], wn->ephemeral_ports[1] };
	struct socket *s[4];
	u32 port, freed;
	int i;

	wn->ephemeral_ports[0] = 61000;
	wn->ephemeral_ports[1] = 61002;
	for (i = 0; i < 4; i++)
		s[i] = wsp_test_sock(test, SOCK_STREAM);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, wsp_test_bind(s[i], 0), 0);
		port = wsp_sk(s[i]->sk)->port;
		KUNIT_EXPECT_GE(test, port, 61000U);
		KUNIT_EXPECT_LE(test, port, 61002U);
	}
	KUNIT_EXPECT_NE(test, wsp_sk(s[0]->sk)->port, wsp_sk(s[1]->sk)->port);
	KUNIT_EXPECT_NE(test, wsp_sk(s[1]->sk)->port, wsp_sk(s[2]->sk)->port);
	KUNIT_EXPECT_EQ(test, wsp_test_bind(s[3], 0), -EADDRINUSE);

	/* A freed port is found again. */
	freed = wsp_sk(s[1]->sk)->port;
	sock_release(s[1]);
	KUNIT_EXPECT_EQ(test, wsp_test_bind(s[3], 0), 0);
	KUNIT_EXPECT_EQ(test, wsp_sk(s[3]->sk)->port, freed);

	sock_release(s[0]);
	sock_release(s[2]);
	sock_release(s[3]);
	wn->ephemeral_ports[0] = saved[0];
	wn->ephemeral_ports[1] = saved[1];
}

/* ---- the request queue -------------------------------------------------- */

static u64 wsp_test_req_id(struct socket *client)
{
	return wsp_sk(client->sk)->req->id;
}

static void wsp_test_queue_remove_middle(struct kunit *test)
{
	struct socket *l = wsp_test_listener(test, SOCK_STREAM, 61100, true);
	struct wsp_sock *lw = wsp_sk(l->sk);
	u64 withdrawn = wsp_test_mib(WSP_MIB_WITHDRAWN_CLOSE);
	u64 requests = wsp_test_mib(WSP_MIB_REQUESTS);
	struct socket *c[3];
	struct wsp_req *req;
	u64 ids[3];
	int i;

	for (i = 0; i < 3; i++) {
		c[i] = wsp_test_sock(test, SOCK_STREAM);
		KUNIT_EXPECT_EQ(test, wsp_test_connect(c[i], 61100, O_NONBLOCK),
				-EINPROGRESS);
		ids[i] = wsp_test_req_id(c[i]);
	}
	KUNIT_EXPECT_LT(test, ids[0], ids[1]);
	KUNIT_EXPECT_LT(test, ids[1], ids[2]);
	KUNIT_EXPECT_EQ(test, lw->backlog_count, 3U);
	KUNIT_EXPECT_EQ(test, lw->nr_undecided, 3U);
	KUNIT_EXPECT_EQ(test, wsp_test_mib(WSP_MIB_REQUESTS), requests + 3);

	/* Close the middle client: its request leaves, the order holds. */
	sock_release(c[1]);
	KUNIT_EXPECT_EQ(test, lw->backlog_count, 2U);
	KUNIT_EXPECT_EQ(test, lw->nr_undecided, 2U);
	spin_lock(&lw->lock);
	req = __wsp_req_find(lw, ids[1]);
	spin_unlock(&lw->lock);
	KUNIT_EXPECT_NULL(test, req);
	req = list_first_entry(&lw->req_list, struct wsp_req, node);
	KUNIT_EXPECT_EQ(test, req->id, ids[0]);
	req = list_next_entry(req, node);
	KUNIT_EXPECT_EQ(test, req->id, ids[2]);
	KUNIT_EXPECT_TRUE(test, list_is_last(&req->node, &lw->req_list));
	KUNIT_EXPECT_EQ(test, wsp_test_mib(WSP_MIB_WITHDRAWN_CLOSE),
			withdrawn + 1);

	sock_release(c[0]);
	sock_release(c[2]);
	KUNIT_EXPECT_EQ(test, lw->backlog_count, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&lw->req_list));
	sock_release(l);
}

static void wsp_test_verdicts(struct kunit *test)
{
	struct socket *l = wsp_test_listener(test, SOCK_STREAM, 61101, true);
	struct socket *a = wsp_test_sock(test, SOCK_STREAM);
	struct socket *r = wsp_test_sock(test, SOCK_STREAM);
	struct wsp_sock *lw = wsp_sk(l->sk);
	u64 unknown = wsp_test_mib(WSP_MIB_UNKNOWN_VERDICTS);
	u64 rejected = wsp_test_mib(WSP_MIB_REJECTED);
	u64 deferred = wsp_test_mib(WSP_MIB_DEFERRED);
	struct wsp_req *req;
	u64 ida, idr;

	KUNIT_ASSERT_EQ(test, wsp_test_connect(a, 61101, O_NONBLOCK),
			-EINPROGRESS);
	KUNIT_ASSERT_EQ(test, wsp_test_connect(r, 61101, O_NONBLOCK),
			-EINPROGRESS);
	ida = wsp_test_req_id(a);
	idr = wsp_test_req_id(r);
	req = wsp_sk(a->sk)->req;

	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ida, 7), -EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ida + 1000, WSP_CF_ACCEPT),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, wsp_test_mib(WSP_MIB_UNKNOWN_VERDICTS),
			unknown + 1);

	/* DEFER keeps the request queued and counts once. */
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ida, WSP_CF_DEFER), 0);
	KUNIT_EXPECT_EQ(test, req->state, WSP_REQ_DEFERRED_STATE);
	KUNIT_EXPECT_EQ(test, lw->nr_undecided, 1U);
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ida, WSP_CF_DEFER), 0);
	KUNIT_EXPECT_EQ(test, wsp_test_mib(WSP_MIB_DEFERRED), deferred + 1);
	KUNIT_EXPECT_EQ(test, lw->backlog_count, 2U);

	/* ACCEPT a deferred request: the pair exists, the slot is kept. */
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ida, WSP_CF_ACCEPT), 0);
	KUNIT_EXPECT_EQ(test, req->state, WSP_REQ_ACCEPTED);
	KUNIT_EXPECT_EQ(test, a->sk->sk_state, TCP_ESTABLISHED);
	KUNIT_EXPECT_FALSE(test, list_empty(&lw->accept_list));
	KUNIT_EXPECT_EQ(test, lw->backlog_count, 2U);
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ida, WSP_CF_ACCEPT),
			-ENOENT);

	/* REJECT: the client is refused and the slot freed. */
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, idr, WSP_CF_REJECT), 0);
	KUNIT_EXPECT_EQ(test, r->sk->sk_state, TCP_CLOSE);
	KUNIT_EXPECT_EQ(test, r->sk->sk_err, ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, lw->backlog_count, 1U);
	KUNIT_EXPECT_EQ(test, wsp_test_mib(WSP_MIB_REJECTED), rejected + 1);

	sock_release(r);
	sock_release(a);
	sock_release(l);
}

/* Listener close refuses queued requests and resets unaccepted children. */
static void wsp_test_listener_close(struct kunit *test)
{
	struct socket *l = wsp_test_listener(test, SOCK_STREAM, 61102, true);
	struct socket *p = wsp_test_sock(test, SOCK_STREAM);
	struct socket *a = wsp_test_sock(test, SOCK_STREAM);
	u64 ida;

	KUNIT_ASSERT_EQ(test, wsp_test_connect(p, 61102, O_NONBLOCK),
			-EINPROGRESS);
	KUNIT_ASSERT_EQ(test, wsp_test_connect(a, 61102, O_NONBLOCK),
			-EINPROGRESS);
	ida = wsp_test_req_id(a);
	KUNIT_ASSERT_EQ(test, wsp_test_verdict(l, ida, WSP_CF_ACCEPT), 0);

	sock_release(l);
	KUNIT_EXPECT_EQ(test, p->sk->sk_state, TCP_CLOSE);
	KUNIT_EXPECT_EQ(test, p->sk->sk_err, ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, a->sk->sk_err, ECONNRESET);
	KUNIT_EXPECT_EQ(test, a->sk->sk_shutdown, SHUTDOWN_MASK);
	sock_release(p);
	sock_release(a);
}

/* Ids are u64 on every architecture: two queued requests whose ids agree
 * in their low 32 bits stay distinct, in id order, each found by its own
 * id (an index of unsigned long merged them on 32-bit).
 */
static void wsp_test_req_ids_wide(struct kunit *test)
{
	struct socket *l = wsp_test_listener(test, SOCK_STREAM, 61103, true);
	struct wsp_net *wn = wsp_net(&init_net);
	struct wsp_sock *lw = wsp_sk(l->sk);
	struct wsp_req *req[2], *found[7];
	struct socket *c[2];
	u64 ids[2];
	int i;

	for (i = 0; i < 2; i++) {
		c[i] = wsp_test_sock(test, SOCK_STREAM);
		KUNIT_ASSERT_EQ(test, wsp_test_connect(c[i], 61103, O_NONBLOCK),
				-EINPROGRESS);
		req[i] = wsp_sk(c[i]->sk)->req;
		ids[i] = req[i]->id;
		/* Only ever forward: ids stay unique in the namespace. */
		atomic64_set(&wn->next_req_id, ids[0] + (1ULL << 32) - 1);
	}
	KUNIT_EXPECT_EQ(test, ids[1], ids[0] + (1ULL << 32));

	spin_lock(&lw->lock);
	found[0] = __wsp_req_find(lw, ids[0]);
	found[1] = __wsp_req_find(lw, ids[1]);
	found[2] = __wsp_req_find(lw, ids[0] + 1);
	found[3] = __wsp_req_find(lw, 0);
	found[4] = __wsp_req_after(lw, 0);
	found[5] = __wsp_req_after(lw, ids[0]);
	found[6] = __wsp_req_after(lw, ids[1]);
	spin_unlock(&lw->lock);
	KUNIT_EXPECT_PTR_EQ(test, found[0], req[0]);
	KUNIT_EXPECT_PTR_EQ(test, found[1], req[1]);
	KUNIT_EXPECT_NULL(test, found[2]);
	KUNIT_EXPECT_NULL(test, found[3]);
	KUNIT_EXPECT_PTR_EQ(test, found[4], req[0]);
	KUNIT_EXPECT_PTR_EQ(test, found[5], req[1]);
	KUNIT_EXPECT_NULL(test, found[6]);

	/* The verdict reaches the request it names, and only that one. */
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ids[1], WSP_CF_ACCEPT), 0);
	KUNIT_EXPECT_EQ(test, c[1]->sk->sk_state, TCP_ESTABLISHED);
	KUNIT_EXPECT_EQ(test, c[0]->sk->sk_state, TCP_SYN_SENT);
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ids[1], WSP_CF_ACCEPT),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, wsp_test_verdict(l, ids[0], WSP_CF_REJECT), 0);
	KUNIT_EXPECT_EQ(test, c[0]->sk->sk_err, ECONNREFUSED);

	sock_release(c[0]);
	sock_release(c[1]);
	sock_release(l);
}

/* ---- the filter program ---------------------------------------------------- */

/* @code with operand @k, then a return: what wsp_filter_check() says. */
static int wsp_test_check1(u16 code, u32 k)
{
	struct sock_filter prog[] = {
		BPF_STMT(code, k),
		BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_PASS),
	};

	return wsp_filter_check(prog, ARRAY_SIZE(prog));
}

static void wsp_test_filter_check_loads(struct kunit *test)
{
	const u32 size = sizeof(struct wsp_filter_data);
	struct sock_filter insn;

	/* A word of the context becomes a load from it. */
	insn = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8);
	KUNIT_EXPECT_EQ(test, wsp_filter_check(&insn, 1), 0);
	KUNIT_EXPECT_EQ(test, insn.code, BPF_LDX | BPF_W | BPF_ABS);
	KUNIT_EXPECT_EQ(test, insn.k, 8U);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_ABS, 0), 0);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_ABS,
					      size - 4), 0);

	/* The length is the context's size, for A and for X. */
	insn = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0);
	KUNIT_EXPECT_EQ(test, wsp_filter_check(&insn, 1), 0);
	KUNIT_EXPECT_EQ(test, insn.code, BPF_LD | BPF_IMM);
	KUNIT_EXPECT_EQ(test, insn.k, size);
	insn = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0);
	KUNIT_EXPECT_EQ(test, wsp_filter_check(&insn, 1), 0);
	KUNIT_EXPECT_EQ(test, insn.code, BPF_LDX | BPF_IMM);
	KUNIT_EXPECT_EQ(test, insn.k, size);

	/* Outside, unaligned, ancillary, or not a whole word: refused. */
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_ABS, size),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_ABS, 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_ABS,
					      SKF_AD_OFF + SKF_AD_PROTOCOL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_ABS,
					      SKF_NET_OFF), -EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_H | BPF_ABS, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_B | BPF_ABS, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_W | BPF_IND, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_H | BPF_IND, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LD | BPF_B | BPF_IND, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_LDX | BPF_B | BPF_MSH, 0),
			-EINVAL);
}

/* Every other instruction class that touches no packet is accepted. */
static void wsp_test_filter_check_others(struct kunit *test)
{
	static const u16 ops[] = {
		BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR,
		BPF_XOR, BPF_LSH, BPF_RSH,
	};
	static const u16 jumps[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	static const u16 plain[] = {
		BPF_ALU | BPF_NEG, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM,
		BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
		BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA, BPF_JMP | BPF_JA,
		BPF_RET | BPF_K, BPF_RET | BPF_A,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_ALU | ops[i] | BPF_K,
						      1), 0);
		KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_ALU | ops[i] | BPF_X,
						      0), 0);
	}
	for (i = 0; i < ARRAY_SIZE(jumps); i++) {
		KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_JMP | jumps[i] | BPF_K,
						      0), 0);
		KUNIT_EXPECT_EQ(test, wsp_test_check1(BPF_JMP | jumps[i] | BPF_X,
						      0), 0);
	}
	for (i = 0; i < ARRAY_SIZE(plain); i++)
		KUNIT_EXPECT_EQ(test, wsp_test_check1(plain[i], 0), 0);
}

/* The context is uapi: its layout only ever grows at the end. */
static void wsp_test_filter_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, caller_port), 0);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, pid), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, uid), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, gid), 12);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, sock_type), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, data_len), 20);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, backlog_count),
			24);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, backlog_cap),
			28);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, qos), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsp_filter_data, data), 96);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsp_filter_data),
			96 + WSP_FILTER_DATA_MAX);
	/* Word loads reach every field. */
	KUNIT_EXPECT_EQ(test, sizeof(struct wsp_filter_data) % 4, 0);
}

/* ---- the send path through a mock transport ------------------------------ */

struct wsp_mock {
	int skbs;
	size_t bytes;
	u32 max_len;
};

static struct wsp_mock wsp_mock_seen;

static int wsp_mock_enqueue(struct wsp_sock *peer, struct sk_buff *skb)
{
	wsp_mock_seen.skbs++;
	wsp_mock_seen.bytes += skb->len;
	wsp_mock_seen.max_len = max(wsp_mock_seen.max_len, skb->len);
	consume_skb(skb);
	return 0;
}

static void wsp_mock_peer_shutdown(struct wsp_sock *peer, int how, int err)
{
}

static const struct wsp_transport wsp_mock_transport = {
	.name		= "mock",
	.enqueue	= wsp_mock_enqueue,
	.peer_shutdown	= wsp_mock_peer_shutdown,
};

static int wsp_test_send(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}

static void wsp_test_mock_send(struct kunit *test, int type, u32 port,
			       size_t len)
{
	struct socket *l = wsp_test_listener(test, type, port, false);
	struct socket *c = wsp_test_sock(test, type);
	struct wsp_sock *cw = wsp_sk(c->sk);
	struct socket *child;
	void *buf;

	/* Room for the oversized record below, though none is copied. */
	buf = kunit_kzalloc(test, max_t(size_t, len, c->sk->sk_sndbuf),
			    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, wsp_test_connect(c, port, 0), 0);
	KUNIT_ASSERT_EQ(test, kernel_accept(l, &child, 0), 0);

	memset(&wsp_mock_seen, 0, sizeof(wsp_mock_seen));
	cw->transport = &wsp_mock_transport;
	KUNIT_EXPECT_EQ(test, wsp_test_send(c, buf, len), (int)len);
	cw->transport = &wsp_local_transport;
	KUNIT_EXPECT_EQ(test, wsp_mock_seen.bytes, len);

	if (type == SOCK_SEQPACKET) {
		KUNIT_EXPECT_EQ(test, wsp_mock_seen.skbs, 1);
		KUNIT_EXPECT_EQ(test, wsp_test_send(c, buf,
						    c->sk->sk_sndbuf),
				-EMSGSIZE);
	} else {
		/* Stream chunks stay within half the send buffer. */
		KUNIT_EXPECT_GT(test, wsp_mock_seen.skbs, 1);
		KUNIT_EXPECT_LE(test, wsp_mock_seen.max_len,
				(u32)(c->sk->sk_sndbuf >> 1) - 64);
	}
	sock_release(child);
	sock_release(c);
	sock_release(l);
}

static void wsp_test_mock_stream(struct kunit *test)
{
	wsp_test_mock_send(test, SOCK_STREAM, 61110, 300000);
}

static void wsp_test_mock_seqpacket(struct kunit *test)
{
	wsp_test_mock_send(test, SOCK_SEQPACKET, 61111, 1000);
}

/* ---- token bucket and QoS ----------------------------------------------- */

static void wsp_test_tb_refill(struct kunit *test)
{
	const u64 depth = 1000ULL * NSEC_PER_SEC;

	/* 1000 B/s for half a second from empty: 500 bytes. */
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(0, depth, 1000, NSEC_PER_SEC / 2),
			500LL * NSEC_PER_SEC);
	/* Capped at the depth. */
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(0, depth, 1000, 5 * NSEC_PER_SEC),
			(s64)depth);
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(depth, depth, 1000, 1), (s64)depth);
	/* A debt is paid back first. */
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(-100LL * NSEC_PER_SEC, depth, 1000,
					    NSEC_PER_SEC / 10), 0);
	/* Extreme rates and times never overflow. */
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(0, depth, U32_MAX, U64_MAX),
			(s64)depth);
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(-(s64)depth, depth, 1, U64_MAX),
			(s64)depth);
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(0, U32_MAX * NSEC_PER_SEC, U32_MAX,
					    NSEC_PER_SEC),
			(s64)(U32_MAX * NSEC_PER_SEC));
	KUNIT_EXPECT_EQ(test, wsp_tb_refill(5, depth, 0, NSEC_PER_SEC), 5);
}

static void wsp_test_tb_wait(struct kunit *test)
{
	/* Ready with one whole byte of tokens, not with a fraction. */
	KUNIT_EXPECT_EQ(test, wsp_tb_wait_ns(NSEC_PER_SEC, 1000), 0ULL);
	KUNIT_EXPECT_EQ(test, wsp_tb_wait_ns(1, 1000), 999999ULL + 1);
	KUNIT_EXPECT_EQ(test, wsp_tb_wait_ns(0, 1000), 1000000ULL);
	KUNIT_EXPECT_EQ(test, wsp_tb_wait_ns(-1000LL * NSEC_PER_SEC, 1000),
			1001000000ULL);
	KUNIT_EXPECT_EQ(test, wsp_tb_wait_ns(-5, 0), 0ULL);
	/* The deepest debt at the highest rate does not overflow. */
	KUNIT_EXPECT_EQ(test, wsp_tb_wait_ns(S64_MIN + 1, U32_MAX),
			DIV64_U64_ROUND_UP((u64)NSEC_PER_SEC + S64_MAX,
					   U32_MAX));
}

static void wsp_test_qos_validate(struct kunit *test)
{
	struct wsp_qos q;

	wsp_qos_init(&q);
	KUNIT_EXPECT_EQ(test, wsp_qos_validate(&q), 0);
	q.sending.token_rate = 0;
	KUNIT_EXPECT_EQ(test, wsp_qos_validate(&q), -EINVAL);
	wsp_qos_init(&q);
	q.receiving.token_bucket_size = 100;
	q.receiving.max_sdu_size = 200;
	KUNIT_EXPECT_EQ(test, wsp_qos_validate(&q), -EINVAL);
	q.receiving.max_sdu_size = 100;
	KUNIT_EXPECT_EQ(test, wsp_qos_validate(&q), 0);
	q.sending.service_type = 42;
	KUNIT_EXPECT_EQ(test, wsp_qos_validate(&q), -EINVAL);
	q.sending.service_type = WSP_SERVICETYPE_GUARANTEED;
	KUNIT_EXPECT_EQ(test, wsp_qos_validate(&q), 0);
}

static void wsp_test_qos_grant(struct kunit *test)
{
	struct wsp_qos req, lim, g;

	wsp_qos_init(&req);
	wsp_qos_init(&lim);
	req.sending.token_rate = 5000;		/* caller -> listener */
	lim.receiving.token_rate = 2000;	/* listener's inbound limit */
	lim.sending.token_rate = 7000;		/* listener -> caller */
	req.receiving.token_bucket_size = 300;
	lim.sending.token_bucket_size = 100;
	lim.sending.max_sdu_size = 150;
	wsp_qos_grant(&g, &req, &lim);
	KUNIT_EXPECT_EQ(test, g.sending.token_rate, 2000U);
	KUNIT_EXPECT_EQ(test, g.receiving.token_rate, 7000U);
	KUNIT_EXPECT_EQ(test, g.receiving.token_bucket_size, 100U);
	/* Never an SDU larger than the bucket. */
	KUNIT_EXPECT_EQ(test, g.receiving.max_sdu_size, 100U);
	KUNIT_EXPECT_EQ(test, g.sending.max_sdu_size, WSP_QOS_NOT_SPECIFIED);
}

/* A connected socket's new QoS never exceeds its grant (same directions). */
static void wsp_test_qos_bound(struct kunit *test)
{
	struct wsp_qos ceil, req, out;

	wsp_qos_init(&ceil);
	wsp_qos_init(&req);
	ceil.sending.token_rate = 2000;
	ceil.receiving.token_bucket_size = 512;
	req.sending.token_rate = 1000000;
	req.receiving.token_rate = 123;
	req.receiving.max_sdu_size = 4096;
	wsp_qos_bound(&out, &req, &ceil);
	KUNIT_EXPECT_EQ(test, out.sending.token_rate, 2000U);
	KUNIT_EXPECT_EQ(test, out.receiving.token_rate, 123U);
	KUNIT_EXPECT_EQ(test, out.receiving.token_bucket_size, 512U);
	/* The SDU may not outgrow the bucket the ceiling leaves. */
	KUNIT_EXPECT_EQ(test, out.receiving.max_sdu_size, 512U);
	/* Lower than the grant is kept; unspecified asks for the grant. */
	req.sending.token_rate = 50;
	wsp_qos_bound(&out, &req, &ceil);
	KUNIT_EXPECT_EQ(test, out.sending.token_rate, 50U);
	req.sending.token_rate = WSP_QOS_NOT_SPECIFIED;
	wsp_qos_bound(&req, &req, &ceil);
	KUNIT_EXPECT_EQ(test, req.sending.token_rate, 2000U);
}

static struct kunit_case wsp_test_cases[] = {
	KUNIT_CASE(wsp_test_backlog_clamp),
	KUNIT_CASE(wsp_test_backlog_exact_cap),
	KUNIT_CASE(wsp_test_port_exhaustion),
	KUNIT_CASE(wsp_test_queue_remove_middle),
	KUNIT_CASE(wsp_test_verdicts),
	KUNIT_CASE(wsp_test_listener_close),
	KUNIT_CASE(wsp_test_req_ids_wide),
	KUNIT_CASE(wsp_test_filter_check_loads),
	KUNIT_CASE(wsp_test_filter_check_others),
	KUNIT_CASE(wsp_test_filter_layout),
	KUNIT_CASE(wsp_test_mock_stream),
	KUNIT_CASE(wsp_test_mock_seqpacket),
	KUNIT_CASE(wsp_test_tb_refill),
	KUNIT_CASE(wsp_test_tb_wait),
	KUNIT_CASE(wsp_test_qos_validate),
	KUNIT_CASE(wsp_test_qos_grant),
	KUNIT_CASE(wsp_test_qos_bound),
	{}
};

static struct kunit_suite wsp_test_suite = {
	.name = "wsp",
	.test_cases = wsp_test_cases,
};

kunit_test_suite(wsp_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for AF_WSP");
#ifdef COMPAT_HAVE_MODULE_IMPORT_NS_STRING
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
#else
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
#endif
