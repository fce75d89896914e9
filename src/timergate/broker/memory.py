"""A broker inside one process (``memory://``): the default for a single instance.

Messages go straight to this process's listeners, so there is nothing to lose and no gap
ever; a second instance shares nothing with it (use ``redis://`` or ``postgresql://``).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any

from timergate.broker.base import ControlListener, Gap, Listener, Unsubscribe
from timergate.domain.control import ControlMessage
from timergate.domain.events import TimerEvent

__all__ = ["MemoryBroker"]

_log = logging.getLogger(__name__)


class _Channel(enum.Enum):
    """The control channel's key; event channels are the strings callers give."""

    CONTROL = "control"


_CONTROL = _Channel.CONTROL


class MemoryBroker:
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._listeners: dict[object, list[Callable[[Any], None]]] = {}

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._listeners.clear()

    async def ping(self) -> None:
        return None

    async def publish(self, channel: str, event: TimerEvent) -> None:
        self._deliver(channel, event)

    async def subscribe(
        self, channel: str, listener: Listener, *, on_gap: Gap | None = None
    ) -> Unsubscribe:
        return self._add(channel, listener)

    async def publish_control(self, message: ControlMessage) -> None:
        self._deliver(_CONTROL, message)

    async def subscribe_control(
        self, listener: ControlListener, *, on_gap: Gap | None = None
    ) -> Unsubscribe:
        return self._add(_CONTROL, listener)

    def _deliver(self, key: object, message: object) -> None:
        # A copy, so a listener that unsubscribes while called cannot skip its neighbour.
        for listener in tuple(self._listeners.get(key, ())):
            try:
                listener(message)
            except Exception:
                _log.exception("a listener failed on channel %s", key)

    def _add(self, key: object, listener: Callable[[Any], None]) -> Unsubscribe:
        self._listeners.setdefault(key, []).append(listener)

        async def unsubscribe() -> None:
            listeners = self._listeners.get(key)
            if listeners and listener in listeners:
                listeners.remove(listener)
                if not listeners:
                    del self._listeners[key]

        return unsubscribe
