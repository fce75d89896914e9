"""A vendor's request rate, counted on the fake's own clock."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from timergate.fakes.base import Now

__all__ = ["RequestRate"]


class RequestRate:
    """At most ``limit`` accepted requests in any window of ``window_seconds``.

    The window slides over the fake's ``now()``, so a test with a manual clock sees the
    limit bite exactly at request ``limit + 1`` and lift once the clock moves on. Refused
    requests are not counted, as a vendor that answers 429 has not served them.
    """

    def __init__(self, limit: int, now: Now, window_seconds: float = 1.0) -> None:
        self.limit = limit
        self._now = now
        self._window = timedelta(seconds=window_seconds)
        self._accepted: deque[datetime] = deque()

    def admit(self) -> bool:
        """Count one request; ``False`` when it is one too many for the window."""
        now = self._now()
        while self._accepted and now - self._accepted[0] >= self._window:
            self._accepted.popleft()
        if len(self._accepted) >= self.limit:
            return False
        self._accepted.append(now)
        return True

    def retry_after_seconds(self) -> int:
        """Whole seconds until the oldest counted request leaves the window (at least 1)."""
        if not self._accepted:
            return 1
        left = self._window - (self._now() - self._accepted[0])
        return max(1, int(-(-left.total_seconds() // 1)))
