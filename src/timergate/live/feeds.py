"""Bounded mailboxes between the tick scheduler or broker and one subscriber.

Ticks coalesce: a subscriber that falls behind gets the latest tick of each timer, never a
backlog. Events are never dropped silently: past the bound the feed is marked overflowed and
the subscriber's connection is closed with a reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from timergate.domain import Timer
from timergate.domain.events import TimerEvent

__all__ = ["MAX_PENDING_EVENTS", "EventFeed", "Tick", "TickFeed", "Wake"]

#: Events one subscriber may have undelivered before it is cut off as too slow.
MAX_PENDING_EVENTS = 256

Wake = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Tick:
    """A running timer's elapsed time at a wall-clock instant; ``final`` when it stops running."""

    timer: Timer
    elapsed_seconds: int
    at: datetime
    final: bool = False


class TickFeed:
    """The latest undelivered tick per timer, and whether the stream has ended."""

    __slots__ = ("_pending", "_wake", "ended")

    def __init__(self, wake: Wake) -> None:
        # Keyed by provider and id: ids are only unique within their provider.
        self._pending: dict[tuple[str, str], Tick] = {}
        self._wake = wake
        self.ended = False

    def put(self, tick: Tick) -> None:
        pending = self._pending
        key = (tick.timer.provider, tick.timer.id)
        # A final tick is never replaced by a regular one that raced it.
        previous = pending.get(key)
        if previous is not None and previous.final and not tick.final:
            return
        was_empty = not pending
        pending[key] = tick
        if was_empty:
            self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    @property
    def pending(self) -> bool:
        """Whether undelivered ticks wait."""
        return bool(self._pending)

    def take(self) -> list[Tick]:
        if not self._pending:
            return []
        ticks = list(self._pending.values())
        self._pending.clear()
        return ticks


class EventFeed:
    """Every undelivered event in order, up to ``limit``.

    ``missed`` is set when events may have been lost on the way (the broker was away): the
    subscriber is told to re-read, as for an overflow.
    """

    __slots__ = ("_limit", "_pending", "_wake", "ended", "missed", "overflowed")

    def __init__(self, wake: Wake, limit: int = MAX_PENDING_EVENTS) -> None:
        self._pending: deque[TimerEvent] = deque()
        self._wake = wake
        self._limit = limit
        self.ended = False
        self.overflowed = False
        self.missed = False

    def put(self, event: TimerEvent) -> None:
        if len(self._pending) >= self._limit:
            self.overflowed = True
        else:
            self._pending.append(event)
        self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    def miss(self) -> None:
        self.missed = True
        self._wake()

    def take(self) -> list[TimerEvent]:
        events = list(self._pending)
        self._pending.clear()
        return events
