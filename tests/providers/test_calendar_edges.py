"""Every provider answers lists bounded at the ends of the calendar without an internal error.

Vendors' connections step a day past a date filter or a second past a page cursor; the API's
date range and its cursors leave them that room.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from harness import Handle
from tests.conftest import GraphQLClient
from tests.graphql.support import ENTRIES, TIMERS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor(at: datetime, provider: str) -> str:
    raw = f"p1:{(at - _EPOCH) // timedelta(microseconds=1)}:{provider}:0"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def only(provider: Handle) -> dict[str, str]:
    return {"provider": provider.key} if provider.key else {}


@pytest.mark.parametrize(
    "bounds",
    [
        {"dateFrom": "1000-01-01", "dateTo": "9999-12-30"},
        {"dateTo": "9999-12-30"},
        {"dateFrom": "9999-12-30"},
        {"dateTo": "1000-01-01"},
    ],
)
async def test_entry_lists_bounded_by_the_first_and_last_dates_answer(
    alice: GraphQLClient, provider: Handle, bounds: dict[str, str]
) -> None:
    """dateFrom and dateTo at the ends of the accepted range list entries (or none)."""
    data = await alice.data(ENTRIES, {"filter": {**only(provider), **bounds}})
    assert data["timeEntries"]["totalCount"] >= 0


async def test_a_date_past_the_last_is_refused_before_any_provider(
    alice: GraphQLClient, provider: Handle
) -> None:
    """dateTo 9999-12-31 is out of range: BAD_USER_INPUT naming it, for every provider."""
    error = await alice.error(ENTRIES, {"filter": {**only(provider), "dateTo": "9999-12-31"}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.dateTo"}


@pytest.mark.parametrize(
    "at",
    [
        datetime.max.replace(tzinfo=UTC),
        datetime(9999, 12, 31, 12, tzinfo=UTC),
        datetime.min.replace(tzinfo=UTC),
    ],
    ids=["last-instant", "last-day", "first-instant"],
)
@pytest.mark.parametrize("query", [ENTRIES, TIMERS], ids=["entries", "timers"])
async def test_a_cursor_at_the_ends_of_the_calendar_is_not_ours(
    alice: GraphQLClient, provider: Handle, at: datetime, query: str
) -> None:
    """A forged cursor placed where no list item starts (the calendar's first or last two
    days) is refused as not one of ours, before a provider steps past it and overflows."""
    for placed_on in {"local", provider.key or "local"}:
        variables = {"filter": only(provider), "after": cursor(at, placed_on)}
        error = await alice.error(query, variables)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_a_cursor_near_the_end_of_the_range_pages_on(
    alice: GraphQLClient, provider: Handle
) -> None:
    """A cursor on the last accepted day pages everything that started before it."""
    everything = await alice.data(ENTRIES, {"filter": only(provider)})
    after = cursor(datetime(9999, 12, 29, 23, tzinfo=UTC), provider.key or "local")
    paged = await alice.data(ENTRIES, {"filter": only(provider), "after": after})
    assert paged["timeEntries"]["nodes"] == everything["timeEntries"]["nodes"]
