"""Worksection's JSON, typed at the edge and turned into domain values at once.

Ids are numeric strings. A running timer (``get_timers``) reports its value at the moment of
the answer as ``"HH:MM:SS"`` (``get_my_timer`` as whole seconds) and its start only as the
account's local time to the minute, so elapsed time comes from the value. A cost (saved time)
keeps whole minutes (``"H:MM"``) on a local day, without a time of day: timergate's notes on
the costs it saved itself (:class:`CostNote`) give back the exact span. A timer runs on a
task, and what Worksection cannot keep (tags, a billable flag) is refused, not dropped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NotRequired, TypedDict
from zoneinfo import ZoneInfo

from timergate.domain import TimeEntry, TimerContext, TimerDetails, TimerState
from timergate.errors import BadUserInput
from timergate.providers.timer_book import VendorTimer

__all__ = [
    "CostJSON",
    "CostNote",
    "PersonJSON",
    "TaskJSON",
    "TimerJSON",
    "day_param",
    "entry_from_cost",
    "is_cost",
    "is_timer",
    "minutes_of",
    "owner_of",
    "refuse_unkept",
    "seconds_of",
    "task_id_of",
    "task_of",
    "timer_snapshot",
]


class PersonJSON(TypedDict):
    id: str
    email: NotRequired[str]
    name: NotRequired[str]


class ProjectRefJSON(TypedDict):
    id: str
    name: NotRequired[str]
    page: NotRequired[str]


class TaskJSON(TypedDict):
    id: str
    name: NotRequired[str]
    page: NotRequired[str]
    status: NotRequired[str]
    project: NotRequired[ProjectRefJSON]


class TimerJSON(TypedDict):
    """One running timer of ``get_timers``."""

    id: str
    time: str | int
    date_started: str
    user_from: PersonJSON
    task: TaskJSON


class CostJSON(TypedDict):
    """One cost of ``get_costs``: time entered on a task, by hand or by a timer's stop."""

    id: str
    comment: str
    time: str
    money: NotRequired[str]
    date: str
    is_timer: NotRequired[bool]
    user_from: PersonJSON
    task: TaskJSON


class CostNote(TypedDict):
    """What timergate noted when it stopped a timer and Worksection saved this cost."""

    timer: str
    task: str
    startedAt: str
    endedAt: str
    seconds: int
    #: Worksection's minutes as first saved: if they change, the cost was edited there.
    minutes: int


def seconds_of(value: Any) -> int:
    """A timer's value in seconds: whole seconds, or ``"HH:MM:SS"``; ``ValueError`` else."""
    if isinstance(value, bool):
        raise ValueError(f"not a timer value: {value!r}")
    if isinstance(value, int):
        return max(value, 0)
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"not a timer value: {value!r}")
    hours, minutes, seconds = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds


def minutes_of(value: Any) -> int:
    """A cost's time in minutes: ``"H:MM"`` (or ``"H:MM:SS"``, seconds dropped)."""
    parts = str(value).strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"not an amount of time: {value!r}")
    return int(parts[0]) * 60 + int(parts[1])


def _has_id(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("id"), str | int)


def is_timer(raw: Any) -> bool:
    """Whether ``raw`` has the shape of a ``get_timers`` item."""
    if not (_has_id(raw) and _has_id(raw.get("user_from")) and _has_id(raw.get("task"))):
        return False
    try:
        seconds_of(raw.get("time"))
    except ValueError:
        return False
    return True


def is_cost(raw: Any) -> bool:
    """Whether ``raw`` has the shape of a ``get_costs`` item."""
    if not (_has_id(raw) and _has_id(raw.get("user_from")) and _has_id(raw.get("task"))):
        return False
    try:
        minutes_of(raw.get("time"))
        _day(raw.get("date"))
    except ValueError:
        return False
    return True


def owner_of(raw: TimerJSON | CostJSON) -> str:
    return str(raw["user_from"]["id"])


def task_of(raw: TimerJSON | CostJSON) -> str:
    return str(raw["task"]["id"])


def day_param(day: date) -> str:
    """A day as ``get_costs`` takes it (``DD.MM.YYYY``)."""
    return day.strftime("%d.%m.%Y")


def _day(text: Any) -> date:
    for form in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(str(text), form).date()
        except ValueError:
            continue
    raise ValueError(f"not a day: {text!r}")


def _context(task: TaskJSON) -> TimerContext:
    return TimerContext("task", str(task["id"]), task.get("name") or None)


def timer_snapshot(raw: TimerJSON, description: str | None, seen_at: datetime) -> VendorTimer:
    """A running timer as seen at ``seen_at``; its description is timergate's note."""
    return VendorTimer(
        id=str(raw["id"]),
        state=TimerState.RUNNING,
        elapsed=timedelta(seconds=seconds_of(raw["time"])),
        details=TimerDetails(description=description, context=_context(raw["task"])),
        seen_at=seen_at,
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def entry_from_cost(
    raw: CostJSON, note: CostNote | None, *, user_id: int, provider: str, time_zone: str
) -> TimeEntry:
    """The entry a cost is. With timergate's note, the exact span it stopped (while
    Worksection's minutes still agree); without, whole minutes from the local day's start."""
    day = _day(raw["date"])
    minutes = minutes_of(raw["time"])
    if note is not None:
        started_at = _instant(note["startedAt"])
        noted_at = _instant(note["endedAt"])
    else:
        started_at = datetime.combine(day, time(0), ZoneInfo(time_zone)).astimezone(UTC)
        noted_at = started_at
    if note is not None and note["minutes"] == minutes:
        duration = int(note["seconds"])
        ended_at = noted_at
    else:
        duration = minutes * 60
        ended_at = started_at + timedelta(seconds=duration)
    return TimeEntry(
        id=str(raw["id"]),
        user_id=user_id,
        provider=provider,
        timer_id=note["timer"] if note is not None else None,
        details=TimerDetails(description=raw.get("comment") or None, context=_context(raw["task"])),
        started_at=started_at,
        ended_at=ended_at,
        duration_seconds=duration,
        date=day,
        created_at=noted_at,
        updated_at=noted_at,
        # Worksection keeps no version of a cost, and timergate cannot edit one.
        version=1,
    )


def task_id_of(details: TimerDetails) -> str:
    """The Worksection task a timer runs on (its context)."""
    context = details.context
    if context is None or context.type != "task" or not context.id.isascii():
        context_id = ""
    else:
        context_id = context.id
    if not context_id.isdigit():
        raise BadUserInput(
            'A Worksection timer runs on a task: give input.context {type: "task", id: <the '
            "Worksection task id>}.",
            field="input.context",
        )
    return context_id


def refuse_unkept(tags: tuple[str, ...], billable: bool | None) -> None:
    """Refuse what Worksection cannot keep rather than drop it."""
    if tags:
        raise BadUserInput(
            "Worksection keeps no tags on timers or costs; leave input.tags out.",
            field="input.tags",
        )
    if billable is False:
        raise BadUserInput(
            "Worksection has no billable flag (a cost's money follows the person's rate); "
            "leave input.billable out.",
            field="input.billable",
        )
