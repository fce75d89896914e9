"""A user pages through and filters timers and time entries (Relay connections), on each store."""

from __future__ import annotations

from typing import Any

import pytest
from support import ENTRIES, TIMERS, UPDATE_ENTRY, create_entry, pause, start, stop

from fresh_stores import STORE_BACKENDS
from timergate.domain import ManualClock

pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)


async def page(client: Any, query: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(query, variables)
    connection: dict[str, Any] = next(iter(data.values()))
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def test_timers_page_newest_first_with_cursors(alice, clock: ManualClock) -> None:
    """timers(first, after) walks all timers newest first; pageInfo and totalCount agree."""
    made = []
    for n in range(5):
        made.append((await start(alice, description=f"t{n}"))["id"])
        clock.advance(1)
    newest_first = made[::-1]

    first = await page(alice, TIMERS, first=2)
    assert ids(first) == newest_first[:2]
    assert [n["id"] for n in first["nodes"]] == ids(first)
    assert first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    second = await page(alice, TIMERS, first=2, after=first["pageInfo"]["endCursor"])
    assert ids(second) == newest_first[2:4]
    assert second["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert second["totalCount"] == 5

    last = await page(alice, TIMERS, first=2, after=second["pageInfo"]["endCursor"])
    assert ids(last) == newest_first[4:]
    assert last["pageInfo"]["hasNextPage"] is False


async def test_an_empty_list_has_no_cursors(alice) -> None:
    """With nothing to list, the connection is empty and says so."""
    empty = await page(alice, TIMERS)
    assert empty == {
        "totalCount": 0,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
        "nodes": [],
    }


async def test_timers_filter_by_state(alice, clock: ManualClock) -> None:
    """filter.states keeps only timers in those states; totalCount counts the matches."""
    stopped = await start(alice)
    clock.advance(1)
    await stop(alice, stopped["id"])
    paused = await start(alice)
    await pause(alice, paused["id"])
    running = await start(alice)

    only_running = await page(alice, TIMERS, filter={"states": ["RUNNING"]})
    assert ids(only_running) == [running["id"]]
    assert only_running["totalCount"] == 1
    open_ones = await page(alice, TIMERS, filter={"states": ["RUNNING", "PAUSED"]})
    assert ids(open_ones) == [running["id"], paused["id"]]
    assert open_ones["totalCount"] == 2
    done = await page(alice, TIMERS, filter={"states": ["STOPPED"]})
    assert ids(done) == [stopped["id"]]


async def test_timers_filter_by_context_provider_and_text(alice) -> None:
    """filter.context, provider and text (description or context title, any case) narrow."""
    task = await start(
        alice, description="Fix login", context={"type": "task", "id": "1", "title": "Auth"}
    )
    other_task = await start(
        alice, description="Deploy", context={"type": "task", "id": "2", "title": "Release"}
    )
    ticket = await start(alice, description="Triage", context={"type": "ticket", "id": "1"})

    by_type = await page(alice, TIMERS, filter={"context": {"type": "task"}})
    assert ids(by_type) == [other_task["id"], task["id"]]
    by_both = await page(alice, TIMERS, filter={"context": {"type": "task", "id": "1"}})
    assert ids(by_both) == [task["id"]]
    by_id = await page(alice, TIMERS, filter={"context": {"id": "1"}})
    assert ids(by_id) == [ticket["id"], task["id"]]

    assert ids(await page(alice, TIMERS, filter={"text": "LOGIN"})) == [task["id"]]
    assert ids(await page(alice, TIMERS, filter={"text": "releas"})) == [other_task["id"]]
    assert ids(await page(alice, TIMERS, filter={"text": "nothing like it"})) == []
    local = await page(alice, TIMERS, filter={"provider": "local"})
    assert local["totalCount"] == 3


async def test_text_filters_match_wildcards_literally(alice) -> None:
    """A % or _ in filter.text is a character to find, not a pattern."""
    literal = await start(alice, description="100% done")
    await start(alice, description="100 items done")
    assert ids(await page(alice, TIMERS, filter={"text": "100%"})) == [literal["id"]]
    assert ids(await page(alice, TIMERS, filter={"text": "_"})) == []


async def test_timers_filter_by_start_range(alice, clock: ManualClock) -> None:
    """startedFrom is inclusive and startedTo exclusive."""
    early = await start(alice)  # 2026-01-01T00:00Z
    clock.advance(hours=1)
    middle = await start(alice)  # 01:00Z
    clock.advance(hours=1)
    late = await start(alice)  # 02:00Z

    window = await page(
        alice,
        TIMERS,
        filter={"startedFrom": "2026-01-01T01:00:00Z", "startedTo": "2026-01-01T02:00:00Z"},
    )
    assert ids(window) == [middle["id"]]
    assert window["totalCount"] == 1
    # 02:00+01:00 is 01:00Z: the offset is honoured.
    since = await page(alice, TIMERS, filter={"startedFrom": "2026-01-01T02:00:00+01:00"})
    assert ids(since) == [late["id"], middle["id"]]
    before = await page(alice, TIMERS, filter={"startedTo": "2026-01-01T01:00:00Z"})
    assert ids(before) == [early["id"]]


async def test_running_timers_lists_the_running_one(alice, clock: ManualClock) -> None:
    """runningTimers holds the RUNNING timer only, not the one it paused."""
    await start(alice)
    running = await start(alice)
    data = await alice.data("{ runningTimers { id state } }")
    assert data["runningTimers"] == [{"id": running["id"], "state": "RUNNING"}]


async def test_entries_page_newest_first(alice) -> None:
    """timeEntries(first, after) walks all entries newest first."""
    made = [
        (await create_entry(alice, startedAt=f"2025-12-{10 + n}T08:00:00Z", durationSeconds=60))[
            "id"
        ]
        for n in range(3)
    ]
    first = await page(alice, ENTRIES, first=2)
    assert ids(first) == made[::-1][:2]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await page(alice, ENTRIES, first=2, after=first["pageInfo"]["endCursor"])
    assert ids(rest) == [made[0]]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": rest["edges"][0]["cursor"],
        "endCursor": rest["edges"][0]["cursor"],
    }


async def test_entries_filter_by_date_range(alice) -> None:
    """dateFrom and dateTo are both inclusive."""
    by_day = {}
    for day in ("2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04"):
        entry = await create_entry(alice, startedAt=f"{day}T12:00:00Z", durationSeconds=60)
        by_day[day] = entry["id"]
    window = await page(alice, ENTRIES, filter={"dateFrom": "2025-12-02", "dateTo": "2025-12-03"})
    assert ids(window) == [by_day["2025-12-03"], by_day["2025-12-02"]]
    assert window["totalCount"] == 2
    assert ids(await page(alice, ENTRIES, filter={"dateFrom": "2025-12-04"})) == [
        by_day["2025-12-04"]
    ]
    assert ids(await page(alice, ENTRIES, filter={"dateTo": "2025-12-01"})) == [
        by_day["2025-12-01"]
    ]


async def test_entries_filter_by_context_text_and_timer(alice, clock: ManualClock) -> None:
    """filter.context, text and timerId narrow the entries."""
    timer = await start(alice, description="Timed work", context={"type": "task", "id": "9"})
    clock.advance(60)
    timed = (await stop(alice, timer["id"]))["entry"]
    manual = await create_entry(
        alice,
        startedAt="2025-12-30T08:00:00Z",
        durationSeconds=60,
        description="Typed in",
        context={"type": "project", "id": "9", "title": "Big Project"},
    )

    assert ids(await page(alice, ENTRIES, filter={"context": {"type": "task"}})) == [timed["id"]]
    # Newest work first: the timed work began on 2026-01-01, the typed-in entry before.
    assert ids(await page(alice, ENTRIES, filter={"context": {"id": "9"}})) == [
        timed["id"],
        manual["id"],
    ]
    assert ids(await page(alice, ENTRIES, filter={"text": "big project"})) == [manual["id"]]
    assert ids(await page(alice, ENTRIES, filter={"timerId": timer["id"]})) == [timed["id"]]
    local = await page(alice, ENTRIES, filter={"provider": "local"})
    assert local["totalCount"] == 2


async def test_entries_read_as_a_timesheet(alice, clock: ManualClock) -> None:
    """An entry typed in today for last Monday sits below this morning's, not above it."""
    clock.advance(days=62, hours=8)  # Wednesday 2026-03-04, 08:00
    timer = await start(alice, description="This morning")
    clock.advance(hours=1)
    this_morning = (await stop(alice, timer["id"]))["entry"]
    last_monday = await create_entry(
        alice, startedAt="2026-03-02T14:00:00Z", durationSeconds=3600, description="Monday"
    )
    monday_morning = await create_entry(
        alice, startedAt="2026-03-02T09:00:00Z", durationSeconds=3600, description="Early"
    )
    listed = await page(alice, ENTRIES)
    assert ids(listed) == [this_morning["id"], last_monday["id"], monday_morning["id"]]


async def test_entry_pages_hold_their_place_while_entries_come_and_go(alice) -> None:
    """Entries added or moved between pages neither repeat on the next page nor push others off."""
    made = [
        (await create_entry(alice, startedAt=f"2026-02-{day:02}T09:00:00Z", durationSeconds=60))[
            "id"
        ]
        for day in (10, 9, 8, 7, 6)
    ]
    first = await page(alice, ENTRIES, first=2)
    assert ids(first) == made[:2]

    await create_entry(alice, startedAt="2026-02-20T09:00:00Z", durationSeconds=60)  # above
    older = await create_entry(alice, startedAt="2026-02-07T18:00:00Z", durationSeconds=60)
    await alice.data(  # moved above the cursor: already read, so not on the pages to come
        UPDATE_ENTRY,
        {"input": {"id": made[2], "startedAt": "2026-02-21T09:00:00Z", "durationSeconds": 60}},
    )

    rest: list[str] = []
    after = first["pageInfo"]["endCursor"]
    while after is not None:
        following = await page(alice, ENTRIES, first=2, after=after)
        rest += ids(following)
        after = following["pageInfo"]["endCursor"] if following["pageInfo"]["hasNextPage"] else None
    assert rest == [older["id"], made[3], made[4]]
    assert following["totalCount"] == 7


async def test_timer_pages_hold_their_place_while_timers_start(alice, clock: ManualClock) -> None:
    """Timers started while a client pages do not push older timers back onto the next page."""
    made = []
    for _ in range(4):
        made.append((await start(alice))["id"])
        clock.advance(1)
    first = await page(alice, TIMERS, first=2)
    await start(alice)
    second = await page(alice, TIMERS, first=2, after=first["pageInfo"]["endCursor"])
    assert ids(second) == [made[1], made[0]]
    assert second["pageInfo"]["hasNextPage"] is False
