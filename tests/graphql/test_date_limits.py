"""Instants and dates at the edges of the calendar get BAD_USER_INPUT by field, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from support import (
    CREATE_ENTRY,
    ENTRIES,
    EVERYTHING,
    LOG,
    TIMERS,
    UPDATE_ENTRY,
    UPDATE_VIEWER,
    create_entry,
    start,
)
from tests.conftest import GraphQLClient

FIRST_INSTANT = "1000-01-02T00:00:00Z"
LAST_INSTANT = "9999-12-29T23:59:59Z"


async def assert_refused(
    client: GraphQLClient, query: str, variables: dict[str, Any], field: str
) -> dict[str, Any]:
    error = await client.error(query, variables)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert "out of range" in error["message"] or "accepted range" in error["message"]
    return error


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"startedAt": "9999-12-31T23:59:59Z", "durationSeconds": 60}, "input.startedAt"),
        ({"startedAt": "0001-01-01T00:00:00+01:00", "durationSeconds": 60}, "input.startedAt"),
        ({"startedAt": "0001-01-01T00:00:00Z", "endedAt": FIRST_INSTANT}, "input.startedAt"),
        ({"startedAt": FIRST_INSTANT, "endedAt": "9999-12-30T00:00:00Z"}, "input.endedAt"),
        ({"startedAt": "9999-12-29T00:00:00Z", "durationSeconds": 86400}, "input.durationSeconds"),
        (
            {"startedAt": "2026-05-01T09:00:00Z", "durationSeconds": 60, "date": "0001-01-01"},
            "input.date",
        ),
        (
            {"startedAt": "2026-05-01T09:00:00Z", "durationSeconds": 60, "date": "0999-12-31"},
            "input.date",
        ),
    ],
)
async def test_a_hand_entry_out_of_range_is_refused_and_nothing_is_stored(
    alice: GraphQLClient, input: dict[str, Any], field: str
) -> None:
    """createTimeEntry with an instant, end or date outside the range names the field."""
    before = await alice.data(EVERYTHING)
    await assert_refused(alice, CREATE_ENTRY, {"input": input}, field)
    assert await alice.data(EVERYTHING) == before


@pytest.mark.parametrize(
    ("zone", "started_at", "date"),
    [
        ("Etc/GMT+12", FIRST_INSTANT, "1000-01-01"),
        ("Etc/GMT-14", "9999-12-29T23:59:00Z", "9999-12-30"),
    ],
)
async def test_the_edges_of_the_range_are_dated_in_the_farthest_zones(
    alice: GraphQLClient, zone: str, started_at: str, date: str
) -> None:
    """A user at UTC-12 or UTC+14 can record time at either end of the range."""
    await alice.data(UPDATE_VIEWER, {"input": {"timeZone": zone}})
    entry = await create_entry(alice, startedAt=started_at, durationSeconds=59)
    assert entry["date"] == date
    assert entry["startedAt"] == started_at.replace("Z", "+00:00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"startedAt": "0001-01-01T00:00:00+01:00"}, "input.startedAt"),
        ({"endedAt": "9999-12-31T23:59:59Z"}, "input.endedAt"),
        ({"date": "9999-12-30"}, None),
        ({"date": "9999-12-31"}, "input.date"),
        ({"date": "0001-01-01"}, "input.date"),
    ],
)
async def test_an_entry_edit_out_of_range_is_refused(
    alice: GraphQLClient, changes: dict[str, Any], field: str | None
) -> None:
    """updateTimeEntry refuses instants and dates out of range by field; the last date is fine."""
    entry = await create_entry(alice, startedAt="9999-12-28T00:00:00Z", durationSeconds=60)
    variables = {"input": {"id": entry["id"], **changes}}
    if field is None:
        edited = await alice.data(UPDATE_ENTRY, variables)
        assert edited["updateTimeEntry"]["entry"]["date"] == changes["date"]
        return
    await assert_refused(alice, UPDATE_ENTRY, variables, field)


async def test_a_duration_carrying_an_entry_past_the_range_is_refused(
    alice: GraphQLClient,
) -> None:
    """A new duration whose end would fall past the range is refused, naming durationSeconds."""
    entry = await create_entry(alice, startedAt="9999-12-28T00:00:00Z", durationSeconds=60)
    variables = {"input": {"id": entry["id"], "durationSeconds": 3 * 86400}}
    await assert_refused(alice, UPDATE_ENTRY, variables, "input.durationSeconds")


async def test_logging_a_timer_on_a_date_out_of_range_is_refused(alice: GraphQLClient) -> None:
    """logTimer with a date out of range is refused and the timer keeps running."""
    timer = await start(alice)
    await assert_refused(
        alice, LOG, {"input": {"id": timer["id"], "date": "0001-01-01"}}, "input.date"
    )
    running = await alice.data("{ runningTimers { id } }")
    assert running["runningTimers"] == [{"id": timer["id"]}]


@pytest.mark.parametrize(
    ("query", "filter", "field"),
    [
        (TIMERS, {"startedFrom": "0001-01-01T00:00:00+01:00"}, "filter.startedFrom"),
        (TIMERS, {"startedTo": "9999-12-31T23:59:59-01:00"}, "filter.startedTo"),
        (ENTRIES, {"dateFrom": "0001-01-01"}, "filter.dateFrom"),
        (ENTRIES, {"dateTo": "0999-12-31"}, "filter.dateTo"),
        (ENTRIES, {"dateTo": "9999-12-31"}, "filter.dateTo"),
    ],
)
async def test_filter_bounds_out_of_range_are_refused(
    alice: GraphQLClient, query: str, filter: dict[str, str], field: str
) -> None:
    """A list filter bound outside the range is refused by name (leave it out to leave it open)."""
    await assert_refused(alice, query, {"filter": filter}, field)


async def test_filter_bounds_at_the_edges_of_the_range_work(alice: GraphQLClient) -> None:
    """The first and last accepted instants and dates are valid filter bounds."""
    await start(alice)
    await create_entry(alice, startedAt="2026-05-01T09:00:00Z", durationSeconds=60)
    timers = await alice.data(
        TIMERS, {"filter": {"startedFrom": FIRST_INSTANT, "startedTo": LAST_INSTANT}}
    )
    assert timers["timers"]["totalCount"] == 1
    entries = await alice.data(
        ENTRIES, {"filter": {"dateFrom": "1000-01-01", "dateTo": "9999-12-30"}}
    )
    assert entries["timeEntries"]["totalCount"] == 1
