"""Time entries made or edited by hand: derive the missing one of end and duration."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from timergate.domain.limits import (
    INSTANTS_BEFORE,
    MAX_DURATION_SECONDS,
    check_date,
    check_duration_seconds,
    check_instant,
)
from timergate.domain.timer import (
    UNSET,
    TimeEntry,
    TimerContext,
    TimerDetails,
    Unset,
    changed_details,
    local_date,
)
from timergate.errors import BadUserInput

__all__ = ["EntryChanges", "edit_entry", "new_entry"]


@dataclass(frozen=True, slots=True)
class EntryChanges:
    """An edit of an entry; ``UNSET`` fields stay as they are."""

    description: str | Unset | None = UNSET
    context: TimerContext | Unset | None = UNSET
    tags: tuple[str, ...] | Unset = UNSET
    billable: bool | Unset = UNSET
    started_at: datetime | Unset = UNSET
    ended_at: datetime | Unset = UNSET
    duration_seconds: int | Unset = UNSET
    date: date | Unset = UNSET


def _span(
    started_at: datetime, ended_at: datetime | None, duration_seconds: int | None, prefix: str
) -> tuple[datetime, datetime, int]:
    started_at = check_instant(started_at, field=f"{prefix}.startedAt")
    if duration_seconds is not None:
        check_duration_seconds(duration_seconds, field=f"{prefix}.durationSeconds")
    if ended_at is None:
        if duration_seconds is None:
            raise BadUserInput(
                f"Give {prefix}.endedAt or {prefix}.durationSeconds.", field=f"{prefix}.endedAt"
            )
        duration = timedelta(seconds=duration_seconds)
        # Compared before adding: the sum itself could leave datetime's range.
        if duration >= INSTANTS_BEFORE - started_at:
            raise BadUserInput(
                f"{prefix}.startedAt plus {prefix}.durationSeconds ends at or after "
                f"{INSTANTS_BEFORE.isoformat()}, the end of the accepted range.",
                field=f"{prefix}.durationSeconds",
            )
        return started_at, started_at + duration, duration_seconds
    ended_at = check_instant(ended_at, field=f"{prefix}.endedAt")
    if ended_at < started_at:
        raise BadUserInput(
            f"{prefix}.endedAt ({ended_at.isoformat()}) is before {prefix}.startedAt "
            f"({started_at.isoformat()}).",
            field=f"{prefix}.endedAt",
        )
    span = int((ended_at - started_at).total_seconds())
    if span > MAX_DURATION_SECONDS:
        raise BadUserInput(
            f"An entry spans at most {MAX_DURATION_SECONDS}s (366 days); this one spans {span}s.",
            field=f"{prefix}.endedAt",
        )
    # A given duration wins over the span: it may be rounded, or exclude breaks.
    return started_at, ended_at, span if duration_seconds is None else duration_seconds


def new_entry(
    *,
    user_id: int,
    provider: str,
    details: TimerDetails,
    started_at: datetime,
    ended_at: datetime | None,
    duration_seconds: int | None,
    entry_date: date | None,
    time_zone: str,
    now: datetime,
) -> TimeEntry:
    """An entry entered by hand, with no timer behind it."""
    start, end, duration = _span(started_at, ended_at, duration_seconds, "input")
    return TimeEntry(
        id="",
        user_id=user_id,
        provider=provider,
        timer_id=None,
        details=details,
        started_at=start,
        ended_at=end,
        duration_seconds=duration,
        date=(
            local_date(start, time_zone)
            if entry_date is None
            else check_date(entry_date, field="input.date")
        ),
        created_at=now,
        updated_at=now,
        version=1,
    )


def edit_entry(
    entry: TimeEntry, changes: EntryChanges, *, time_zone: str, now: datetime
) -> TimeEntry:
    """Apply ``changes``; a moved start or end re-derives the duration unless one is given."""
    times_changed = not (
        isinstance(changes.started_at, Unset)
        and isinstance(changes.ended_at, Unset)
        and isinstance(changes.duration_seconds, Unset)
    )
    start, end, duration = entry.started_at, entry.ended_at, entry.duration_seconds
    if times_changed:
        new_start = (
            entry.started_at if isinstance(changes.started_at, Unset) else changes.started_at
        )
        given_end = None if isinstance(changes.ended_at, Unset) else changes.ended_at
        given_duration = (
            None if isinstance(changes.duration_seconds, Unset) else changes.duration_seconds
        )
        if given_end is None and given_duration is None:
            given_end = entry.ended_at  # only the start moved: keep the end
        start, end, duration = _span(new_start, given_end, given_duration, "input")
    if isinstance(changes.date, Unset):
        entry_date = local_date(start, time_zone) if start != entry.started_at else entry.date
    else:
        entry_date = check_date(changes.date, field="input.date")
    details = changed_details(entry.details, changes)
    edited = replace(
        entry,
        details=details,
        started_at=start,
        ended_at=end,
        duration_seconds=duration,
        date=entry_date,
    )
    if edited == entry:
        return entry
    return replace(edited, updated_at=now, version=entry.version + 1)
