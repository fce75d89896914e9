"""A broker inside one process (``memory://``): the default for a single instance."""

from __future__ import annotations

import logging

from timergate.broker.base import Listener, Unsubscribe
from timergate.domain.events import TimerEvent

__all__ = ["MemoryBroker"]

_log = logging.getLogger(__name__)


class MemoryBroker:
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._listeners: dict[str, list[Listener]] = {}

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._listeners.clear()

    async def publish(self, channel: str, event: TimerEvent) -> None:
        # A copy, so a listener that unsubscribes while called cannot skip its neighbour.
        for listener in tuple(self._listeners.get(channel, ())):
            try:
                listener(event)
            except Exception:
                _log.exception("event listener failed on channel %s", channel)

    async def subscribe(self, channel: str, listener: Listener) -> Unsubscribe:
        self._listeners.setdefault(channel, []).append(listener)

        async def unsubscribe() -> None:
            listeners = self._listeners.get(channel)
            if listeners and listener in listeners:
                listeners.remove(listener)
                if not listeners:
                    del self._listeners[channel]

        return unsubscribe
