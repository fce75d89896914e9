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
from tests.graphql.support import ENTRIES

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
