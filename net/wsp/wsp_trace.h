/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM wsp

#if !defined(_WSP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _WSP_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(request,
	    TP_PROTO(u32 lport, u64 id, u32 cport, bool conditional),
	    TP_ARGS(lport, id, cport, conditional),
	    TP_STRUCT__entry(__field(u32, lport)
			     __field(u64, id)
			     __field(u32, cport)
			     __field(bool, conditional)),
	    TP_fast_assign(__entry->lport = lport;
			   __entry->id = id;
			   __entry->cport = cport;
			   __entry->conditional = conditional;),
	    TP_printk("lport=%u id=%llu cport=%u conditional=%d",
		      __entry->lport, __entry->id, __entry->cport,
		      __entry->conditional)
);

TRACE_EVENT(verdict,
	    TP_PROTO(u32 lport, u64 id, u32 verdict),
	    TP_ARGS(lport, id, verdict),
	    TP_STRUCT__entry(__field(u32, lport)
			     __field(u64, id)
			     __field(u32, verdict)),
	    TP_fast_assign(__entry->lport = lport;
			   __entry->id = id;
			   __entry->verdict = verdict;),
	    TP_printk("lport=%u id=%llu verdict=%s", __entry->lport, __entry->id,
		      __print_symbolic(__entry->verdict,
				       { WSP_CF_ACCEPT, "accept" },
				       { WSP_CF_REJECT, "reject" },
				       { WSP_CF_DEFER, "defer" }))
);

TRACE_EVENT(filter,
	    TP_PROTO(u32 lport, u32 cport, u32 verdict),
	    TP_ARGS(lport, cport, verdict),
	    TP_STRUCT__entry(__field(u32, lport)
			     __field(u32, cport)
			     __field(u32, verdict)),
	    TP_fast_assign(__entry->lport = lport;
			   __entry->cport = cport;
			   __entry->verdict = verdict;),
	    TP_printk("lport=%u cport=%u verdict=%s", __entry->lport,
		      __entry->cport,
		      __print_symbolic(__entry->verdict,
				       { WSP_FILTER_REJECT, "reject" },
				       { WSP_FILTER_ACCEPT, "accept" },
				       { WSP_FILTER_DEFER, "defer" },
				       { WSP_FILTER_PASS, "pass" }))
);

TRACE_EVENT(accept,
	    TP_PROTO(u32 lport, u32 cport),
	    TP_ARGS(lport, cport),
	    TP_STRUCT__entry(__field(u32, lport)
			     __field(u32, cport)),
	    TP_fast_assign(__entry->lport = lport;
			   __entry->cport = cport;),
	    TP_printk("lport=%u cport=%u", __entry->lport, __entry->cport)
);

TRACE_EVENT(withdraw,
	    TP_PROTO(u32 lport, u64 id, int err),
	    TP_ARGS(lport, id, err),
	    TP_STRUCT__entry(__field(u32, lport)
			     __field(u64, id)
			     __field(int, err)),
	    TP_fast_assign(__entry->lport = lport;
			   __entry->id = id;
			   __entry->err = err;),
	    TP_printk("lport=%u id=%llu reason=%s", __entry->lport, __entry->id,
		      __entry->err ? "timeout" : "close")
);

#endif /* _WSP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE wsp_trace
#include <trace/define_trace.h>
