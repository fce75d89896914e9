"""One clock per process: it wakes on wall-clock second boundaries and ticks every subscriber
that watches a running timer. Nothing polls the store; idle subscribers cost nothing per tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["TickScheduler", "Tickable"]

_log = logging.getLogger(__name__)


class Tickable(Protocol):
    interval: int

    def tick(self, at: datetime) -> None: ...


class TickScheduler:
    """Calls ``tick(at)`` on each registered subscriber at every multiple of its interval.

    ``at`` is the boundary itself (a whole second of Unix time divisible by the interval), so
    every client of every instance sees the same instants.
    """

    def __init__(self) -> None:
        self._by_interval: dict[int, dict[Tickable, None]] = {}
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return sum(len(s) for s in self._by_interval.values())

    def add(self, subscriber: Tickable) -> None:
        self._by_interval.setdefault(subscriber.interval, {})[subscriber] = None

    def discard(self, subscriber: Tickable) -> None:
        bucket = self._by_interval.get(subscriber.interval)
        if bucket is not None:
            bucket.pop(subscriber, None)
            if not bucket:
                del self._by_interval[subscriber.interval]

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tick-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._by_interval.clear()

    async def _run(self) -> None:
        second = math.floor(time.time()) + 1
        while True:
            delay = second - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1:
                # Woke more than a second late: skip to the present instead of bursting.
                skipped = math.floor(-delay)
                # Only an overloaded process wakes this late: an operator should hear of it.
                _log.warning("the tick clock woke %d s late; skipped to the present", skipped)
                second += skipped
            self.tick_all(second)
            second += 1

    def tick_all(self, second: int) -> None:
        """Tick every subscriber due at Unix second ``second``."""
        at = datetime.fromtimestamp(second, UTC)
        for interval, subscribers in tuple(self._by_interval.items()):
            if second % interval:
                continue
            for subscriber in tuple(subscribers):
                try:
                    subscriber.tick(at)
                except Exception:
                    _log.exception("tick failed for %r", subscriber)
