"""Accelo's JSON, typed at the edge and turned into domain values at once.

Every API answer is the envelope ``{"meta": {"status", "message", "more_info"}, "response": …}``
with numbers as JSON strings and dates as unix seconds. A timer has two statuses: ``running``,
and ``stopped``, which here is PAUSED (a stopped Accelo timer keeps its seconds and can be
started again; a timer that is done is logged and removed). Logged time lives in activities:
``billable`` and ``nonbillable`` seconds on a note owned by the staff member.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from timergate.domain import TimeEntry, TimerContext, TimerDetails, TimerState, local_date
from timergate.providers.timer_book import VendorTimer

__all__ = [
    "ACTIVITY_FIELDS",
    "BILLABLE_AGAINST",
    "MAX_SUBJECT_LENGTH",
    "TIMER_FIELDS",
    "AcceloActivityJSON",
    "AcceloTimerJSON",
    "Envelope",
    "TokenInfoJSON",
    "WireError",
    "entry_from_activity",
    "logged_seconds",
    "may_bill",
    "number",
    "read_envelope",
    "timer_snapshot",
    "unix",
]

#: Objects an activity may carry billable time against (anything else logs non-billable).
BILLABLE_AGAINST = frozenset({"issue", "job", "milestone", "contract", "contract_period"})


def may_bill(object_type: str) -> bool:
    """Whether time on this object may be billable (a task's time goes to its parent: a job,
    issue or milestone, as a rule)."""
    return object_type.lower() in BILLABLE_AGAINST or object_type.lower() == "task"


#: Accelo documents no limit; its subjects are short text, and longer ones are refused.
MAX_SUBJECT_LENGTH = 255
TIMER_FIELDS = "status,against_type,against_id,against_title,staff_id"
ACTIVITY_FIELDS = (
    "against_type,against_id,owner_type,owner_id,date_started,date_ended,date_logged,"
    "date_created,date_modified,billable,nonbillable,time_allocation,breadcrumbs"
)


class WireError(ValueError):
    """Accelo answered something that is not what its API documents."""


class AcceloTimerJSON(TypedDict, total=False):
    id: str
    subject: str
    seconds: str
    status: str
    against_type: str | None
    against_id: str | None
    against_title: str | None
    staff_id: str


class BreadcrumbJSON(TypedDict):
    id: str
    table: str
    title: str


class AcceloActivityJSON(TypedDict, total=False):
    id: str
    subject: str
    against_type: str
    against_id: str
    owner_type: str
    owner_id: str
    date_started: str | None
    date_ended: str | None
    date_logged: str | None
    date_created: str | None
    date_modified: str | None
    billable: str
    nonbillable: str
    time_allocation: str
    breadcrumbs: list[BreadcrumbJSON]


class TokenInfoJSON(TypedDict, total=False):
    staff_id: str | None
    expiry_date: str | None
    deployment: str


class Envelope(TypedDict):
    status: str
    message: str
    response: Any


def read_envelope(body: Any) -> Envelope | None:
    """``meta.status``, ``meta.message`` and ``response`` of an answer; ``None`` when the body is
    no envelope. The lockout answer may come flat (``{"status", "message"}``): read it too."""
    if not isinstance(body, dict):
        return None
    meta = body.get("meta")
    source = meta if isinstance(meta, dict) else body
    status = source.get("status")
    if not isinstance(status, str):
        return None
    message = source.get("message")
    return Envelope(
        status=status,
        message=message.strip() if isinstance(message, str) else "",
        response=body.get("response"),
    )


def number(value: Any, *, default: int | None = None) -> int:
    """One of Accelo's numbers, sent as a string ("95") or, now and then, as a number."""
    if isinstance(value, bool):
        raise WireError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if default is not None and value in (None, ""):
        return default
    raise WireError(f"expected a number, got {value!r}")


def unix(moment: datetime) -> int:
    """Accelo's dates: whole seconds since the epoch."""
    return int(moment.timestamp())


def _instant(value: Any) -> datetime | None:
    if value in (None, "", "0", 0):
        return None
    return datetime.fromtimestamp(number(value), UTC)


def _context(against_type: Any, against_id: Any, title: Any) -> TimerContext | None:
    if not isinstance(against_type, str) or not against_type or against_id in (None, "", "0"):
        return None
    return TimerContext(
        against_type, str(number(against_id)), title if isinstance(title, str) else None
    )


def timer_snapshot(raw: AcceloTimerJSON, seen_at: datetime, *, nonbillable: bool) -> VendorTimer:
    """A timer as Accelo showed it at ``seen_at``; ``nonbillable`` is the user's choice for a
    timer on an object that could take billable time."""
    if "id" not in raw or "seconds" not in raw:
        raise WireError("a timer without its id or seconds")
    context = _context(raw.get("against_type"), raw.get("against_id"), raw.get("against_title"))
    subject = raw.get("subject")
    return VendorTimer(
        id=str(number(raw["id"])),
        state=TimerState.RUNNING if raw.get("status") == "running" else TimerState.PAUSED,
        elapsed=timedelta(seconds=max(number(raw["seconds"]), 0)),
        details=TimerDetails(
            description=(subject.strip() or None) if isinstance(subject, str) else None,
            context=context,
            tags=(),
            billable=context is not None and may_bill(context.type) and not nonbillable,
        ),
        seen_at=seen_at,
    )


def logged_seconds(raw: AcceloActivityJSON) -> int:
    """The time an activity logs: its billable plus non-billable seconds."""
    return number(raw.get("billable"), default=0) + number(raw.get("nonbillable"), default=0)


def _title(raw: AcceloActivityJSON) -> str | None:
    crumbs = raw.get("breadcrumbs")
    if not isinstance(crumbs, list) or not crumbs or not isinstance(crumbs[0], dict):
        return None
    first = crumbs[0]
    same = first.get("table") == raw.get("against_type") and str(first.get("id")) == str(
        raw.get("against_id")
    )
    title = first.get("title")
    return title if same and isinstance(title, str) else None


def entry_from_activity(
    raw: AcceloActivityJSON, *, user_id: int, provider: str, time_zone: str, now: datetime
) -> TimeEntry:
    """The time entry an activity's logged time is."""
    if "id" not in raw:
        raise WireError("an activity without its id")
    seconds = logged_seconds(raw)
    created = _instant(raw.get("date_created")) or now
    started = _instant(raw.get("date_started")) or _instant(raw.get("date_logged")) or created
    ended = _instant(raw.get("date_ended"))
    if ended is None or ended < started:
        ended = started + timedelta(seconds=seconds)
    modified = _instant(raw.get("date_modified")) or created
    subject = raw.get("subject")
    return TimeEntry(
        id=str(number(raw["id"])),
        user_id=user_id,
        provider=provider,
        timer_id=None,
        details=TimerDetails(
            description=(subject.strip() or None) if isinstance(subject, str) else None,
            context=_context(raw.get("against_type"), raw.get("against_id"), _title(raw)),
            tags=(),
            billable=number(raw.get("billable"), default=0) > 0,
        ),
        started_at=started,
        ended_at=ended,
        duration_seconds=seconds,
        date=local_date(started, time_zone),
        created_at=created,
        updated_at=modified,
        # Accelo keeps no version; the last change instant stands in (it only grows).
        version=unix(modified),
    )
