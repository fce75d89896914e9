"""Users never see or touch each other's timers and entries, nor learn that they exist."""

from __future__ import annotations

from typing import Any

import pytest
from support import (
    CANCEL,
    DELETE_ENTRY,
    ENTRIES,
    GET_ENTRY,
    GET_TIMER,
    LOG,
    PAUSE,
    START,
    STOP,
    TIMERS,
    UPDATE_ENTRY,
    UPDATE_TIMER,
    everything,
    global_id,
    populate,
    start,
)

from timergate.domain import ManualClock

MISSING_TIMER = global_id("Timer", "local", 999_999)
MISSING_ENTRY = global_id("TimeEntry", "local", 999_999)

# (name, query, input fields, which of alice's objects, what names nothing)
ATTEMPTS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("pause", PAUSE, {}, "running", MISSING_TIMER),
    ("pause-with-version", PAUSE, {"expectedVersion": 0}, "running", MISSING_TIMER),
    ("stop", STOP, {}, "running", MISSING_TIMER),
    ("stop-with-version", STOP, {"expectedVersion": 1}, "running", MISSING_TIMER),
    ("log", LOG, {"durationSeconds": 60}, "paused", MISSING_TIMER),
    ("cancel", CANCEL, {}, "paused", MISSING_TIMER),
    ("cancel-stopped", CANCEL, {}, "stopped", MISSING_TIMER),
    ("update", UPDATE_TIMER, {"description": "mine now"}, "paused", MISSING_TIMER),
    ("update-stopped", UPDATE_TIMER, {"elapsedSeconds": 1}, "stopped", MISSING_TIMER),
    ("update-entry", UPDATE_ENTRY, {"description": "mine now"}, "manual", MISSING_ENTRY),
    ("update-entry-version", UPDATE_ENTRY, {"expectedVersion": 9}, "entry", MISSING_ENTRY),
    ("delete-entry", DELETE_ENTRY, {}, "entry", MISSING_ENTRY),
]


async def test_anothers_id_answers_like_an_id_that_names_nothing(
    alice, bob, clock: ManualClock, subtests: pytest.Subtests
) -> None:
    """Bob acting on alice's timers and entries gets the very error a missing id gets."""
    world = await populate(alice, clock)
    await populate(bob, clock)
    alices = await everything(alice)
    bobs = await everything(bob)
    for name, query, fields, target, missing in ATTEMPTS:
        with subtests.test(name):
            as_missing = await bob.error(query, {"input": {**fields, "id": missing}})
            as_foreign = await bob.error(query, {"input": {**fields, "id": world[target]}})
            assert as_foreign == as_missing
            assert as_foreign["extensions"] == {"code": "NOT_FOUND"}
            assert await everything(alice) == alices
            assert await everything(bob) == bobs


async def test_resuming_anothers_timer_answers_like_a_missing_one(
    alice, bob, clock: ManualClock
) -> None:
    """startTimer(timerId) with alice's paused timer is NOT_FOUND for bob, as for no timer."""
    world = await populate(alice, clock)
    alices = await everything(alice)
    as_missing = await bob.error(START, {"input": {"timerId": MISSING_TIMER}})
    as_foreign = await bob.error(START, {"input": {"timerId": world["paused"]}})
    assert as_foreign == as_missing
    assert await everything(alice) == alices
    assert (await everything(bob))["timers"]["totalCount"] == 0


async def test_anothers_objects_read_as_null(alice, bob, clock: ManualClock) -> None:
    """timer(id) and timeEntry(id) answer null for alice's ids when bob asks."""
    world = await populate(alice, clock)
    for key in ("running", "paused", "stopped"):
        assert await bob.data(GET_TIMER, {"id": world[key]}) == {"timer": None}
    for key in ("entry", "manual"):
        assert await bob.data(GET_ENTRY, {"id": world[key]}) == {"timeEntry": None}


async def test_lists_hold_only_the_viewers_objects(alice, bob, clock: ManualClock) -> None:
    """timers, timeEntries, runningTimers and viewer show bob only his own."""
    world = await populate(alice, clock)
    own = await start(bob, description="bob's")
    data = await bob.data(
        "{ viewer { name runningTimer { id } } runningTimers { id } "
        "timers { totalCount nodes { id } } timeEntries { totalCount nodes { id } } }"
    )
    assert data == {
        "viewer": {"name": "bob", "runningTimer": {"id": own["id"]}},
        "runningTimers": [{"id": own["id"]}],
        "timers": {"totalCount": 1, "nodes": [{"id": own["id"]}]},
        "timeEntries": {"totalCount": 0, "nodes": []},
    }
    by_alices_timer = await bob.data(ENTRIES, {"filter": {"timerId": world["stopped"]}})
    assert by_alices_timer["timeEntries"]["totalCount"] == 0
    by_alices_text = await bob.data(TIMERS, {"filter": {"text": "paused"}})
    assert by_alices_text["timers"]["totalCount"] == 0


async def test_one_users_timers_do_not_pause_anothers(alice, bob, clock: ManualClock) -> None:
    """One running timer per user, not per gateway: bob's start and stop leave alice's."""
    alices = await start(alice)
    data = await bob.data(START, {"input": {}})
    assert data["startTimer"]["pausedTimers"] == []
    stopped = await bob.data(STOP)
    assert stopped["stopTimer"]["timer"]["id"] == data["startTimer"]["timer"]["id"]
    assert await bob.data(STOP) == {"stopTimer": {"timer": None, "entry": None}}
    clock.advance(10)
    still = await alice.data(GET_TIMER, {"id": alices["id"]})
    assert still["timer"]["state"] == "RUNNING"
    assert still["timer"]["elapsedSeconds"] == 10
