# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""AF_WSP sockets from Python, over libwsp.

AF_WSP (wsp.ko) is a local socket family whose listener sees every
connection request before the connection exists (the caller's address,
credentials, caller data and requested QoS) and accepts, rejects or
defers it, as a Winsock WSAAccept() condition function does.  This
package is a thin layer over libwsp (loaded with ctypes): every behaviour
comes from the library and the kernel.

Sockets are socket.socket objects (of the subclass wsp.Socket, whose
bind, connect, accept, getsockname and getpeername take and give port
numbers, which CPython cannot do for a family it does not know).  Errors
are OSError subclasses, as for the socket module: ConnectionRefusedError,
BlockingIOError, TimeoutError, ...

See Documentation/networking/wsp-python.rst, and wsp.aio for asyncio.
"""

import ctypes
import errno as _errno
import os
import select as _select
import socket as _socket
import _socket as _csocket
import sys
import time as _time
from collections import namedtuple

from . import _lib
from ._lib import (AF_WSP, PF_WSP, SOL_WSP, LibwspNotFound,
                   WSP_BACKLOG, WSP_CONDITIONAL_ACCEPT, WSP_CONNECT_TIMEOUT,
                   WSP_PEEK_REQUEST, WSP_VERDICT, WSP_CALLER_DATA,
                   WSP_CALLEE_DATA, WSP_QOS, WSP_EVENT_SELECT,
                   WSP_NETWORK_EVENTS, WSP_ATTACH_FILTER, WSP_DETACH_FILTER,
                   WSP_REQUEST_ID, WSP_QOS_NOT_SPECIFIED,
                   WSP_SERVICETYPE_NOTRAFFIC, WSP_SERVICETYPE_BESTEFFORT,
                   WSP_SERVICETYPE_CONTROLLEDLOAD, WSP_SERVICETYPE_GUARANTEED,
                   WSP_REQ_DEFERRED, WSP_CF_ACCEPT, WSP_CF_REJECT,
                   WSP_CF_DEFER, WSP_VERDICT_QOS, WSP_FD_READ_BIT,
                   WSP_FD_WRITE_BIT, WSP_FD_OOB_BIT, WSP_FD_ACCEPT_BIT,
                   WSP_FD_CONNECT_BIT, WSP_FD_CLOSE_BIT, WSP_FD_QOS_BIT,
                   WSP_FD_MAX_EVENTS, WSP_FD_READ, WSP_FD_WRITE, WSP_FD_OOB,
                   WSP_FD_ACCEPT, WSP_FD_CONNECT, WSP_FD_CLOSE, WSP_FD_QOS,
                   WSP_FD_ALL_EVENTS, WSP_FILTER_REJECT, WSP_FILTER_ACCEPT,
                   WSP_FILTER_DEFER, WSP_FILTER_PASS, WSP_FILTER_DATA_MAX,
                   WSP_ADDRSTRLEN, WSP_MAXIMUM_WAIT_EVENTS)

__version__ = "1.0.0"

# Verdicts, as a condition returns them (Winsock's CF_*).
ACCEPT = WSP_CF_ACCEPT
REJECT = WSP_CF_REJECT
DEFER = WSP_CF_DEFER

# Winsock-style short names of the network events.
FD_READ, FD_WRITE, FD_OOB, FD_ACCEPT = (WSP_FD_READ, WSP_FD_WRITE,
                                        WSP_FD_OOB, WSP_FD_ACCEPT)
FD_CONNECT, FD_CLOSE, FD_QOS = WSP_FD_CONNECT, WSP_FD_CLOSE, WSP_FD_QOS
FD_ALL_EVENTS = WSP_FD_ALL_EVENTS
QOS_NOT_SPECIFIED = WSP_QOS_NOT_SPECIFIED

# Size of the buffer first offered for connect data: the rest is read
# with a second call when it does not fit.
_DATA_BUF = 1024

_lib_fn = _lib.lib


def load_library(path=None):
    """Load libwsp now (from path, else $WSP_LIBWSP, else libwsp.so.1 or
    what ctypes.util.find_library("wsp") finds).  Every function does it
    on first use; this only makes a missing library fail early.  Raises
    LibwspNotFound (an ImportError)."""
    _lib.load(path)


# ---- errors -----------------------------------------------------------------

def _oserror(e):
    return OSError(e, os.strerror(e))


def _check(ret):
    if ret < 0:
        raise _oserror(ctypes.get_errno())
    return ret


class Rejected(ConnectionRefusedError):
    """ECONNREFUSED, with the reject data.

    Raised by connect() when the listener rejects the request (reject_data
    is what it sent, b"" if none, or if there was no listener at all), and
    by accept() when the condition rejected a request (request is that
    Request, reject_data what the condition answered)."""

    def __init__(self, *args, reject_data=b"", request=None):
        if not args:
            args = (_errno.ECONNREFUSED, os.strerror(_errno.ECONNREFUSED))
        super().__init__(*args)
        self.reject_data = reject_data
        self.request = request


class Deferred(BlockingIOError):
    """EINPROGRESS from accept(): the condition deferred the request.

    It stays queued, marked deferred: request.id decides it later with
    verdict(), or the next accept() with a condition presents it again."""

    def __init__(self, *args, request=None):
        if not args:
            args = (_errno.EINPROGRESS, os.strerror(_errno.EINPROGRESS))
        super().__init__(*args)
        self.request = request


# ---- values -----------------------------------------------------------------

Flowspec = namedtuple("Flowspec", _lib.FLOWSPEC_FIELDS,
                      defaults=(WSP_QOS_NOT_SPECIFIED,) * 8)
Flowspec.__doc__ = """One direction of a QoS (Winsock's FLOWSPEC); every
field defaults to QOS_NOT_SPECIFIED."""

QoS = namedtuple("QoS", ("sending", "receiving"),
                 defaults=(Flowspec(), Flowspec()))
QoS.__doc__ = """QoS in both directions.  In a Request and in an answer the
directions are the caller's (sending: caller to listener); from
get_qos(), the socket's own."""

Answer = namedtuple("Answer", ("verdict", "data", "qos"),
                    defaults=(b"", None))
Answer.__doc__ = """What a condition may return instead of a bare verdict:
ACCEPT, REJECT or DEFER, the callee (on accept) or reject data, and the
QoS granted (a QoS, or None)."""

NetworkEvents = namedtuple("NetworkEvents", ("events", "errors"))
NetworkEvents.__doc__ = """From enum_network_events(): the FD_* bits
recorded, and {FD_* bit: errno (0 for none)} for each of them."""


class Request(namedtuple("Request", ("id", "port", "pid", "uid", "gid",
                                     "flags", "qos", "data"))):
    """A connection request: its id, the caller's port, pid, uid and gid
    (in the listener's namespaces), flags (WSP_REQ_DEFERRED), the QoS the
    caller asks for, and all of its caller data (bytes)."""
    __slots__ = ()

    @property
    def deferred(self):
        return bool(self.flags & WSP_REQ_DEFERRED)


def _flowspec_from_c(fs):
    return Flowspec(*(getattr(fs, f) for f in _lib.FLOWSPEC_FIELDS))


def _qos_from_c(q):
    return QoS(_flowspec_from_c(q.sending), _flowspec_from_c(q.receiving))


def _qos_to_c(qos):
    c = _lib.wsp_qos()
    sending, receiving = qos
    for cfs, fs in ((c.sending, sending), (c.receiving, receiving)):
        if fs is None:
            fs = Flowspec()
        elif not isinstance(fs, Flowspec):
            fs = Flowspec(*fs)
        for f in _lib.FLOWSPEC_FIELDS:
            setattr(cfs, f, getattr(fs, f))
    return c


def _request_from_c(r):
    data = ctypes.string_at(ctypes.addressof(r) + _lib.wsp_request.data.offset,
                            r.data_len)
    return Request(r.id, r.caller.swsp_port, r.pid, r.uid, r.gid, r.flags,
                   _qos_from_c(r.qos), data)


def _fd(sock):
    return sock if isinstance(sock, int) else sock.fileno()


def _timeout(sock):
    return None if isinstance(sock, int) else sock.gettimeout()


def _id(request):
    return request if isinstance(request, int) else request.id


def _verdict_value(v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("a verdict is ACCEPT, REJECT or DEFER, not %r" % (v,))
    if v not in (ACCEPT, REJECT, DEFER):
        raise ValueError("a verdict is ACCEPT, REJECT or DEFER, not %r" % (v,))
    return v


def _answer(res):
    """A condition's result as an Answer."""
    if isinstance(res, tuple):	# Answer, or a plain (verdict, data, qos)
        res = Answer(*res)
    else:
        res = Answer(res)
    _verdict_value(res.verdict)
    return res._replace(data=bytes(res.data or b""))


# ---- addresses --------------------------------------------------------------

def _sockaddr(addr):
    """A sockaddr_wsp from a port, "wsp:PORT", a (family, bytes) tuple as
    CPython gives for families it does not know, or 16 raw bytes."""
    sa = _lib.sockaddr_wsp()
    if isinstance(addr, int):
        _lib_fn().wsp_make_addr(ctypes.byref(sa), addr)
    elif isinstance(addr, str):
        if _lib_fn().wsp_str_to_addr(addr.encode(), ctypes.byref(sa)) < 0:
            raise ValueError("not an AF_WSP address: %r" % (addr,))
    elif isinstance(addr, tuple):
        family, raw = addr
        raw = family.to_bytes(2, sys.byteorder) + bytes(raw)
        ctypes.memmove(ctypes.byref(sa), raw, min(len(raw), ctypes.sizeof(sa)))
    else:
        raw = bytes(addr)
        ctypes.memmove(ctypes.byref(sa), raw, min(len(raw), ctypes.sizeof(sa)))
    return sa


def addr_to_str(addr):
    """"wsp:PORT" for addr: a port number, a (family, bytes) address
    tuple, or the raw bytes of a struct sockaddr_wsp (wsp_addr_to_str)."""
    sa = _sockaddr(addr)
    buf = ctypes.create_string_buffer(WSP_ADDRSTRLEN)
    _check(_lib_fn().wsp_addr_to_str(ctypes.byref(sa), buf, len(buf)))
    return buf.value.decode()


def str_to_addr(text):
    """The port of "PORT" or "wsp:PORT" (wsp_str_to_addr); ValueError if
    it is neither."""
    sa = _lib.sockaddr_wsp()
    if _lib_fn().wsp_str_to_addr(text.encode(), ctypes.byref(sa)) < 0:
        raise ValueError("not an AF_WSP address: %r" % (text,))
    return sa.swsp_port


def addr_port(addr):
    """The port of an address as above (an int is returned as it is)."""
    if isinstance(addr, int):
        return addr
    return _sockaddr(addr).swsp_port


def _port_arg(port):
    return str_to_addr(port) if isinstance(port, str) else int(port)


# ---- sockets ----------------------------------------------------------------

class Socket(_socket.socket):
    """An AF_WSP socket: a socket.socket whose addresses are port numbers.

    Socket(type=SOCK_STREAM) creates one (with wsp_socket(); type may be
    SOCK_SEQPACKET, and may carry SOCK_NONBLOCK); Socket(fileno=fd) wraps
    an existing AF_WSP descriptor.  bind(), connect() and connect_ex()
    take a port (or "wsp:PORT"); accept() returns (Socket, port);
    getsockname() and getpeername() return ports.  Everything else is
    socket.socket's."""
    __slots__ = ()

    def __init__(self, family=AF_WSP, type=_socket.SOCK_STREAM, proto=0,
                 fileno=None):
        if fileno is None:
            if family != AF_WSP:
                raise ValueError("wsp.Socket is AF_WSP only")
            fd = _check(_lib_fn().wsp_socket(type | _socket.SOCK_CLOEXEC))
            try:
                super().__init__(fileno=fd)
                if type & _socket.SOCK_NONBLOCK:
                    self.setblocking(False)
            except BaseException:
                os.close(fd)
                raise
        elif family == AF_WSP and type == _socket.SOCK_STREAM and not proto:
            super().__init__(fileno=fileno)	# detect the type
        else:
            super().__init__(family, type, proto, fileno)

    @property
    def family(self):
        # Python calls 22 AF_SNA (a family Linux never implemented).
        return _csocket.socket.family.__get__(self)

    def bind(self, port=0):
        bind(self, port)

    def connect(self, port):
        connect(self, port)

    def connect_ex(self, port):
        try:
            connect(self, port)
        except OSError as e:
            if e.errno is None:
                raise
            return e.errno
        return 0

    def accept(self):
        return accept(self)

    def getsockname(self):
        return local_port(self)

    def getpeername(self):
        return peer_port(self)


def socket(type=_socket.SOCK_STREAM):
    """A new AF_WSP socket (a wsp.Socket): SOCK_STREAM or SOCK_SEQPACKET,
    optionally | SOCK_NONBLOCK.  Like every Python socket, it is not
    inherited across exec."""
    return Socket(AF_WSP, type)


def _wrap(fd):
    try:
        os.set_inheritable(fd, False)
        return Socket(fileno=fd)
    except BaseException:
        os.close(fd)
        raise


def bind(sock, port=0):
    """Bind sock to port (0: any free port); local_port() tells which."""
    _check(_lib_fn().wsp_bind(_fd(sock), _port_arg(port)))


def local_port(sock):
    """The port sock is bound to."""
    port = _lib.u32()
    _check(_lib_fn().wsp_local_port(_fd(sock), ctypes.byref(port)))
    return port.value


_libc = None


def peer_port(sock):
    """The port of sock's peer (getpeername(); ENOTCONN if none)."""
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.getpeername.argtypes = [ctypes.c_int,
                                     ctypes.POINTER(_lib.sockaddr_wsp),
                                     ctypes.POINTER(_lib.socklen_t)]
        libc.getpeername.restype = ctypes.c_int
        _libc = libc
    sa = _lib.sockaddr_wsp()
    n = _lib.socklen_t(ctypes.sizeof(sa))
    _check(_libc.getpeername(_fd(sock), ctypes.byref(sa), ctypes.byref(n)))
    return sa.swsp_port


def set_conditional(sock, on=True):
    """WSP_CONDITIONAL_ACCEPT: with on, every request to this listener
    needs a verdict (from accept() with a condition, or verdict())."""
    _check(_lib_fn().wsp_set_conditional(_fd(sock), 1 if on else 0))


def request_id(sock):
    """The id of the request an accepted or connected socket came from
    (the id its Request had); ENOTCONN on any other socket."""
    v = _lib.u64()
    _check(_lib_fn().wsp_request_id(_fd(sock), ctypes.byref(v)))
    return v.value


def _read_data(fn, sock):
    fd = _fd(sock)
    size = _DATA_BUF
    while True:
        buf = ctypes.create_string_buffer(size)
        n = ctypes.c_size_t(size)
        if fn(fd, buf, ctypes.byref(n)) == 0:
            return buf.raw[:n.value]
        e = ctypes.get_errno()
        if e != _errno.ERANGE or n.value <= size:
            raise _oserror(e)
        size = n.value


def callee_data(sock):
    """The callee data of a connected socket (or the reject data of a
    refused one), as bytes."""
    return _read_data(_lib_fn().wsp_callee_data, sock)


def caller_data(sock):
    """The caller data of a connected or accepted socket, as bytes."""
    return _read_data(_lib_fn().wsp_caller_data, sock)


# ---- connect ----------------------------------------------------------------

def _poll(fd, events, deadline):
    """Wait for events on fd until deadline (monotonic; None: for ever).
    Returns the events seen, 0 on timeout; retries on EINTR."""
    p = _select.poll()
    p.register(fd, events)
    while True:
        ms = None
        if deadline is not None:
            ms = max(0, int((deadline - _time.monotonic()) * 1000 + 0.999))
        try:
            r = p.poll(ms)
        except InterruptedError:	# PEP 475 retries it, but old Pythons
            continue
        return r[0][1] if r else 0


def connect_result(sock):
    """The outcome of a connect that gave EINPROGRESS, once the socket is
    writable: the callee data, or the error (SO_ERROR) raised, as
    connect() does (Rejected with the reject data for ECONNREFUSED)."""
    err = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
    if err == _errno.ECONNREFUSED:
        raise Rejected(reject_data=_reject_data(sock))
    if err:
        raise _oserror(err)
    return callee_data(sock)


def _reject_data(sock):
    try:
        return callee_data(sock)
    except OSError:
        return b""


def connect(sock, port, data=b"", qos=None):
    """Connect sock to port (WSAConnect, with wsp_connect_ex()), sending
    the caller data data and the QoS request qos (a QoS, or None).

    Returns the callee data (bytes).  A rejection raises Rejected (a
    ConnectionRefusedError) with the reject data in .reject_data.  The
    socket's timeout applies as for socket.connect(): with timeout 0,
    BlockingIOError (EINPROGRESS) and connect_result() later (or use
    wsp.aio.connect()); with a timeout, TimeoutError after it."""
    fd = _fd(sock)
    timeout = _timeout(sock)
    data = bytes(data)
    cdata = ctypes.create_string_buffer(data, len(data)) if data else None
    cqos = ctypes.byref(_qos_to_c(qos)) if qos is not None else None
    buf = ctypes.create_string_buffer(_DATA_BUF)
    n = ctypes.c_size_t(len(buf))
    ret = _lib_fn().wsp_connect_ex(fd, _port_arg(port), cdata, len(data),
                                   buf, ctypes.byref(n), cqos)
    e = 0 if ret == 0 else ctypes.get_errno()
    if e == 0 or e == _errno.ECONNREFUSED:
        got = buf.raw[:n.value] if n.value <= len(buf) else None
        if got is None:
            got = callee_data(fd) if e == 0 else _reject_data(fd)
        if e:
            raise Rejected(reject_data=got)
        return got
    if (e == _errno.EINPROGRESS and timeout) or \
       (e == _errno.EINTR and timeout is None):
        # A timeout (the descriptor is non-blocking underneath), or a
        # signal during a blocking connect: the request stays queued, as
        # in TCP; wait for its outcome as CPython's connect() does.
        deadline = None if timeout is None else _time.monotonic() + timeout
        if not _poll(fd, _select.POLLOUT, deadline):
            raise TimeoutError("timed out")
        if isinstance(sock, int):
            sock = _socket.socket(fileno=os.dup(fd))
            try:
                return connect_result(sock)
            finally:
                sock.close()
        return connect_result(sock)
    raise _oserror(e)


# ---- accept -----------------------------------------------------------------

class _Condition:
    """A Python condition as a wsp_condition_fn: the callback catches
    everything (a ctypes callback must not raise: it would accept) and
    keeps it for accept() to raise once wsp_accept() has returned."""

    def __init__(self, fn):
        self.fn = fn
        self.exc = None
        self.raised = False
        self.request = None
        self.answer = None
        self.keep = None
        self.cfunc = _lib.wsp_condition_fn(self._call)

    def _call(self, req_p, ans_p, ctx):
        try:
            req = _request_from_c(req_p.contents)
            self.request = req
            self.answer = None
            ans = _answer(self.fn(req))
            a = ans_p.contents
            if ans.data:
                # Must stay valid until wsp_accept() returns.
                self.keep = ctypes.create_string_buffer(ans.data,
                                                        len(ans.data))
                a.data = ctypes.cast(self.keep, ctypes.c_void_p)
                a.data_len = len(ans.data)
            if ans.qos is not None:
                a.has_qos = 1
                a.qos = _qos_to_c(ans.qos)
            self.answer = ans
            return ans.verdict
        except BaseException as e:	# KeyboardInterrupt too
            self.exc = e
            err = getattr(e, "errno", None)
            ctypes.set_errno(err if isinstance(err, int) and err > 0
                             else _errno.EINVAL)
            return -1


_NO_CONDITION = _lib.wsp_condition_fn()	# NULL: a plain accept()


def _accept_once(lfd, cond):
    sa = _lib.sockaddr_wsp()
    n = _lib.socklen_t(ctypes.sizeof(sa))
    if cond is not None:
        cond.exc = cond.request = cond.answer = None
        cond.raised = False
    fd = _lib_fn().wsp_accept(lfd, ctypes.byref(sa), ctypes.byref(n),
                              cond.cfunc if cond else _NO_CONDITION, None)
    if fd >= 0:
        return _wrap(fd), sa.swsp_port
    e = ctypes.get_errno()
    if cond is not None:
        if cond.exc is not None:
            exc, cond.exc, cond.raised = cond.exc, None, True
            raise exc
        if e == _errno.ECONNREFUSED and cond.answer is not None:
            raise Rejected(reject_data=cond.answer.data, request=cond.request)
        if e == _errno.EINPROGRESS and cond.answer is not None:
            raise Deferred(request=cond.request)
    raise _oserror(e)


def accept(listener, condition=None):
    """Accept a connection (WSAAccept, with wsp_accept()): returns
    (Socket, caller port).

    condition (a callable, or None for a plain accept) is called with the
    oldest undecided Request and returns ACCEPT, REJECT or DEFER, or an
    Answer(verdict, data, qos) (any tuple of those) to send callee or
    reject data and grant a QoS.  Connections already accepted (by a
    verdict given elsewhere, or automatically) are returned first,
    without calling it.  REJECT raises Rejected (a ConnectionRefusedError,
    .request and .reject_data); DEFER raises Deferred (a BlockingIOError,
    EINPROGRESS, .request).  If condition raises, the request stays
    undecided and accept() raises that exception.

    The listener's timeout applies as for socket.accept(): None waits,
    0 raises BlockingIOError (EAGAIN) when there is nothing to decide or
    take, a number raises TimeoutError after that many seconds."""
    lfd = _fd(listener)
    timeout = _timeout(listener)
    cond = _Condition(condition) if condition is not None else None
    deadline = _time.monotonic() + timeout if timeout else None
    events = _select.POLLIN | (_select.POLLPRI if cond else 0)
    while True:
        try:
            return _accept_once(lfd, cond)
        except InterruptedError:
            if cond is not None and cond.raised:
                raise
            continue		# a signal: its handler has run, retry
        except BlockingIOError as e:
            if not timeout or isinstance(e, Deferred) or \
               e.errno != _errno.EAGAIN or (cond is not None and cond.raised):
                raise
        if not _poll(lfd, events, deadline):
            raise TimeoutError("timed out")


def peek_request(listener, after=0):
    """The oldest undecided Request of a conditional listener, or of those
    with an id above after (an id or a Request); None if there is none.
    Never blocks."""
    p = ctypes.POINTER(_lib.wsp_request)()
    if _lib_fn().wsp_peek_request(_fd(listener), _id(after),
                                  ctypes.byref(p)) < 0:
        e = ctypes.get_errno()
        if e == _errno.EAGAIN:
            return None
        raise _oserror(e)
    try:
        return _request_from_c(p.contents)
    finally:
        _lib_fn().wsp_request_free(p)


def requests(listener):
    """Every undecided Request of the listener, oldest first."""
    out = []
    req = peek_request(listener)
    while req is not None:
        out.append(req)
        req = peek_request(listener, req.id)
    return out


def verdict(listener, request, verdict, data=b"", qos=None):
    """Decide request (an id or a Request) with ACCEPT, REJECT or DEFER,
    sending callee (accept) or reject data and granting qos (a QoS, or
    None).  An unknown or withdrawn id raises FileNotFoundError
    (ENOENT).  An accepted connection is then taken with accept()."""
    data = bytes(data)
    cdata = ctypes.create_string_buffer(data, len(data)) if data else None
    cqos = ctypes.byref(_qos_to_c(qos)) if qos is not None else None
    _check(_lib_fn().wsp_verdict(_fd(listener), _id(request),
                                 _verdict_value(verdict), cdata, len(data),
                                 cqos))


# ---- QoS --------------------------------------------------------------------

def get_qos(sock):
    """The QoS of sock (WSP_QOS): requested before connect, the limits of
    a listener, the QoS in force once connected, in sock's directions."""
    q = _lib.wsp_qos()
    _check(_lib_fn().wsp_get_qos(_fd(sock), ctypes.byref(q)))
    return _qos_from_c(q)


def set_qos(sock, qos):
    """Set the QoS of sock (see get_qos()); on a connected socket it takes
    effect at once and the peer gets FD_QOS."""
    _check(_lib_fn().wsp_set_qos(_fd(sock), ctypes.byref(_qos_to_c(qos))))


# ---- network events ---------------------------------------------------------

def event_create():
    """WSACreateEvent: a new event object, an eventfd (non-blocking,
    close-on-exec) as an int; close it with os.close()."""
    return _check(_lib_fn().wsp_event_create())


def event_set(efd):
    """WSASetEvent: signal the event object."""
    _check(_lib_fn().wsp_event_set(efd))


def event_reset(efd):
    """WSAResetEvent: clear the event object."""
    _check(_lib_fn().wsp_event_reset(efd))


def event_select(sock, efd, mask):
    """WSAEventSelect: record the FD_* events of mask on sock and signal
    efd (an event object, or None) for each; mask 0 cancels."""
    _check(_lib_fn().wsp_event_select(_fd(sock), -1 if efd is None else efd,
                                      mask))


def enum_network_events(sock, efd=None):
    """WSAEnumNetworkEvents: the events recorded on sock since the last
    call, as NetworkEvents(events, {event: errno}); clears them and, if
    efd is given, resets that event object."""
    ev = _lib.wsp_network_events()
    _check(_lib_fn().wsp_enum_network_events(
        _fd(sock), -1 if efd is None else efd, ctypes.byref(ev)))
    errors = {1 << bit: ev.errors[bit] for bit in range(WSP_FD_MAX_EVENTS)
              if ev.events & (1 << bit)}
    return NetworkEvents(ev.events, errors)


def wait_for_events(efds, wait_all=False, timeout=None):
    """WSAWaitForMultipleEvents: wait until one of the event objects efds
    is signalled (all of them, with wait_all), for timeout seconds at most
    (None: for ever).  Returns the index of the lowest signalled one, or
    None on timeout.  The event objects are not reset."""
    efds = list(efds)
    arr = (ctypes.c_int * max(1, len(efds)))(*efds)
    deadline = None if timeout is None else _time.monotonic() + timeout
    while True:
        ms = -1
        if deadline is not None:
            ms = max(0, int((deadline - _time.monotonic()) * 1000 + 0.999))
        ret = _lib_fn().wsp_wait_for_events(arr, len(efds),
                                            1 if wait_all else 0, ms)
        if ret >= 0:
            return ret
        e = ctypes.get_errno()
        if e == _errno.ETIMEDOUT:
            return None
        if e != _errno.EINTR:
            raise _oserror(e)


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "ctypes", "os", "sys", "namedtuple")]
