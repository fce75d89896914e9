"""Time arithmetic, hand-made entries, field limits and global ids of the pure domain."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timergate.domain import (
    InvalidGlobalId,
    TimerContext,
    TimerDetails,
    decode_global_id,
    elapsed_seconds,
    encode_global_id,
    local_date,
    new_timer,
    pause,
    resume,
    stop,
)
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.domain.limits import (
    MAX_CONTEXT_FIELD_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_DURATION_SECONDS,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    check_aware,
    check_description,
    check_duration_seconds,
    check_tags,
    check_text,
    check_time_zone,
)
from timergate.errors import BadUserInput

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DETAILS = TimerDetails(description="Write the report", tags=("writing",))


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


# A timer across a DST change.


def test_timer_across_spring_forward_counts_true_time() -> None:
    """Running from 01:30 CET to 03:30 CEST on the spring-forward night is one hour, not two."""
    start = berlin(2026, 3, 29, 1, 30)
    timer = new_timer(user_id=1, provider="local", details=DETAILS, now=start)
    assert elapsed_seconds(timer, berlin(2026, 3, 29, 3, 30)) == 3600


def test_timer_across_fall_back_counts_true_time() -> None:
    """From 02:30 CEST to the second 02:30 (CET) on the fall-back night is one hour, not zero."""
    timer = new_timer(user_id=1, provider="local", details=DETAILS, now=berlin(2026, 10, 25, 2, 30))
    assert elapsed_seconds(timer, berlin(2026, 10, 25, 2, 30, fold=1)) == 3600


def test_timer_resumed_in_local_time_across_dst_counts_true_time() -> None:
    """A resume given a local (non-UTC) instant still counts true time across the change."""
    timer = new_timer(
        user_id=1, provider="local", details=DETAILS, now=datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    )
    paused = pause(timer, datetime(2026, 3, 29, 0, 10, tzinfo=UTC))  # 600 s so far
    resumed = resume(paused, berlin(2026, 3, 29, 1, 30))
    assert elapsed_seconds(resumed, berlin(2026, 3, 29, 3, 30)) == 600 + 3600
    refolded = resume(paused, berlin(2026, 10, 25, 2, 30))
    assert elapsed_seconds(refolded, berlin(2026, 10, 25, 2, 30, fold=1)) == 600 + 3600


def test_stopped_entry_across_dst_records_true_duration() -> None:
    """Stopping a timer that ran across the change records the true duration on its entry."""
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    timer = new_timer(user_id=1, provider="local", details=DETAILS, now=start)
    _, entry = stop(timer, start + timedelta(hours=1), time_zone="Europe/Berlin")
    assert entry.duration_seconds == 3600
    assert entry.ended_at - entry.started_at == timedelta(hours=1)


def test_entry_date_is_the_start_date_in_the_users_zone() -> None:
    """An entry started at 23:30 UTC belongs to the next day for a Berlin user."""
    start = datetime(2026, 4, 30, 23, 30, tzinfo=UTC)
    timer = new_timer(user_id=1, provider="local", details=DETAILS, now=start)
    _, berlin_entry = stop(timer, start + timedelta(hours=2), time_zone="Europe/Berlin")
    _, utc_entry = stop(timer, start + timedelta(hours=2), time_zone="UTC")
    _, ny_entry = stop(timer, start + timedelta(hours=2), time_zone="America/New_York")
    assert berlin_entry.date == date(2026, 5, 1)
    assert utc_entry.date == date(2026, 4, 30)
    assert ny_entry.date == date(2026, 4, 30)


def test_local_date_follows_the_zone() -> None:
    """local_date gives the calendar date of an instant where the user lives."""
    instant = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    assert local_date(instant, "Europe/Berlin") == date(2026, 1, 1)
    assert local_date(instant, "America/Los_Angeles") == date(2025, 12, 31)
    assert local_date(instant, "Pacific/Kiritimati") == date(2026, 1, 1)


# Entries made by hand.


def hand_entry(
    *,
    started_at: datetime = NOW,
    ended_at: datetime | None = None,
    duration_seconds: int | None = None,
    entry_date: date | None = None,
    time_zone: str = "Europe/Berlin",
):  # type: ignore[no-untyped-def]
    return new_entry(
        user_id=7,
        provider="local",
        details=DETAILS,
        started_at=started_at,
        ended_at=ended_at,
        duration_seconds=duration_seconds,
        entry_date=entry_date,
        time_zone=time_zone,
        now=NOW,
    )


def test_new_entry_derives_the_end_from_the_duration() -> None:
    """Given a start and a duration, the entry ends that long after the start."""
    entry = hand_entry(duration_seconds=5400)
    assert entry.ended_at == NOW + timedelta(seconds=5400)
    assert entry.duration_seconds == 5400
    assert entry.timer_id is None
    assert entry.version == 1


def test_new_entry_derives_the_duration_from_the_end() -> None:
    """Given a start and an end, the duration is the whole seconds between them."""
    entry = hand_entry(ended_at=NOW + timedelta(minutes=45, microseconds=900_000))
    assert entry.duration_seconds == 45 * 60


def test_new_entry_keeps_a_given_duration_over_the_span() -> None:
    """A duration given with an end wins (it may be rounded or exclude breaks)."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=2), duration_seconds=3600)
    assert (entry.ended_at, entry.duration_seconds) == (NOW + timedelta(hours=2), 3600)


def test_new_entry_stores_instants_in_utc() -> None:
    """A start given with an offset is the same instant, kept in UTC."""
    entry = hand_entry(started_at=berlin(2026, 5, 1, 14, 0), duration_seconds=60)
    assert entry.started_at == NOW
    assert entry.started_at.utcoffset() == timedelta(0)


def test_new_entry_needs_an_end_or_a_duration() -> None:
    """An entry with only a start is refused, naming endedAt."""
    with pytest.raises(BadUserInput) as info:
        hand_entry()
    assert info.value.field == "input.endedAt"


def test_new_entry_refuses_an_end_before_the_start() -> None:
    """An end before the start is refused and the error names endedAt."""
    with pytest.raises(BadUserInput) as info:
        hand_entry(ended_at=NOW - timedelta(seconds=1))
    assert info.value.field == "input.endedAt"
    assert info.value.extensions() == {"code": "BAD_USER_INPUT", "field": "input.endedAt"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"started_at": datetime(2026, 5, 1, 12, 0), "duration_seconds": 60}, "input.startedAt"),
        ({"ended_at": datetime(2026, 5, 1, 13, 0)}, "input.endedAt"),
    ],
)
def test_new_entry_refuses_datetimes_without_offset(kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    """A datetime without a UTC offset is refused rather than guessed, naming the field."""
    with pytest.raises(BadUserInput) as info:
        hand_entry(**kwargs)
    assert info.value.field == field


def test_new_entry_refuses_a_span_over_366_days() -> None:
    """An entry spanning more than 366 days is refused; exactly 366 days is allowed."""
    limit = timedelta(seconds=MAX_DURATION_SECONDS)
    assert hand_entry(ended_at=NOW + limit).duration_seconds == MAX_DURATION_SECONDS
    with pytest.raises(BadUserInput) as info:
        hand_entry(ended_at=NOW + limit + timedelta(seconds=1))
    assert info.value.field == "input.endedAt"


@pytest.mark.parametrize("seconds", [-1, MAX_DURATION_SECONDS + 1])
def test_new_entry_refuses_a_duration_out_of_range(seconds: int) -> None:
    """A negative duration or one over the limit is refused, naming durationSeconds."""
    with pytest.raises(BadUserInput) as info:
        hand_entry(duration_seconds=seconds)
    assert info.value.field == "input.durationSeconds"


def test_new_entry_date_is_the_local_start_date_unless_given() -> None:
    """A hand entry is dated by its start in the user's zone, or by the date the user gives."""
    late = datetime(2026, 4, 30, 22, 30, tzinfo=UTC)
    assert hand_entry(started_at=late, duration_seconds=60).date == date(2026, 5, 1)
    assert hand_entry(started_at=late, duration_seconds=60, time_zone="UTC").date == date(
        2026, 4, 30
    )
    chosen = hand_entry(started_at=late, duration_seconds=60, entry_date=date(2026, 4, 1))
    assert chosen.date == date(2026, 4, 1)


def test_moving_the_start_rederives_duration_and_date() -> None:
    """Moving only the start keeps the end, and re-derives the duration and the date."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1))
    later = NOW + timedelta(days=1)
    edited = edit_entry(
        entry,
        EntryChanges(started_at=NOW - timedelta(hours=23)),
        time_zone="Europe/Berlin",
        now=later,
    )
    assert edited.ended_at == entry.ended_at
    assert edited.duration_seconds == 24 * 3600
    assert edited.date == date(2026, 4, 30)
    assert (edited.version, edited.updated_at) == (2, later)


def test_moving_the_end_rederives_the_duration_and_keeps_the_date() -> None:
    """Moving only the end re-derives the duration; the date stays the start's."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1), entry_date=date(2026, 4, 1))
    edited = edit_entry(
        entry, EntryChanges(ended_at=NOW + timedelta(hours=3)), time_zone="UTC", now=NOW
    )
    assert edited.duration_seconds == 3 * 3600
    assert edited.date == date(2026, 4, 1)


def test_changing_the_duration_moves_the_end() -> None:
    """Setting only the duration moves the end to start plus duration."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1))
    edited = edit_entry(entry, EntryChanges(duration_seconds=90), time_zone="UTC", now=NOW)
    assert edited.ended_at == NOW + timedelta(seconds=90)


def test_edit_refuses_an_end_before_the_start() -> None:
    """Moving the start past the end is refused, naming endedAt, and nothing changes."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1))
    with pytest.raises(BadUserInput) as info:
        edit_entry(
            entry, EntryChanges(started_at=NOW + timedelta(hours=2)), time_zone="UTC", now=NOW
        )
    assert info.value.field == "input.endedAt"


def test_edit_refuses_an_offsetless_start() -> None:
    """An edited start without an offset is refused, naming startedAt."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1))
    with pytest.raises(BadUserInput) as info:
        edit_entry(
            entry, EntryChanges(started_at=datetime(2026, 5, 1, 11, 0)), time_zone="UTC", now=NOW
        )
    assert info.value.field == "input.startedAt"


def test_edit_that_changes_nothing_keeps_the_version() -> None:
    """An edit that sets fields to their current values is no change at all."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1))
    same = edit_entry(
        entry,
        EntryChanges(description=DETAILS.description, started_at=entry.started_at),
        time_zone="UTC",
        now=NOW + timedelta(hours=5),
    )
    assert same is entry


def test_edit_of_details_bumps_the_version_once() -> None:
    """Changing description, context, tags and billable is one new version."""
    entry = hand_entry(ended_at=NOW + timedelta(hours=1))
    context = TimerContext("issue", "GH-12", "Fix login")
    edited = edit_entry(
        entry,
        EntryChanges(description=None, context=context, tags=(), billable=False),
        time_zone="UTC",
        now=NOW,
    )
    assert edited.details == TimerDetails(description=None, context=context, billable=False)
    assert edited.version == entry.version + 1
    assert (edited.started_at, edited.duration_seconds) == (entry.started_at, 3600)


# Limits.


def test_text_is_stripped_and_bounded() -> None:
    """Text is stripped; blank or too-long text is refused, naming the field."""
    assert check_text("  hi  ", field="f", max_length=2) == "hi"
    assert check_text("   ", field="f", max_length=2, allow_blank=True) == ""
    with pytest.raises(BadUserInput) as blank:
        check_text("  ", field="input.description", max_length=10)
    assert blank.value.field == "input.description"
    with pytest.raises(BadUserInput) as long:
        check_text("abc", field="f", max_length=2)
    assert long.value.field == "f"


def test_description_limit() -> None:
    """A description may be absent or up to the documented length, not one character more."""
    assert check_description(None, field="d") is None
    assert check_description("x" * MAX_DESCRIPTION_LENGTH, field="d") == "x" * 2000
    with pytest.raises(BadUserInput):
        check_description("x" * (MAX_DESCRIPTION_LENGTH + 1), field="d")


def test_tags_are_stripped_deduplicated_and_bounded() -> None:
    """Tags are stripped and deduplicated in order; too many or too long tags are refused."""
    assert check_tags([" a", "b ", "a", "b"], field="t") == ("a", "b")
    many_repeats = [f"t{i % MAX_TAGS}" for i in range(3 * MAX_TAGS)]
    assert len(check_tags(many_repeats, field="t")) == MAX_TAGS
    with pytest.raises(BadUserInput) as too_many:
        check_tags([f"t{i}" for i in range(MAX_TAGS + 1)], field="input.tags")
    assert too_many.value.field == "input.tags"
    with pytest.raises(BadUserInput) as too_long:
        check_tags(["ok", "x" * (MAX_TAG_LENGTH + 1)], field="input.tags")
    assert too_long.value.field == "input.tags[1]"
    with pytest.raises(BadUserInput) as blank:
        check_tags(["ok", " "], field="input.tags")
    assert blank.value.field == "input.tags[1]"


def test_duration_limit() -> None:
    """Durations run from zero to 366 days inclusive."""
    assert check_duration_seconds(0, field="d") == timedelta(0)
    assert check_duration_seconds(MAX_DURATION_SECONDS, field="d") == timedelta(days=366)
    for bad in (-1, MAX_DURATION_SECONDS + 1):
        with pytest.raises(BadUserInput):
            check_duration_seconds(bad, field="d")


def test_aware_check() -> None:
    """Datetimes with an offset pass unchanged; naive ones are refused."""
    aware = berlin(2026, 5, 1, 9, 30)
    assert check_aware(aware, field="at") is aware
    with pytest.raises(BadUserInput) as info:
        check_aware(datetime(2026, 5, 1, 9, 30), field="input.at")
    assert info.value.field == "input.at"


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_known_time_zones_are_accepted(name: str) -> None:
    """IANA names are accepted as given."""
    assert check_time_zone(name, field="tz") == name


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "europe/berlin", "+01:00", "../etc/passwd"])
def test_unknown_time_zones_are_refused(name: str) -> None:
    """Anything but an IANA name is refused, naming the field."""
    with pytest.raises(BadUserInput) as info:
        check_time_zone(name, field="input.timeZone")
    assert info.value.field == "input.timeZone"


def test_context_limits_are_documented_values() -> None:
    """The published limits stay what the README promises clients."""
    assert (MAX_DESCRIPTION_LENGTH, MAX_TAGS, MAX_TAG_LENGTH, MAX_CONTEXT_FIELD_LENGTH) == (
        2000,
        20,
        50,
        100,
    )
    assert MAX_DURATION_SECONDS == 366 * 24 * 3600


# Global ids.

KINDS = st.sampled_from(["Timer", "TimeEntry", "User"])
PROVIDERS = st.text(
    st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=20
)
NATIVE_IDS = st.one_of(
    st.integers(min_value=0, max_value=2**63).map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60),
    st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=4).map(":".join),
)


@given(kind=KINDS, provider=PROVIDERS, native=NATIVE_IDS)
def test_global_ids_round_trip(kind: str, provider: str, native: str) -> None:
    """Any kind, provider and native id (colons included) decodes to what was encoded."""
    value = encode_global_id(kind, provider, native)  # type: ignore[arg-type]
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    decoded = decode_global_id(value, expected=kind)  # type: ignore[arg-type]
    assert (decoded.kind, decoded.provider, decoded.native_id) == (kind, provider, native)
    assert str(decoded) == value


@given(kind=KINDS, other=KINDS, provider=PROVIDERS, native=NATIVE_IDS)
def test_global_id_of_another_kind_is_refused(
    kind: str, other: str, provider: str, native: str
) -> None:
    """A Timer id is not accepted where an entry or user id is expected, and so on."""
    value = encode_global_id(kind, provider, native)  # type: ignore[arg-type]
    if kind == other:
        return
    with pytest.raises(InvalidGlobalId, match=f"is a {kind} id"):
        decode_global_id(value, expected=other)  # type: ignore[arg-type]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


TIMER_1 = encode_global_id("Timer", "local", "1")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 at all!",
        "é",
        "A",  # one base64 character is never a whole byte
        _b64(b"\xff\xfe\xfd"),  # not UTF-8
        _b64(b"Timer"),
        _b64(b"Timer:local"),
        _b64(b"Timer::1"),
        _b64(b"Timer:local:"),
        _b64(b":local:1"),
        _b64(b"Gadget:local:1"),
        _b64(b"timer:local:1"),
        _b64(b"Timer:" + b"x" * 600 + b":1"),  # longer than any id the gateway makes
        TIMER_1 + "==",  # padding the gateway never sends
        TIMER_1[:4] + "...." + TIMER_1[4:],  # characters the decoder would skip
        TIMER_1[:-1] + "R",  # the same bytes, with unused trailing bits set
    ],
)
def test_malformed_global_ids_are_refused(value: str) -> None:
    """Anything but an id the gateway itself made is refused as InvalidGlobalId."""
    with pytest.raises(InvalidGlobalId):
        decode_global_id(value, expected="Timer")


def test_invalid_global_id_is_a_value_error() -> None:
    """Callers that catch ValueError also catch a bad id."""
    assert issubclass(InvalidGlobalId, ValueError)
