// SPDX-License-Identifier: GPL-2.0
/* 6.13: MODULE_IMPORT_NS() takes a string, no longer an identifier. */
#include <linux/module.h>
MODULE_IMPORT_NS(PROBE_NS);
