"""The timer state machine: pure functions from a timer and an instant to the next timer.

Elapsed time is never counted up; it is ``accumulated`` (closed running spans) plus the open
span since ``running_since``. Both are stored, so a restart loses nothing.

    start ──► RUNNING ──pause──► PAUSED ──resume──► RUNNING
                 │                  │
                 └──stop / log──────┴──► STOPPED (terminal, with a TimeEntry)
    cancel: RUNNING or PAUSED timer is discarded, no entry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from timergate.domain.limits import check_date, check_duration
from timergate.errors import Conflict, InvalidTransition

__all__ = [
    "UNSET",
    "TimeEntry",
    "Timer",
    "TimerChanges",
    "TimerContext",
    "TimerDetails",
    "TimerState",
    "Unset",
    "changed_details",
    "check_version",
    "elapsed",
    "elapsed_seconds",
    "ended",
    "local_date",
    "log",
    "new_timer",
    "pause",
    "require_open",
    "resume",
    "stop",
    "update",
]

_ZERO = timedelta(0)


class TimerState(enum.StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


class Unset(enum.Enum):
    """Marks a field an update leaves alone (distinct from setting it to ``None``)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


@dataclass(frozen=True, slots=True)
class TimerContext:
    """What the time is for, in the provider's terms (a task, a project, a ticket)."""

    type: str
    id: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class TimerDetails:
    """The fields a user chooses for a timer and its entry."""

    description: str | None = None
    context: TimerContext | None = None
    tags: tuple[str, ...] = ()
    billable: bool = True


@dataclass(frozen=True, slots=True)
class Timer:
    id: str
    user_id: int
    provider: str
    state: TimerState
    details: TimerDetails
    accumulated: timedelta
    running_since: datetime | None
    started_at: datetime
    updated_at: datetime
    version: int
    entry_id: str | None = None


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """Recorded time: from a stopped or logged timer, or entered by hand."""

    id: str
    user_id: int
    provider: str
    timer_id: str | None
    details: TimerDetails
    started_at: datetime
    ended_at: datetime
    duration_seconds: int
    date: date
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class TimerChanges:
    """An edit of a timer; ``UNSET`` fields stay as they are."""

    description: str | Unset | None = UNSET
    context: TimerContext | Unset | None = UNSET
    tags: tuple[str, ...] | Unset = UNSET
    billable: bool | Unset = UNSET
    elapsed: timedelta | Unset = UNSET


def local_date(instant: datetime, time_zone: str) -> date:
    """The calendar date of ``instant`` in ``time_zone`` (an IANA name)."""
    return instant.astimezone(ZoneInfo(time_zone)).date()


def elapsed(timer: Timer, now: datetime) -> timedelta:
    """Time the timer has run up to ``now``; never negative, never counting pauses."""
    if timer.running_since is None:
        return timer.accumulated
    # A clock that stepped backwards must not take time away.
    return timer.accumulated + max(now - timer.running_since, _ZERO)


def elapsed_seconds(timer: Timer, now: datetime) -> int:
    return int(elapsed(timer, now).total_seconds())


def check_version(kind: str, current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise Conflict(
            f"The {kind} is at version {current}, not {expected}: it changed since you read it. "
            "Read it again and retry.",
            current_version=current,
        )


def require_open(timer: Timer, action: str) -> None:
    """Refuse ``action`` on a stopped timer."""
    if timer.state is TimerState.STOPPED:
        raise InvalidTransition(
            f"Cannot {action} a STOPPED timer; its time is already recorded as an entry.",
            state=timer.state.value,
        )


def new_timer(
    *, user_id: int, provider: str, details: TimerDetails, now: datetime, timer_id: str = ""
) -> Timer:
    """A timer running from ``now``."""
    now = now.astimezone(UTC)
    return Timer(
        id=timer_id,
        user_id=user_id,
        provider=provider,
        state=TimerState.RUNNING,
        details=details,
        accumulated=_ZERO,
        running_since=now,
        started_at=now,
        updated_at=now,
        version=1,
    )


def pause(timer: Timer, now: datetime) -> Timer:
    """RUNNING → PAUSED, keeping the time so far; a PAUSED timer is returned unchanged."""
    require_open(timer, "pause")
    now = now.astimezone(UTC)
    if timer.state is TimerState.PAUSED:
        return timer
    return replace(
        timer,
        state=TimerState.PAUSED,
        accumulated=elapsed(timer, now),
        running_since=None,
        updated_at=now,
        version=timer.version + 1,
    )


def resume(timer: Timer, now: datetime) -> Timer:
    """PAUSED → RUNNING from ``now``; a RUNNING timer is returned unchanged."""
    require_open(timer, "resume")
    # In UTC, so later arithmetic counts true time even across a DST change.
    now = now.astimezone(UTC)
    if timer.state is TimerState.RUNNING:
        return timer
    return replace(
        timer,
        state=TimerState.RUNNING,
        running_since=now,
        updated_at=now,
        version=timer.version + 1,
    )


def _close(timer: Timer, now: datetime, action: str) -> Timer:
    require_open(timer, action)
    return ended(timer, now)


def ended(timer: Timer, now: datetime) -> Timer:
    """The timer STOPPED at ``now`` with its time so far (as a stop leaves it, or as a vendor
    left it that ended the timer on its own)."""
    now = now.astimezone(UTC)
    return replace(
        timer,
        state=TimerState.STOPPED,
        accumulated=elapsed(timer, now),
        running_since=None,
        updated_at=now,
        version=timer.version + 1,
    )


def stop(timer: Timer, now: datetime, *, time_zone: str) -> tuple[Timer, TimeEntry]:
    """End the timer at ``now``; the entry records its elapsed time as it stands."""
    stopped = _close(timer, now, "stop")
    return stopped, _entry_for(stopped, now, time_zone=time_zone)


def log(
    timer: Timer,
    now: datetime,
    *,
    time_zone: str,
    description: str | Unset | None = UNSET,
    entry_date: date | None = None,
    duration: timedelta | None = None,
    billable: bool | None = None,
) -> tuple[Timer, TimeEntry]:
    """Like :func:`stop`, with the entry's description, date, duration and billable chosen."""
    if duration is not None:
        check_duration(duration, field="input.durationSeconds")
    if entry_date is not None:
        check_date(entry_date, field="input.date")
    stopped = _close(timer, now, "log")
    entry = _entry_for(stopped, now, time_zone=time_zone)
    details = entry.details
    if not isinstance(description, Unset):
        details = replace(details, description=description)
    if billable is not None:
        details = replace(details, billable=billable)
    return stopped, replace(
        entry,
        details=details,
        date=entry_date or entry.date,
        duration_seconds=(
            int(duration.total_seconds()) if duration is not None else entry.duration_seconds
        ),
    )


def _entry_for(stopped: Timer, now: datetime, *, time_zone: str) -> TimeEntry:
    return TimeEntry(
        id="",
        user_id=stopped.user_id,
        provider=stopped.provider,
        timer_id=stopped.id,
        details=stopped.details,
        started_at=stopped.started_at,
        ended_at=now,
        duration_seconds=int(stopped.accumulated.total_seconds()),
        date=local_date(stopped.started_at, time_zone),
        created_at=now,
        updated_at=now,
        version=1,
    )


class _DetailChanges(Protocol):
    @property
    def description(self) -> str | Unset | None: ...
    @property
    def context(self) -> TimerContext | Unset | None: ...
    @property
    def tags(self) -> tuple[str, ...] | Unset: ...
    @property
    def billable(self) -> bool | Unset: ...


def changed_details(details: TimerDetails, changes: _DetailChanges) -> TimerDetails:
    """``details`` with every field that ``changes`` sets replaced."""
    d, c = details, changes
    return TimerDetails(
        description=d.description if isinstance(c.description, Unset) else c.description,
        context=d.context if isinstance(c.context, Unset) else c.context,
        tags=d.tags if isinstance(c.tags, Unset) else c.tags,
        billable=d.billable if isinstance(c.billable, Unset) else c.billable,
    )


def update(timer: Timer, changes: TimerChanges, now: datetime) -> Timer:
    """Apply ``changes``; the elapsed time can only be set while the timer is PAUSED."""
    require_open(timer, "update")
    details = changed_details(timer.details, changes)
    accumulated = timer.accumulated
    if not isinstance(changes.elapsed, Unset):
        if timer.state is not TimerState.PAUSED:
            raise InvalidTransition(
                "The elapsed time can only be set while the timer is PAUSED; pause it first.",
                state=timer.state.value,
            )
        accumulated = check_duration(changes.elapsed, field="input.elapsedSeconds")
    if details == timer.details and accumulated == timer.accumulated:
        return timer
    return replace(
        timer, details=details, accumulated=accumulated, updated_at=now, version=timer.version + 1
    )
