// SPDX-License-Identifier: GPL-2.0
/* 6.16: from_timer() becomes timer_container_of(). */
#include <linux/timer.h>
struct probe_s { struct timer_list t; };
struct probe_s *probe(struct timer_list *t);
struct probe_s *probe(struct timer_list *t)
{
	struct probe_s *p = timer_container_of(p, t, t);

	return p;
}
