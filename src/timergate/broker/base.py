"""The broker interface: what must reach every gateway instance, and how it gets there.

Two kinds of message cross instances: timer events, on one channel per user, and control
messages (token revocations, connection changes), on one control channel every instance
listens to. Ticks never cross: each instance computes them from timer state.

Delivery, for every broker:

- A listener is called once per message, on the event loop, in the order the messages were
  published on its channel (by one publisher awaiting each publish in turn).
- Once :meth:`Broker.subscribe` returns, every message published afterwards reaches the
  listener, whichever instance publishes it.
- Messages are not stored: one published while an instance has lost its broker connection
  does not reach that instance's listeners. When the connection comes back, each subscription
  that lived through the loss has its ``on_gap`` called, so it can re-read what it shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from timergate.domain.control import ControlMessage
from timergate.domain.events import TimerEvent
from timergate.errors import BrokerUnavailable

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "ControlListener",
    "Gap",
    "Listener",
    "Unsubscribe",
]

#: Called once per event, on the event loop; it must not block (queue the work instead).
Listener = Callable[[TimerEvent], None]
#: Called once per control message, on the event loop; it must not block.
ControlListener = Callable[[ControlMessage], None]
#: Called, on the event loop, after a lost broker connection is back: messages may be missed.
Gap = Callable[[], None]
Unsubscribe = Callable[[], Awaitable[None]]


class Broker(Protocol):
    """Publish and subscribe across every instance that shares the broker's URL."""

    url: str

    async def connect(self) -> None:
        """Reach the broker; raises :class:`BrokerUnavailable` if it cannot be reached."""
        ...

    async def disconnect(self) -> None: ...

    async def ping(self) -> None:
        """Return if this instance can publish and receive now; else :class:`BrokerUnavailable`."""
        ...

    async def publish(self, channel: str, event: TimerEvent) -> None:
        """Deliver ``event`` to the listeners of ``channel`` in every instance.

        Raises :class:`BrokerUnavailable` when the event could not be handed to the broker.
        """
        ...

    async def subscribe(
        self, channel: str, listener: Listener, *, on_gap: Gap | None = None
    ) -> Unsubscribe:
        """Call ``listener`` for each event on ``channel`` until the returned callable is awaited.

        Raises :class:`BrokerUnavailable` when the subscription cannot be made now.
        """
        ...

    async def publish_control(self, message: ControlMessage) -> None:
        """Deliver ``message`` to every control listener of every instance (this one too)."""
        ...

    async def subscribe_control(
        self, listener: ControlListener, *, on_gap: Gap | None = None
    ) -> Unsubscribe:
        """Call ``listener`` for each control message until the returned callable is awaited."""
        ...
