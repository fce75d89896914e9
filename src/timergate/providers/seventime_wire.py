"""Seven Time's JSON, typed at the edge, and the notes timergate keeps beside it.

A Seven Time timer runs for one user on up to five objects at once (customer, project, work
order, task, time category); its context here is the most specific of them, named by the
JSON key (``{type: "project", id}``). Instants carry milliseconds, so a time log's span is
exact: its seconds come from ``timestamp``/``endTimestamp``, not from ``time`` (decimal hours).

Seven Time cannot pause: timergate pauses by stopping (the running stretch becomes a time
log) and resumes by starting a new Seven Time timer on the same objects. A
:class:`TimerRecord` ties those stretches to one timergate timer, in the connection's notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from timergate.domain import TimeEntry, TimerContext, TimerDetails, local_date

__all__ = [
    "COLLECTIONS",
    "OBJECT_KINDS",
    "PARENT_KINDS",
    "TITLE_FIELDS",
    "Segment",
    "SevenTimeLogJSON",
    "SevenTimeTimerJSON",
    "TimerRecord",
    "entry_from_log",
    "filter_instant",
    "instant",
    "objects_of",
    "primary_object",
    "safe_id",
    "seconds_of",
]

#: The objects a timer can run on, most specific first (the first present is its context).
OBJECT_KINDS = ("task", "workOrder", "project", "customer", "timeCategory")
COLLECTIONS = {
    "task": "tasks",
    "workOrder": "workOrders",
    "project": "projects",
    "customer": "customers",
    "timeCategory": "timeCategories",
}
TITLE_FIELDS = {
    "task": "title",
    "workOrder": "title",
    "project": "name",
    "customer": "name",
    "timeCategory": "name",
}
#: The objects a timer on a kind also runs on, read from that object (for prices and reports).
PARENT_KINDS = {
    "task": ("project", "customer"),
    "workOrder": ("project", "customer"),
    "project": ("customer",),
}

#: What may go into a URL path as an id (Seven Time's are 24-hex-digit ObjectIds).
_SAFE_ID = re.compile(r"[A-Za-z0-9]{1,64}")


class SevenTimeTimerJSON(TypedDict, total=False):
    _id: str
    user: str
    startTimestamp: str
    customer: str | None
    project: str | None
    workOrder: str | None
    timeCategory: str | None
    task: str | None


class SevenTimeLogJSON(TypedDict, total=False):
    _id: str
    user: str
    timestamp: str
    endTimestamp: str
    createDate: str
    time: float
    description: str | None
    isInvoiceable: bool
    isInvoiced: bool
    customer: str | None
    project: str | None
    workOrder: str | None
    timeCategory: str | None
    task: str | None


def safe_id(value: str) -> bool:
    """Whether ``value`` can be sent as an id in a path (no slashes, dots or escapes)."""
    return _SAFE_ID.fullmatch(value) is not None


def instant(text: Any) -> datetime | None:
    """``2024-10-15T14:21:02.720Z`` as an aware UTC datetime (``None`` if it is not one)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def filter_instant(at: datetime) -> str:
    """How Seven Time's time-log filters take an instant: ``YYYY-MM-DD HH:MM:SS``, UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def seconds_of(span: timedelta) -> int:
    # Both ends are cut to milliseconds; rounding gives back the whole seconds that ran.
    return max(round(span.total_seconds()), 0)


def objects_of(raw: SevenTimeTimerJSON | SevenTimeLogJSON) -> dict[str, str]:
    """The objects a timer or time log is on, by kind."""
    found: dict[str, str] = {}
    for kind in OBJECT_KINDS:
        value = raw.get(kind)
        if isinstance(value, str) and value:
            found[kind] = value
    return found


def primary_object(objects: dict[str, str]) -> tuple[str, str] | None:
    """The most specific object: what timergate shows as the context."""
    for kind in OBJECT_KINDS:
        if kind in objects:
            return kind, objects[kind]
    return None


@dataclass(frozen=True, slots=True)
class Segment:
    """One running stretch of a timer, saved by Seven Time as the time log ``log_id``."""

    log_id: str
    started: datetime
    ended: datetime

    @property
    def span(self) -> timedelta:
        return self.ended - self.started


@dataclass(slots=True)
class TimerRecord:
    """What timergate keeps of one of its timers at Seven Time.

    ``id`` is the timergate timer's id: the Seven Time id of its first running stretch.
    ``running`` is the Seven Time timer of the stretch running now (``None`` while paused).
    Description and tags live only here: Seven Time's timers have neither.
    """

    id: str
    objects: dict[str, str]
    context: TimerContext | None
    started_at: datetime
    updated_at: datetime
    running: str | None
    description: str | None = None
    tags: tuple[str, ...] = ()
    segments: list[Segment] = field(default_factory=list)
    #: Edits of the description or tags (each one a new version).
    edits: int = 0

    @property
    def accumulated(self) -> timedelta:
        return sum((s.span for s in self.segments), timedelta(0))

    def version(self, *, running: bool) -> int:
        """Grows with every pause, resume and edit, and survives restarts: a running timer's
        version is odd, a paused one's even."""
        return 2 * (len(self.segments) + self.edits) + (1 if running else 0)

    def details(self) -> TimerDetails:
        return TimerDetails(description=self.description, context=self.context, tags=self.tags)

    def to_json(self) -> dict[str, Any]:
        context = self.context
        return {
            "objects": self.objects,
            "context": None if context is None else [context.type, context.id, context.title],
            "startedAt": self.started_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
            "running": self.running,
            "description": self.description,
            "tags": list(self.tags),
            "segments": [
                [s.log_id, s.started.isoformat(), s.ended.isoformat()] for s in self.segments
            ],
            "edits": self.edits,
        }

    @classmethod
    def from_json(cls, timer_id: str, raw: dict[str, Any]) -> TimerRecord:
        context = raw.get("context")
        return cls(
            id=timer_id,
            objects={str(k): str(v) for k, v in (raw.get("objects") or {}).items()},
            context=TimerContext(context[0], context[1], context[2]) if context else None,
            started_at=datetime.fromisoformat(raw["startedAt"]),
            updated_at=datetime.fromisoformat(raw["updatedAt"]),
            running=raw.get("running"),
            description=raw.get("description"),
            tags=tuple(raw.get("tags") or ()),
            segments=[
                Segment(log_id, datetime.fromisoformat(a), datetime.fromisoformat(b))
                for log_id, a, b in raw.get("segments") or ()
            ],
            edits=int(raw.get("edits", 0)),
        )


def entry_from_log(
    raw: SevenTimeLogJSON,
    *,
    user_id: int,
    provider: str,
    time_zone: str,
    context: TimerContext | None,
    seen_at: datetime,
) -> TimeEntry:
    """A time log as a :class:`TimeEntry`; its seconds come from its two timestamps."""
    started = instant(raw.get("timestamp")) or seen_at
    ended = instant(raw.get("endTimestamp"))
    if ended is None:
        # A log without an end (never made by a timer) only has its hours to go by.
        ended = started + timedelta(hours=float(raw.get("time") or 0))
    ended = max(ended, started)
    created = instant(raw.get("createDate")) or ended
    return TimeEntry(
        id=str(raw["_id"]),
        user_id=user_id,
        provider=provider,
        # Seven Time's time logs do not name the timer that saved them.
        timer_id=None,
        details=TimerDetails(
            description=raw.get("description") or None,
            context=context,
            billable=bool(raw.get("isInvoiceable", True)),
        ),
        started_at=started,
        ended_at=ended,
        duration_seconds=seconds_of(ended - started),
        date=local_date(started, time_zone),
        created_at=created,
        updated_at=created,
        # timergate does not edit time logs; one version is all it sees.
        version=1,
    )
