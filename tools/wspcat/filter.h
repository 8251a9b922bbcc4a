/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPCAT_FILTER_H
#define WSPCAT_FILTER_H

struct sock_filter;

/* Compile @policy (see filter.c) into at most @max instructions.  Returns
 * their number, or -1 with *@bad at the rule that is wrong (NULL if the
 * program is too long or memory ran out).
 */
int filter_compile(const char *policy, struct sock_filter *insns,
		   unsigned int max, const char **bad);

#endif
