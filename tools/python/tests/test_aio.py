# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""asyncio: wsp.aio and asyncio's own streams on AF_WSP sockets."""

import asyncio
import os
import socket

import wsp
import wsp.aio
from wsptest import listener, run

NB = socket.SOCK_STREAM | socket.SOCK_NONBLOCK


async def echo_client(port, name):
    """Connect with caller data name, send a line, return (callee data,
    echo) or raise Rejected."""
    loop = asyncio.get_running_loop()
    with wsp.socket(NB) as s:
        callee = await wsp.aio.connect(s, port, name)
        await loop.sock_sendall(s, b"hello from " + name)
        echo = b""
        while not echo.endswith(b"!"):
            chunk = await loop.sock_recv(s, 100)
            if not chunk:
                break
            echo += chunk
        return callee, echo


def test_conditional_echo_server():
    """conditional echo server task; asyncio clients admitted by data"""
    lst, port = listener(conditional=True)
    lst.setblocking(False)
    decided = []

    def friends_only(req):
        decided.append(req.data)
        if req.data.startswith(b"friend"):
            return wsp.Answer(wsp.ACCEPT, b"hi " + req.data)
        return wsp.Answer(wsp.REJECT, b"not you, " + req.data)

    async def serve_one(conn):
        loop = asyncio.get_running_loop()
        conn.setblocking(False)
        with conn:
            data = await loop.sock_recv(conn, 100)
            await loop.sock_sendall(conn, data.upper() + b"!")

    async def server(n):
        tasks = []
        while n:
            try:
                conn, _ = await wsp.aio.accept(lst, friends_only)
            except wsp.Rejected:
                n -= 1
                continue
            n -= 1
            tasks.append(asyncio.ensure_future(serve_one(conn)))
        await asyncio.gather(*tasks)

    async def main():
        srv = asyncio.ensure_future(server(4))
        names = [b"friend-1", b"stranger", b"friend-2", b"troll"]
        results = await asyncio.gather(*(echo_client(port, n) for n in names),
                                       return_exceptions=True)
        await srv
        return results

    with lst:
        r = run(main())
    assert r[0] == (b"hi friend-1", b"HELLO FROM FRIEND-1!"), r[0]
    assert r[2] == (b"hi friend-2", b"HELLO FROM FRIEND-2!"), r[2]
    for i, name in ((1, b"stranger"), (3, b"troll")):
        assert isinstance(r[i], wsp.Rejected), r[i]
        assert r[i].reject_data == b"not you, " + name
    assert sorted(decided) == sorted([b"friend-1", b"stranger", b"friend-2",
                                      b"troll"])


def test_wait_request_then_accept():
    """wait_request wakes on EPOLLPRI; decide with an await, then accept"""
    lst, port = listener(conditional=True)
    lst.setblocking(False)

    async def main():
        client = asyncio.ensure_future(echo_client(port, b"pri"))
        req = await wsp.aio.wait_request(lst)
        assert req.data == b"pri" and not req.deferred
        await asyncio.sleep(0.01)	# "think" in the loop
        wsp.verdict(lst, req, wsp.ACCEPT, b"ok")
        conn, _ = await wsp.aio.accept(lst)
        conn.setblocking(False)
        loop = asyncio.get_running_loop()
        with conn:
            assert wsp.request_id(conn) == req.id
            data = await loop.sock_recv(conn, 100)
            await loop.sock_sendall(conn, data + b"!")
            return await client

    with lst:
        callee, echo = run(main())
    assert callee == b"ok"
    assert echo == b"hello from pri!"


def test_wait_request_skips_deferred():
    """wait_request passes over deferred requests, waits for a new one"""
    lst, port = listener(conditional=True)
    lst.setblocking(False)

    async def main():
        first = asyncio.ensure_future(echo_client(port, b"first"))
        r1 = await wsp.aio.wait_request(lst)
        wsp.verdict(lst, r1, wsp.DEFER)
        waiter = asyncio.ensure_future(wsp.aio.wait_request(lst))
        await asyncio.sleep(0.2)
        assert not waiter.done()	# a deferred request wakes nobody
        second = asyncio.ensure_future(echo_client(port, b"second"))
        r2 = await waiter
        assert r2.data == b"second" and r2.id != r1.id
        for r in (r1, r2):
            wsp.verdict(lst, r, wsp.REJECT, b"closed")
        for c in (first, second):
            try:
                await c
            except wsp.Rejected as e:
                assert e.reject_data == b"closed"
            else:
                raise AssertionError("connected")

    with lst:
        run(main())


def test_start_server_open_connection():
    """asyncio.start_server and open_connection on AF_WSP sockets"""
    lst, port = listener()
    lst.setblocking(False)
    peers = []

    async def handle(reader, writer):
        peers.append(writer.get_extra_info("peername"))
        line = await reader.readline()
        writer.write(line[::-1])
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(handle, sock=lst)
        async with server:
            out = []
            loop = asyncio.get_running_loop()
            for word in (b"abc", b"wsp"):
                s = wsp.socket(NB)
                if word == b"abc":
                    callee = await wsp.aio.connect(s, port, b"stream")
                    assert callee == b""
                else:		# asyncio's own, through wsp.Socket.connect
                    await loop.sock_connect(s, port)
                reader, writer = await asyncio.open_connection(sock=s)
                writer.write(word + b"\n")
                await writer.drain()
                out.append((s.getsockname(), await reader.read()))
                writer.close()
                await writer.wait_closed()
            return out

    out = run(main())
    assert [o[1] for o in out] == [b"\ncba", b"\npsw"], out
    assert peers == [o[0] for o in out], (peers, out)


def test_wait_event():
    """wait_event returns once the event object is signalled"""
    efd = wsp.event_create()

    async def main():
        w = asyncio.ensure_future(wsp.aio.wait_event(efd))
        await asyncio.sleep(0.05)
        assert not w.done()
        asyncio.get_running_loop().call_later(0.01, wsp.event_set, efd)
        await asyncio.wait_for(w, 5)

    async def network():
        lst, port = listener()
        with lst:
            wsp.event_select(lst, efd, wsp.FD_ACCEPT)
            with wsp.socket(NB) as c:
                await wsp.aio.connect(c, port)
                await asyncio.wait_for(wsp.aio.wait_event(efd), 5)
                assert wsp.enum_network_events(lst, efd).events & \
                    wsp.FD_ACCEPT
    try:
        run(main())
        wsp.event_reset(efd)
        run(network())
    finally:
        os.close(efd)


def test_aio_needs_nonblocking():
    """wsp.aio refuses blocking sockets instead of blocking the loop"""
    async def main():
        with wsp.socket() as s:
            try:
                await wsp.aio.connect(s, 1)
            except ValueError:
                return
            raise AssertionError("blocking socket taken")
    run(main())


def test_aio_accept_defer_reject():
    """wsp.aio.accept raises Deferred and Rejected as wsp.accept does"""
    lst, port = listener(conditional=True)
    lst.setblocking(False)

    async def main():
        client = asyncio.ensure_future(echo_client(port, b"maybe"))
        try:
            await wsp.aio.accept(lst, lambda req: wsp.DEFER)
        except wsp.Deferred as e:
            rid = e.request.id
        else:
            raise AssertionError("not deferred")
        # the deferred request comes back at once, with no new readiness
        try:
            await asyncio.wait_for(wsp.aio.accept(
                lst, lambda req: (wsp.REJECT, b"no after all")), 5)
        except wsp.Rejected as e:
            assert e.request.id == rid and e.request.deferred
        else:
            raise AssertionError("not rejected")
        try:
            await client
        except wsp.Rejected as e:
            assert e.reject_data == b"no after all"
        else:
            raise AssertionError("connected")

    with lst:
        run(main())
