// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: sockets, their ports, conditional mode, request ids and QoS.
 */
#include <errno.h>
#include <string.h>

#include "libwsp.h"

int wsp_socket(int type)
{
	return socket(AF_WSP, type, 0);
}

int wsp_bind(int fd, uint32_t port)
{
	struct sockaddr_wsp addr;

	wsp_make_addr(&addr, port);
	return bind(fd, (struct sockaddr *)&addr, sizeof(addr));
}

int wsp_local_port(int fd, uint32_t *port)
{
	struct sockaddr_wsp addr;
	socklen_t len = sizeof(addr);

	memset(&addr, 0, sizeof(addr));
	if (getsockname(fd, (struct sockaddr *)&addr, &len))
		return -1;
	if (addr.swsp_family != AF_WSP || len < sizeof(addr)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	*port = addr.swsp_port;
	return 0;
}

int wsp_set_conditional(int lfd, int on)
{
	on = !!on;	/* a BOOL, as Winsock's; the option takes 0 or 1 */
	return setsockopt(lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &on, sizeof(on));
}

int wsp_request_id(int fd, uint64_t *id)
{
	socklen_t len = sizeof(*id);

	return getsockopt(fd, SOL_WSP, WSP_REQUEST_ID, id, &len);
}

void wsp_flowspec_unspecified(struct wsp_flowspec *fs)
{
	fs->token_rate = WSP_QOS_NOT_SPECIFIED;
	fs->token_bucket_size = WSP_QOS_NOT_SPECIFIED;
	fs->peak_bandwidth = WSP_QOS_NOT_SPECIFIED;
	fs->latency = WSP_QOS_NOT_SPECIFIED;
	fs->delay_variation = WSP_QOS_NOT_SPECIFIED;
	fs->service_type = WSP_QOS_NOT_SPECIFIED;
	fs->max_sdu_size = WSP_QOS_NOT_SPECIFIED;
	fs->minimum_policed_size = WSP_QOS_NOT_SPECIFIED;
}

int wsp_set_qos(int fd, const struct wsp_qos *qos)
{
	return setsockopt(fd, SOL_WSP, WSP_QOS, qos, sizeof(*qos));
}

int wsp_get_qos(int fd, struct wsp_qos *qos)
{
	socklen_t len = sizeof(*qos);

	return getsockopt(fd, SOL_WSP, WSP_QOS, qos, &len);
}
