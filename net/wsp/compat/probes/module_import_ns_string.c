// SPDX-License-Identifier: GPL-2.0
/* 6.13: MODULE_IMPORT_NS() takes a string, no longer an identifier. */
#include <linux/module.h>

/* The old macro stringifies anything it is given, so both spellings would
 * compile there.  Look at what reaches MODULE_INFO() instead: exactly the
 * namespace, as a string, with no quotes of its own.
 */
#undef MODULE_INFO
#define MODULE_INFO(tag, info)						\
	static_assert(sizeof(info) == sizeof("PROBE_NS"), "namespace")

#ifdef WSP_PROBE_NEW
MODULE_IMPORT_NS("PROBE_NS");
#else
MODULE_IMPORT_NS(PROBE_NS);
#endif
