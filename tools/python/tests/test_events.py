# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""Network events: event objects, event_select, enumerate, wait."""

import os

import wsp
from wsptest import listener


def test_event_objects():
    """event_create/set/reset and wait_for_events, any and all"""
    a, b = wsp.event_create(), wsp.event_create()
    try:
        assert not os.get_inheritable(a)
        assert wsp.wait_for_events([a, b], timeout=0.05) is None
        wsp.event_set(b)
        assert wsp.wait_for_events([a, b], timeout=1) == 1
        assert wsp.wait_for_events([a, b], timeout=1) == 1	# not reset
        assert wsp.wait_for_events([a, b], wait_all=True,
                                   timeout=0.05) is None
        wsp.event_set(a)
        assert wsp.wait_for_events([a, b], wait_all=True, timeout=1) == 0
        wsp.event_reset(a)
        wsp.event_reset(b)
        assert wsp.wait_for_events([a, b], timeout=0) is None
        try:
            wsp.wait_for_events([], timeout=0)
        except OSError as e:
            assert e.errno == 22	# EINVAL
        else:
            raise AssertionError("waited on no event")
    finally:
        os.close(a)
        os.close(b)


def test_event_select_accept():
    """FD_ACCEPT on a listener signals its event; enumerate clears it"""
    lst, port = listener()
    efd = wsp.event_create()
    try:
        with lst:
            wsp.event_select(lst, efd, wsp.FD_ACCEPT)
            assert wsp.enum_network_events(lst).events == 0
            with wsp.socket() as c:
                wsp.connect(c, port)
                assert wsp.wait_for_events([efd], timeout=5) == 0
                ev = wsp.enum_network_events(lst, efd)
                assert isinstance(ev, wsp.NetworkEvents)
                assert ev.events & wsp.FD_ACCEPT, ev
                assert ev.errors[wsp.FD_ACCEPT] == 0
                bits = (1 << i for i in range(wsp.WSP_FD_MAX_EVENTS))
                assert set(ev.errors) == {b for b in bits if ev.events & b}
                # enumerating reset the event object and cleared the record
                assert wsp.wait_for_events([efd], timeout=0.05) is None
                assert wsp.enum_network_events(lst).events == 0
                s, _ = wsp.accept(lst)
                s.close()
            wsp.event_select(lst, None, 0)
    finally:
        os.close(efd)


def test_event_select_read_close():
    """FD_READ and FD_CLOSE on a connection, inherited from the listener"""
    lst, port = listener()
    efd = wsp.event_create()
    try:
        with lst:
            wsp.event_select(lst, efd, wsp.FD_READ | wsp.FD_CLOSE)
            c = wsp.socket()
            with c:
                wsp.connect(c, port)
                s, _ = wsp.accept(lst)
                with s:		# s inherits mask and event object
                    wsp.enum_network_events(s, efd)
                    c.sendall(b"data")
                    assert wsp.wait_for_events([efd], timeout=5) == 0
                    ev = wsp.enum_network_events(s, efd)
                    assert ev.events & wsp.FD_READ, ev
                    assert s.recv(10) == b"data"
                    c.close()
                    assert wsp.wait_for_events([efd], timeout=5) == 0
                    ev = wsp.enum_network_events(s, efd)
                    assert ev.events & wsp.FD_CLOSE, ev
                    assert ev.errors[wsp.FD_CLOSE] == 0
    finally:
        os.close(efd)


def test_event_qos():
    """set_qos on a connected socket records FD_QOS on its peer"""
    lst, port = listener()
    efd = wsp.event_create()
    try:
        with lst, wsp.socket() as c:
            wsp.connect(c, port)
            s, _ = wsp.accept(lst)
            with s:
                wsp.event_select(s, efd, wsp.FD_QOS)
                wsp.enum_network_events(s, efd)
                wsp.set_qos(c, wsp.QoS(wsp.Flowspec(token_rate=1 << 20,
                                                    token_bucket_size=65536),
                                       wsp.Flowspec()))
                assert wsp.wait_for_events([efd], timeout=5) == 0
                ev = wsp.enum_network_events(s, efd)
                assert ev.events & wsp.FD_QOS, ev
                assert wsp.get_qos(s).receiving.token_rate == 1 << 20
    finally:
        os.close(efd)
