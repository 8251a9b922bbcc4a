// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of wspcat's --filter compiler: each policy is compiled, run
 * on sample requests by a small classic-BPF interpreter that does what
 * AF_WSP's check and the kernel do with the context loads, and its
 * verdicts compared with what the policy says.  Prints TAP.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/types.h>
#include <linux/wsp.h>

#include "filter.h"

static int tests, failed;

/* The instructions filter.c emits; anything else is a test failure. */
static long run(const struct sock_filter *p, int len,
		const struct wsp_filter_data *d)
{
	__u32 a = 0;
	int pc;

	for (pc = 0; pc >= 0 && pc < len; pc++) {
		const struct sock_filter *i = &p[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k >= sizeof(*d) || i->k & 3)
				return -1;
			memcpy(&a, (const char *)d + i->k, sizeof(a));
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return -1;
		}
	}
	return -1;	/* fell off the end */
}

static void request(struct wsp_filter_data *d, __u32 uid, const char *data)
{
	memset(d, 0, sizeof(*d));
	d->uid = uid;
	d->data_len = strlen(data);
	memcpy(d->data, data, d->data_len > WSP_FILTER_DATA_MAX ?
	       WSP_FILTER_DATA_MAX : d->data_len);
}

static void expect(const char *policy, __u32 uid, const char *data,
		   long want)
{
	struct sock_filter p[BPF_MAXINSNS];
	struct wsp_filter_data d;
	const char *bad;
	int len;
	long got;

	len = filter_compile(policy, p, BPF_MAXINSNS, &bad);
	request(&d, uid, data);
	got = len < 0 ? -2 : run(p, len, &d);
	tests++;
	if (got == want) {
		printf("ok %d %s: uid %u, \"%s\" -> %ld\n", tests, policy, uid,
		       data, got);
	} else {
		failed++;
		printf("not ok %d %s: uid %u, \"%s\" -> %ld, want %ld\n", tests,
		       policy, uid, data, got, want);
	}
}

static void expect_bad(const char *policy)
{
	struct sock_filter p[BPF_MAXINSNS];
	const char *bad;

	tests++;
	if (filter_compile(policy, p, BPF_MAXINSNS, &bad) < 0 && bad) {
		printf("ok %d bad policy \"%s\" refused at \"%s\"\n", tests,
		       policy, bad);
	} else {
		failed++;
		printf("not ok %d bad policy \"%s\" compiled\n", tests, policy);
	}
}

int main(void)
{
	const long A = WSP_FILTER_ACCEPT, R = WSP_FILTER_REJECT,
		   P = WSP_FILTER_PASS;
	char big[80];

	expect("deny-uid:1000", 1000, "", R);
	expect("deny-uid:1000", 0, "", P);
	expect("deny-uid:1:2:3", 2, "", R);
	expect("deny-uid:1:2:3", 4, "", P);
	expect("allow-uid:0,else:reject", 0, "", A);
	expect("allow-uid:0,else:reject", 7, "", R);
	expect("prefix:TOKN", 5, "TOKN-and-more", A);
	expect("prefix:TOKN", 5, "TOK", P);
	expect("prefix:TOKN", 5, "XOKN", P);
	/* Partial last words, and a prefix longer than the data. */
	expect("prefix:secret", 5, "secret", A);
	expect("prefix:secret", 5, "secreT", P);
	expect("prefix:secret", 5, "secre", P);
	expect("prefix:ab", 5, "abc", A);
	expect("prefix:ab", 5, "a", P);
	/* The first rule that matches decides. */
	expect("deny-uid:1000,prefix:TOKN,else:reject", 1000, "TOKN", R);
	expect("deny-uid:1000,prefix:TOKN,else:reject", 1001, "TOKN", A);
	expect("deny-uid:1000,prefix:TOKN,else:reject", 1001, "nope", R);
	expect("else:accept", 3, "", A);
	memset(big, 'x', 64);
	big[64] = '\0';
	expect("prefix:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	       1, big, A);
	expect_bad("prefix:");
	expect_bad("deny-uid:");
	expect_bad("deny-uid:12x");
	expect_bad("else:defer");
	expect_bad("unknown:1");
	memset(big, 'y', 65);
	big[65] = '\0';
	{
		char policy[96];

		snprintf(policy, sizeof(policy), "prefix:%s", big);
		expect_bad(policy);
	}
	printf("1..%d\n", tests);
	return failed ? 1 : 0;
}
