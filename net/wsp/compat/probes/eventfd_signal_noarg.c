// SPDX-License-Identifier: GPL-2.0
/* 6.8: eventfd_signal() lost its count argument. */
#include <linux/eventfd.h>

void probe(struct eventfd_ctx *ctx);
void probe(struct eventfd_ctx *ctx)
{
#ifdef WSP_PROBE_NEW
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}
