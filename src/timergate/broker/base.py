"""The broker interface: events published on channels, delivered to every listener."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from timergate.domain.events import TimerEvent

__all__ = ["Broker", "Listener", "Unsubscribe"]

#: Called once per event, on the event loop; it must not block (queue the work instead).
Listener = Callable[[TimerEvent], None]
Unsubscribe = Callable[[], Awaitable[None]]


class Broker(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...

    async def publish(self, channel: str, event: TimerEvent) -> None:
        """Deliver ``event`` to the listeners of ``channel`` in every instance."""
        ...

    async def subscribe(self, channel: str, listener: Listener) -> Unsubscribe:
        """Call ``listener`` for each event on ``channel`` until the returned callable is awaited."""
        ...
