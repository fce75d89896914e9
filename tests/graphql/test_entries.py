"""A user records time by hand, edits and deletes entries."""

from __future__ import annotations

from support import (
    DELETE_ENTRY,
    UPDATE_ENTRY,
    UPDATE_VIEWER,
    create_entry,
    get_entry,
    get_timer,
    start,
    stop,
)

from timergate.domain import ManualClock


async def test_an_entry_from_start_and_end_lasts_the_span(alice, clock: ManualClock) -> None:
    """createTimeEntry with startedAt and endedAt derives durationSeconds and the date."""
    entry = await create_entry(
        alice,
        startedAt="2025-12-30T09:00:00+01:00",
        endedAt="2025-12-30T10:30:00+01:00",
        description="Workshop",
        context={"type": "project", "id": "P-7", "title": "Onboarding"},
        tags=["training"],
        billable=False,
    )
    assert entry["provider"] == "local"
    assert entry["startedAt"] == "2025-12-30T08:00:00+00:00"
    assert entry["endedAt"] == "2025-12-30T09:30:00+00:00"
    assert entry["durationSeconds"] == 5400
    assert entry["date"] == "2025-12-30"
    assert entry["description"] == "Workshop"
    assert entry["context"] == {"type": "project", "id": "P-7", "title": "Onboarding"}
    assert entry["tags"] == ["training"]
    assert entry["billable"] is False
    assert entry["version"] == 1
    assert await get_entry(alice, entry["id"]) == entry
    linked = await alice.data(
        "query($id: ID!) { timeEntry(id: $id) { timer { id } } }", {"id": entry["id"]}
    )
    assert linked["timeEntry"]["timer"] is None


async def test_an_entry_from_start_and_duration_ends_after_it(alice) -> None:
    """createTimeEntry with durationSeconds derives endedAt."""
    entry = await create_entry(alice, startedAt="2025-12-30T08:00:00Z", durationSeconds=900)
    assert entry["endedAt"] == "2025-12-30T08:15:00+00:00"
    assert entry["durationSeconds"] == 900
    assert entry["billable"] is True
    assert entry["tags"] == []


async def test_a_given_duration_wins_over_the_span(alice) -> None:
    """With both an end and a duration, the duration is recorded (e.g. a break excluded)."""
    entry = await create_entry(
        alice,
        startedAt="2025-12-30T08:00:00Z",
        endedAt="2025-12-30T12:00:00Z",
        durationSeconds=3 * 3600,
        date="2025-12-31",
    )
    assert entry["endedAt"] == "2025-12-30T12:00:00+00:00"
    assert entry["durationSeconds"] == 3 * 3600
    assert entry["date"] == "2025-12-31"


async def test_a_hand_made_entry_is_dated_in_the_viewers_zone(alice) -> None:
    """Without a date, the entry takes the start's day in the user's time zone."""
    await alice.data(UPDATE_VIEWER, {"input": {"timeZone": "America/Los_Angeles"}})
    entry = await create_entry(alice, startedAt="2026-01-02T03:00:00Z", durationSeconds=60)
    assert entry["date"] == "2026-01-01"


async def test_moving_the_end_re_derives_the_duration(alice, clock: ManualClock) -> None:
    """updateTimeEntry with a new endedAt recomputes durationSeconds and bumps the version."""
    entry = await create_entry(
        alice, startedAt="2025-12-30T08:00:00Z", endedAt="2025-12-30T09:00:00Z"
    )
    clock.advance(60)
    data = await alice.data(
        UPDATE_ENTRY, {"input": {"id": entry["id"], "endedAt": "2025-12-30T09:45:00Z"}}
    )
    updated = data["updateTimeEntry"]["entry"]
    assert updated["durationSeconds"] == 6300
    assert updated["startedAt"] == entry["startedAt"]
    assert updated["version"] == entry["version"] + 1
    assert updated["updatedAt"] == "2026-01-01T00:01:00+00:00"
    assert updated["createdAt"] == entry["createdAt"]
    assert await get_entry(alice, entry["id"]) == updated


async def test_moving_the_start_keeps_the_end_and_redates(alice) -> None:
    """A new startedAt keeps endedAt, recomputes the duration and the day."""
    entry = await create_entry(
        alice, startedAt="2025-12-30T08:00:00Z", endedAt="2025-12-31T09:00:00Z"
    )
    data = await alice.data(
        UPDATE_ENTRY, {"input": {"id": entry["id"], "startedAt": "2025-12-31T08:00:00Z"}}
    )
    updated = data["updateTimeEntry"]["entry"]
    assert updated["endedAt"] == entry["endedAt"]
    assert updated["durationSeconds"] == 3600
    assert updated["date"] == "2025-12-31"


async def test_an_entry_can_be_given_a_duration(alice) -> None:
    """updateTimeEntry with only durationSeconds moves the end to match."""
    entry = await create_entry(alice, startedAt="2025-12-30T08:00:00Z", durationSeconds=60)
    data = await alice.data(UPDATE_ENTRY, {"input": {"id": entry["id"], "durationSeconds": 120}})
    updated = data["updateTimeEntry"]["entry"]
    assert updated["durationSeconds"] == 120
    assert updated["endedAt"] == "2025-12-30T08:02:00+00:00"


async def test_an_entry_can_be_given_new_details(alice) -> None:
    """updateTimeEntry sets description, context, tags, billable and date; null clears."""
    entry = await create_entry(
        alice, startedAt="2025-12-30T08:00:00Z", durationSeconds=60, description="x"
    )
    data = await alice.data(
        UPDATE_ENTRY,
        {
            "input": {
                "id": entry["id"],
                "description": None,
                "context": {"type": "ticket", "id": "JIRA-1", "title": "Bug"},
                "tags": ["bug"],
                "billable": False,
                "date": "2025-12-29",
            }
        },
    )
    updated = data["updateTimeEntry"]["entry"]
    assert updated["description"] is None
    assert updated["context"] == {"type": "ticket", "id": "JIRA-1", "title": "Bug"}
    assert updated["tags"] == ["bug"]
    assert updated["billable"] is False
    assert updated["date"] == "2025-12-29"
    assert updated["durationSeconds"] == 60
    assert updated["version"] == 2


async def test_an_edit_that_changes_nothing_keeps_the_entry_version(alice) -> None:
    """Sending an entry's current values is not a change."""
    entry = await create_entry(
        alice, startedAt="2025-12-30T08:00:00Z", durationSeconds=60, description="same"
    )
    data = await alice.data(UPDATE_ENTRY, {"input": {"id": entry["id"], "description": "same"}})
    assert data["updateTimeEntry"]["entry"] == entry


async def test_a_deleted_entry_is_gone(alice) -> None:
    """deleteTimeEntry removes the entry from reads and lists."""
    entry = await create_entry(alice, startedAt="2025-12-30T08:00:00Z", durationSeconds=60)
    data = await alice.data(DELETE_ENTRY, {"input": {"id": entry["id"]}})
    assert data["deleteTimeEntry"] == {"id": entry["id"]}
    assert await get_entry(alice, entry["id"]) is None
    listed = await alice.data("{ timeEntries { totalCount nodes { id } } }")
    assert listed["timeEntries"] == {"totalCount": 0, "nodes": []}


async def test_deleting_a_timers_entry_unlinks_it(alice, clock: ManualClock) -> None:
    """After its entry is deleted, the stopped timer stays, with entry null."""
    timer = await start(alice)
    clock.advance(10)
    entry = (await stop(alice, timer["id"]))["entry"]
    await alice.data(DELETE_ENTRY, {"input": {"id": entry["id"]}})
    data = await alice.data(
        "query($id: ID!) { timer(id: $id) { state entry { id } } }", {"id": timer["id"]}
    )
    assert data["timer"] == {"state": "STOPPED", "entry": None}
    assert await get_timer(alice, timer["id"]) is not None


async def test_entry_edits_grow_the_version_and_honour_expected_version(alice) -> None:
    """Each entry edit raises version; an edit naming the current version succeeds."""
    entry = await create_entry(alice, startedAt="2025-12-30T08:00:00Z", durationSeconds=60)
    first = await alice.data(
        UPDATE_ENTRY, {"input": {"id": entry["id"], "tags": ["a"], "expectedVersion": 1}}
    )
    second = await alice.data(
        UPDATE_ENTRY, {"input": {"id": entry["id"], "tags": ["b"], "expectedVersion": 2}}
    )
    assert first["updateTimeEntry"]["entry"]["version"] == 2
    assert second["updateTimeEntry"]["entry"]["version"] == 3
    await alice.data(DELETE_ENTRY, {"input": {"id": entry["id"], "expectedVersion": 3}})
    assert await get_entry(alice, entry["id"]) is None
