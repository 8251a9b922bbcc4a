/* SPDX-License-Identifier: GPL-2.0 */
/* In-tree builds track mainline: every probed API has its new form.  The
 * debug-7.x kernel of "make check" builds AF_WSP in tree with this file.
 */
#ifndef _WSP_COMPAT_MAINLINE_H
#define _WSP_COMPAT_MAINLINE_H
#define COMPAT_HAVE_EVENTFD_SIGNAL_NOARG 1
#define COMPAT_HAVE_HRTIMER_SETUP 1
#define COMPAT_HAVE_KERNEL_BIND_UNSIZED 1
#define COMPAT_HAVE_MODULE_IMPORT_NS_STRING 1
#define COMPAT_HAVE_OPTMEM_MAX_PERNET 1
#define COMPAT_HAVE_PROTO_ACCEPT_ARG 1
#define COMPAT_HAVE_REGISTER_NET_SYSCTL_SZ 1
#define COMPAT_HAVE_SK_SCM_CREDENTIALS 1
#define COMPAT_HAVE_SOCK_I_INO_U64 1
#define COMPAT_HAVE_SOCKADDR_UNSIZED 1
#define COMPAT_HAVE_SYSCTL_CONST_TABLE 1
#endif
