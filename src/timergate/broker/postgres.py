"""A broker on PostgreSQL LISTEN/NOTIFY (``postgresql://USER@HOST:PORT/DATABASE``).

Every instance holds one listening connection, with one LISTEN per channel that has
listeners in it, and a small pool for NOTIFY. PostgreSQL delivers the notifications of one
transaction in order and those of different transactions in commit order, and asyncpg calls
the listeners in the order they arrive.

Large messages: a NOTIFY payload must be shorter than 8000 bytes, and an event carrying a
timer and an entry with long descriptions can be longer. Such a message is sent in chunks,
``~ID:INDEX:COUNT:PIECE``, all NOTIFYs of one transaction (PostgreSQL delivers them together
and in order, or not at all), and the listening side joins them before decoding. Nothing is
stored, so no table needs cleaning, and a small message (nearly all of them) is one NOTIFY
carrying the JSON itself.

LISTEN/NOTIFY keeps nothing: a notification sent while an instance's listening connection
is down never reaches it. A lost connection (closed, or not answering a ping each health
interval) is logged, reopened with backoff, every LISTEN is repeated, and then each surviving
subscription's ``on_gap`` is called so it can re-read what it shows.

The listening connection must be a direct session: LISTEN does not work through a pooler in
transaction mode (PgBouncer's default); point the broker URL at PostgreSQL itself.
``?namespace=NAME`` (default ``timergate``) prefixes every channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
import stamina

from timergate.broker._fanout import (
    Fanout,
    ServerSubscriptions,
    split_namespace,
    unavailable,
)
from timergate.broker.base import Gap
from timergate.broker.wire import encode
from timergate.domain.control import ControlMessage
from timergate.domain.events import TimerEvent
from timergate.store import obscure_url

__all__ = ["MAX_NOTIFY_BYTES", "PostgresBroker", "split_payload"]

_log = logging.getLogger("timergate.broker")

#: PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_NOTIFY_BYTES = 7999
#: Room left in each chunk for its ``~ID:INDEX:COUNT:`` header.
_HEADER_BYTES = 64
_CHUNK = "~"

_LOST = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

_T = TypeVar("_T")


def split_payload(data: bytes, message_id: str, limit: int = MAX_NOTIFY_BYTES) -> list[str]:
    """``data`` (UTF-8 JSON) as NOTIFY payloads of at most ``limit`` bytes each."""
    if len(data) <= limit:
        return [data.decode()]
    budget = limit - _HEADER_BYTES
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + budget, len(data))
        # Never cut inside a character: back up over UTF-8 continuation bytes.
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        pieces.append(data[start:end].decode())
        start = end
    count = len(pieces)
    return [f"{_CHUNK}{message_id}:{i}:{count}:{piece}" for i, piece in enumerate(pieces)]


class _Assembler:
    """Joins chunked payloads back together, in arrival order."""

    def __init__(self) -> None:
        self._partial: dict[str, list[str]] = {}

    def add(self, payload: str) -> str | None:
        """The whole message once its last chunk is in; ``None`` before (or if malformed)."""
        if not payload.startswith(_CHUNK):
            return payload
        try:
            message_id, index_text, count_text, piece = payload[1:].split(":", 3)
            index, count = int(index_text), int(count_text)
        except ValueError:
            _log.warning("dropped a malformed chunk of a broker message")
            return None
        pieces = self._partial.setdefault(message_id, [])
        if index != len(pieces):
            _log.warning("dropped broker message %s: chunk %d came out of order", message_id, index)
            del self._partial[message_id]
            return None
        pieces.append(piece)
        if len(pieces) < count:
            return None
        del self._partial[message_id]
        return "".join(pieces)

    def clear(self) -> None:
        self._partial.clear()


class PostgresBroker(ServerSubscriptions):
    """Events between instances through PostgreSQL's LISTEN/NOTIFY (``postgresql://``)."""

    _failures = _LOST

    def __init__(self, url: str, *, timeout: float = 5.0, health_interval: float = 5.0) -> None:
        self.url = url
        dsn, namespace = split_namespace(url)
        self._dsn = dsn
        self._shown = obscure_url(dsn)
        self._fanout = Fanout(namespace)
        self._timeout = timeout
        self._health_interval = health_interval
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._connected = False
        self._lost = asyncio.Event()
        self._lock = asyncio.Lock()
        self._assembler = _Assembler()
        self._origin = uuid.uuid4().hex[:8]
        self._sequence = itertools.count()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"PostgresBroker({self._shown!r})"

    async def connect(self) -> None:
        try:
            self._pool = await self._create_pool()
            self._listener = await self._open()
        except _LOST as exc:
            await self._close()
            raise unavailable(
                f"cannot reach the PostgreSQL broker at {self._shown}: {exc}"
            ) from exc
        self._task = asyncio.get_running_loop().create_task(
            self._supervise(), name="postgres-broker-listener"
        )

    async def disconnect(self) -> None:
        self._connected = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()
        self._fanout.clear()

    async def _close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(*_LOST):
                await asyncio.wait_for(listener.close(), self._timeout)
            listener.terminate()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), self._timeout)
            except _LOST:
                pool.terminate()

    async def ping(self) -> None:
        if not self._connected or self._pool is None:
            raise unavailable(f"the listening connection to {self._shown} is down")
        try:
            await _bounded(self._pool.fetchval("SELECT 1"), self._timeout)
        except _LOST as exc:
            raise unavailable(
                f"the PostgreSQL broker at {self._shown} does not answer: {exc}"
            ) from exc

    # Publishing.

    async def publish(self, channel: str, event: TimerEvent) -> None:
        await self._notify(self._fanout.name_of(channel), encode(event))

    async def publish_control(self, message: ControlMessage) -> None:
        await self._notify(self._fanout.control_name, encode(message))

    async def _notify(self, name: str, data: bytes) -> None:
        if self._pool is None:
            raise unavailable("the broker is not connected")
        payloads = split_payload(data, f"{self._origin}{next(self._sequence)}")
        try:
            await _bounded(self._send(self._pool, name, payloads), self._timeout)
        except _LOST as exc:
            raise unavailable(f"cannot notify through {self._shown}: {exc}") from exc

    @staticmethod
    async def _send(pool: asyncpg.Pool, name: str, payloads: list[str]) -> None:
        if len(payloads) == 1:
            await pool.execute("SELECT pg_notify($1, $2)", name, payloads[0])
            return
        async with pool.acquire() as connection, connection.transaction():
            for payload in payloads:
                await connection.execute("SELECT pg_notify($1, $2)", name, payload)

    # Subscribing (see ServerSubscriptions).

    async def _listen(self, name: str) -> None:
        assert self._listener is not None
        # LISTEN has taken effect when this returns: nothing later is missed.
        await self._listener.add_listener(name, self._on_notification)

    async def _unlisten(self, name: str) -> None:
        if self._listener is not None:
            await self._listener.remove_listener(name, self._on_notification)

    def _on_notification(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        if connection is not self._listener:
            return  # from a connection already replaced
        message = self._assembler.add(payload)
        if message is not None:
            self._fanout.receive(channel, message)

    # The listening connection.

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self._dsn,
            min_size=1,
            max_size=4,
            timeout=self._timeout,
            server_settings={"application_name": f"{self._fanout.control_name} publisher"},
        )

    async def _open(self) -> asyncpg.Connection:
        """A listening connection, with a LISTEN for every channel that has listeners here."""
        connection = await asyncpg.connect(
            self._dsn,
            timeout=self._timeout,
            server_settings={"application_name": f"{self._fanout.control_name} listener"},
        )
        try:
            async with asyncio.timeout(self._timeout):
                for name in self._fanout.names():
                    await connection.add_listener(name, self._on_notification)
        except BaseException:
            connection.terminate()
            raise
        connection.add_termination_listener(self._on_terminated)
        self._assembler.clear()
        self._lost.clear()
        self._connected = True
        return connection

    def _on_terminated(self, connection: Any) -> None:
        if connection is self._listener:
            self._lost.set()

    async def _supervise(self) -> None:
        """Ping the listening connection each health interval; reopen it when it is lost."""
        while True:
            cause: BaseException | str = "the server closed it"
            if not await _wait(self._lost, self._health_interval):
                try:
                    async with self._lock:
                        assert self._listener is not None
                        await _bounded(self._listener.fetchval("SELECT 1"), self._timeout)
                    continue
                except _LOST as exc:
                    cause = exc
            await self._reconnect(cause)

    async def _reconnect(self, cause: BaseException | str) -> None:
        self._connected = False
        lost_at = time.monotonic()
        _log.warning(
            "lost the listening connection to the PostgreSQL broker at %s (%s); reconnecting. "
            "Notifications sent meanwhile do not reach this instance; its subscriptions re-read "
            "their state once it is back",
            self._shown,
            cause,
        )
        old, self._listener = self._listener, None
        if old is not None:
            old.terminate()
        # The pool's connections went the same way (a silent server leaves them hanging).
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
        gaps: list[Gap] = []
        async for attempt in stamina.retry_context(
            on=_LOST, attempts=None, timeout=None, wait_initial=0.2, wait_jitter=0.2
        ):
            with attempt:
                async with self._lock:
                    if self._pool is None:
                        self._pool = await self._create_pool()
                    self._listener = await self._open()
                    gaps = self._fanout.gaps()
        _log.warning(
            "reconnected to the PostgreSQL broker at %s after %.1f s; %d subscriptions re-read "
            "their state",
            self._shown,
            time.monotonic() - lost_at,
            len(gaps),
        )
        Fanout.call_gaps(gaps)


async def _bounded(operation: Awaitable[_T], seconds: float) -> _T:
    """``operation``'s result, or TimeoutError after ``seconds`` without waiting for it to
    unwind: asyncpg's clean-up of a cancelled query can itself hang on a silent server."""
    task = asyncio.ensure_future(operation)
    # Whatever the abandoned operation ends with later is of no interest (and not an error).
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise TimeoutError(f"no answer within {seconds} s")
    return task.result()


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` was set within ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
