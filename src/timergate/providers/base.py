"""The provider interface: one source of one user's timers (our store, or a vendor's API).

A provider only talks to its backend. The rules that span providers (one running timer per
user, events after each change, merged reads) belong to the timer service, which calls a
provider only for operations its :attr:`Provider.capabilities` allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from timergate.domain import (
    After,
    EntryFilter,
    Page,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerDetails,
    TimerFilter,
    User,
)
from timergate.domain.connections import Capabilities
from timergate.domain.entry import EntryChanges
from timergate.domain.timer import UNSET, Unset

T = TypeVar("T")

__all__ = ["Changed", "LogRequest", "NewEntry", "Provider", "StartResult", "StopResult"]


@dataclass(frozen=True, slots=True)
class StopResult:
    """A stopped timer and the entry that keeps its time (either may be missing: a stop with
    nothing running, or a vendor that records time without an entry we can read back)."""

    timer: Timer | None
    entry: TimeEntry | None


@dataclass(frozen=True, slots=True)
class StartResult:
    timer: Timer
    #: This provider's timers that the start paused (one running timer per user).
    paused: list[Timer] = field(default_factory=list)
    #: This provider's timers that the start stopped because they cannot pause.
    stopped: list[StopResult] = field(default_factory=list)
    #: False when the timer was already running (a resume that changed nothing).
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Changed(Generic[T]):
    """An object after an operation, and whether the operation changed it."""

    value: T
    changed: bool = True


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

    Vendor failures leave as :class:`~timergate.errors.UpstreamError` subclasses naming
    :attr:`key`; nothing else of the vendor's (least of all a credential) leaves.

    Each operation gets the service's ``now``. Operations that may change nothing (pausing a
    paused timer, an edit to the same values) say whether they did, so the service publishes
    events only for real changes.
    """

    #: The provider part of its objects' ids: ``local``, or a connection's id.
    key: str
    #: What this provider does natively, emulates, or cannot do.
    capabilities: Capabilities
    #: How messages name it (e.g. ``Noko connection 'Work'``).
    name: str

    async def open(self) -> None:
        """Get ready to serve (e.g. an HTTP client from the vendor host's pool)."""
        ...

    async def close(self) -> None: ...

    async def verify(self) -> None:
        """A cheap authenticated call: raises if the backend refuses or cannot be reached."""
        ...

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        """A new running timer; this provider's own running timer is paused (or stopped)."""
        ...

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult: ...

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        """RUNNING to PAUSED; a PAUSED timer comes back unchanged (same version)."""
        ...

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult: ...

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> StopResult: ...

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        """Discard an open timer without an entry; returns it as it was."""
        ...

    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[Timer]: ...

    async def get_timer(self, user: User, timer_id: str) -> Timer | None: ...
    async def running_timers(self, user: User) -> list[Timer]: ...
    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        """Timers newest first by ``started_at`` (ties in the provider's own stable order)."""
        ...

    async def count_timers(self, user: User, filter: TimerFilter) -> int: ...

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry: ...
    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]: ...
    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry: ...
    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None: ...
    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        """Entries newest first by ``started_at`` (ties in the provider's own stable order)."""
        ...

    async def count_entries(self, user: User, filter: EntryFilter) -> int: ...
