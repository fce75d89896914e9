"""What happened to a user's timers and entries, as subscribers see it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from timergate.domain.timer import TimeEntry, Timer

__all__ = ["TimerEvent", "TimerEventType", "user_channel"]


class TimerEventType(enum.StrEnum):
    STARTED = "STARTED"
    PAUSED = "PAUSED"
    RESUMED = "RESUMED"
    STOPPED = "STOPPED"
    LOGGED = "LOGGED"
    CANCELLED = "CANCELLED"
    UPDATED = "UPDATED"
    ENTRY_CREATED = "ENTRY_CREATED"
    ENTRY_UPDATED = "ENTRY_UPDATED"
    ENTRY_DELETED = "ENTRY_DELETED"


@dataclass(frozen=True, slots=True)
class TimerEvent:
    """A change, with the objects as they are after it (as they were, for deletions)."""

    type: TimerEventType
    user_id: int
    at: datetime
    timer: Timer | None = None
    entry: TimeEntry | None = None


def user_channel(user_id: int) -> str:
    """The broker channel that carries one user's events."""
    return f"user:{user_id}"
