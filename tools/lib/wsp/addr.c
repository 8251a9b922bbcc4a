// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: AF_WSP addresses, and their text form "wsp:PORT".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libwsp.h"

void wsp_make_addr(struct sockaddr_wsp *addr, uint32_t port)
{
	memset(addr, 0, sizeof(*addr));
	addr->swsp_family = AF_WSP;
	addr->swsp_port = port;
}

int wsp_addr_to_str(const struct sockaddr_wsp *addr, char *buf, size_t size)
{
	char tmp[WSP_ADDRSTRLEN];
	int len;

	if (!addr) {
		errno = EINVAL;
		return -1;
	}
	if (addr->swsp_family != AF_WSP) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	len = snprintf(tmp, sizeof(tmp), "wsp:%u", (unsigned int)addr->swsp_port);
	if (!buf || (size_t)len >= size) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, tmp, len + 1);
	return len;
}

int wsp_str_to_addr(const char *str, struct sockaddr_wsp *addr)
{
	unsigned long long port = 0;
	const char *p;

	if (!str || !addr)
		goto err;
	p = strncmp(str, "wsp:", 4) ? str : str + 4;
	if (!*p)
		goto err;
	/* Decimal digits only: no sign, no space, no base prefix. */
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto err;
		port = port * 10 + (*p - '0');
		if (port > UINT32_MAX)
			goto err;
	}
	wsp_make_addr(addr, port);
	return 0;
err:
	errno = EINVAL;
	return -1;
}
