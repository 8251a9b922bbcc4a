// SPDX-License-Identifier: GPL-2.0
/* 6.13: hrtimer_setup() replaces hrtimer_init(), gone from 6.15. */
/* hrtimer_setup() sets the callback with the clock.  6.13 and 6.14 have
 * both functions: use the new one there.
 * wsp-probe: both=new
 */
#include <linux/hrtimer.h>

static enum hrtimer_restart fire(struct hrtimer *t)
{
	return HRTIMER_NORESTART;
}

void probe(struct hrtimer *t);
void probe(struct hrtimer *t)
{
#ifdef WSP_PROBE_NEW
	hrtimer_setup(t, fire, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
#else
	hrtimer_init(t, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	t->function = fire;
#endif
}
