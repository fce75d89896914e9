"""A subscriber that stops reading holds up nobody else, and still gets its own ticks right."""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import socket
import struct
import termios
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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

from timergate.graphql.websocket import MAX_OPERATIONS_PER_CONNECTION

#: The same timer 29 times over (within the alias limit): about 90 KB a tick for a timer
#: with a long description and all its tags.
HEAVY_TICKS = (
    "subscription Heavy($timerId: ID) { timerTicks(timerId: $timerId) { "
    + " ".join(f"t{i}: timer {{ ...TimerFields }}" for i in range(29))
    + " at } }"
    + TIMER_FIELDS
)
HEAVY_SUBSCRIPTIONS = MAX_OPERATIONS_PER_CONNECTION


def unread_bytes(ws: ClientConnection) -> int:
    """Bytes the kernel holds for this socket that the client has not read."""
    sock = ws.transport.get_extra_info("socket")
    raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, struct.pack("i", 0))
    count: int = struct.unpack("i", raw)[0]
    return count


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(orjson.dumps(message).decode())


@asynccontextmanager
async def slow_reader(url: str, person: Person) -> AsyncIterator[ClientConnection]:
    """An authenticated graphql-transport-ws client that reads nothing unless told to.

    Its receive buffer is tiny and the library stops reading after one queued frame, so
    the server's writes to it back up at the TCP level.
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
        await send(ws, {"type": "connection_init", "payload": person.init_payload})
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            assert orjson.loads(await ws.recv()) == {"type": "connection_ack"}
        yield ws
    finally:
        ws.transport.abort()


@asynccontextmanager
async def stalled_subscriber(
    url: str, person: Person, timer_id: str
) -> AsyncIterator[ClientConnection]:
    """A client that subscribes to about 9 MB of ticks a second, then never reads again.

    That outgrows even the few megabytes of send buffer Linux gives a loopback connection.
    """
    async with slow_reader(url, person) as ws:
        for n in range(HEAVY_SUBSCRIPTIONS):
            payload = {"query": HEAVY_TICKS, "variables": {"timerId": timer_id}}
            await send(ws, {"id": f"heavy-{n}", "type": "subscribe", "payload": payload})
        yield ws  # and nobody reads from it


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
    # A long description and full tags make each heavy tick about 90 KB.
    slow_timer = await slow.start("x" * 2000, tags=[f"{i:02}" + "t" * 48 for i in range(20)])
    fast_timer = await fast.start("fast")
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


#: About 90 KB of query result: the running timer, long description and all tags, 30 times.
HEAVY_QUERY = (
    "{ " + " ".join(f"r{i}: runningTimers {{ description tags }}" for i in range(30)) + " }"
)
HEAVY_QUERIES = 60


@asynccontextmanager
async def lagging_subscriber(
    url: str, person: Person
) -> AsyncIterator[tuple[ClientConnection, str]]:
    """A slow reader following a running timer, just after the server began a tick for it
    that it cannot finish writing: the client's unread query answers (about 5 MB, written
    by their own tasks) fill every buffer first. Yields the socket and the timer's id.
    """
    timer_id = await person.start("x" * 2000, tags=[f"{i:02}" + "t" * 48 for i in range(20)])
    async with slow_reader(url, person) as ws:
        ticks = {"query": TICKS, "variables": {"timerId": timer_id}}
        await send(ws, {"id": "ticks", "type": "subscribe", "payload": ticks})
        for n in range(HEAVY_QUERIES):
            await send(ws, {"id": f"q{n}", "type": "subscribe", "payload": {"query": HEAVY_QUERY}})
        # Give the answers a second to fill the buffers, then let the next tick find them full.
        await asyncio.sleep(1.0)
        await asyncio.sleep(1.3 - time.time() % 1)
        assert unread_bytes(ws) > 0
        yield ws, timer_id


async def messages_until(ws: ClientConnection, op_id: str, kind: str) -> list[dict[str, Any]]:
    """Read on, dropping other operations' messages, until ``op_id`` gets a ``kind`` message."""
    seen = []
    try:
        async with asyncio.timeout(RECEIVE_TIMEOUT * 2):
            while True:
                message = orjson.loads(await ws.recv())
                if message.get("id") == op_id:
                    seen.append(message)
                    if message["type"] == kind:
                        return seen
    except TimeoutError:
        raise AssertionError(f"no {kind!r} for {op_id!r}; got {seen}") from None


async def test_a_lagging_subscriber_still_gets_the_final_tick_before_complete(
    server, people
) -> None:
    """A timer stopped while its tick waits on a slow reader: the final tick, then complete."""
    (slow,) = await people("slow")
    async with lagging_subscriber(server.ws_url, slow) as (ws, timer_id):
        await slow.stop(timer_id)
        seen = await messages_until(ws, "ticks", "complete")
    ticks = [m["payload"]["data"]["timerTicks"] for m in seen if m["type"] == "next"]
    assert ticks, seen
    assert [t["final"] for t in ticks] == [False] * (len(ticks) - 1) + [True]
    assert ticks[-1]["timer"]["state"] == "STOPPED"


async def test_a_lagging_subscriber_may_unsubscribe_as_its_timer_stops(server, people) -> None:
    """The client completes a subscription whose timer just stopped, mid-write: all else goes on."""
    (slow,) = await people("slow")
    async with lagging_subscriber(server.ws_url, slow) as (ws, timer_id):
        await slow.stop(timer_id)
        await send(ws, {"id": "ticks", "type": "complete"})
        viewer = {"query": "{ viewer { name } }"}
        await send(ws, {"id": "drained", "type": "subscribe", "payload": viewer})
        await messages_until(ws, "drained", "complete")
        # Everything queued is read; the connection still answers.
        await send(ws, {"id": "after", "type": "subscribe", "payload": viewer})
        answer, _ = await messages_until(ws, "after", "complete")
    assert answer["payload"] == {"data": {"viewer": {"name": slow.name}}}
