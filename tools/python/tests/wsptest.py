# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""Helpers shared by the tests."""

import asyncio
import socket
import threading

import wsp


def listener(conditional=False, type=socket.SOCK_STREAM, backlog=8):
    """A listening wsp.Socket on a free port, and the port."""
    s = wsp.socket(type)
    try:
        wsp.bind(s, 0)
        if conditional:
            wsp.set_conditional(s)
        s.listen(backlog)
        return s, wsp.local_port(s)
    except BaseException:
        s.close()
        raise


class Background:
    """fn(*args) in a daemon thread; result() joins and returns its value
    or raises its exception."""

    def __init__(self, fn, *args, **kwargs):
        self.value = None
        self.exc = None
        self.thread = threading.Thread(target=self._run,
                                       args=(fn, args, kwargs), daemon=True)
        self.thread.start()

    def _run(self, fn, args, kwargs):
        try:
            self.value = fn(*args, **kwargs)
        except BaseException as e:
            self.exc = e

    def result(self, timeout=10):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "background call still running"
        if self.exc is not None:
            raise self.exc
        return self.value


def connect_in_background(port, data=b"", qos=None, type=socket.SOCK_STREAM):
    """Connect a new socket in a thread: Background whose result() is
    (socket, callee data), or raises the connect error (the socket is
    then closed)."""
    def run():
        s = wsp.socket(type)
        try:
            return s, wsp.connect(s, port, data, qos)
        except BaseException:
            s.close()
            raise
    return Background(run)


def wait_for(pred, timeout=5.0, step=0.01):
    """Poll pred() until it is true; assert it became true."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not met within %gs" % timeout)


def run(coro, timeout=20):
    """asyncio.run(coro) with a timeout."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
