/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * AF_WSP: local stream and seqpacket sockets with Winsock-grade connection
 * control (conditional accept, connect data, QoS, network events).
 *
 * Include <linux/types.h> and <sys/socket.h> before this header.
 * See Documentation/networking/wsp.rst for the full contract.
 */
#ifndef _UAPI_LINUX_WSP_H
#define _UAPI_LINUX_WSP_H

#include <linux/types.h>

/*
 * Family number.  Slot 22 was reserved for the Linux SNA project, which
 * never produced an implementation, so no kernel registers it.
 */
#ifndef AF_WSP
#define AF_WSP		22
#endif
#ifndef PF_WSP
#define PF_WSP		AF_WSP
#endif

/* Option level; only meaningful on AF_WSP sockets. */
#ifndef SOL_WSP
#define SOL_WSP		299
#endif

/**
 * struct sockaddr_wsp - AF_WSP socket address
 * @swsp_family: %AF_WSP
 * @swsp_reserved: must be zero
 * @swsp_port: port number, 0 means "any" (bind) or invalid (connect)
 * @swsp_zero: must be zero; pads the struct to sizeof(struct sockaddr)
 */
struct sockaddr_wsp {
	__u16	swsp_family;
	__u16	swsp_reserved;
	__u32	swsp_port;
	__u8	swsp_zero[8];
};

/* SOL_WSP option names */
#define WSP_BACKLOG		1	/* get: int, effective backlog cap */
#define WSP_CONDITIONAL_ACCEPT	2	/* int, 0 or 1 */
#define WSP_CONNECT_TIMEOUT	3	/* __u32 milliseconds, 0 = none */
#define WSP_PEEK_REQUEST	4	/* get: struct wsp_request */
#define WSP_VERDICT		5	/* set: struct wsp_verdict */
#define WSP_CALLER_DATA		6	/* bytes */
#define WSP_CALLEE_DATA		7	/* get: bytes */
#define WSP_QOS			8	/* struct wsp_qos */
#define WSP_EVENT_SELECT	9	/* struct wsp_event_select */
#define WSP_NETWORK_EVENTS	10	/* get: struct wsp_network_events */
#define WSP_ATTACH_FILTER	11	/* set: struct sock_fprog */
#define WSP_DETACH_FILTER	12	/* set: no value */
#define WSP_REQUEST_ID		13	/* get: __u64 */

/* QoS: a value meaning "not specified", valid in every flowspec field. */
#define WSP_QOS_NOT_SPECIFIED		0xFFFFFFFFU

/* wsp_flowspec.service_type, numbered as Winsock's SERVICETYPE_* */
#define WSP_SERVICETYPE_NOTRAFFIC	0x00000000
#define WSP_SERVICETYPE_BESTEFFORT	0x00000001
#define WSP_SERVICETYPE_CONTROLLEDLOAD	0x00000002
#define WSP_SERVICETYPE_GUARANTEED	0x00000003

/**
 * struct wsp_flowspec - one direction of a QoS, as Winsock's FLOWSPEC
 * @token_rate: bytes per second the sender may sustain
 * @token_bucket_size: bytes the sender may send in one burst
 * @peak_bandwidth: bytes per second, informational
 * @latency: microseconds, informational
 * @delay_variation: microseconds, informational
 * @service_type: one of %WSP_SERVICETYPE_*
 * @max_sdu_size: largest SEQPACKET record, in bytes
 * @minimum_policed_size: bytes, informational
 *
 * Every field may be %WSP_QOS_NOT_SPECIFIED.
 */
struct wsp_flowspec {
	__u32	token_rate;
	__u32	token_bucket_size;
	__u32	peak_bandwidth;
	__u32	latency;
	__u32	delay_variation;
	__u32	service_type;
	__u32	max_sdu_size;
	__u32	minimum_policed_size;
};

/**
 * struct wsp_qos - QoS in both directions
 * @sending: flow from this socket (from the caller, in a request or verdict)
 * @receiving: flow towards this socket (towards the caller, likewise)
 */
struct wsp_qos {
	struct wsp_flowspec	sending;
	struct wsp_flowspec	receiving;
};

/* struct wsp_request.flags */
#define WSP_REQ_DEFERRED	(1U << 0)

/**
 * struct wsp_request - a pending connection request (%WSP_PEEK_REQUEST)
 * @id: in: cursor, 0 for the oldest; out: the request's id, never reused
 * @caller: the caller's address
 * @pid: the caller's tgid, in the listener's pid namespace
 * @uid: the caller's uid, in the listener's user namespace
 * @gid: the caller's gid, in the listener's user namespace
 * @flags: %WSP_REQ_DEFERRED
 * @qos: QoS requested by the caller, directions seen from the caller
 * @data_len: full length of the caller data
 * @__reserved: zero
 * @data: as much caller data as fits in optlen
 */
struct wsp_request {
	__u64			id;
	struct sockaddr_wsp	caller;
	__u32			pid;
	__u32			uid;
	__u32			gid;
	__u32			flags;
	struct wsp_qos		qos;
	__u32			data_len;
	__u32			__reserved;
	__u8			data[];
};

/* struct wsp_verdict.verdict, numbered as Winsock's CF_* */
#define WSP_CF_ACCEPT		0
#define WSP_CF_REJECT		1
#define WSP_CF_DEFER		2

/* struct wsp_verdict.flags */
#define WSP_VERDICT_QOS		(1U << 0)

/**
 * struct wsp_verdict - the answer to a request (%WSP_VERDICT)
 * @id: the request's id from %WSP_PEEK_REQUEST
 * @verdict: %WSP_CF_ACCEPT, %WSP_CF_REJECT or %WSP_CF_DEFER
 * @flags: %WSP_VERDICT_QOS to apply @qos
 * @qos: QoS granted, directions seen from the caller
 * @data_len: length of @data
 * @__reserved: must be zero
 * @data: callee data (on accept) or reject data (on reject)
 */
struct wsp_verdict {
	__u64			id;
	__u32			verdict;
	__u32			flags;
	struct wsp_qos		qos;
	__u32			data_len;
	__u32			__reserved;
	__u8			data[];
};

/* Network events, numbered as Winsock's FD_*_BIT */
#define WSP_FD_READ_BIT		0
#define WSP_FD_WRITE_BIT	1
#define WSP_FD_OOB_BIT		2
#define WSP_FD_ACCEPT_BIT	3
#define WSP_FD_CONNECT_BIT	4
#define WSP_FD_CLOSE_BIT	5
#define WSP_FD_QOS_BIT		6
#define WSP_FD_MAX_EVENTS	10

#define WSP_FD_READ		(1U << WSP_FD_READ_BIT)
#define WSP_FD_WRITE		(1U << WSP_FD_WRITE_BIT)
#define WSP_FD_OOB		(1U << WSP_FD_OOB_BIT)
#define WSP_FD_ACCEPT		(1U << WSP_FD_ACCEPT_BIT)
#define WSP_FD_CONNECT		(1U << WSP_FD_CONNECT_BIT)
#define WSP_FD_CLOSE		(1U << WSP_FD_CLOSE_BIT)
#define WSP_FD_QOS		(1U << WSP_FD_QOS_BIT)
#define WSP_FD_ALL_EVENTS	((1U << (WSP_FD_QOS_BIT + 1)) - 1)

/**
 * struct wsp_event_select - %WSP_EVENT_SELECT registration
 * @mask: %WSP_FD_* events to record; 0 cancels the registration
 * @eventfd: eventfd signalled on each recorded event, or -1
 */
struct wsp_event_select {
	__u32	mask;
	__s32	eventfd;
};

/**
 * struct wsp_network_events - %WSP_NETWORK_EVENTS result
 * @events: %WSP_FD_* events recorded since the previous call
 * @errors: per event, indexed by %WSP_FD_*_BIT: 0 or a positive errno
 */
struct wsp_network_events {
	__u32	events;
	__s32	errors[WSP_FD_MAX_EVENTS];
};

/*
 * In-kernel condition (%WSP_ATTACH_FILTER): a classic BPF program returns
 * one of these for each request.  Any other value rejects.
 */
#define WSP_FILTER_REJECT	0
#define WSP_FILTER_ACCEPT	1
#define WSP_FILTER_DEFER	2
#define WSP_FILTER_PASS		3

/* Bytes of caller data a filter program sees. */
#define WSP_FILTER_DATA_MAX	64

/**
 * struct wsp_filter_data - what a filter program reads, one request
 * @caller_port: the caller's port
 * @pid: the caller's tgid, in the pid namespace of the task that attached
 *	the program (0 if it is not visible there)
 * @uid: the caller's euid, in that task's user namespace (overflow uid if
 *	unmapped)
 * @gid: the caller's egid, likewise
 * @sock_type: %SOCK_STREAM or %SOCK_SEQPACKET
 * @data_len: full length of the caller data
 * @backlog_count: the listener's backlog use when the request arrived
 * @backlog_cap: the listener's backlog cap
 * @qos: QoS requested by the caller, directions seen from the caller
 * @data: the first bytes of the caller data, zero-padded
 *
 * The program reads it with 32-bit loads (%BPF_LD | %BPF_W | %BPF_ABS) at
 * offsets that are multiples of 4; a word of @data holds four bytes in the
 * host's byte order.  %BPF_LD | %BPF_W | %BPF_LEN gives its size.  Fields
 * are only ever appended.
 */
struct wsp_filter_data {
	__u32			caller_port;
	__u32			pid;
	__u32			uid;
	__u32			gid;
	__u32			sock_type;
	__u32			data_len;
	__u32			backlog_count;
	__u32			backlog_cap;
	struct wsp_qos		qos;
	__u8			data[WSP_FILTER_DATA_MAX];
};

#endif /* _UAPI_LINUX_WSP_H */
