# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""ctypes declarations of <linux/wsp.h> and <libwsp.h>.

The structures mirror the uapi ones field for field (natural alignment,
as the C compiler lays them out); every libwsp function gets its
argtypes and restype.  The library is loaded on first use (lib()), so
that importing the package never fails on a machine without libwsp.
"""

import ctypes
import os
import threading

# ---- <linux/wsp.h> ----------------------------------------------------------

AF_WSP = 22
PF_WSP = AF_WSP
SOL_WSP = 299

WSP_BACKLOG = 1
WSP_CONDITIONAL_ACCEPT = 2
WSP_CONNECT_TIMEOUT = 3
WSP_PEEK_REQUEST = 4
WSP_VERDICT = 5
WSP_CALLER_DATA = 6
WSP_CALLEE_DATA = 7
WSP_QOS = 8
WSP_EVENT_SELECT = 9
WSP_NETWORK_EVENTS = 10
WSP_ATTACH_FILTER = 11
WSP_DETACH_FILTER = 12
WSP_REQUEST_ID = 13

WSP_QOS_NOT_SPECIFIED = 0xFFFFFFFF

WSP_SERVICETYPE_NOTRAFFIC = 0x00000000
WSP_SERVICETYPE_BESTEFFORT = 0x00000001
WSP_SERVICETYPE_CONTROLLEDLOAD = 0x00000002
WSP_SERVICETYPE_GUARANTEED = 0x00000003

WSP_REQ_DEFERRED = 1 << 0

WSP_CF_ACCEPT = 0
WSP_CF_REJECT = 1
WSP_CF_DEFER = 2

WSP_VERDICT_QOS = 1 << 0

WSP_FD_READ_BIT = 0
WSP_FD_WRITE_BIT = 1
WSP_FD_OOB_BIT = 2
WSP_FD_ACCEPT_BIT = 3
WSP_FD_CONNECT_BIT = 4
WSP_FD_CLOSE_BIT = 5
WSP_FD_QOS_BIT = 6
WSP_FD_MAX_EVENTS = 10

WSP_FD_READ = 1 << WSP_FD_READ_BIT
WSP_FD_WRITE = 1 << WSP_FD_WRITE_BIT
WSP_FD_OOB = 1 << WSP_FD_OOB_BIT
WSP_FD_ACCEPT = 1 << WSP_FD_ACCEPT_BIT
WSP_FD_CONNECT = 1 << WSP_FD_CONNECT_BIT
WSP_FD_CLOSE = 1 << WSP_FD_CLOSE_BIT
WSP_FD_QOS = 1 << WSP_FD_QOS_BIT
WSP_FD_ALL_EVENTS = (1 << (WSP_FD_QOS_BIT + 1)) - 1

WSP_FILTER_REJECT = 0
WSP_FILTER_ACCEPT = 1
WSP_FILTER_DEFER = 2
WSP_FILTER_PASS = 3
WSP_FILTER_DATA_MAX = 64

# ---- <libwsp.h> -------------------------------------------------------------

LIBWSP_MAJOR = 1
LIBWSP_MINOR = 0
WSP_ADDRSTRLEN = 16
WSP_MAXIMUM_WAIT_EVENTS = 64

u8, u16, u32, s32, u64 = (ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32,
                          ctypes.c_int32, ctypes.c_uint64)
socklen_t = ctypes.c_uint32


class sockaddr_wsp(ctypes.Structure):
    _fields_ = [("swsp_family", u16),
                ("swsp_reserved", u16),
                ("swsp_port", u32),
                ("swsp_zero", u8 * 8)]


FLOWSPEC_FIELDS = ("token_rate", "token_bucket_size", "peak_bandwidth",
                   "latency", "delay_variation", "service_type",
                   "max_sdu_size", "minimum_policed_size")


class wsp_flowspec(ctypes.Structure):
    _fields_ = [(name, u32) for name in FLOWSPEC_FIELDS]


class wsp_qos(ctypes.Structure):
    _fields_ = [("sending", wsp_flowspec),
                ("receiving", wsp_flowspec)]


class wsp_request(ctypes.Structure):
    _fields_ = [("id", u64),
                ("caller", sockaddr_wsp),
                ("pid", u32),
                ("uid", u32),
                ("gid", u32),
                ("flags", u32),
                ("qos", wsp_qos),
                ("data_len", u32),
                ("_reserved", u32),
                ("data", u8 * 0)]	# flexible array: data_len bytes follow


class wsp_verdict(ctypes.Structure):
    _fields_ = [("id", u64),
                ("verdict", u32),
                ("flags", u32),
                ("qos", wsp_qos),
                ("data_len", u32),
                ("_reserved", u32),
                ("data", u8 * 0)]


class wsp_event_select(ctypes.Structure):
    _fields_ = [("mask", u32),
                ("eventfd", s32)]


class wsp_network_events(ctypes.Structure):
    _fields_ = [("events", u32),
                ("errors", s32 * WSP_FD_MAX_EVENTS)]


class wsp_filter_data(ctypes.Structure):
    _fields_ = [("caller_port", u32),
                ("pid", u32),
                ("uid", u32),
                ("gid", u32),
                ("sock_type", u32),
                ("data_len", u32),
                ("backlog_count", u32),
                ("backlog_cap", u32),
                ("qos", wsp_qos),
                ("data", u8 * WSP_FILTER_DATA_MAX)]


class wsp_answer(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p),
                ("data_len", ctypes.c_size_t),
                ("has_qos", ctypes.c_int),
                ("qos", wsp_qos)]


# Sizes the C compiler gives these structs on Linux (all ABIs alike, but
# for sockaddr_wsp's 16 bytes this is x86-64 / aarch64 LP64).
assert ctypes.sizeof(sockaddr_wsp) == 16
assert ctypes.sizeof(wsp_flowspec) == 32
assert ctypes.sizeof(wsp_qos) == 64
assert ctypes.sizeof(wsp_request) == 112
assert wsp_request.data.offset == 112
assert ctypes.sizeof(wsp_verdict) == 88
assert ctypes.sizeof(wsp_network_events) == 44

# int (*wsp_condition_fn)(const struct wsp_request *req,
#                         struct wsp_answer *ans, void *ctx)
wsp_condition_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(wsp_request),
                                    ctypes.POINTER(wsp_answer),
                                    ctypes.c_void_p, use_errno=True)

c_int, c_uint, c_void_p, c_char_p, c_size_t = (
    ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_char_p,
    ctypes.c_size_t)
P = ctypes.POINTER

# name: (restype, argtypes)
PROTOTYPES = {
    "wsp_make_addr": (None, [P(sockaddr_wsp), u32]),
    "wsp_addr_to_str": (c_int, [P(sockaddr_wsp), c_char_p, c_size_t]),
    "wsp_str_to_addr": (c_int, [c_char_p, P(sockaddr_wsp)]),
    "wsp_socket": (c_int, [c_int]),
    "wsp_bind": (c_int, [c_int, u32]),
    "wsp_local_port": (c_int, [c_int, P(u32)]),
    "wsp_set_conditional": (c_int, [c_int, c_int]),
    "wsp_request_id": (c_int, [c_int, P(u64)]),
    "wsp_connect_ex": (c_int, [c_int, c_uint, c_void_p, c_size_t, c_void_p,
                               P(c_size_t), P(wsp_qos)]),
    "wsp_callee_data": (c_int, [c_int, c_void_p, P(c_size_t)]),
    "wsp_caller_data": (c_int, [c_int, c_void_p, P(c_size_t)]),
    "wsp_accept": (c_int, [c_int, P(sockaddr_wsp), P(socklen_t),
                           wsp_condition_fn, c_void_p]),
    "wsp_peek_request": (c_int, [c_int, u64, P(P(wsp_request))]),
    "wsp_request_free": (None, [P(wsp_request)]),
    "wsp_verdict": (c_int, [c_int, u64, c_int, c_void_p, c_size_t,
                            P(wsp_qos)]),
    "wsp_flowspec_unspecified": (None, [P(wsp_flowspec)]),
    "wsp_set_qos": (c_int, [c_int, P(wsp_qos)]),
    "wsp_get_qos": (c_int, [c_int, P(wsp_qos)]),
    "wsp_event_create": (c_int, []),
    "wsp_event_set": (c_int, [c_int]),
    "wsp_event_reset": (c_int, [c_int]),
    "wsp_event_select": (c_int, [c_int, c_int, u32]),
    "wsp_enum_network_events": (c_int, [c_int, c_int,
                                        P(wsp_network_events)]),
    "wsp_wait_for_events": (c_int, [P(c_int), c_uint, c_int, c_int]),
}


class LibwspNotFound(ImportError):
    """libwsp.so.1 could not be loaded (see WSP_LIBWSP)."""


_lock = threading.Lock()
_lib = None


def _candidates():
    """Names to try: $WSP_LIBWSP alone if set; else the soname, then what
    ctypes.util.find_library() finds (it runs ldconfig: only if needed)."""
    path = os.environ.get("WSP_LIBWSP")
    if path:
        yield path
        return
    soname = "libwsp.so.%d" % LIBWSP_MAJOR
    yield soname
    try:
        import ctypes.util
        found = ctypes.util.find_library("wsp")
    except Exception:	# no ldconfig, no gcc: nothing found
        found = None
    if found and found != soname:
        yield found


def load(path=None):
    """Load libwsp from path, else as _candidates() says, once."""
    global _lib
    with _lock:
        if _lib is not None and path is None:
            return _lib
        errors = []
        for name in [path] if path else _candidates():
            try:
                dll = ctypes.CDLL(name, use_errno=True)
                break
            except OSError as e:
                errors.append(str(e))
        else:
            raise LibwspNotFound("cannot load libwsp: " + "; ".join(errors)
                                 + " (set WSP_LIBWSP to its path)")
        for name, (restype, argtypes) in PROTOTYPES.items():
            fn = getattr(dll, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = dll
        return dll


def lib():
    return _lib if _lib is not None else load()
