"""What a timer's and an entry's fields may hold; checks raise :class:`BadUserInput`.

The limits are public (the README lists them) so clients can check before they send.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from timergate.errors import BadUserInput

__all__ = [
    "DATES_FROM",
    "DATES_TO",
    "DATE_RANGE",
    "INSTANTS_BEFORE",
    "INSTANTS_FROM",
    "INSTANT_RANGE",
    "MAX_CONTEXT_FIELD_LENGTH",
    "MAX_CONTEXT_TITLE_LENGTH",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_DURATION_SECONDS",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "check_aware",
    "check_date",
    "check_description",
    "check_duration",
    "check_duration_seconds",
    "check_instant",
    "check_tags",
    "check_text",
    "check_time_zone",
]

MAX_DESCRIPTION_LENGTH = 2000
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_CONTEXT_FIELD_LENGTH = 100
MAX_CONTEXT_TITLE_LENGTH = 300
#: One entry covers at most this long (a year), which also bounds any duration override.
MAX_DURATION_SECONDS = 366 * 24 * 3600
_MAX_DURATION = timedelta(seconds=MAX_DURATION_SECONDS)

#: Dates the API takes: from the year 1000 (the start of MySQL's DATETIME, which vendor
#: APIs often sit on) to the day before the last one Python has, so a provider may look a
#: day past any date it is given.
DATES_FROM = date(1000, 1, 1)
DATES_TO = date(9999, 12, 30)
#: Instants the API takes: from INSTANTS_FROM up to, not including, INSTANTS_BEFORE. A day
#: inside the dates at each end, so every instant has a date in every time zone (offsets stay
#: under a day) and no date arithmetic leaves Python's datetime range.
INSTANTS_FROM = datetime(1000, 1, 2, tzinfo=UTC)
INSTANTS_BEFORE = datetime(9999, 12, 30, tzinfo=UTC)
#: The ranges in words, for error messages and the schema's descriptions.
INSTANT_RANGE = (
    f"from {INSTANTS_FROM.isoformat().replace('+00:00', 'Z')} up to (not including) "
    f"{INSTANTS_BEFORE.isoformat().replace('+00:00', 'Z')}"
)
DATE_RANGE = f"from {DATES_FROM.isoformat()} to {DATES_TO.isoformat()}"


def check_text(value: str, *, field: str, max_length: int, allow_blank: bool = False) -> str:
    """Strip ``value``; refuse it when blank (unless allowed) or longer than ``max_length``."""
    stripped = value.strip()
    if not stripped and not allow_blank:
        raise BadUserInput(f"{field} must not be empty; leave it out instead.", field=field)
    if len(stripped) > max_length:
        raise BadUserInput(
            f"{field} is {len(stripped)} characters long; the limit is {max_length}.", field=field
        )
    return stripped


def check_description(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    return check_text(value, field=field, max_length=MAX_DESCRIPTION_LENGTH)


def check_tags(values: list[str] | tuple[str, ...], *, field: str) -> tuple[str, ...]:
    """Strip each tag and drop repeats (first spelling wins); refuse blank or too many tags."""
    tags: dict[str, None] = {}
    for i, value in enumerate(values):
        tag = check_text(value, field=f"{field}[{i}]", max_length=MAX_TAG_LENGTH)
        tags.setdefault(tag, None)
    if len(tags) > MAX_TAGS:
        raise BadUserInput(f"{field} has {len(tags)} tags; the limit is {MAX_TAGS}.", field=field)
    return tuple(tags)


def check_duration_seconds(value: int, *, field: str) -> timedelta:
    """A whole number of seconds from 0 to MAX_DURATION_SECONDS, as a ``timedelta``."""
    if value < 0:
        raise BadUserInput(f"{field} must not be negative (got {value}).", field=field)
    if value > MAX_DURATION_SECONDS:
        raise BadUserInput(
            f"{field} is {value}s; the limit is {MAX_DURATION_SECONDS}s (366 days).", field=field
        )
    return timedelta(seconds=value)


def check_duration(value: timedelta, *, field: str) -> timedelta:
    """:func:`check_duration_seconds` for a ``timedelta`` (fractions of a second allowed)."""
    if value < timedelta(0):
        raise BadUserInput(
            f"{field} must not be negative (got {value.total_seconds()}s).", field=field
        )
    if value > _MAX_DURATION:
        raise BadUserInput(
            f"{field} is {value.total_seconds():.0f}s; the limit is {MAX_DURATION_SECONDS}s "
            "(366 days).",
            field=field,
        )
    return value


def check_aware(value: datetime, *, field: str) -> datetime:
    """Refuse a datetime without a UTC offset: its instant would be a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadUserInput(
            f"{field} has no UTC offset; send e.g. 2026-03-01T09:30:00+01:00 or ...Z.",
            field=field,
        )
    return value


def check_instant(value: datetime, *, field: str) -> datetime:
    """An instant with an offset, inside the accepted range; returned in UTC."""
    check_aware(value, field=field)
    # Comparing aware datetimes works on their offsets and never overflows, unlike astimezone.
    if not INSTANTS_FROM <= value < INSTANTS_BEFORE:
        raise BadUserInput(
            f"{field} ({value.isoformat()}) is out of range: instants run {INSTANT_RANGE}.",
            field=field,
        )
    return value.astimezone(UTC)


def check_date(value: date, *, field: str) -> date:
    """A date inside the accepted range."""
    if not DATES_FROM <= value <= DATES_TO:
        raise BadUserInput(
            f"{field} ({value.isoformat()}) is out of range: dates run {DATE_RANGE}.",
            field=field,
        )
    return value


_ZONES: frozenset[str] | None = None


def check_time_zone(name: str, *, field: str) -> str:
    """Accept an IANA time zone name such as ``Europe/Berlin``."""
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    if name not in _ZONES:
        raise BadUserInput(
            f"{name!r} is not an IANA time zone name (e.g. 'Europe/Berlin', 'UTC').", field=field
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tzdata mismatch
        raise BadUserInput(f"{name!r} is not a known time zone.", field=field) from exc
    return name
