/* SPDX-License-Identifier: GPL-2.0 */
/* In-tree builds track mainline: every probed API is present. */
#ifndef _WSP_COMPAT_MAINLINE_H
#define _WSP_COMPAT_MAINLINE_H
#define COMPAT_HAVE_PROTO_ACCEPT_ARG 1
#define COMPAT_HAVE_REGISTER_NET_SYSCTL_SZ 1
#define COMPAT_HAVE_SOCKADDR_UNSIZED 1
#define COMPAT_HAVE_SYSCTL_CONST_TABLE 1
#define COMPAT_HAVE_EVENTFD_SIGNAL_NOARG 1
#endif
