"""Noko's JSON, typed at the edge and turned into domain values at once.

Noko keeps one timer per project and user; a timer reports its seconds so far and its entry
date, but no start instant. An entry records a day and whole minutes, not a time of day: its
``started_at`` here is the start of that day in the user's time zone. ``#hashtags`` in a
description are Noko's tags.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from timergate.domain import TimeEntry, TimerContext, TimerDetails, TimerState
from timergate.providers.timer_book import VendorTimer

__all__ = [
    "NokoEntryJSON",
    "NokoProjectJSON",
    "NokoTimerJSON",
    "entry_from_json",
    "hashtags",
    "native_timer_id",
    "split_timer_id",
    "timer_snapshot",
    "with_tags",
]

_HASHTAG = re.compile(r"(?:^|\s)#([^\s#,]+)")
_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)
_STATES = {"running": TimerState.RUNNING, "paused": TimerState.PAUSED, "pending": TimerState.PAUSED}


class NokoProjectJSON(TypedDict):
    id: int
    name: str
    billing_increment: int
    billable: bool


class NokoTimerJSON(TypedDict):
    id: int
    state: str
    seconds: int
    date: str
    description: str | None
    project: NokoProjectJSON


class NokoEntryJSON(TypedDict):
    id: int
    date: str
    minutes: int
    description: str | None
    billable: bool
    project: NokoProjectJSON | None
    created_at: str
    updated_at: str


def native_timer_id(project_id: int | str, timer_id: int | str) -> str:
    """Our id of a Noko timer: its project (which every call needs) and its own id."""
    return f"{project_id}-{timer_id}"


def split_timer_id(native: str) -> tuple[str, int] | None:
    project, sep, timer = native.partition("-")
    if not sep or not project.isdigit() or not timer.isdigit() or not project.isascii():
        return None
    return project, int(timer)


def hashtags(description: str | None) -> tuple[str, ...]:
    """The tags a Noko description carries, in order, without repeats."""
    if not description:
        return ()
    return tuple(dict.fromkeys(m.group(1) for m in _HASHTAG.finditer(description)))


def with_tags(description: str | None, tags: tuple[str, ...]) -> str:
    """``description`` with a ``#tag`` for each tag it does not carry yet."""
    text = description or ""
    present = {t.lower() for t in hashtags(text)}
    missing = [f"#{t.replace(' ', '-')}" for t in tags if t.lower() not in present]
    return " ".join(part for part in (text, *missing) if part)


def _details(description: str | None, project: NokoProjectJSON | None) -> TimerDetails:
    context = (
        TimerContext("project", str(project["id"]), project.get("name"))
        if project is not None
        else None
    )
    billable = bool(project.get("billable", True)) if project is not None else True
    return TimerDetails(
        description=description or None,
        context=context,
        tags=hashtags(description),
        billable=billable,
    )


def timer_snapshot(raw: NokoTimerJSON, seen_at: datetime) -> VendorTimer:
    return VendorTimer(
        id=native_timer_id(raw["project"]["id"], raw["id"]),
        state=_STATES.get(raw["state"], TimerState.PAUSED),
        elapsed=timedelta(seconds=int(raw["seconds"])),
        details=_details(raw.get("description"), raw["project"]),
        seen_at=seen_at,
    )


def _instant(text: str | None, fallback: datetime) -> datetime:
    if not text:
        return fallback
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):  # past year 1 or 9999 in UTC
        return fallback


def day_start(day: date, time_zone: str) -> datetime:
    """The first instant of ``day`` in ``time_zone``, in UTC (the first representable instant
    for 0001-01-01 east of UTC)."""
    try:
        return datetime.combine(day, time(0), ZoneInfo(time_zone)).astimezone(UTC)
    except OverflowError:
        return _FIRST_INSTANT


def _end(started_at: datetime, minutes: int) -> datetime:
    """Where an entry of ``minutes`` from ``started_at`` ends; Noko keeps only a date and
    minutes, so one dated near the end of 9999 ends at the last instant there is."""
    span = timedelta(minutes=minutes)
    return _LAST_INSTANT if span > _LAST_INSTANT - started_at else started_at + span


def entry_from_json(
    raw: NokoEntryJSON, *, user_id: int, provider: str, time_zone: str, now: datetime
) -> TimeEntry:
    day = date.fromisoformat(raw["date"])
    minutes = int(raw["minutes"])
    started_at = day_start(day, time_zone)
    created = _instant(raw.get("created_at"), now)
    details = _details(raw.get("description"), raw.get("project"))
    return TimeEntry(
        id=str(raw["id"]),
        user_id=user_id,
        provider=provider,
        timer_id=None,
        details=TimerDetails(
            description=details.description,
            context=details.context,
            tags=details.tags,
            billable=bool(raw.get("billable", details.billable)),
        ),
        started_at=started_at,
        ended_at=_end(started_at, minutes),
        duration_seconds=minutes * 60,
        date=day,
        created_at=created,
        updated_at=_instant(raw.get("updated_at"), created),
        # Noko keeps no version; its last change instant stands in (it only grows).
        version=int(_instant(raw.get("updated_at"), created).timestamp()),
    )
