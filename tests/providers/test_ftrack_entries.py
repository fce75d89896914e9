"""Time entries on an ftrack connection are the user's Timelogs: made by hand, listed page by
page, filtered, edited and deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ftrack_support import (
    COMPOSITING,
    FTRACK,
    LIGHTING,
    ftrack_app,
    global_id,
    native_id,
    timelogs,
)
from harness import Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import (
    CREATE_ENTRY,
    DELETE_ENTRY,
    ENTRIES,
    GET_ENTRY,
    UPDATE_ENTRY,
    UPDATE_VIEWER,
)

from timergate.fakes.base import Fake
from timergate.fakes.ftrack.seed import OTHER_USER
from timergate.providers import ftrack_session

#: The seeded Timelogs of the connection's user (2024-03-04, 09:00 and 13:30 UTC).
SEEDED = 2


@pytest.fixture
async def ftrack(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    return await connect(alice, FTRACK, fakes)


def entry_input(ftrack: Handle, **given: Any) -> dict[str, Any]:
    return {
        "input": {
            "provider": ftrack.key,
            "context": {"type": "Task", "id": COMPOSITING},
            "startedAt": "2026-03-02T09:00:00+00:00",
            "durationSeconds": 5400,
            **given,
        }
    }


async def create(alice: GraphQLClient, ftrack: Handle, **given: Any) -> dict[str, Any]:
    data = await alice.data(CREATE_ENTRY, entry_input(ftrack, **given))
    entry: dict[str, Any] = data["createTimeEntry"]["entry"]
    return entry


async def listed(alice: GraphQLClient, ftrack: Handle, **variables: Any) -> dict[str, Any]:
    variables.setdefault("filter", {})["provider"] = ftrack.key
    data = await alice.data(ENTRIES, variables)
    page: dict[str, Any] = data["timeEntries"]
    return page


async def test_an_entry_made_by_hand_is_a_timelog(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """createTimeEntry writes a Timelog with the start, the duration in seconds, the comment
    and the task; the entry reads back as ftrack has it."""
    entry = await create(alice, ftrack, description="Client review")
    log = next(r for r in timelogs(fakes) if r["id"] == native_id(entry["id"], "TimeEntry"))
    assert log["start"] == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert (log["duration"], log["comment"], log["context_id"]) == (
        5400,
        "Client review",
        COMPOSITING,
    )
    assert entry["endedAt"] == "2026-03-02T10:30:00+00:00"
    assert entry["date"] == "2026-03-02"
    assert entry["context"]["title"] == "nightfall / Compositing"
    read = (await alice.data(GET_ENTRY, {"id": entry["id"]}))["timeEntry"]
    assert read == entry


async def test_a_date_other_than_the_starts_is_refused(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """ftrack dates a Timelog by its start: a different date answers BAD_USER_INPUT on
    input.date, and nothing is written."""
    error = await alice.error(CREATE_ENTRY, entry_input(ftrack, date="2026-03-05"))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.date"}
    assert len(timelogs(fakes)) == SEEDED


async def test_entries_are_the_users_timelogs_newest_first_page_by_page(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """timeEntries lists the user's Timelogs (not another user's), newest first; pages follow
    one another without gaps or repeats while ftrack answers in pages of its own."""
    monkeypatch.setattr(ftrack_session, "PAGE_SIZE", 2)
    made = [
        await create(alice, ftrack, startedAt=f"2026-03-0{day}T09:00:00+00:00")
        for day in range(1, 6)
    ]
    seen: list[str] = []
    after = None
    while True:
        page = await listed(alice, ftrack, first=2, after=after)
        assert page["totalCount"] == SEEDED + len(made)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    newest_first = [e["id"] for e in reversed(made)]
    assert seen[: len(made)] == newest_first
    assert len(seen) == len(set(seen)) == SEEDED + len(made)


async def test_entries_filter_by_day_in_the_users_time_zone_and_by_task(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """dateFrom/dateTo are days in the user's time zone and context is the task: a Timelog
    late on 2 March in UTC is a 3 March entry in Tokyo."""
    await alice.data(UPDATE_VIEWER, {"input": {"timeZone": "Asia/Tokyo"}})
    late = await create(alice, ftrack, startedAt="2026-03-02T20:00:00+00:00")
    other = await create(
        alice,
        ftrack,
        startedAt="2026-03-03T02:00:00+00:00",
        context={"type": "Task", "id": LIGHTING},
    )
    day = await listed(alice, ftrack, filter={"dateFrom": "2026-03-03", "dateTo": "2026-03-03"})
    assert {n["id"] for n in day["nodes"]} == {late["id"], other["id"]}
    on_task = await listed(
        alice,
        ftrack,
        filter={"dateFrom": "2026-03-03", "context": {"type": "Task", "id": LIGHTING}},
    )
    assert [n["id"] for n in on_task["nodes"]] == [other["id"]]


async def test_editing_an_entry_edits_its_timelog(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """updateTimeEntry changes the Timelog's comment, duration and task; a new date moves the
    start to that day at the same time. The version grows, and a stale one is a CONFLICT."""
    entry = await create(alice, ftrack, description="Draft")
    change = {
        "id": entry["id"],
        "description": "Final",
        "durationSeconds": 600,
        "date": "2026-03-04",
        "context": {"type": "Task", "id": LIGHTING},
    }
    edited = (await alice.data(UPDATE_ENTRY, {"input": change}))["updateTimeEntry"]["entry"]
    assert edited["version"] > entry["version"]
    assert (edited["date"], edited["durationSeconds"]) == ("2026-03-04", 600)
    log = next(r for r in timelogs(fakes) if r["id"] == native_id(entry["id"], "TimeEntry"))
    assert log["start"] == datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(days=2)
    assert (log["comment"], log["duration"], log["context_id"]) == ("Final", 600, LIGHTING)
    stale = {"id": entry["id"], "description": "Again", "expectedVersion": entry["version"]}
    conflict = await alice.error(UPDATE_ENTRY, {"input": stale})
    assert conflict["extensions"]["code"] == "CONFLICT"


async def test_an_entry_changed_in_ftrack_reads_with_a_new_version(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """ftrack keeps no versions: a Timelog edited in ftrack's own app reads with a higher
    version, so a client holding the old one gets a CONFLICT instead of overwriting."""
    entry = await create(alice, ftrack, description="Mine")
    timelog_id = native_id(entry["id"], "TimeEntry")
    change = {"comment": "Changed in ftrack", "__entity_type__": "Timelog"}
    await ftrack_app(
        fakes,
        {
            "action": "update",
            "entity_type": "Timelog",
            "entity_key": [timelog_id],
            "entity_data": change,
        },
    )
    read = (await alice.data(GET_ENTRY, {"id": entry["id"]}))["timeEntry"]
    assert read["description"] == "Changed in ftrack"
    assert read["version"] > entry["version"]
    stale = {"id": entry["id"], "durationSeconds": 60, "expectedVersion": entry["version"]}
    assert (await alice.error(UPDATE_ENTRY, {"input": stale}))["extensions"]["code"] == "CONFLICT"


async def test_deleting_an_entry_deletes_its_timelog(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """deleteTimeEntry removes the Timelog; deleting it again answers NOT_FOUND."""
    entry = await create(alice, ftrack)
    await alice.data(DELETE_ENTRY, {"input": {"id": entry["id"]}})
    assert len(timelogs(fakes)) == SEEDED
    again = await alice.error(DELETE_ENTRY, {"input": {"id": entry["id"]}})
    assert again["extensions"]["code"] == "NOT_FOUND"


async def test_another_ftrack_users_timelog_answers_like_a_missing_one(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """A Timelog of another user of the same ftrack site cannot be read or deleted through
    the connection: the same answers as for an id that names nothing."""
    (theirs,) = timelogs(fakes, OTHER_USER)
    assert ftrack.key is not None
    gid = global_id("TimeEntry", ftrack.key, theirs["id"])
    assert (await alice.data(GET_ENTRY, {"id": gid}))["timeEntry"] is None
    error = await alice.error(DELETE_ENTRY, {"input": {"id": gid}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert len(timelogs(fakes, OTHER_USER)) == 1
