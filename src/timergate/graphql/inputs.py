"""GraphQL input types and their checked conversion into domain values.

Field paths in errors (``input.description``) name what the client sent.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime
from typing import Protocol, TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from timergate import domain
from timergate.domain import UNSET as DOMAIN_UNSET
from timergate.domain import GlobalId, InvalidGlobalId, Unset, decode_global_id
from timergate.domain.idempotency import IdempotencyKey
from timergate.domain.ids import Kind
from timergate.domain.limits import (
    DATE_RANGE,
    INSTANT_RANGE,
    MAX_CONTEXT_FIELD_LENGTH,
    MAX_CONTEXT_TITLE_LENGTH,
    check_description,
    check_tags,
    check_text,
)
from timergate.errors import BadUserInput, NotFound
from timergate.graphql.types import TimerStateEnum

__all__ = [
    "DOMAIN_UNSET",
    "CancelTimerInput",
    "CreateTimeEntryInput",
    "DeleteTimeEntryInput",
    "LogTimerInput",
    "PauseTimerInput",
    "StartTimerInput",
    "StopTimerInput",
    "TimeEntryFilter",
    "TimerContextFilter",
    "TimerContextInput",
    "TimerFilter",
    "UpdateTimeEntryInput",
    "UpdateTimerInput",
    "UpdateViewerInput",
]

T = TypeVar("T")
UNSET = strawberry.UNSET

IDEMPOTENCY_KEY_DESCRIPTION = (
    "Your unique key for this request (a UUID, say). A retry with the same key changes "
    "nothing more and answers as the first did; the same key with a different request is "
    "refused with CONFLICT. Keys are remembered for 24 hours."
)
#: What every instant and date field accepts, said in its description.
_INSTANT = f"With a UTC offset; instants run {INSTANT_RANGE}."
_DATE = f"Dates run {DATE_RANGE}."


@strawberry.input(description="What the time is for, in the provider's terms.")
class TimerContextInput:
    type: str
    id: str
    title: str | None = None


@strawberry.input
class StartTimerInput:
    timer_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Resume this PAUSED timer instead of starting a new one."
    )
    provider: str | None = strawberry.field(
        default=None,
        description="Where the new timer lives: a connection's id; leave out for timergate's "
        "own store.",
    )
    description: str | None = UNSET
    context: TimerContextInput | None = UNSET
    tags: list[str] | None = UNSET
    billable: bool | None = UNSET
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class PauseTimerInput:
    id: strawberry.ID
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class StopTimerInput:
    id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Leave out to stop the viewer's running timer, if any."
    )
    description: str | None = UNSET
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class LogTimerInput:
    id: strawberry.ID
    description: str | None = UNSET
    date: date | None = strawberry.field(
        default=UNSET, description=f"Defaults to the start's day. {_DATE}"
    )
    duration_seconds: int | None = strawberry.field(
        default=UNSET,
        description="Record this instead of the elapsed time (e.g. rounded); 0 to 366 days.",
    )
    billable: bool | None = UNSET
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class CancelTimerInput:
    id: strawberry.ID
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class UpdateTimerInput:
    id: strawberry.ID
    description: str | None = UNSET
    context: TimerContextInput | None = UNSET
    tags: list[str] | None = UNSET
    billable: bool | None = UNSET
    elapsed_seconds: int | None = strawberry.field(
        default=UNSET, description="Only while PAUSED; 0 to 366 days."
    )
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class CreateTimeEntryInput:
    provider: str | None = strawberry.field(
        default=None,
        description="Where the entry is recorded: a connection's id; leave out for "
        "timergate's own store.",
    )
    started_at: datetime = strawberry.field(description=_INSTANT)
    ended_at: datetime | None = strawberry.field(
        default=UNSET, description=f"Give this or durationSeconds (or both). {_INSTANT}"
    )
    duration_seconds: int | None = strawberry.field(
        default=UNSET, description="0 to 366 days; the end it derives must stay in range."
    )
    date: date | None = strawberry.field(
        default=UNSET, description=f"Defaults to the start's day. {_DATE}"
    )
    description: str | None = UNSET
    context: TimerContextInput | None = UNSET
    tags: list[str] | None = UNSET
    billable: bool | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class UpdateTimeEntryInput:
    id: strawberry.ID
    started_at: datetime | None = strawberry.field(default=UNSET, description=_INSTANT)
    ended_at: datetime | None = strawberry.field(default=UNSET, description=_INSTANT)
    duration_seconds: int | None = strawberry.field(
        default=UNSET, description="0 to 366 days; the end it derives must stay in range."
    )
    date: date | None = strawberry.field(default=UNSET, description=_DATE)
    description: str | None = UNSET
    context: TimerContextInput | None = UNSET
    tags: list[str] | None = UNSET
    billable: bool | None = UNSET
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class DeleteTimeEntryInput:
    id: strawberry.ID
    expected_version: int | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class UpdateViewerInput:
    time_zone: str | None = strawberry.field(default=UNSET, description="An IANA name.")
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.input
class TimerContextFilter:
    type: str | None = None
    id: str | None = None


@strawberry.input
class TimerFilter:
    states: list[TimerStateEnum] | None = None  # type: ignore[valid-type]
    provider: str | None = None
    context: TimerContextFilter | None = None
    started_from: datetime | None = strawberry.field(
        default=None, description=f"Inclusive. {_INSTANT}"
    )
    started_to: datetime | None = strawberry.field(
        default=None, description=f"Exclusive. {_INSTANT}"
    )
    text: str | None = strawberry.field(
        default=None, description="Matches description or context title, case-insensitively."
    )


@strawberry.input
class TimeEntryFilter:
    provider: str | None = None
    context: TimerContextFilter | None = None
    date_from: date | None = strawberry.field(default=None, description=f"Inclusive. {_DATE}")
    date_to: date | None = strawberry.field(default=None, description=f"Inclusive. {_DATE}")
    text: str | None = None
    timer_id: strawberry.ID | None = None


# Conversions.


def given(value: T | UnsetType | None) -> bool:
    return not isinstance(value, UnsetType)


def global_id(value: str, kind: Kind, field: str) -> GlobalId:
    try:
        return decode_global_id(value, expected=kind)
    except InvalidGlobalId as exc:
        raise BadUserInput(f"{field} is not a valid {kind} id: {exc}", field=field) from None


def description(value: str | UnsetType | None, field: str) -> str | Unset | None:
    if isinstance(value, UnsetType):
        return DOMAIN_UNSET
    return check_description(value, field=field)


def context(
    value: TimerContextInput | UnsetType | None, field: str
) -> domain.TimerContext | Unset | None:
    if isinstance(value, UnsetType):
        return DOMAIN_UNSET
    if value is None:
        return None
    return domain.TimerContext(
        type=check_text(value.type, field=f"{field}.type", max_length=MAX_CONTEXT_FIELD_LENGTH),
        id=check_text(value.id, field=f"{field}.id", max_length=MAX_CONTEXT_FIELD_LENGTH),
        title=(
            None
            if value.title is None
            else check_text(
                value.title, field=f"{field}.title", max_length=MAX_CONTEXT_TITLE_LENGTH
            )
        ),
    )


def tags(value: list[str] | UnsetType | None, field: str) -> tuple[str, ...] | Unset:
    if isinstance(value, UnsetType):
        return DOMAIN_UNSET
    return check_tags(value or [], field=field)


def flag(value: bool | UnsetType | None, field: str) -> bool | Unset:
    if isinstance(value, UnsetType):
        return DOMAIN_UNSET
    if value is None:
        raise BadUserInput(f"{field} cannot be null; send true or false.", field=field)
    return value


def optional(value: T | UnsetType | None) -> T | None:
    return None if isinstance(value, UnsetType) else value


class _DetailFields(Protocol):
    @property
    def description(self) -> str | UnsetType | None: ...
    @property
    def context(self) -> TimerContextInput | UnsetType | None: ...
    @property
    def tags(self) -> list[str] | UnsetType | None: ...
    @property
    def billable(self) -> bool | UnsetType | None: ...


def details(source: _DetailFields) -> domain.TimerDetails:
    """Checked details for a new timer or entry; fields left out take their defaults."""
    changes = domain.TimerChanges(
        description=description(source.description, "input.description"),
        context=context(source.context, "input.context"),
        tags=tags(source.tags, "input.tags"),
        billable=flag(source.billable, "input.billable"),
    )
    return domain.changed_details(domain.TimerDetails(), changes)


def not_found(label: str) -> NotFound:
    """The one answer for a missing object and for another user's object."""
    return NotFound(f"No {label} with that id; it may have been removed.")


def idempotency(input: object, operation: str) -> IdempotencyKey | None:
    """The input's idempotency key with a fingerprint of the rest of the request."""
    key = getattr(input, "idempotency_key", UNSET)
    if key is None or isinstance(key, UnsetType):
        return None
    request = json.dumps(_canonical(input), sort_keys=True, separators=(",", ":"))
    return IdempotencyKey.of(key, operation, request, field="input.idempotencyKey")


def _canonical(value: object) -> object:
    """``value`` as plain data, fields left out omitted (the key itself too)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "idempotency_key" and not isinstance(getattr(value, f.name), UnsetType)
        }
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
