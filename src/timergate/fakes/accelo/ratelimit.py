"""Accelo's rate limit: so many API requests per hour per deployment, reported on every answer
in ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (unix seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["HourlyLimit"]

HOUR = timedelta(hours=1)


@dataclass
class HourlyLimit:
    """A window of one hour from its first request; ``/oauth2`` calls are not counted."""

    limit: int = 5000
    window_start: datetime | None = None
    used: int = 0

    def take(self, now: datetime, *, enforce: bool) -> tuple[bool, dict[str, str]]:
        """Count one request (unless refused); whether it may go on, and the headers to send.

        The count runs whether or not the limit is enforced, so the headers always tell the
        truth about what the limit would allow.
        """
        if self.window_start is None or now >= self.window_start + HOUR:
            self.window_start, self.used = now, 0
        allowed = not enforce or self.used < self.limit
        if allowed:
            self.used += 1
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-RateLimit-Reset": str(int((self.window_start + HOUR).timestamp())),
        }
        return allowed, headers
