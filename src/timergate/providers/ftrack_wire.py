"""ftrack's JSON operations API, typed at the edge and turned into domain values at once.

Everything goes to one endpoint, ``POST {server}/api``, as a JSON array of operations
(``query``, ``create``, ``update``, ``delete``, ``query_server_information``); the answer is
an array of results in the same order, or, when anything failed, one error object
``{"exception", "content", "error_code"}`` (with HTTP 200) and none of the batch happened.

Datetimes travel as ``{"__type__": "datetime", "value": "2024-03-01T09:30:00"}``: with
timezone support on (which the adapter requires) every value is UTC, and the server answers
naive values. ftrack keeps whole seconds. Ids are uuids, which lets a client choose the id of
what it creates: the adapter does, so that a batch whose answer was lost can be recognised
by reading whether that id exists.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from timergate.domain import TimeEntry, TimerContext, TimerDetails, TimerState, local_date
from timergate.providers.timer_book import VendorTimer

__all__ = [
    "SERVER_INFORMATION",
    "TIMELOG_FIELDS",
    "TIMER_FIELDS",
    "FtrackContextJSON",
    "FtrackRefused",
    "FtrackTimelogJSON",
    "FtrackTimerJSON",
    "Operation",
    "context_json",
    "context_key",
    "context_of",
    "create",
    "decode_datetime",
    "delete",
    "encode_datetime",
    "entry_from_json",
    "is_ftrack_id",
    "naive_utc",
    "on_day",
    "query",
    "quoted",
    "results_of",
    "timer_snapshot",
    "update",
    "whole_seconds",
]

Operation = dict[str, Any]

SERVER_INFORMATION: Operation = {"action": "query_server_information"}

#: What the adapter reads of a Timer and of a Timelog (their context with its parent, for
#: a title such as ``sh010 / Compositing``).
TIMER_FIELDS = "id, user_id, start, comment, name, context_id, context.name, context.parent.name"
TIMELOG_FIELDS = (
    "id, user_id, start, duration, comment, name, context_id, context.name, context.parent.name"
)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class FtrackDatetimeJSON(TypedDict):
    __type__: str
    value: str


class FtrackParentJSON(TypedDict, total=False):
    __entity_type__: str
    id: str
    name: str


class FtrackContextJSON(TypedDict, total=False):
    __entity_type__: str
    id: str
    name: str
    parent: FtrackParentJSON | None


class FtrackTimerJSON(TypedDict):
    id: str
    user_id: str
    start: FtrackDatetimeJSON
    comment: str | None
    name: str | None
    context_id: str | None
    context: FtrackContextJSON | None


class FtrackTimelogJSON(TypedDict):
    id: str
    user_id: str | None
    start: FtrackDatetimeJSON
    duration: float
    comment: str | None
    name: str | None
    context_id: str | None
    context: FtrackContextJSON | None


class FtrackRefused(Exception):
    """ftrack answered a batch with its error object; none of the batch happened."""

    def __init__(self, exception: str, content: str) -> None:
        super().__init__(exception)
        self.exception = exception
        self.content = content


# Operations.


def query(expression: str) -> Operation:
    return {"action": "query", "expression": expression}


def create(entity_type: str, id_: str, data: dict[str, Any]) -> Operation:
    return {
        "action": "create",
        "entity_type": entity_type,
        "entity_key": [id_],
        "entity_data": {"__entity_type__": entity_type, "id": id_, **data},
    }


def update(entity_type: str, id_: str, data: dict[str, Any]) -> Operation:
    return {
        "action": "update",
        "entity_type": entity_type,
        "entity_key": [id_],
        "entity_data": {"__entity_type__": entity_type, **data},
    }


def delete(entity_type: str, id_: str) -> Operation:
    return {"action": "delete", "entity_type": entity_type, "entity_key": [id_]}


def results_of(raw: Any, expected: int) -> list[Any]:
    """The results of a batch of ``expected`` operations, or :class:`FtrackRefused`.

    Raises ValueError when the answer is neither (not ftrack, or broken).
    """
    if isinstance(raw, dict) and "exception" in raw:
        content = raw.get("content")
        raise FtrackRefused(str(raw["exception"]), content if isinstance(content, str) else "")
    if not isinstance(raw, list) or len(raw) != expected:
        raise ValueError("not one result per operation")
    return raw


# Values in queries.


def is_ftrack_id(text: str) -> bool:
    """Whether ``text`` can be an ftrack id (a uuid); nothing else goes into a query."""
    return bool(_UUID.fullmatch(text))


def quoted(text: str) -> str:
    """``text`` as a quoted string of ftrack's query language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Datetimes.


def whole_seconds(instant: datetime) -> datetime:
    """``instant`` in UTC without its fraction of a second (ftrack keeps whole seconds)."""
    return instant.astimezone(UTC).replace(microsecond=0)


def encode_datetime(instant: datetime) -> FtrackDatetimeJSON:
    return {"__type__": "datetime", "value": whole_seconds(instant).isoformat()}


def naive_utc(instant: datetime) -> str:
    """How a datetime is written inside a query: naive UTC."""
    return whole_seconds(instant).replace(tzinfo=None).isoformat()


def decode_datetime(raw: Any) -> datetime | None:
    """A tagged (or plain ISO) datetime; naive values are UTC. ``None`` if it is neither."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def on_day(instant: datetime, day: date, time_zone: str) -> datetime:
    """``instant`` moved to ``day`` at the same local time of day in ``time_zone``."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return datetime.combine(day, local.time(), ZoneInfo(time_zone)).astimezone(UTC)


# Domain values.


def context_of(raw: FtrackContextJSON | None) -> TimerContext | None:
    """A Timer's or Timelog's context (a Task, say), titled with its parent's name."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    name = raw.get("name") or None
    parent = raw.get("parent")
    parent_name = parent.get("name") if isinstance(parent, dict) else None
    title = f"{parent_name} / {name}" if parent_name and name else name
    return TimerContext(str(raw.get("__entity_type__") or "Context"), raw["id"], title)


def context_json(context: TimerContext | None) -> FtrackContextJSON | None:
    """A context kept by timergate, as ftrack writes one (its title standing as its name)."""
    if context is None:
        return None
    json: FtrackContextJSON = {"__entity_type__": context.type, "id": context.id}
    if context.title:
        json["name"] = context.title
    return json


def context_key(context: TimerContext | None) -> tuple[str, str] | None:
    """What names a context: its type and id (a title is ftrack's to tell)."""
    return None if context is None else (context.type, context.id)


def _details(comment: str | None, context: FtrackContextJSON | None) -> TimerDetails:
    # ftrack has no tags and no billable flag: time logs are simply time worked.
    return TimerDetails(description=comment or None, context=context_of(context))


def timer_snapshot(raw: FtrackTimerJSON, seen_at: datetime) -> VendorTimer:
    """A running ftrack Timer as the timer book takes it (ftrack has no other state)."""
    start = decode_datetime(raw.get("start")) or seen_at
    return VendorTimer(
        id=raw["id"],
        state=TimerState.RUNNING,
        elapsed=max(seen_at - start, timedelta(0)),
        details=_details(raw.get("comment"), raw.get("context")),
        seen_at=seen_at,
    )


def entry_from_json(
    raw: FtrackTimelogJSON, *, user_id: int, provider: str, time_zone: str, now: datetime
) -> TimeEntry:
    """A Timelog as a time entry. ftrack keeps no creation time: its end stands in."""
    started_at = decode_datetime(raw.get("start")) or now
    duration = max(round(float(raw.get("duration") or 0)), 0)
    ended_at = started_at + timedelta(seconds=duration)
    return TimeEntry(
        id=raw["id"],
        user_id=user_id,
        provider=provider,
        timer_id=None,
        details=_details(raw.get("comment"), raw.get("context")),
        started_at=started_at,
        ended_at=ended_at,
        duration_seconds=duration,
        date=local_date(started_at, time_zone),
        created_at=ended_at,
        updated_at=ended_at,
        version=1,
    )
