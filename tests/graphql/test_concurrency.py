"""Requests that race each other still leave one running timer and consistent data, on each
store (on PostgreSQL, racing requests share a connection pool)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from support import START, STOP, TIMERS, UPDATE_TIMER, pause, start

from fresh_stores import STORE_BACKENDS
from timergate.domain import ManualClock

pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)


async def test_concurrent_starts_leave_exactly_one_running(alice) -> None:
    """Twenty simultaneous startTimer calls: one RUNNING, the rest PAUSED, each paused once."""
    payloads = await asyncio.gather(
        *(alice.data(START, {"input": {"description": f"race {n}"}}) for n in range(20))
    )
    started = [p["startTimer"]["timer"]["id"] for p in payloads]
    paused = Counter(t["id"] for p in payloads for t in p["startTimer"]["pausedTimers"])
    assert len(set(started)) == 20

    listed = await alice.data(TIMERS, {"first": 100})
    states = Counter(node["node"]["state"] for node in listed["timers"]["edges"])
    assert states == {"RUNNING": 1, "PAUSED": 19}
    running = await alice.data("{ runningTimers { id } }")
    assert len(running["runningTimers"]) == 1
    (survivor,) = (t["id"] for t in running["runningTimers"])
    assert set(paused) == set(started) - {survivor}
    assert set(paused.values()) == {1}


async def test_concurrent_resumes_leave_exactly_one_running(alice) -> None:
    """Resuming many PAUSED timers at once still leaves a single RUNNING one."""
    timers = [await start(alice) for _ in range(8)]
    for timer in timers:
        await pause(alice, timer["id"])
    await asyncio.gather(*(alice.data(START, {"input": {"timerId": t["id"]}}) for t in timers))
    running = await alice.data(TIMERS, {"filter": {"states": ["RUNNING"]}})
    assert running["timers"]["totalCount"] == 1


async def test_concurrent_stops_record_one_entry(alice, clock: ManualClock) -> None:
    """Ten simultaneous stopTimer calls without an id stop the running timer once."""
    timer = await start(alice)
    clock.advance(30)
    payloads = await asyncio.gather(*(alice.data(STOP) for _ in range(10)))
    stopped = [p["stopTimer"] for p in payloads if p["stopTimer"]["timer"] is not None]
    assert len(stopped) == 1
    assert stopped[0]["timer"]["id"] == timer["id"]
    assert stopped[0]["entry"]["durationSeconds"] == 30
    entries = await alice.data("{ timeEntries { totalCount } }")
    assert entries["timeEntries"]["totalCount"] == 1


async def test_concurrent_edits_of_one_version_let_one_through(alice) -> None:
    """Of edits all naming the same expectedVersion, one wins and the others get CONFLICT."""
    timer = await start(alice)
    bodies = await asyncio.gather(
        *(
            alice.execute(
                UPDATE_TIMER,
                {"input": {"id": timer["id"], "description": f"edit {n}", "expectedVersion": 1}},
            )
            for n in range(10)
        )
    )
    winners = [b["data"]["updateTimer"]["timer"] for b in bodies if "errors" not in b]
    losers = [b["errors"][0]["extensions"] for b in bodies if "errors" in b]
    assert len(winners) == 1
    assert losers == [{"code": "CONFLICT", "currentVersion": 2}] * 9
    read = await alice.data(
        "query($id: ID!) { timer(id: $id) { description version } }", {"id": timer["id"]}
    )
    assert read["timer"] == {"description": winners[0]["description"], "version": 2}
