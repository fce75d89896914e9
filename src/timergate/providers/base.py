"""The provider interface: where a user's timers live (our store, or a vendor's API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from timergate.domain import (
    EntryFilter,
    Page,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerDetails,
    TimerFilter,
    User,
)
from timergate.domain.entry import EntryChanges
from timergate.domain.timer import UNSET, Unset

__all__ = ["LogRequest", "NewEntry", "Provider", "StartResult", "StopResult"]


@dataclass(frozen=True, slots=True)
class StartResult:
    timer: Timer
    #: Timers paused to keep one running per user.
    paused: list[Timer] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StopResult:
    timer: Timer | None
    entry: TimeEntry | None


@dataclass(frozen=True, slots=True)
class LogRequest:
    description: str | Unset | None = UNSET
    date: date | None = None
    duration: timedelta | None = None
    billable: bool | None = None


@dataclass(frozen=True, slots=True)
class NewEntry:
    details: TimerDetails
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    date: date | None = None


class Provider(Protocol):
    """One source of timers. Every method acts for ``user`` and sees only their objects;
    a missing object and another user's object both raise :class:`~timergate.errors.NotFound`.
    """

    name: str

    async def start(self, user: User, details: TimerDetails) -> StartResult: ...
    async def resume(
        self, user: User, timer_id: str, *, expected_version: int | None = None
    ) -> StartResult: ...
    async def pause(
        self, user: User, timer_id: str, *, expected_version: int | None = None
    ) -> Timer: ...
    async def stop(
        self,
        user: User,
        timer_id: str | None,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        """Stop ``timer_id``, or the user's running timer when it is ``None`` (if any)."""
        ...

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        *,
        expected_version: int | None = None,
    ) -> StopResult: ...
    async def cancel(
        self, user: User, timer_id: str, *, expected_version: int | None = None
    ) -> Timer: ...
    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        *,
        expected_version: int | None = None,
    ) -> Timer: ...

    async def get_timer(self, user: User, timer_id: str) -> Timer | None: ...
    async def running_timers(self, user: User) -> list[Timer]: ...
    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: str | None
    ) -> Page[Timer]: ...
    async def count_timers(self, user: User, filter: TimerFilter) -> int: ...

    async def create_entry(self, user: User, entry: NewEntry) -> TimeEntry: ...
    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        *,
        expected_version: int | None = None,
    ) -> TimeEntry: ...
    async def delete_entry(
        self, user: User, entry_id: str, *, expected_version: int | None = None
    ) -> TimeEntry: ...
    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None: ...
    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: str | None
    ) -> Page[TimeEntry]: ...
    async def count_entries(self, user: User, filter: EntryFilter) -> int: ...
