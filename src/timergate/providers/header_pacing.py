"""Slowing down before a vendor's request allowance runs out, from its ``X-RateLimit-*`` headers.

Vendors with an allowance per window (Accelo: 5,000 requests an hour per deployment) say on
every answer how many requests the window allows (``X-RateLimit-Limit``), how many are left
(``X-RateLimit-Remaining``) and when it starts again (``X-RateLimit-Reset``, unix seconds).
Since every client of the deployment draws on the same allowance, the headers are the only
truth about it. While plenty is left, requests go at once; once a tenth or less is left, they
are spread so that what is left lasts until the reset (each waiting at most a few seconds, so
a request stays within its deadline); with nothing left, nothing is sent until the reset and
the caller hears when to retry.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from timergate.domain import Clock
from timergate.errors import UpstreamRateLimited

__all__ = ["HeaderPacing"]


@dataclass
class HeaderPacing:
    """One connection's view of its vendor's allowance, and the wait before each request."""

    clock: Clock
    sleep: Callable[[float], Awaitable[None]]
    #: How messages name the connection, and its provider key.
    name: str
    key: str
    #: Below this share of the allowance, requests are spread out.
    reserve: float = 0.1
    #: The longest a request waits for its turn.
    longest_wait: float = 3.0

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    _next_at: datetime | None = None

    def note(self, headers: Mapping[str, str]) -> None:
        """Remember what an answer's headers say about the allowance (garbage is ignored)."""
        limit = _whole(headers.get("x-ratelimit-limit"))
        remaining = _whole(headers.get("x-ratelimit-remaining"))
        reset = _whole(headers.get("x-ratelimit-reset"))
        if limit is None or remaining is None or reset is None:
            return
        self.limit, self.remaining = limit, remaining
        self.reset_at = datetime.fromtimestamp(reset, UTC)

    async def wait(self) -> None:
        """Wait for this request's turn; refuse it when the allowance is spent."""
        now = self.clock.now()
        if self.reset_at is None or self.remaining is None or self.limit is None:
            return
        if now >= self.reset_at:
            self.remaining = None  # a new window: the next answer tells
            return
        left = (self.reset_at - now).total_seconds()
        if self.remaining <= 0:
            raise UpstreamRateLimited(
                f"{self.name} has used this hour's request allowance; nothing was sent. "
                f"Retry in {math.ceil(left)} s.",
                retry_after=float(math.ceil(left)),
                provider=self.key,
            )
        if self.remaining > max(1, math.ceil(self.limit * self.reserve)):
            self.remaining -= 1
            return
        spacing = left / self.remaining
        turn = max(now, self._next_at or now)
        delay = min((turn - now).total_seconds(), self.longest_wait)
        self._next_at = now + timedelta(seconds=delay + spacing)
        self.remaining -= 1  # counted now, so requests sent together do not all go at once
        if delay > 0:
            await self.sleep(delay)


def _whole(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else None
