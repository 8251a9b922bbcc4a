// SPDX-License-Identifier: GPL-2.0
/* 6.11: sysctl handlers take a const struct ctl_table. */
#include <linux/sysctl.h>

#ifdef WSP_PROBE_NEW
#define PROBE_TABLE const struct ctl_table
#else
#define PROBE_TABLE struct ctl_table
#endif

static int handler(PROBE_TABLE *t, int w, void *b, size_t *l, loff_t *p)
{
	return 0;
}

struct ctl_table probe_table = { .proc_handler = handler };
