"""What the networked brokers share: channel names, this process's listeners, delivery.

A networked broker holds one subscription at the server per channel that has listeners in
this process, however many listeners that is, and hands each message it receives, decoded
once, to every listener of its channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from timergate.broker.base import ControlListener, Gap, Listener, Unsubscribe
from timergate.broker.wire import WireFormatError, decode
from timergate.domain.events import TimerEvent
from timergate.errors import BrokerUnavailable

__all__ = [
    "DEFAULT_NAMESPACE",
    "Fanout",
    "ServerSubscriptions",
    "Subscription",
    "split_namespace",
    "unavailable",
]

_log = logging.getLogger("timergate.broker")

#: Prefix of every channel name at the server, so deployments can share one Redis or database.
DEFAULT_NAMESPACE = "timergate"
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,24}")


def split_namespace(url: str) -> tuple[str, str]:
    """``url`` without its ``namespace`` query parameter, and that namespace (or the default)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = [value for key, value in query if key == "namespace"]
    namespace = found[-1] if found else DEFAULT_NAMESPACE
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError(
            f"broker namespace {namespace!r} must be 1 to 24 letters, digits, '-' or '_'"
        )
    rest = urlencode([(key, value) for key, value in query if key != "namespace"])
    return parts._replace(query=rest).geturl(), namespace


@dataclass(eq=False, slots=True)
class Subscription:
    """One listener of one channel in this process."""

    name: str
    listener: Callable[[Any], None]
    on_gap: Gap | None


class Fanout:
    """This process's listeners, by channel name at the server."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{namespace}:"
        #: A distinct separator, so no event channel can be named like it.
        self.control_name = f"{namespace}.control"
        self._subscriptions: dict[str, list[Subscription]] = {}

    def name_of(self, channel: str) -> str:
        """The server's name for event channel ``channel``."""
        return self._prefix + channel

    def add(
        self, name: str, listener: Listener | ControlListener, on_gap: Gap | None
    ) -> Subscription:
        subscription = Subscription(name, listener, on_gap)
        self._subscriptions.setdefault(name, []).append(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> bool:
        """Forget ``subscription``; whether its channel has no listener left here."""
        listeners = self._subscriptions.get(subscription.name)
        if listeners is None or subscription not in listeners:
            return False
        listeners.remove(subscription)
        if listeners:
            return False
        del self._subscriptions[subscription.name]
        return True

    def listened(self, name: str) -> bool:
        return name in self._subscriptions

    def names(self) -> list[str]:
        """Every channel with a listener here."""
        return list(self._subscriptions)

    def gaps(self) -> list[Gap]:
        """The ``on_gap`` of every subscription now."""
        return [s.on_gap for subs in self._subscriptions.values() for s in subs if s.on_gap]

    def clear(self) -> None:
        self._subscriptions.clear()

    def receive(self, name: str, data: bytes | str) -> None:
        """Decode one message that arrived on channel ``name`` and hand it to its listeners."""
        listeners = self._subscriptions.get(name)
        if not listeners:
            return
        try:
            message = decode(data)
        except WireFormatError as exc:
            _log.warning("dropped an unreadable message on channel %s: %s", name, exc)
            return
        # Events only on event channels and control messages only on the control channel, so
        # a listener never sees a type it was not promised.
        if isinstance(message, TimerEvent) is (name == self.control_name):
            _log.warning("dropped a %s on channel %s", type(message).__name__, name)
            return
        for subscription in tuple(listeners):
            try:
                subscription.listener(message)
            except Exception:
                _log.exception("a listener failed on channel %s", name)

    @staticmethod
    def call_gaps(gaps: list[Gap]) -> None:
        for gap in gaps:
            try:
                gap()
            except Exception:
                _log.exception("a subscription failed to catch up after a broker reconnect")


def unavailable(reason: str) -> BrokerUnavailable:
    """The error for clients, which says nothing about the deployment; ``reason`` (which may
    name hosts) is logged at debug level and kept as a note for tracebacks."""
    _log.debug("broker unavailable: %s", reason)
    error = BrokerUnavailable()
    error.add_note(reason)
    return error


class ServerSubscriptions:
    """``subscribe`` and ``subscribe_control`` of a networked broker: a name is subscribed to
    once at the server (:meth:`_listen`), when its first listener here arrives, and given up
    (:meth:`_unlisten`) when its last one leaves; one operation at a time on the connection."""

    _fanout: Fanout
    _lock: asyncio.Lock
    _timeout: float
    _connected: bool
    _shown: str
    #: What a failing server connection raises.
    _failures: ClassVar[tuple[type[BaseException], ...]]

    async def _listen(self, name: str) -> None:
        """Subscribe to ``name`` at the server; returns once nothing later can be missed."""
        raise NotImplementedError

    async def _unlisten(self, name: str) -> None:
        raise NotImplementedError

    async def subscribe(
        self, channel: str, listener: Listener, *, on_gap: Gap | None = None
    ) -> Unsubscribe:
        return await self._subscribe(self._fanout.name_of(channel), listener, on_gap)

    async def subscribe_control(
        self, listener: ControlListener, *, on_gap: Gap | None = None
    ) -> Unsubscribe:
        return await self._subscribe(self._fanout.control_name, listener, on_gap)

    async def _subscribe(
        self, name: str, listener: Listener | ControlListener, on_gap: Gap | None
    ) -> Unsubscribe:
        if not self._connected:
            raise unavailable(f"cannot subscribe: the connection to {self._shown} is down")
        try:
            async with asyncio.timeout(self._timeout), self._lock:
                if not self._fanout.listened(name):
                    await self._listen(name)
                subscription = self._fanout.add(name, listener, on_gap)
        except self._failures as exc:
            raise unavailable(f"cannot subscribe at {self._shown}: {exc}") from exc

        async def unsubscribe() -> None:
            await self._unsubscribe(subscription)

        return unsubscribe

    async def _unsubscribe(self, subscription: Subscription) -> None:
        async with self._lock:
            if self._fanout.remove(subscription) and self._connected:
                # A lost connection stops listening by itself; the reconnect skips this name.
                with contextlib.suppress(*self._failures):
                    async with asyncio.timeout(self._timeout):
                        await self._unlisten(subscription.name)
