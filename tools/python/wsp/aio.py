# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""AF_WSP from asyncio.

The sockets must be non-blocking (sock.setblocking(False), or
wsp.socket(SOCK_STREAM | SOCK_NONBLOCK)).  Waiting is done by the
running loop; the work by libwsp, as in the blocking functions of wsp.

A conditional listener shows EPOLLPRI while a request awaits a verdict,
which asyncio's selectors cannot wait for: these functions register the
descriptor in an epoll instance of their own and wait for that to be
readable.  Several tasks may therefore wait on one socket at once.

Once connected, a socket is an ordinary one for asyncio:
loop.sock_recv()/sock_sendall(), asyncio.open_connection(sock=s), and
asyncio.start_server(cb, sock=listener) on a listener whose connections
are accepted automatically or by verdict() (wsp.Socket.accept() is what
the server calls).
"""

import asyncio
import errno
import select

import wsp

__all__ = ["accept", "connect", "wait_request", "wait_event", "wait_fd"]


def _check_nonblocking(sock):
    if sock.gettimeout() != 0:
        raise ValueError("the socket must be non-blocking")


async def wait_fd(fd, events):
    """Wait until fd shows one of the EPOLL* events; returns those seen
    (0 if they vanished again before this task ran)."""
    loop = asyncio.get_running_loop()
    ep = select.epoll(1)
    try:
        ep.register(fd, events)
        fut = loop.create_future()

        def ready():
            if not fut.done():
                fut.set_result(None)
        loop.add_reader(ep.fileno(), ready)
        try:
            await fut
        finally:
            loop.remove_reader(ep.fileno())
        seen = 0
        for _, ev in ep.poll(0):
            seen |= ev
        return seen
    finally:
        ep.close()


async def accept(listener, condition=None):
    """wsp.accept() without blocking the loop: waits for a connection to
    take (EPOLLIN) or, with a condition, also for a request to decide
    (EPOLLPRI).  Returns (wsp.Socket, caller port), blocking as returned
    by accept(); raises Rejected or Deferred as wsp.accept() does.  The
    condition is a plain function, called in the loop's thread; to decide
    with awaits, use wait_request() and wsp.verdict()."""
    _check_nonblocking(listener)
    events = select.EPOLLIN | (select.EPOLLPRI if condition else 0)
    while True:
        try:
            return wsp.accept(listener, condition)
        except BlockingIOError as e:
            if isinstance(e, wsp.Deferred) or e.errno != errno.EAGAIN:
                raise
        await wait_fd(listener.fileno(), events)


async def wait_request(listener):
    """Wait for a request awaiting a verdict on a conditional listener
    (EPOLLPRI), and return it (the oldest that is not deferred)."""
    while True:
        req = wsp.peek_request(listener)
        while req is not None and req.deferred:
            req = wsp.peek_request(listener, req.id)
        if req is not None:
            return req
        await wait_fd(listener.fileno(), select.EPOLLPRI)


async def connect(sock, port, data=b"", qos=None):
    """wsp.connect() without blocking the loop: returns the callee data;
    a rejection raises wsp.Rejected with .reject_data."""
    _check_nonblocking(sock)
    try:
        return wsp.connect(sock, port, data, qos)
    except BlockingIOError as e:
        if e.errno != errno.EINPROGRESS:
            raise
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def writable():
        if not fut.done():
            fut.set_result(None)
    fd = sock.fileno()
    loop.add_writer(fd, writable)
    try:
        await fut
    finally:
        loop.remove_writer(fd)
    return wsp.connect_result(sock)


async def wait_event(efd):
    """Wait until the event object efd (from wsp.event_create()) is
    signalled.  It is not reset: enum_network_events(sock, efd) or
    wsp.event_reset() does that."""
    await wait_fd(efd, select.EPOLLIN)
