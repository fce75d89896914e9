"""What a Noko account holds: users and their tokens, projects, tags, timers and entries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

__all__ = [
    "ACCOUNT_BILLING_INCREMENT",
    "EntryFields",
    "NokoEntry",
    "NokoProject",
    "NokoTag",
    "NokoTimer",
    "NokoUser",
    "NotFound",
    "ProjectGroup",
    "TimerState",
    "Token",
    "ValidationFailed",
]

#: Noko's default billing increment for new projects (an account setting, 15 unless changed).
ACCOUNT_BILLING_INCREMENT = 15

TimerState = Literal["pending", "running", "paused"]


class NotFound(Exception):
    """Noko answers this with its bare 404 page."""


class ValidationFailed(Exception):
    """Noko's 400 ``Validation Failed`` with one ``{resource, field, code}`` error."""

    def __init__(self, resource: str, field: str, code: str) -> None:
        super().__init__(f"{resource}.{field}: {code}")
        self.resource = resource
        self.field = field
        self.code = code


@dataclass
class NokoUser:
    id: int
    email: str
    first_name: str
    last_name: str
    created_at: datetime
    # Coworkers see and log only their own time; the seeded users are both coworkers.
    role: str = "coworker"


@dataclass(frozen=True)
class Token:
    """A personal access token (no expiry) or an OAuth access token (expires)."""

    user_id: int
    kind: Literal["personal", "oauth"]
    expires_at: datetime | None = None


@dataclass
class ProjectGroup:
    id: int
    name: str


@dataclass
class NokoProject:
    id: int
    name: str
    billing_increment: int
    billable: bool
    color: str
    created_at: datetime
    enabled: bool = True
    group: ProjectGroup | None = None

    def round_up(self, minutes: int) -> int:
        """``minutes`` rounded up to this project's billing increment."""
        step = self.billing_increment
        return math.ceil(minutes / step) * step


@dataclass
class NokoTag:
    id: int
    name: str
    created_at: datetime
    billable: bool = True


@dataclass
class NokoTimer:
    """One user's timer on one project; time banked while paused plus the running stretch."""

    id: int
    user_id: int
    project_id: int
    date: date
    description: str | None
    state: TimerState = "pending"
    banked_seconds: int = 0
    running_since: datetime | None = None

    def seconds(self, now: datetime) -> int:
        running = 0
        if self.running_since is not None:
            running = max(0, int((now - self.running_since).total_seconds()))
        return self.banked_seconds + running

    def bank(self, now: datetime) -> None:
        """Fold the running stretch into the banked seconds (the clock keeps going if running)."""
        self.banked_seconds = self.seconds(now)
        if self.running_since is not None:
            self.running_since = now


@dataclass
class NokoEntry:
    id: int
    user_id: int
    project_id: int | None
    date: date
    minutes: int
    description: str | None
    billable: bool
    created_at: datetime
    updated_at: datetime
    tag_ids: list[int] = field(default_factory=list)
    source_url: str | None = None


@dataclass
class EntryFields:
    """What ``POST /v2/entries`` and ``PUT /v2/entries/:id`` may set; None leaves a field be."""

    date: date | None = None
    minutes: int | None = None
    description: str | None = None
    project_id: int | None = None
    project_name: str | None = None
    source_url: str | None = None
    user_id: int | None = None
