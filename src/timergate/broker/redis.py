"""A broker on Redis pub/sub (``redis://HOST:PORT``, ``rediss://`` for TLS).

Every instance holds one subscriber connection, with one Redis subscription per channel that
has listeners in it, and a small pool for publishing. A reader task takes messages off the
subscriber connection in order and hands them to the listeners.

Redis pub/sub keeps nothing: a message published while an instance's subscriber connection is
down never reaches that instance. The reader notices a lost connection (a closed socket, or
no answer to a ping within three health intervals), says so in the log, reconnects with
backoff, subscribes again to every channel, and then calls each surviving subscription's
``on_gap`` so it can re-read what it shows.

``?namespace=NAME`` (default ``timergate``) prefixes every channel, so several deployments can
share one Redis (its channels are global, whatever the database number).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import stamina
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

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

__all__ = ["RedisBroker"]

_log = logging.getLogger("timergate.broker")

#: The errors that mean "Redis cannot be reached", whatever layer raised them.
_LOST = (RedisError, OSError, TimeoutError)
#: A command sent on the subscriber connection just as redis-py tears it down after a failed
#: read can also meet an AttributeError (its writer is gone): the same lost connection.
_SEND_FAILED = (*_LOST, AttributeError)


class RedisBroker(ServerSubscriptions):
    """Events between instances through Redis pub/sub (``redis://``)."""

    _failures = _SEND_FAILED

    def __init__(self, url: str, *, timeout: float = 5.0, health_interval: float = 5.0) -> None:
        self.url = url
        client_url, namespace = split_namespace(url)
        self._shown = obscure_url(client_url)
        self._fanout = Fanout(namespace)
        self._timeout = timeout
        self._health_interval = health_interval
        options: dict[str, Any] = {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "socket_keepalive": True,
        }
        # One immediate retry lets a publish through a pooled connection that went stale (after
        # a Redis restart); more would only delay the answer of a mutation while Redis is away.
        self._publisher = Redis.from_url(client_url, retry=Retry(NoBackoff(), 1), **options)
        # No retries under the subscriber: a lost connection must surface here, where the
        # reader resubscribes and tells the subscriptions, not be papered over.
        self._subscriber = Redis.from_url(client_url, retry=Retry(NoBackoff(), 0), **options)
        self._pubsub: PubSub | None = None
        self._connected = False
        self._lock = asyncio.Lock()
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}
        self._last_heard = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"RedisBroker({self._shown!r})"

    async def connect(self) -> None:
        try:
            self._pubsub = await self._open(())
        except _LOST as exc:
            raise unavailable(f"cannot reach the Redis broker at {self._shown}: {exc}") from exc
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read_forever(), name="redis-broker-reader"),
            loop.create_task(self._watch(), name="redis-broker-health"),
        ]

    async def disconnect(self) -> None:
        self._connected = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._close_pubsub()
        for client in (self._subscriber, self._publisher):
            with contextlib.suppress(*_LOST):
                await client.aclose()
        self._fanout.clear()

    async def ping(self) -> None:
        if not self._connected:
            raise unavailable(f"the subscriber connection to {self._shown} is down")
        try:
            async with asyncio.timeout(self._timeout):
                await self._publisher.ping()
        except _LOST as exc:
            raise unavailable(f"the Redis broker at {self._shown} does not answer: {exc}") from exc

    # Publishing.

    async def publish(self, channel: str, event: TimerEvent) -> None:
        await self._publish(self._fanout.name_of(channel), encode(event))

    async def publish_control(self, message: ControlMessage) -> None:
        await self._publish(self._fanout.control_name, encode(message))

    async def _publish(self, name: str, data: bytes) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._publisher.publish(name, data)
        except _LOST as exc:
            raise unavailable(f"cannot publish to {self._shown}: {exc}") from exc

    # Subscribing (see ServerSubscriptions).

    async def _listen(self, name: str) -> None:
        """Subscribe at Redis and wait until Redis confirms it (then nothing published is
        missed)."""
        assert self._pubsub is not None
        confirmed = asyncio.get_running_loop().create_future()
        waiting = self._confirmations.setdefault(name, [])
        waiting.append(confirmed)
        try:
            await self._pubsub.subscribe(name)
            await confirmed
        finally:
            waiting.remove(confirmed)
            if not waiting:
                del self._confirmations[name]

    async def _unlisten(self, name: str) -> None:
        if self._pubsub is not None:
            await self._pubsub.unsubscribe(name)

    # The subscriber connection.

    async def _open(self, names: tuple[str, ...] | list[str]) -> PubSub:
        """A subscriber connection, subscribed to ``names`` (each confirmed by Redis)."""
        pubsub = self._subscriber.pubsub()
        try:
            async with asyncio.timeout(self._timeout):
                await pubsub.connect()  # type: ignore[no-untyped-call]
                if names:
                    await pubsub.subscribe(*names)
                    pending = set(names)
                    while pending:
                        message = await pubsub.get_message(timeout=None)
                        if message is not None:
                            self._handle(message)
                            if message["type"] == "subscribe":
                                pending.discard(_text(message["channel"]))
        except BaseException:
            with contextlib.suppress(*_LOST):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        self._last_heard = time.monotonic()
        self._connected = True
        return pubsub

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_LOST):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read_forever(self) -> None:
        while True:
            pubsub = self._pubsub
            assert pubsub is not None
            try:
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None:
                        self._last_heard = time.monotonic()
                        self._handle(message)
            except _LOST as exc:
                await self._reconnect(exc)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            self._fanout.receive(_text(message["channel"]), message["data"])
        elif kind == "subscribe":
            for confirmed in self._confirmations.get(_text(message["channel"]), ()):
                if not confirmed.done():
                    confirmed.set_result(None)

    async def _reconnect(self, cause: BaseException) -> None:
        self._connected = False
        lost_at = time.monotonic()
        _log.warning(
            "lost the connection to the Redis broker at %s (%s); reconnecting. Messages "
            "published meanwhile do not reach this instance; its subscriptions re-read "
            "their state once it is back",
            self._shown,
            cause,
        )
        for waiting in self._confirmations.values():
            for confirmed in waiting:
                if not confirmed.done():
                    confirmed.set_exception(unavailable("the connection was lost"))
        await self._close_pubsub()
        gaps: list[Gap] = []
        # The lock is held for one attempt at a time, so unsubscribing never waits for Redis.
        async for attempt in stamina.retry_context(
            on=_LOST, attempts=None, timeout=None, wait_initial=0.2, wait_jitter=0.2
        ):
            with attempt:
                async with self._lock:
                    self._pubsub = await self._open(self._fanout.names())
                    gaps = self._fanout.gaps()
        _log.warning(
            "reconnected to the Redis broker at %s after %.1f s; %d subscriptions re-read "
            "their state",
            self._shown,
            time.monotonic() - lost_at,
            len(gaps),
        )
        Fanout.call_gaps(gaps)

    async def _watch(self) -> None:
        """Ping the subscriber connection; one that stays silent is dropped (a peer that
        vanished without closing the socket would otherwise leave the reader waiting)."""
        while True:
            await asyncio.sleep(self._health_interval)
            pubsub = self._pubsub
            if not self._connected or pubsub is None:
                continue
            silent = time.monotonic() - self._last_heard
            if silent > 3 * self._health_interval and pubsub.connection is not None:
                _log.warning(
                    "the Redis broker at %s has not answered for %.0f s", self._shown, silent
                )
                await pubsub.connection.disconnect(nowait=True)
                continue
            with contextlib.suppress(*_SEND_FAILED):
                await pubsub.ping()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
