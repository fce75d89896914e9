"""Instants, dates and durations at the edges of what datetime holds, in every time zone.

Each property holds for any input: the domain either refuses it with BadUserInput naming the
field, or accepts it and everything it derives (end, date, stored instants) stays inside the
documented range. No other exception (OverflowError above all) may escape.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timergate.domain import (
    UNSET,
    EntryFilter,
    TimeEntry,
    TimerChanges,
    TimerDetails,
    TimerFilter,
    local_date,
    log,
    new_timer,
    pause,
    stop,
    update,
)
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.domain.limits import (
    DATES_FROM,
    DATES_TO,
    INSTANTS_BEFORE,
    INSTANTS_FROM,
    MAX_DURATION_SECONDS,
    check_date,
    check_instant,
)
from timergate.errors import BadUserInput

ZONES = sorted(available_timezones() | {"UTC"})
#: The zones furthest from UTC, named so they are always among the examples.
FAR_ZONES = ["Etc/GMT+12", "Etc/GMT-12", "Etc/GMT-14", "Pacific/Kiritimati", "Pacific/Niue"]
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DETAILS = TimerDetails(description="Edge of time")
DAY = timedelta(days=1)
YEAR = timedelta(days=366)

zone_names = st.one_of(st.sampled_from(FAR_ZONES), st.sampled_from(ZONES))
#: Offsets as a client sends them (fixed, up to a minute short of a day either way) and as
#: zone rules give them.
offsets: st.SearchStrategy[tzinfo] = st.one_of(
    st.timedeltas(min_value=-(DAY - timedelta(minutes=1)), max_value=DAY - timedelta(minutes=1))
    .map(lambda d: timedelta(minutes=d // timedelta(minutes=1)))
    .map(timezone),
    zone_names.map(ZoneInfo),
)


_FIRST = INSTANTS_FROM.replace(tzinfo=None)
_LAST = INSTANTS_BEFORE.replace(tzinfo=None)
#: Wall times near year 1, the start of the accepted range, its end and year 9999 (a year and
#: more before it, so a duration can carry past it), and anywhere.
naive_instants = st.one_of(
    st.datetimes(max_value=datetime.min + 3 * DAY),
    st.datetimes(min_value=_FIRST - 3 * DAY, max_value=_FIRST + 3 * DAY),
    st.datetimes(min_value=_LAST - YEAR - 3 * DAY),
    st.datetimes(),
)
instants = st.builds(lambda naive, zone: naive.replace(tzinfo=zone), naive_instants, offsets)
accepted_instants = st.datetimes(
    min_value=INSTANTS_FROM.replace(tzinfo=None),
    max_value=INSTANTS_BEFORE.replace(tzinfo=None) - timedelta(microseconds=1),
    timezones=st.just(UTC),
)
dates = st.one_of(
    st.dates(max_value=date(1, 1, 10)),
    st.dates(min_value=date(9999, 12, 20)),
    st.dates(min_value=DATES_FROM - timedelta(days=3), max_value=DATES_FROM + timedelta(days=3)),
    st.dates(),
)
durations = st.one_of(
    st.integers(-10, 10),
    st.integers(MAX_DURATION_SECONDS - 10, MAX_DURATION_SECONDS + 10),
    st.integers(-(2**31), 2**31 - 1),
)
timedeltas = st.one_of(
    durations.map(lambda s: timedelta(seconds=s)),
    st.timedeltas(),
)


def utc_offset_from_min(value: datetime) -> timedelta:
    """Where ``value`` lies, as time since datetime.min in UTC; plain timedelta sums, which
    cannot overflow, so the check does not rely on what it checks."""
    offset = value.utcoffset()
    assert offset is not None
    return (value.replace(tzinfo=None) - datetime.min) - offset


def in_range(value: datetime) -> bool:
    position = utc_offset_from_min(value)
    return utc_offset_from_min(INSTANTS_FROM) <= position < utc_offset_from_min(INSTANTS_BEFORE)


def assert_entry_in_range(entry: TimeEntry) -> None:
    for instant in (entry.started_at, entry.ended_at):
        assert instant.utcoffset() == timedelta(0)
        assert INSTANTS_FROM <= instant < INSTANTS_BEFORE
    assert entry.started_at <= entry.ended_at
    assert 0 <= entry.duration_seconds <= MAX_DURATION_SECONDS
    assert DATES_FROM <= entry.date <= DATES_TO


@given(instants)
def test_an_instant_is_accepted_exactly_when_it_is_in_range(value: datetime) -> None:
    """check_instant accepts the documented range, in UTC, and refuses the rest by field."""
    if in_range(value):
        checked = check_instant(value, field="input.startedAt")
        assert checked == value
        assert checked.utcoffset() == timedelta(0)
    else:
        with pytest.raises(BadUserInput) as info:
            check_instant(value, field="input.startedAt")
        assert info.value.field == "input.startedAt"
        assert "out of range" in info.value.message


@given(dates)
def test_a_date_is_accepted_exactly_when_it_is_in_range(value: date) -> None:
    """check_date accepts 1000-01-01 to 9999-12-30 and refuses the rest by field."""
    if DATES_FROM <= value <= DATES_TO:
        assert check_date(value, field="input.date") == value
    else:
        with pytest.raises(BadUserInput) as info:
            check_date(value, field="input.date")
        assert info.value.field == "input.date"


@given(accepted_instants, zone_names)
def test_every_accepted_instant_has_a_date_in_range_in_every_zone(
    instant: datetime, zone: str
) -> None:
    """The margin of a day keeps the local date of any accepted instant a valid date."""
    assert DATES_FROM <= local_date(instant, zone) <= DATES_TO


@pytest.mark.parametrize("zone", [*FAR_ZONES, "UTC"])
@pytest.mark.parametrize("instant", [INSTANTS_FROM, INSTANTS_BEFORE - timedelta(microseconds=1)])
def test_the_edges_of_the_range_have_dates_in_the_farthest_zones(
    instant: datetime, zone: str
) -> None:
    """The first and last accepted instants fall on dates in range, even at UTC-12 and +14."""
    assert DATES_FROM <= local_date(instant, zone) <= DATES_TO


@settings(max_examples=300)
@given(
    started_at=instants,
    ended_at=st.none() | instants,
    duration_seconds=st.none() | durations,
    entry_date=st.none() | dates,
    zone=zone_names,
)
def test_a_hand_made_entry_is_refused_or_stays_in_range(
    started_at: datetime,
    ended_at: datetime | None,
    duration_seconds: int | None,
    entry_date: date | None,
    zone: str,
) -> None:
    """Any start, end, duration and date: a BadUserInput naming an input field, or an entry
    whose instants, duration and date all lie in range."""
    try:
        entry = new_entry(
            user_id=1,
            provider="local",
            details=DETAILS,
            started_at=started_at,
            ended_at=ended_at,
            duration_seconds=duration_seconds,
            entry_date=entry_date,
            time_zone=zone,
            now=NOW,
        )
    except BadUserInput as error:
        assert error.field in {
            "input.startedAt",
            "input.endedAt",
            "input.durationSeconds",
            "input.date",
        }
        return
    assert in_range(started_at)
    assert_entry_in_range(entry)
    assert entry.started_at == started_at
    if entry_date is None:
        assert entry.date == local_date(entry.started_at, zone)


@settings(max_examples=300)
@given(
    original=accepted_instants,
    started_at=st.none() | instants,
    ended_at=st.none() | instants,
    duration_seconds=st.none() | durations,
    entry_date=st.none() | dates,
    zone=zone_names,
)
def test_an_entry_edit_is_refused_or_stays_in_range(
    original: datetime,
    started_at: datetime | None,
    ended_at: datetime | None,
    duration_seconds: int | None,
    entry_date: date | None,
    zone: str,
) -> None:
    """Editing an in-range entry with any values refuses them by field or stays in range."""
    end = min(original + timedelta(hours=1), INSTANTS_BEFORE - timedelta(microseconds=1))
    entry = new_entry(
        user_id=1,
        provider="local",
        details=DETAILS,
        started_at=original,
        ended_at=end,
        duration_seconds=None,
        entry_date=None,
        time_zone=zone,
        now=NOW,
    )
    changes = EntryChanges(
        started_at=UNSET if started_at is None else started_at,
        ended_at=UNSET if ended_at is None else ended_at,
        duration_seconds=UNSET if duration_seconds is None else duration_seconds,
        date=UNSET if entry_date is None else entry_date,
    )
    try:
        edited = edit_entry(entry, changes, time_zone=zone, now=NOW)
    except BadUserInput as error:
        assert error.field is not None and error.field.startswith("input.")
        return
    assert_entry_in_range(edited)


@given(started_at=accepted_instants, ran=timedeltas, zone=zone_names)
def test_stopping_a_timer_started_anywhere_in_range_records_an_entry(
    started_at: datetime, ran: timedelta, zone: str
) -> None:
    """A timer started at any accepted instant stops in any zone; its entry is dated in range."""
    ran = abs(ran) % YEAR
    if ran >= INSTANTS_BEFORE - started_at:
        ran = timedelta(0)
    timer = new_timer(user_id=1, provider="local", details=DETAILS, now=started_at)
    stopped, entry = stop(timer, started_at + ran, time_zone=zone)
    assert entry.duration_seconds == int(ran.total_seconds())
    assert entry.date == local_date(started_at, zone)
    assert DATES_FROM <= entry.date <= DATES_TO
    assert stopped.accumulated == ran


@given(
    started_at=accepted_instants,
    duration=st.none() | timedeltas,
    entry_date=st.none() | dates,
    zone=zone_names,
)
def test_logging_refuses_a_duration_or_date_out_of_range(
    started_at: datetime, duration: timedelta | None, entry_date: date | None, zone: str
) -> None:
    """log() checks its duration and date itself: in range they are recorded, else refused."""
    timer = new_timer(user_id=1, provider="local", details=DETAILS, now=started_at)
    duration_ok = duration is None or timedelta(0) <= duration <= YEAR
    date_ok = entry_date is None or DATES_FROM <= entry_date <= DATES_TO
    if duration_ok and date_ok:
        _, entry = log(timer, started_at, time_zone=zone, duration=duration, entry_date=entry_date)
        if duration is not None:
            assert entry.duration_seconds == int(duration.total_seconds())
        assert entry.date == (entry_date or local_date(started_at, zone))
    else:
        with pytest.raises(BadUserInput) as info:
            log(timer, started_at, time_zone=zone, duration=duration, entry_date=entry_date)
        expected = "input.date" if duration_ok else "input.durationSeconds"
        assert info.value.field == expected


@given(elapsed=timedeltas)
def test_setting_the_elapsed_time_refuses_values_out_of_range(elapsed: timedelta) -> None:
    """update() checks the elapsed time itself: 0 to 366 days is set, anything else refused."""
    timer = pause(new_timer(user_id=1, provider="local", details=DETAILS, now=NOW), NOW)
    if timedelta(0) <= elapsed <= YEAR:
        assert update(timer, TimerChanges(elapsed=elapsed), NOW).accumulated == elapsed
    else:
        with pytest.raises(BadUserInput) as info:
            update(timer, TimerChanges(elapsed=elapsed), NOW)
        assert info.value.field == "input.elapsedSeconds"


@given(started_from=st.none() | instants, started_to=st.none() | instants)
def test_a_timer_filter_refuses_bounds_out_of_range(
    started_from: datetime | None, started_to: datetime | None
) -> None:
    """startedFrom and startedTo out of range are refused by name, not clamped."""
    bad = [
        name
        for name, value in (("startedFrom", started_from), ("startedTo", started_to))
        if value is not None and not in_range(value)
    ]
    if not bad:
        assert TimerFilter(started_from=started_from, started_to=started_to)
    else:
        with pytest.raises(BadUserInput) as info:
            TimerFilter(started_from=started_from, started_to=started_to)
        assert info.value.field == f"filter.{bad[0]}"


@given(date_from=st.none() | dates, date_to=st.none() | dates)
def test_an_entry_filter_refuses_dates_out_of_range(
    date_from: date | None, date_to: date | None
) -> None:
    """dateFrom and dateTo out of range are refused by name."""
    bad = [
        name
        for name, value in (("dateFrom", date_from), ("dateTo", date_to))
        if value is not None and not DATES_FROM <= value <= DATES_TO
    ]
    if not bad:
        assert EntryFilter(date_from=date_from, date_to=date_to)
    else:
        with pytest.raises(BadUserInput) as info:
            EntryFilter(date_from=date_from, date_to=date_to)
        assert info.value.field == f"filter.{bad[0]}"
