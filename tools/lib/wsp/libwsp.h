/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libwsp: the Winsock-shaped API over AF_WSP sockets.
 *
 * A thin layer over the SOL_WSP socket options of <linux/wsp.h>: every
 * behaviour comes from the kernel.  Functions return 0 (or a descriptor,
 * or an index) on success and -1 with errno set on failure, as the system
 * calls they wrap do.  See libwsp(3) and the page of each function.
 */
#ifndef _LIBWSP_H
#define _LIBWSP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <linux/wsp.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBWSP_MAJOR	1
#define LIBWSP_MINOR	0

/* ---- addresses ---------------------------------------------------------- */

/* Room for the longest text of wsp_addr_to_str(), "wsp:4294967295" and a NUL. */
#define WSP_ADDRSTRLEN	16

/* Fill @addr with the AF_WSP address of @port, every other byte zero. */
void wsp_make_addr(struct sockaddr_wsp *addr, uint32_t port);

/*
 * Write @addr as "wsp:PORT" into @buf of @size bytes.  Returns the length
 * written (without the NUL); -1 with EAFNOSUPPORT if @addr is not AF_WSP,
 * ENOSPC if @size is too small.
 */
int wsp_addr_to_str(const struct sockaddr_wsp *addr, char *buf, size_t size);

/*
 * Parse "PORT" or "wsp:PORT" (decimal, 0 to 4294967295) into @addr.
 * Returns 0, or -1 with EINVAL.
 */
int wsp_str_to_addr(const char *str, struct sockaddr_wsp *addr);

/* ---- sockets ------------------------------------------------------------ */

/* socket(AF_WSP, @type, 0); @type may carry SOCK_NONBLOCK and SOCK_CLOEXEC. */
int wsp_socket(int type);

/* bind(@fd) to @port (0: any free port). */
int wsp_bind(int fd, uint32_t port);

/* The port @fd is bound to, in *@port. */
int wsp_local_port(int fd, uint32_t *port);

/* WSP_CONDITIONAL_ACCEPT on a listener: @on nonzero needs a verdict per request. */
int wsp_set_conditional(int lfd, int on);

/* WSP_REQUEST_ID: the id of the request an accepted or connected @fd came from. */
int wsp_request_id(int fd, uint64_t *id);

/* ---- connect (WSAConnect) ----------------------------------------------- */

/*
 * Connect @fd to @port, sending @caller_len bytes of @caller_data and the
 * QoS request @qos.  Either may be absent (@caller_len 0, @qos NULL):
 * then this call sets none, and what WSP_CALLER_DATA or WSP_QOS set
 * earlier stays.  A failure to set them is returned as is, before any
 * connect.  Returns connect()'s
 * result: 0, or -1 with ECONNREFUSED, ETIMEDOUT, EINPROGRESS (non-blocking
 * socket) and the rest.  Once connected or refused, the callee (or reject)
 * data is copied to @callee_buf, whose size is *@callee_len on entry;
 * *@callee_len is then its full length, and nothing is copied if that
 * exceeds the size given (wsp_callee_data() reads it later).  With
 * EINPROGRESS, *@callee_len is 0.  @callee_buf and @callee_len may be NULL.
 */
int wsp_connect_ex(int fd, unsigned int port, const void *caller_data,
		   size_t caller_len, void *callee_buf, size_t *callee_len,
		   const struct wsp_qos *qos);

/*
 * Read the callee (reject) data of @fd into @buf of *@len bytes; *@len
 * becomes its full length.  -1 with ERANGE if it does not fit (*@len then
 * holds the length needed).  wsp_caller_data() reads the caller data.
 */
int wsp_callee_data(int fd, void *buf, size_t *len);
int wsp_caller_data(int fd, void *buf, size_t *len);

/* ---- accept (WSAAccept) and the condition ------------------------------- */

/**
 * struct wsp_answer - what a condition function answers
 * @data: callee data on accept, reject data on reject; the condition's
 *	own buffer, which must stay valid until wsp_accept() returns
 * @data_len: bytes at @data (0: none)
 * @has_qos: nonzero to grant @qos
 * @qos: the QoS granted, directions seen from the caller
 */
struct wsp_answer {
	const void		*data;
	size_t			data_len;
	int			has_qos;
	struct wsp_qos		qos;
};

/*
 * The condition function: @req is the request, with all of its caller
 * data (req->data_len bytes); @ans starts empty.  It returns
 * WSP_CF_ACCEPT, WSP_CF_REJECT or WSP_CF_DEFER.  Any other return fails
 * the call: wsp_accept() leaves the request undecided and returns -1 with
 * the errno the condition set, or EINVAL if it set none.
 */
typedef int (*wsp_condition_fn)(const struct wsp_request *req,
				struct wsp_answer *ans, void *ctx);

/*
 * WSAAccept.  With @cond NULL, accept(@lfd, @addr, @addrlen).  Otherwise:
 * connections already accepted (by the listener's filter, or by verdicts
 * given outside wsp_accept()) are returned first, oldest first.  Then the
 * oldest undecided request, a deferred one included, goes to @cond:
 * - WSP_CF_ACCEPT: returns the new socket of that request, matched by
 *   WSP_REQUEST_ID;
 * - WSP_CF_REJECT: -1 with ECONNREFUSED, the answer's data is the reject
 *   data;
 * - WSP_CF_DEFER: -1 with EINPROGRESS (WSATRY_AGAIN); the request stays,
 *   marked deferred, and the next call presents it again.
 * If the caller withdrew the request before the verdict, -1 with
 * ECONNABORTED.  It waits for a request unless @lfd is non-blocking
 * (then -1 with EAGAIN); a signal gives EINTR.  @addr gets the caller's
 * address, as accept() would.  The returned socket is blocking and
 * close-on-exec is not set, as with accept().
 *
 * @req is valid only while @cond runs; @cond runs with no lock of the
 * library held, and may call it.
 *
 * Safe to call from several threads on one listener: each request goes
 * to one call at a time, and sockets another thread's verdict accepted
 * are kept for that thread.  A call may also take, and keep for the next
 * call, connections accepted before its own; poll() on the listener no
 * longer shows those, so a program that polls calls wsp_accept() again
 * after each socket it returns, until EAGAIN.  Kept sockets of a listener
 * that was closed are closed by the next call.  accept() called directly
 * on the same listener meanwhile may take a socket a call waits for: that
 * call then fails with ECONNABORTED.  A signal gives EINTR, with or
 * without SA_RESTART.
 */
int wsp_accept(int lfd, struct sockaddr_wsp *addr, socklen_t *addrlen,
	       wsp_condition_fn cond, void *ctx);

/*
 * WSP_PEEK_REQUEST: the oldest undecided request with an id greater than
 * @after (0: the oldest), with all of its caller data, in a buffer from
 * malloc() that the caller frees.  -1 with EAGAIN if there is none.
 */
int wsp_peek_request(int lfd, uint64_t after, struct wsp_request **req);

/* free(@req), for bindings that cannot call free() themselves. */
void wsp_request_free(struct wsp_request *req);

/*
 * WSP_VERDICT: decide request @id with @verdict (WSP_CF_*), callee or
 * reject data @data of @len bytes, and a granted @qos (NULL: none).
 */
int wsp_verdict(int lfd, uint64_t id, int verdict, const void *data,
		size_t len, const struct wsp_qos *qos);

/* ---- QoS ---------------------------------------------------------------- */

/* A flowspec with every field WSP_QOS_NOT_SPECIFIED. */
void wsp_flowspec_unspecified(struct wsp_flowspec *fs);

/* WSP_QOS: set the requested (or listener's, or connection's) QoS, and read it. */
int wsp_set_qos(int fd, const struct wsp_qos *qos);
int wsp_get_qos(int fd, struct wsp_qos *qos);

/* ---- network events (WSAEventSelect and friends) ------------------------ */

/* WSACreateEvent: an eventfd, non-blocking and close-on-exec. */
int wsp_event_create(void);

/* WSASetEvent / WSAResetEvent on an event object from wsp_event_create(). */
int wsp_event_set(int efd);
int wsp_event_reset(int efd);

/*
 * WSAEventSelect: record the WSP_FD_* events in @mask on @fd and signal
 * @efd (-1: none) for each.  @mask 0 cancels the registration.  Unlike
 * WSAEventSelect, it leaves O_NONBLOCK as it is.
 */
int wsp_event_select(int fd, int efd, uint32_t mask);

/*
 * WSAEnumNetworkEvents: the events recorded on @fd since the last call,
 * with an error code for each, into *@ev; clears them and, when @efd is
 * not -1, resets that event object.
 */
int wsp_enum_network_events(int fd, int efd, struct wsp_network_events *ev);

/*
 * WSAWaitForMultipleEvents over epoll: wait up to @timeout_ms (-1: for
 * ever) until one of the @n event objects @efds is signalled (all of
 * them, with @wait_all).  Returns the index of the lowest signalled one;
 * -1 with ETIMEDOUT on timeout, EINTR on a signal, EINVAL if @n is 0 or
 * above WSP_MAXIMUM_WAIT_EVENTS.  Event objects are not reset.
 */
#define WSP_MAXIMUM_WAIT_EVENTS	64
int wsp_wait_for_events(const int *efds, unsigned int n, int wait_all,
			int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* _LIBWSP_H */
