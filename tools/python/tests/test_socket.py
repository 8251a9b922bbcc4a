# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""Sockets, addresses, plain connect/accept, connect data, request ids."""

import errno
import os
import socket

import wsp
from wsptest import listener, connect_in_background


def test_socket_objects():
    """sockets are socket.socket objects of family 22, stream and seqpacket"""
    for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
        s = wsp.socket(kind)
        try:
            assert isinstance(s, socket.socket)
            assert isinstance(s, wsp.Socket)
            assert s.family == 22 == wsp.AF_WSP
            assert s.type == kind
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == 22
            assert s.gettimeout() is None
            assert not s.get_inheritable()
            assert "fd=%d" % s.fileno() in repr(s)
        finally:
            s.close()
    s = wsp.socket(socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    with s:
        assert s.gettimeout() == 0 and not s.getblocking()
    try:
        wsp.socket(socket.SOCK_DGRAM)
    except OSError as e:
        assert e.errno == errno.ESOCKTNOSUPPORT, e
    else:
        raise AssertionError("SOCK_DGRAM was created")


def test_bind_ports():
    """bind to a port and to any port; local_port and getsockname agree"""
    with wsp.socket() as a, wsp.socket() as b:
        wsp.bind(a, 0)
        port = wsp.local_port(a)
        assert port > 0 and a.getsockname() == port
        try:
            b.bind(port)
        except OSError as e:
            assert e.errno == errno.EADDRINUSE
        else:
            raise AssertionError("bound a port twice")
    with wsp.socket() as c:
        c.bind("wsp:%d" % port)		# free again; string form
        assert c.getsockname() == port


def test_addresses():
    """addr_to_str and str_to_addr go through libwsp, both ways"""
    assert wsp.addr_to_str(7000) == "wsp:7000"
    assert wsp.addr_to_str(4294967295) == "wsp:4294967295"
    assert wsp.str_to_addr("wsp:7000") == 7000
    assert wsp.str_to_addr("12") == 12
    assert wsp.str_to_addr(wsp.addr_to_str(123456)) == 123456
    for bad in ("", "wsp:", "wsp:-1", "wsp:4294967296", "tcp:1", "1x"):
        try:
            wsp.str_to_addr(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("%r parsed" % bad)
    # CPython's form for an unknown family: (family, sa_data bytes)
    raw = (5).to_bytes(2, "little") + (4242).to_bytes(4, "little") + bytes(8)
    assert wsp.addr_to_str((22, raw)) == "wsp:4242"
    assert wsp.addr_port((22, raw)) == 4242
    try:
        wsp.addr_to_str((2, raw))
    except OSError as e:
        assert e.errno == errno.EAFNOSUPPORT
    else:
        raise AssertionError("AF_INET address formatted")


def test_plain_connect_accept():
    """automatic accept: connect, accept, data both ways, peer ports"""
    lst, port = listener()
    with lst:
        c = wsp.socket()
        with c:
            assert wsp.connect(c, port) == b""	# no callee data
            s, peer = wsp.accept(lst)
            with s:
                assert isinstance(s, wsp.Socket) and s.family == 22
                assert peer == c.getsockname() == s.getpeername()
                assert c.getpeername() == port
                c.sendall(b"ping")
                assert s.recv(16) == b"ping"
                s.sendall(b"pong")
                assert c.recv(16) == b"pong"
                c.close()
                assert s.recv(16) == b""


def test_socket_methods():
    """wsp.Socket methods: bind, connect, connect_ex, accept with ports"""
    with wsp.socket() as lst:
        lst.bind()
        lst.listen()
        port = lst.getsockname()
        with wsp.socket() as c:
            c.connect(port)
            s, peer = lst.accept()
            with s:
                assert peer == c.getsockname()
                assert s.getsockname() == port
        with wsp.socket() as c2:
            free = wsp.socket()
            free.bind(0)
            nolisten = free.getsockname()
            free.close()
            assert c2.connect_ex(nolisten) == errno.ECONNREFUSED


def test_connect_refused_no_listener():
    """connect to a port nobody listens on: Rejected, empty reject data"""
    with wsp.socket() as s:
        wsp.bind(s, 0)
        port = wsp.local_port(s)
    with wsp.socket() as c:
        try:
            wsp.connect(c, port, b"hello")
        except wsp.Rejected as e:
            assert isinstance(e, ConnectionRefusedError)
            assert e.errno == errno.ECONNREFUSED
            assert e.reject_data == b""
        else:
            raise AssertionError("connected to nobody")


def test_connect_data_and_request_id():
    """caller data reaches the accepted socket; request ids match"""
    lst, port = listener()
    with lst:
        c = wsp.socket()
        with c:
            assert wsp.connect(c, port, b"caller bytes") == b""
            s, _ = wsp.accept(lst)
            with s:
                assert wsp.caller_data(s) == b"caller bytes"
                assert wsp.caller_data(c) == b"caller bytes"
                rid = wsp.request_id(s)
                assert rid > 0 and wsp.request_id(c) == rid
    with wsp.socket() as idle:
        try:
            wsp.request_id(idle)
        except OSError as e:
            assert e.errno == errno.ENOTCONN
        else:
            raise AssertionError("request id of an unconnected socket")


def test_large_connect_data():
    """caller and callee data above the first buffer size come through"""
    lst, port = listener(conditional=True)
    big = os.urandom(3000)
    with lst:
        bg = connect_in_background(port, big)
        s, _ = wsp.accept(lst, lambda req: wsp.Answer(wsp.ACCEPT,
                                                      req.data[::-1]))
        c, got = bg.result()
        with s, c:
            assert got == big[::-1]
            assert wsp.callee_data(c) == big[::-1]
            assert wsp.caller_data(s) == big


def test_seqpacket_records():
    """SOCK_SEQPACKET keeps record boundaries through Python sockets"""
    lst, port = listener(type=socket.SOCK_SEQPACKET)
    with lst:
        c = wsp.socket(socket.SOCK_SEQPACKET)
        with c:
            wsp.connect(c, port)
            s, _ = wsp.accept(lst)
            with s:
                c.send(b"one")
                c.send(b"two!")
                assert s.recv(100) == b"one"
                assert s.recv(100) == b"two!"


def test_accept_timeout():
    """a listener's timeout: accept raises TimeoutError, 0 BlockingIOError"""
    lst, port = listener()
    with lst:
        lst.settimeout(0.2)
        try:
            wsp.accept(lst)
        except TimeoutError:
            pass
        else:
            raise AssertionError("accepted nothing")
        lst.setblocking(False)
        try:
            wsp.accept(lst)
        except BlockingIOError as e:
            assert e.errno == errno.EAGAIN
            assert not isinstance(e, wsp.Deferred)
        else:
            raise AssertionError("accepted nothing")


def test_connect_timeout_then_verdict():
    """socket timeout: connect raises TimeoutError; a late verdict connects"""
    import select
    lst, port = listener(conditional=True)
    with lst, wsp.socket() as c:
        c.settimeout(0.2)
        try:
            wsp.connect(c, port, b"slow")
        except TimeoutError:
            pass
        else:
            raise AssertionError("connected without a verdict")
        req = wsp.peek_request(lst)
        assert req is not None and req.data == b"slow"	# still queued
        wsp.verdict(lst, req, wsp.ACCEPT, b"late")
        assert select.select([], [c], [], 5)[1] == [c]
        assert wsp.connect_result(c) == b"late"
        s, _ = wsp.accept(lst)
        with s:
            assert wsp.request_id(s) == wsp.request_id(c) == req.id


def test_kernel_connect_timeout():
    """WSP_CONNECT_TIMEOUT withdraws the request: TimeoutError, ETIMEDOUT"""
    lst, port = listener(conditional=True)
    with lst, wsp.socket() as c:
        c.setsockopt(wsp.SOL_WSP, wsp.WSP_CONNECT_TIMEOUT, 100)
        try:
            wsp.connect(c, port, b"impatient")
        except TimeoutError as e:
            assert e.errno == errno.ETIMEDOUT, e
        else:
            raise AssertionError("connected without a verdict")
        assert wsp.peek_request(lst) is None


def test_dup_keeps_class():
    """dup() and Socket(fileno=) give wsp.Socket objects again"""
    lst, port = listener()
    with lst:
        d = lst.dup()
        with d:
            assert type(d) is wsp.Socket and d.family == 22
            assert d.getsockname() == port
        fd = os.dup(lst.fileno())
        w = wsp.Socket(fileno=fd)
        with w:
            assert w.getsockname() == port and w.type == socket.SOCK_STREAM
