"""A user watches their running timers tick, over a real websocket (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from live_support import (
    TICKS,
    Person,
    Socket,
    assert_on_boundary,
    instant,
)

from timergate.domain import encode_global_id

#: The same ticks, with a selection the fast renderer leaves to graphql-core.
TICKS_WITH_ENTRY = """
subscription TicksWithEntry($timerId: ID, $interval: Int! = 1) {
  timerTicks(timerId: $timerId, intervalSeconds: $interval) {
    elapsedSeconds at final timer { id state entry { id } }
  }
}
"""


async def ticks(ws: Socket, op_id: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` ticks of ``op_id``."""
    return [(await ws.next(op_id))["timerTicks"] for _ in range(count)]


async def final_tick(ws: Socket, op_id: str) -> dict[str, Any]:
    """The final tick of ``op_id``, after at most two regular ones that raced the change."""
    for _ in range(3):
        (tick,) = await ticks(ws, op_id, 1)
        if tick["final"]:
            return tick
    raise AssertionError(f"no final tick for {op_id}")


async def test_a_running_timer_ticks_once_per_interval_on_whole_seconds(server, people) -> None:
    """One tick per interval, at whole UTC seconds divisible by the interval, counting up."""
    (alice,) = await people("alice")
    timer_id = await alice.start("Write the report")
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("every-second", TICKS, timerId=timer_id)
        await ws.subscribe("every-other", TICKS, timerId=timer_id, interval=2)
        every_second, every_other = await asyncio.gather(
            ticks(ws, "every-second", 3), ticks(ws, "every-other", 2)
        )

    for interval, stream in ((1, every_second), (2, every_other)):
        for tick in stream:
            assert_on_boundary(tick["at"], interval)
            assert tick["final"] is False
            assert tick["timer"]["id"] == timer_id
            assert tick["timer"]["state"] == "RUNNING"
            assert tick["timer"]["description"] == "Write the report"
            assert tick["timer"]["elapsedSeconds"] == tick["elapsedSeconds"]
        for before, after in itertools.pairwise(stream):
            gap = (instant(after["at"]) - instant(before["at"])).total_seconds()
            assert gap == interval
            assert after["elapsedSeconds"] == before["elapsedSeconds"] + interval


async def test_pausing_gives_a_final_tick_and_the_stream_idles_until_resumed(
    server, people
) -> None:
    """Pause: one final PAUSED tick, then nothing; resume: the same stream ticks again."""
    (alice,) = await people("alice")
    timer_id = await alice.start()
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("ticks", TICKS, timerId=timer_id)
        (running,) = await ticks(ws, "ticks", 1)

        await alice.pause(timer_id)
        paused = await final_tick(ws, "ticks")
        assert paused["timer"]["state"] == "PAUSED"
        assert paused["timer"]["runningSince"] is None
        assert paused["elapsedSeconds"] >= running["elapsedSeconds"]
        await ws.silent("ticks", 1.5)

        await alice.resume(timer_id)
        (resumed,) = await ticks(ws, "ticks", 1)
        assert resumed["final"] is False
        assert resumed["timer"]["state"] == "RUNNING"
        assert_on_boundary(resumed["at"])
        # The pause is not counted: the time goes on from where it paused.
        assert paused["elapsedSeconds"] <= resumed["elapsedSeconds"] <= paused["elapsedSeconds"] + 1


async def test_stopping_logging_or_cancelling_ends_the_stream_after_a_final_tick(
    server, people
) -> None:
    """stopTimer, logTimer and cancelTimer each give a final tick, then "complete"."""
    endings: dict[str, tuple[Callable[[Person, str], Awaitable[Any]], str]] = {
        "stop": (Person.stop, "STOPPED"),
        "log": (Person.log, "STOPPED"),
        # A cancelled timer is gone; its final tick shows it as it was.
        "cancel": (Person.cancel, "RUNNING"),
    }

    async def watch_until(person: Person, how: str) -> None:
        end, final_state = endings[how]
        timer_id = await person.start(how)
        async with Socket.connect(server.ws_url) as ws:
            await ws.open(person)
            await ws.subscribe(how, TICKS, timerId=timer_id)
            (running,) = await ticks(ws, how, 1)
            await end(person, timer_id)
            final = await final_tick(ws, how)
            assert final["timer"]["state"] == final_state, how
            assert final["elapsedSeconds"] >= running["elapsedSeconds"], how
            await ws.completed(how)

    users = await people(*endings)
    await asyncio.gather(*(watch_until(p, how) for p, how in zip(users, endings, strict=True)))


async def test_without_a_timer_id_every_running_timer_ticks_even_ones_started_later(
    server, people
) -> None:
    """An all-timers stream idles with nothing running and picks up timers as they start."""
    (alice,) = await people("alice")
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("all", TICKS)
        await ws.silent("all", 1.2)

        first = await alice.start("first")
        (tick,) = await ticks(ws, "all", 1)
        assert tick["timer"]["id"] == first

        # Starting another timer pauses the first: its final tick, then the new one ticks.
        second = await alice.start("second")
        paused = await final_tick(ws, "all")
        assert (paused["timer"]["id"], paused["timer"]["state"]) == (first, "PAUSED")
        (tick,) = await ticks(ws, "all", 1)
        assert (tick["timer"]["id"], tick["final"], tick["timer"]["state"]) == (
            second,
            False,
            "RUNNING",
        )
        assert_on_boundary(tick["at"])


async def test_an_interval_outside_1_to_3600_seconds_is_bad_user_input(server, people) -> None:
    """intervalSeconds 0, -1 and 3601 are refused with BAD_USER_INPUT, on either path."""
    (alice,) = await people("alice")
    timer_id = await alice.start()
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        for query in (TICKS, TICKS_WITH_ENTRY):
            for interval in (0, -1, 3601):
                op_id = f"{query[:30]}/{interval}"
                await ws.subscribe(op_id, query, timerId=timer_id, interval=interval)
                (error,) = await ws.error(op_id)
                assert error["extensions"]["code"] == "BAD_USER_INPUT", error
                assert "intervalSeconds" in error["message"]
        # The limits themselves are fine.
        for interval in (1, 3600):
            await ws.subscribe(f"ok/{interval}", TICKS, timerId=timer_id, interval=interval)
        (tick,) = await ticks(ws, "ok/1", 1)
        assert tick["final"] is False


async def test_another_users_timer_is_indistinguishable_from_a_missing_one(server, people) -> None:
    """Bob subscribing to Alice's timer gets exactly the NOT_FOUND of an unknown id."""
    alice, bob = await people("alice", "bob")
    alices_timer = await alice.start()
    missing = encode_global_id("Timer", "local", 987_654_321)
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(bob)
        for query in (TICKS, TICKS_WITH_ENTRY):
            await ws.subscribe("alice's", query, timerId=alices_timer)
            await ws.subscribe("missing", query, timerId=missing)
            theirs, nobodys = await ws.error("alice's"), await ws.error("missing")
            assert theirs == nobodys
            assert [e["extensions"]["code"] for e in theirs] == ["NOT_FOUND"]


async def test_a_selection_with_the_timers_entry_ticks_through_real_execution(
    server, people
) -> None:
    """timer { entry { id } } is resolved per tick: null while running, the entry once stopped."""
    (alice,) = await people("alice")
    timer_id = await alice.start()
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("entry", TICKS_WITH_ENTRY, timerId=timer_id)
        (running,) = await ticks(ws, "entry", 1)
        assert running["timer"] == {"id": timer_id, "state": "RUNNING", "entry": None}
        assert_on_boundary(running["at"])

        entry_id = await alice.stop(timer_id)
        final = await final_tick(ws, "entry")
        assert final["timer"] == {"id": timer_id, "state": "STOPPED", "entry": {"id": entry_id}}
        await ws.completed("entry")


async def test_subscribing_to_a_stopped_timer_gives_its_final_tick_and_completes(
    server, people
) -> None:
    """A timer that already stopped: one final tick at its stop, then "complete", at once."""
    (alice,) = await people("alice")
    timer_id = await alice.start()
    await alice.stop(timer_id)
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("late", TICKS, timerId=timer_id)
        (final,) = await ticks(ws, "late", 1)
        await ws.completed("late")
    assert final["final"] is True
    assert final["timer"]["state"] == "STOPPED"
    assert final["at"] == final["timer"]["updatedAt"]
    assert final["elapsedSeconds"] == final["timer"]["elapsedSeconds"]
