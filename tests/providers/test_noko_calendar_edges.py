"""Noko entries near the ends of the calendar read back without breaking the user's lists.

Noko keeps an entry as a date and minutes; timergate derives its start (the date's midnight
in the user's zone) and end from them, and pages by the start's date.
"""

from __future__ import annotations

from harness import HARNESSES, Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import CREATE_ENTRY, ENTRIES

from timergate.fakes.base import Fake


async def noko(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    return await connect(alice, HARNESSES["noko"], fakes)


async def test_an_entry_on_the_last_day_with_a_long_duration_reads_back(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """An entry dated 9999-12-30 of 300 days ends at the last instant there is, and the
    user's entry list still answers (it used to fail for good with an internal error)."""
    handle = await noko(alice, fakes)
    created = await alice.data(
        CREATE_ENTRY,
        {
            "input": {
                "provider": handle.key,
                "startedAt": "9999-01-01T00:00:00Z",
                "durationSeconds": 300 * 86400,
                "date": "9999-12-30",
                "context": dict(handle.contexts[0]),
            }
        },
    )
    entry = created["createTimeEntry"]["entry"]
    assert entry["date"] == "9999-12-30"
    assert entry["durationSeconds"] == 300 * 86400
    assert entry["endedAt"] == "9999-12-31T23:59:59.999999+00:00"
    listed = await alice.data(ENTRIES, {"filter": {"provider": handle.key}})
    assert entry["id"] in [n["id"] for n in listed["timeEntries"]["nodes"]]
