"""What Accelo accepts from a user, checked before anything is sent: a timer's or activity's
subject, the object it is against, billable time, no tags, and seconds only while paused; the
time a timer logs; and how the gateway's entry filters read in Accelo's filter language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from timergate.domain import (
    EntryFilter,
    Timer,
    TimerChanges,
    TimerContext,
    TimerState,
    elapsed_seconds,
)
from timergate.domain.timer import Unset
from timergate.errors import BadUserInput, InvalidTransition
from timergate.providers.accelo_wire import MAX_SUBJECT_LENGTH, may_bill, number, unix
from timergate.providers.base import LogRequest

__all__ = [
    "LoggedTime",
    "TimerEdit",
    "activity_filters",
    "against",
    "billable_object",
    "no_tags",
    "not_billable",
    "on_day",
    "subject_of",
    "timer_edit",
]


def subject_of(description: str | None, context: TimerContext | None, *, field: str) -> str:
    """The subject Accelo requires: the description, or else the context's title."""
    if description:
        subject = description.strip()
        if len(subject) > MAX_SUBJECT_LENGTH:
            raise BadUserInput(
                f"Accelo keeps subjects of at most {MAX_SUBJECT_LENGTH} characters; this one "
                f"has {len(subject)}.",
                field=field,
            )
        return subject
    title = (context.title or "").strip() if context is not None else ""
    if not title:
        raise BadUserInput(
            f"An Accelo timer needs a subject: give {field} (or a context with a title).",
            field=field,
        )
    # The title stands in for a subject nobody typed: shorten it rather than refuse it.
    return title if len(title) <= MAX_SUBJECT_LENGTH else title[: MAX_SUBJECT_LENGTH - 1] + "…"


def against(context: TimerContext, *, field: str = "input.context") -> tuple[str, str]:
    """An Accelo object as timers and activities name it: a type word and a numeric id."""
    object_type = context.type.strip().lower()
    if not object_type.replace("_", "").isalpha() or not object_type.isascii():
        raise BadUserInput(
            f"{field}.type {context.type!r} is no Accelo object type; use one such as job, "
            "issue, milestone, task, contract or company.",
            field=f"{field}.type",
        )
    if not context.id.isascii() or not context.id.isdigit():
        raise BadUserInput(
            f"{field}.id {context.id!r} is no Accelo id; Accelo's ids are numbers.",
            field=f"{field}.id",
        )
    return object_type, str(number(context.id))


def billable_object(context: TimerContext | None) -> bool:
    """Whether Accelo may take billable time for this object."""
    return context is not None and may_bill(context.type)


def no_tags(field: str) -> BadUserInput:
    return BadUserInput("Accelo timers and activities have no tags; leave them out.", field=field)


def not_billable(field: str) -> BadUserInput:
    return BadUserInput(
        "Accelo logs billable time only against an issue, job, milestone, contract or "
        "contract period; log this time as non-billable (billable: false).",
        field=field,
    )


@dataclass(frozen=True, slots=True)
class TimerEdit:
    """What an edit of a timer sends to Accelo, and the user's billable choice after it."""

    #: The form of ``PUT /timers/{id}`` (empty: nothing to send).
    body: dict[str, str]
    #: Whether the timer's time is to be logged non-billable.
    nonbillable: bool


def timer_edit(
    timer: Timer, changes: TimerChanges, now: datetime, *, nonbillable: bool
) -> TimerEdit:
    """Check ``changes`` against what Accelo can keep and say what to send."""
    details = timer.details
    body: dict[str, str] = {}
    if not isinstance(changes.description, Unset):
        if changes.description is None:
            raise BadUserInput(
                "An Accelo timer always has a subject: give a new description instead.",
                field="input.description",
            )
        subject = subject_of(changes.description, None, field="input.description")
        if subject != details.description:
            body["subject"] = subject
    context = details.context
    if not isinstance(changes.context, Unset) and changes.context != details.context:
        if changes.context is None:
            raise BadUserInput(
                "An Accelo timer's object can be changed but not removed.", field="input.context"
            )
        body["against_type"], body["against_id"] = against(changes.context)
        context = changes.context
    if not isinstance(changes.tags, Unset) and changes.tags:
        raise no_tags("input.tags")
    if not isinstance(changes.elapsed, Unset):
        if timer.state is not TimerState.PAUSED:
            raise InvalidTransition(
                "The elapsed time can only be set while the timer is PAUSED; pause it first.",
                state=timer.state.value,
            )
        seconds = int(changes.elapsed.total_seconds())
        if seconds != elapsed_seconds(timer, now):
            body["seconds"] = str(seconds)
    on_billable = billable_object(context)
    if not isinstance(changes.billable, Unset):
        if changes.billable and not on_billable:
            raise not_billable("input.billable")
        nonbillable = not changes.billable
    return TimerEdit(body, nonbillable and on_billable)


def activity_filters(
    staff_id: int, filter: EntryFilter, time_zone: str, before: datetime | None
) -> str | None:
    """``_filters`` selecting the user's logged time that ``filter`` (and, for a later page,
    ``before``) allows; ``None`` when nothing can match. Days are the user's days."""
    parts = ["owner_type(staff)", f"owner_id({staff_id})", "time_allocation_not(0)"]
    if filter.context_type is not None:
        kind = filter.context_type.lower()
        if not kind.replace("_", "").isalpha() or not kind.isascii():
            return None
        parts.append(f"against_type({kind})")
    if filter.context_id is not None:
        if not filter.context_id.isascii() or not filter.context_id.isdigit():
            return None
        parts.append(f"against_id({number(filter.context_id)})")
    if filter.date_from is not None:
        parts.append(f"date_started_after({unix(_day_start(filter.date_from, time_zone)) - 1})")
    # Accelo keeps only the last of a filter given twice: one upper bound, the tighter.
    bounds = [unix(before) + 1] if before is not None else []
    if filter.date_to is not None:
        bounds.append(unix(_day_start(filter.date_to + timedelta(days=1), time_zone)))
    if bounds:
        parts.append(f"date_started_before({min(bounds)})")
    return ",".join(parts)


def _day_start(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(time_zone)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LoggedTime:
    """Time to log as a new activity."""

    subject: str
    context: TimerContext | None
    seconds: int
    billable: bool
    #: Whether the user asked for ``billable`` (rather than it following the timer).
    billable_given: bool
    started_at: datetime
    ended_at: datetime

    @classmethod
    def of_timer(
        cls, timer: Timer, request: LogRequest, now: datetime, time_zone: str
    ) -> LoggedTime:
        """A timer's time as ``stop`` (or ``log``, with its choices) logs it at ``now``."""
        seconds = (
            int(request.duration.total_seconds())
            if request.duration is not None
            else elapsed_seconds(timer, now)
        )
        description = timer.details.description
        if not isinstance(request.description, Unset) and request.description is not None:
            description = request.description
        started_at = timer.started_at
        if request.date is not None:
            started_at = on_day(started_at, request.date, time_zone)
        return cls(
            subject=subject_of(description, timer.details.context, field="input.description"),
            context=timer.details.context,
            seconds=seconds,
            billable=timer.details.billable if request.billable is None else request.billable,
            billable_given=request.billable is not None,
            started_at=started_at,
            ended_at=started_at + max(now - timer.started_at, timedelta(seconds=seconds)),
        )


def on_day(instant: datetime, day: date, time_zone: str) -> datetime:
    """``instant``'s time of day in ``time_zone``, on ``day``."""
    zone = ZoneInfo(time_zone)
    local = instant.astimezone(zone)
    return datetime.combine(day, local.time(), zone).astimezone(instant.tzinfo)
