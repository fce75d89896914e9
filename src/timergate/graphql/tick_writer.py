"""One websocket connection's tick streams, written the moment a tick is due.

The scheduler's tick lands in a stream's feed and is written at once (see
:mod:`timergate.graphql.eager_send`) while the socket has room. When a write must wait, one
task finishes it and drains every stream's coalesced feed with ordinary awaits, then stops;
until then new ticks only wait in their feeds, so the order of each stream holds.
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from starlette.types import Send

from timergate.graphql.eager_send import Suspended, finish, send_now
from timergate.graphql.tick_render import TickRenderer
from timergate.live.feeds import Tick, TickFeed
from timergate.live.subscriptions import TickSubscription

__all__ = ["TickWriter"]

_log = logging.getLogger("timergate.websocket")


class _TickStream:
    __slots__ = ("feed", "id", "render", "subscription")

    def __init__(self, op_id: str, render: TickRenderer, feed: TickFeed) -> None:
        self.id = op_id
        self.render = render
        self.feed = feed
        self.subscription: TickSubscription | None = None

    async def close(self) -> None:
        if self.subscription is not None:
            await self.subscription.close()


class TickWriter:
    """Writes the ``timerTicks`` streams of one connection; ``closed`` stops all writing."""

    __slots__ = ("_next", "_send", "_streams", "_suspended", "_writer", "closed")

    def __init__(self, send: Send, *, legacy: bool) -> None:
        self._send = send
        self._next = "data" if legacy else "next"
        self._streams: dict[str, _TickStream] = {}
        #: A write that found the socket full, finished by ``_writer``.
        self._suspended: Suspended | None = None
        self._writer: asyncio.Task[None] | None = None
        self.closed = False

    def __contains__(self, op_id: str) -> bool:
        return op_id in self._streams

    def __len__(self) -> int:
        return len(self._streams)

    def add(self, op_id: str, render: TickRenderer) -> TickFeed:
        """A new stream; its feed is what the :class:`TickSubscription` fills."""
        stream = _TickStream(op_id, render, TickFeed(lambda: self._ready(stream)))
        self._streams[op_id] = stream
        return stream.feed

    def attach(self, op_id: str, subscription: TickSubscription) -> None:
        """The stream's subscription is open; write what it already owes."""
        stream = self._streams[op_id]
        stream.subscription = subscription
        if stream.feed.ended or stream.feed.pending:
            self._ready(stream)

    def discard(self, op_id: str) -> None:
        """Forget a stream whose subscription never opened."""
        self._streams.pop(op_id, None)

    async def stop(self, op_id: str) -> bool:
        """End a stream at the client's request; whether there was one."""
        stream = self._streams.pop(op_id, None)
        if stream is None:
            return False
        await stream.close()
        return True

    async def close(self) -> None:
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
        for stream in self._streams.values():
            await stream.close()
        self._streams.clear()

    def _ready(self, stream: _TickStream) -> None:
        """A feed has something: write it now, unless a write is already waiting."""
        if self._writer is not None or self.closed:
            return  # the writer drains every feed before it stops
        if stream.feed.ended:
            self._start_writer()  # ending a stream awaits the unsubscribe
            return
        try:
            for tick in stream.feed.take():
                self._suspended = send_now(self._send, self._message(stream, tick))
                if self._suspended is not None:
                    self._start_writer()  # the socket is full: the writer waits for room
                    return
        except OSError:
            self.closed = True  # the peer vanished mid-write
        except Exception:
            self.closed = True
            _log.exception("tick write failed")

    def _message(self, stream: _TickStream, tick: Tick) -> dict[str, str]:
        payload = {"id": stream.id, "type": self._next, "payload": {"data": stream.render(tick)}}
        return {"type": "websocket.send", "text": orjson.dumps(payload).decode()}

    def _start_writer(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        """Finish a suspended write, then drain every feed with ordinary awaits, then stop."""
        try:
            while not self.closed:
                if self._suspended is not None:
                    suspended, self._suspended = self._suspended, None
                    await finish(suspended)
                if not await self._drain():
                    break
        except asyncio.CancelledError:
            raise
        except OSError:
            self.closed = True  # the peer vanished mid-write
        except Exception:
            self.closed = True
            _log.exception("tick writer failed")
        finally:
            self._writer = None

    async def _drain(self) -> bool:
        """Write every pending tick and end every ended stream; whether anything was done."""
        wrote = False
        for stream in tuple(self._streams.values()):
            feed = stream.feed
            for tick in feed.take():
                wrote = True
                if not self.closed:
                    await self._send(self._message(stream, tick))
            # A send may have waited: ticks or the end that came meanwhile are handled on
            # the next pass, and the client may have stopped the stream.
            if feed.ended and not feed.pending and self._streams.get(stream.id) is stream:
                wrote = True
                del self._streams[stream.id]
                await stream.close()
                if not self.closed:
                    complete = orjson.dumps({"id": stream.id, "type": "complete"}).decode()
                    await self._send({"type": "websocket.send", "text": complete})
        return wrote
