"""A subscriber that stops reading cannot hold up anybody else's ticks."""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import socket
import struct
import termios
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from live_support import (
    GRAPHQL_TRANSPORT_WS,
    RECEIVE_TIMEOUT,
    TICKS,
    TIMER_FIELDS,
    Person,
    Socket,
    assert_on_boundary,
    instant,
    lag,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

#: About 10 KB a tick: the same timer thirty times over (the alias limit).
HEAVY_TICKS = (
    "subscription Heavy($timerId: ID) { timerTicks(timerId: $timerId) { "
    + " ".join(f"t{i}: timer {{ ...TimerFields }}" for i in range(29))
    + " at } }"
    + TIMER_FIELDS
)
HEAVY_SUBSCRIPTIONS = 500


def unread_bytes(ws: ClientConnection) -> int:
    """Bytes the kernel holds for this socket that the client has not read."""
    sock = ws.transport.get_extra_info("socket")
    raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, struct.pack("i", 0))
    count: int = struct.unpack("i", raw)[0]
    return count


@asynccontextmanager
async def stalled_subscriber(
    url: str, person: Person, timer_id: str
) -> AsyncIterator[ClientConnection]:
    """A client that subscribes to about 5 MB of ticks a second, then never reads again.

    Its receive buffer is tiny and the library stops reading after one queued frame, so the
    server's writes to it back up at the TCP level; 5 MB outgrows even the few megabytes of
    send buffer Linux gives a loopback connection.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    host, port = url.removeprefix("ws://").partition("/")[0].split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        ws = await connect(
            url, sock=sock, subprotocols=[Subprotocol(GRAPHQL_TRANSPORT_WS)], max_queue=1
        )
    try:
        await ws.send(
            orjson.dumps({"type": "connection_init", "payload": person.init_payload}).decode()
        )
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            assert orjson.loads(await ws.recv()) == {"type": "connection_ack"}
        for n in range(HEAVY_SUBSCRIPTIONS):
            payload = {"query": HEAVY_TICKS, "variables": {"timerId": timer_id}}
            await ws.send(
                orjson.dumps({"id": str(n), "type": "subscribe", "payload": payload}).decode()
            )
        yield ws  # and nobody reads from it
    finally:
        ws.transport.abort()


async def first_skip(ws: ClientConnection) -> float:
    """Read the stalled client's backlog until one subscription skips ticks; the gap in seconds.

    The server keeps only the latest undelivered tick per subscription, so once its writes
    to a client block, that client's next tick jumps ahead instead of replaying a backlog.
    """
    last: dict[str, float] = {}
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        while True:
            message = orjson.loads(await ws.recv())
            at = instant(message["payload"]["data"]["timerTicks"]["at"]).timestamp()
            previous = last.get(message["id"], at - 1)
            if at - previous > 1:
                return at - previous
            last[message["id"]] = at


async def test_a_stalled_subscriber_does_not_delay_other_clients(server, people) -> None:
    """While one client reads nothing, another's ticks still come each second, on time."""
    slow, fast = await people("slow", "fast")
    slow_timer, fast_timer = await slow.start("slow"), await fast.start("fast")
    async with (
        stalled_subscriber(server.ws_url, slow, slow_timer) as stalled,
        Socket.connect(server.ws_url) as ws,
    ):
        await ws.open(fast)
        await ws.subscribe("ticks", TICKS, timerId=fast_timer)
        # The first tick floods the stalled client's buffers; no tick may wait for it.
        ticks, lags = [], []
        for _ in range(3):
            ticks.append((await ws.next("ticks"))["timerTicks"])
            lags.append(lag(ticks[-1]["at"]))
        assert unread_bytes(stalled) > 0, "the slow client was never sent anything"
        skipped = await first_skip(stalled)

    for tick in ticks:
        assert tick["timer"]["id"] == fast_timer
        assert_on_boundary(tick["at"])
    seconds = [instant(t["at"]).timestamp() for t in ticks]
    assert [b - a for a, b in itertools.pairwise(seconds)] == [1.0, 1.0]
    assert max(lags) < 0.25, lags
    # The server really was held up by the slow client: its ticks were coalesced.
    assert skipped > 1
