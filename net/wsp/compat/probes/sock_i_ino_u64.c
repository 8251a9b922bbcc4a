// SPDX-License-Identifier: GPL-2.0
/* 7.1: sock_i_ino() returns u64 (and takes a const sock). */
#include <net/sock.h>

#ifdef WSP_PROBE_NEW
static_assert(__same_type(sock_i_ino(NULL), u64), "u64");
#else
static_assert(__same_type(sock_i_ino(NULL), unsigned long), "unsigned long");
#endif
