// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: WSAConnect, and the connect data of either end.
 */
#include <errno.h>
#include <limits.h>

#include "libwsp.h"

/*
 * getsockopt() of WSP_CALLER_DATA or WSP_CALLEE_DATA into @buf of *@len
 * bytes; *@len becomes the full length, also when ERANGE says it does not
 * fit.  A NULL @buf is a buffer of no bytes: the call asks for the length.
 */
static int get_data(int fd, int opt, void *buf, size_t *len)
{
	socklen_t optlen;

	if (!len) {
		errno = EFAULT;
		return -1;
	}
	optlen = !buf ? 0 : *len > INT_MAX ? INT_MAX : *len;
	if (getsockopt(fd, SOL_WSP, opt, buf, &optlen)) {
		if (errno == ERANGE)
			*len = optlen;
		return -1;
	}
	*len = optlen;
	return 0;
}

int wsp_callee_data(int fd, void *buf, size_t *len)
{
	return get_data(fd, WSP_CALLEE_DATA, buf, len);
}

int wsp_caller_data(int fd, void *buf, size_t *len)
{
	return get_data(fd, WSP_CALLER_DATA, buf, len);
}

int wsp_connect_ex(int fd, unsigned int port, const void *caller_data,
		   size_t caller_len, void *callee_buf, size_t *callee_len,
		   const struct wsp_qos *qos)
{
	struct sockaddr_wsp addr;
	int ret, err, saved = errno;
	size_t size = 0;

	if (callee_len) {
		size = *callee_len;
		*callee_len = 0;
	}
	if (caller_len) {
		if (caller_len > INT_MAX) {
			errno = EMSGSIZE;
			return -1;
		}
		if (setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, caller_data,
			       caller_len))
			return -1;
	}
	if (qos && wsp_set_qos(fd, qos))
		return -1;

	wsp_make_addr(&addr, port);
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	err = ret ? errno : 0;
	if (!callee_len || err == EINPROGRESS)
		goto out;

	/* Accepted or refused: the callee or reject data, if any. */
	*callee_len = size;
	if (get_data(fd, WSP_CALLEE_DATA, callee_buf, callee_len) &&
	    errno != ERANGE)
		*callee_len = 0;
out:
	/* connect()'s errno, or the caller's on success. */
	errno = ret ? err : saved;
	return ret;
}
