// SPDX-License-Identifier: GPL-2.0
/*
 * wspcat --filter: compile a small policy into the classic BPF program
 * that AF_WSP runs for each request in the kernel (WSP_ATTACH_FILTER), so
 * that nobody has to write BPF by hand for the common cases.
 *
 *   POLICY := RULE[,RULE...]
 *   RULE   := allow-uid:UID[:UID...]   accept callers with these uids
 *           | deny-uid:UID[:UID...]    refuse callers with these uids
 *           | prefix:STRING            accept callers whose data starts
 *                                      with STRING (at most 64 bytes)
 *           | else:ACTION              the rest: pass (the default),
 *                                      accept or reject
 *
 * Rules are tried in order; the first that matches decides.  "pass"
 * leaves a request to the listener: accepted by the kernel, or, with -c
 * or -p, asked about or decided by the policy.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/types.h>
#include <linux/wsp.h>

#include "filter.h"

#define MAX_UIDS	200	/* a jump reaches 255 instructions */

struct prog {
	struct sock_filter *insns;
	unsigned int len, max;
};

static int emit(struct prog *p, __u16 code, __u8 jt, __u8 jf, __u32 k)
{
	if (p->len == p->max)
		return -1;
	p->insns[p->len++] = (struct sock_filter){ code, jt, jf, k };
	return 0;
}

static int load(struct prog *p, size_t offset)
{
	return emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offset);
}

/* A uid list: each compare jumps to the return at the end on a match. */
static int rule_uids(struct prog *p, const char *list, __u32 action)
{
	__u32 uids[MAX_UIDS];
	unsigned int n = 0, i;
	char *end;

	do {
		if (n == MAX_UIDS)
			return -1;
		errno = 0;
		uids[n] = strtoul(list, &end, 10);
		if (errno || end == list || (*end && *end != ':'))
			return -1;
		n++;
		list = end + 1;
	} while (*end);

	if (load(p, offsetof(struct wsp_filter_data, uid)))
		return -1;
	for (i = 0; i < n; i++)
		if (emit(p, BPF_JMP | BPF_JEQ | BPF_K, n - i, 0, uids[i]))
			return -1;
	/* No match: over the return, to the next rule. */
	if (emit(p, BPF_JMP | BPF_JA, 0, 0, 1))
		return -1;
	return emit(p, BPF_RET | BPF_K, 0, 0, action);
}

/* Data that starts with @s: its length, then word by word, the last one
 * masked to the bytes it has.  Words are in host order, as loaded.
 */
static int rule_prefix(struct prog *p, const char *s, __u32 action)
{
	size_t len = strlen(s), words = (len + 3) / 4, w, n;
	unsigned int start = p->len, i, size;
	unsigned char bytes[4];
	__u32 val, mask;

	if (!len || len > WSP_FILTER_DATA_MAX)
		return -1;
	/* Two instructions per word (three for a partial one), the length
	 * test and the return: each failed test jumps past the return.
	 */
	size = 2 + 2 * words + (len % 4 ? 1 : 0) + 1;
	if (load(p, offsetof(struct wsp_filter_data, data_len)) ||
	    emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 0, len))
		return -1;
	for (w = 0; w < words; w++) {
		n = len - 4 * w < 4 ? len - 4 * w : 4;
		memset(bytes, 0, sizeof(bytes));
		memcpy(bytes, s + 4 * w, n);
		memcpy(&val, bytes, sizeof(val));
		memset(bytes, 0, sizeof(bytes));
		memset(bytes, 0xff, n);
		memcpy(&mask, bytes, sizeof(mask));
		if (load(p, offsetof(struct wsp_filter_data, data) + 4 * w))
			return -1;
		if (n < 4 && emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask))
			return -1;
		if (emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, val))
			return -1;
	}
	if (emit(p, BPF_RET | BPF_K, 0, 0, action))
		return -1;
	if (p->len - start != size)
		return -1;
	/* Every test falls to the next rule, past the return, when false. */
	for (i = start; i < p->len - 1; i++)
		if (BPF_CLASS(p->insns[i].code) == BPF_JMP)
			p->insns[i].jf = p->len - i - 1;
	return 0;
}

static int parse_action(const char *s, __u32 *action)
{
	if (!strcmp(s, "pass"))
		*action = WSP_FILTER_PASS;
	else if (!strcmp(s, "accept"))
		*action = WSP_FILTER_ACCEPT;
	else if (!strcmp(s, "reject"))
		*action = WSP_FILTER_REJECT;
	else
		return -1;
	return 0;
}

int filter_compile(const char *policy, struct sock_filter *insns,
		   unsigned int max, const char **bad)
{
	struct prog p = { .insns = insns, .max = max };
	__u32 otherwise = WSP_FILTER_PASS;
	char *copy, *rule, *save = NULL;
	int err = 0;

	copy = strdup(policy);
	if (!copy)
		return -1;
	for (rule = strtok_r(copy, ",", &save); rule && !err;
	     rule = strtok_r(NULL, ",", &save)) {
		*bad = policy + (rule - copy);
		if (!strncmp(rule, "allow-uid:", 10))
			err = rule_uids(&p, rule + 10, WSP_FILTER_ACCEPT);
		else if (!strncmp(rule, "deny-uid:", 9))
			err = rule_uids(&p, rule + 9, WSP_FILTER_REJECT);
		else if (!strncmp(rule, "prefix:", 7))
			err = rule_prefix(&p, rule + 7, WSP_FILTER_ACCEPT);
		else if (!strncmp(rule, "else:", 5))
			err = parse_action(rule + 5, &otherwise);
		else
			err = -1;
	}
	free(copy);
	if (err || emit(&p, BPF_RET | BPF_K, 0, 0, otherwise))
		return -1;
	*bad = NULL;
	return p.len;
}
