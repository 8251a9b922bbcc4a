# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""Conditional accept: the condition, verdicts by id, peek, QoS."""

import errno
import os

import wsp
from wsptest import listener, connect_in_background, wait_for, Background


def test_condition_sees_request():
    """the condition sees id, port, pid, uid, gid and caller data; accepts"""
    lst, port = listener(conditional=True)
    seen = []

    def cond(req):
        seen.append(req)
        return wsp.Answer(wsp.ACCEPT, b"welcome " + req.data)
    with lst:
        bg = connect_in_background(port, b"alice")
        s, peer = wsp.accept(lst, cond)
        c, callee = bg.result()
        with s, c:
            assert callee == b"welcome alice"
            assert len(seen) == 1
            req = seen[0]
            assert isinstance(req, wsp.Request)
            assert req.data == b"alice"
            assert req.port == peer == c.getsockname()
            assert req.pid == os.getpid()
            assert req.uid == os.getuid() and req.gid == os.getgid()
            assert not req.deferred
            assert wsp.request_id(s) == wsp.request_id(c) == req.id
            c.sendall(b"x")
            assert s.recv(1) == b"x"


def test_reject_with_data():
    """REJECT with reject data: both ends see it, the client as Rejected"""
    lst, port = listener(conditional=True)
    with lst:
        bg = connect_in_background(port, b"mallory")
        try:
            wsp.accept(lst, lambda req: (wsp.REJECT, b"go away " + req.data))
        except wsp.Rejected as e:
            assert isinstance(e, ConnectionRefusedError)
            assert e.request.data == b"mallory"
            assert e.reject_data == b"go away mallory"
        else:
            raise AssertionError("the condition's REJECT accepted")
        try:
            bg.result()
        except wsp.Rejected as e:
            assert e.errno == errno.ECONNREFUSED
            assert e.reject_data == b"go away mallory"
        else:
            raise AssertionError("client connected")
        assert wsp.peek_request(lst) is None


def test_defer_then_verdict():
    """DEFER, then decide later by id with verdict(); accept takes it"""
    lst, port = listener(conditional=True)
    with lst:
        bg = connect_in_background(port, b"later")
        try:
            wsp.accept(lst, lambda req: wsp.DEFER)
        except wsp.Deferred as e:
            assert isinstance(e, BlockingIOError)
            assert e.errno == errno.EINPROGRESS
            rid = e.request.id
        else:
            raise AssertionError("DEFER did not raise Deferred")
        req = wsp.peek_request(lst)
        assert req is not None and req.id == rid and req.deferred
        assert req.data == b"later"
        assert bg.thread.is_alive()	# the client still waits
        wsp.verdict(lst, rid, wsp.ACCEPT, b"decided")
        assert wsp.peek_request(lst) is None
        s, _ = wsp.accept(lst)
        c, callee = bg.result()
        with s, c:
            assert callee == b"decided"
            assert wsp.request_id(s) == wsp.request_id(c) == rid
        try:
            wsp.verdict(lst, rid, wsp.ACCEPT)
        except FileNotFoundError as e:
            assert e.errno == errno.ENOENT
        else:
            raise AssertionError("verdict on a decided request")


def test_deferred_is_presented_again():
    """a deferred request comes back to the next condition"""
    lst, port = listener(conditional=True)
    ids = []
    with lst:
        bg = connect_in_background(port, b"again")

        def cond(req):
            ids.append((req.id, req.deferred))
            return wsp.DEFER if len(ids) == 1 else wsp.ACCEPT
        try:
            wsp.accept(lst, cond)
        except wsp.Deferred:
            pass
        s, _ = wsp.accept(lst, cond)
        c, _ = bg.result()
        with s, c:
            assert ids[0][0] == ids[1][0]
            assert ids == [(ids[0][0], False), (ids[0][0], True)]


def test_peek_and_verdict_directly():
    """peek_request and verdict without accept's condition; cursors"""
    lst, port = listener(conditional=True)
    with lst:
        assert wsp.peek_request(lst) is None
        a = connect_in_background(port, b"first")
        r1 = wait_for(lambda: wsp.peek_request(lst))
        b = connect_in_background(port, b"second")
        r2 = wait_for(lambda: wsp.peek_request(lst, r1))
        assert r1.data == b"first" and r2.data == b"second"
        assert r2.id > r1.id
        assert wsp.peek_request(lst).id == r1.id
        assert wsp.peek_request(lst, r2.id) is None
        assert [r.id for r in wsp.requests(lst)] == [r1.id, r2.id]
        wsp.verdict(lst, r2, wsp.REJECT, b"no second")
        wsp.verdict(lst, r1.id, wsp.ACCEPT)
        try:
            b.result()
        except wsp.Rejected as e:
            assert e.reject_data == b"no second"
        else:
            raise AssertionError("second connected")
        c, callee = a.result()
        s, _ = wsp.accept(lst)
        with s, c:
            assert callee == b""
            assert wsp.request_id(s) == r1.id
        for bad in (3, True, "accept"):
            try:
                wsp.verdict(lst, r1.id, bad)
            except (TypeError, ValueError):
                pass
            else:
                raise AssertionError("verdict %r taken" % (bad,))


def test_qos_granted():
    """the requested QoS is in the request; the granted one in force"""
    lst, port = listener(conditional=True)
    GUARANTEED = wsp.WSP_SERVICETYPE_GUARANTEED
    asked = wsp.QoS(wsp.Flowspec(token_rate=100000, token_bucket_size=8192,
                                 service_type=wsp.WSP_SERVICETYPE_BESTEFFORT),
                    wsp.Flowspec(latency=1000))
    granted = wsp.QoS(wsp.Flowspec(token_rate=50000, token_bucket_size=4096,
                                   service_type=GUARANTEED),
                      wsp.Flowspec(token_rate=70000, token_bucket_size=16384))
    seen = []

    def cond(req):
        seen.append(req.qos)
        return wsp.Answer(wsp.ACCEPT, qos=granted)
    with lst:
        bg = connect_in_background(port, b"qos", qos=asked)
        s, _ = wsp.accept(lst, cond)
        c, _ = bg.result()
        with s, c:
            assert seen == [asked], seen
            mine = wsp.get_qos(c)
            assert mine.sending.token_rate == 50000, mine
            assert mine.sending.token_bucket_size == 4096
            assert mine.sending.service_type == \
                wsp.WSP_SERVICETYPE_GUARANTEED
            assert mine.receiving.token_rate == 70000
            theirs = wsp.get_qos(s)	# the listener's side: reversed
            assert theirs.sending.token_rate == 70000, theirs
            assert theirs.receiving.token_rate == 50000
            assert theirs.receiving.token_bucket_size == 4096


def test_set_qos():
    """set_qos before connect is the request; get_qos reads it back"""
    with wsp.socket() as s:
        q = wsp.QoS(wsp.Flowspec(token_rate=1234), wsp.Flowspec())
        wsp.set_qos(s, q)
        got = wsp.get_qos(s)
        assert got.sending.token_rate == 1234
        assert got.receiving == wsp.Flowspec()
        assert wsp.Flowspec().latency == wsp.QOS_NOT_SPECIFIED == 0xFFFFFFFF


class Oops(Exception):
    pass


def test_condition_raises():
    """a condition that raises: that exception surfaces, the request stays"""
    lst, port = listener(conditional=True)
    with lst:
        bg = connect_in_background(port, b"boom")
        err = Oops("from the condition")

        def cond(req):
            raise err
        try:
            wsp.accept(lst, cond)
        except Oops as e:
            assert e is err
        else:
            raise AssertionError("the exception was lost")
        req = wsp.peek_request(lst)
        assert req is not None and req.data == b"boom"
        assert not req.deferred
        assert bg.thread.is_alive()
        # a wrong return value is a TypeError, and leaves it there too
        try:
            wsp.accept(lst, lambda req: True)
        except TypeError:
            pass
        else:
            raise AssertionError("True taken as a verdict")
        assert wsp.peek_request(lst).id == req.id
        s, _ = wsp.accept(lst, lambda req: wsp.ACCEPT)
        c, _ = bg.result()
        with s, c:
            assert wsp.request_id(c) == req.id


def test_condition_errno():
    """an OSError from the condition keeps its errno through libwsp"""
    lst, port = listener(conditional=True)
    with lst:
        bg = connect_in_background(port)

        def cond(req):
            raise PermissionError(errno.EPERM, "not you")
        try:
            wsp.accept(lst, cond)
        except PermissionError as e:
            assert e.errno == errno.EPERM
        else:
            raise AssertionError("the exception was lost")
        wsp.verdict(lst, wsp.peek_request(lst), wsp.REJECT)
        try:
            bg.result()
        except wsp.Rejected as e:
            assert e.reject_data == b""
        else:
            raise AssertionError("connected")


def test_signal_during_connect():
    """a signal in a blocking connect: it waits on for the verdict (PEP 475)"""
    import signal
    import threading
    import time
    lst, port = listener(conditional=True)
    caught = []
    old = signal.signal(signal.SIGUSR1, lambda *a: caught.append(1))
    main = threading.get_ident()

    def server():
        req = wait_for(lambda: wsp.peek_request(lst))
        time.sleep(0.05)	# let connect() block
        signal.pthread_kill(main, signal.SIGUSR1)
        time.sleep(0.2)
        wsp.verdict(lst, req, wsp.ACCEPT, b"after the signal")
        return req.id
    try:
        with lst, wsp.socket() as c:
            bg = Background(server)
            assert wsp.connect(c, port, b"x") == b"after the signal"
            rid = bg.result()
            assert caught, "the handler did not run"
            assert wsp.request_id(c) == rid
    finally:
        signal.signal(signal.SIGUSR1, old)
