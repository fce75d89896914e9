"""The ftrack adapter's timers beyond the contract: the emulated pause, one Timer per user,
and timers that ftrack's own app starts or stops beside timergate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ftrack_support import (
    COMPOSITING,
    FTRACK,
    LIGHTING,
    START,
    ftrack_app,
    native_id,
    timelogs,
    timers,
)
from harness import Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import CANCEL, PAUSE, STOP, UPDATE_TIMER, get_timer

from timergate.domain import ManualClock
from timergate.fakes.base import Fake
from timergate.fakes.ftrack.seed import USER
from timergate.gateway import Gateway
from timergate.providers.ftrack import FtrackProvider

RUNNING = "{ runningTimers { id state elapsedSeconds description context { type id title } } }"


@pytest.fixture
async def ftrack(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    return await connect(alice, FTRACK, fakes)


async def start(client: GraphQLClient, ftrack: Handle, index: int = 0, **extra: Any) -> Any:
    data = await client.data(START, {"input": ftrack.start_input(index, **extra)})
    return data["startTimer"]


async def test_a_timer_is_an_ftrack_timer_on_its_task(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """startTimer creates the user's ftrack Timer on the task, starting now, with the comment;
    the timer shows the task's title as ftrack has it."""
    started = await start(alice, ftrack, description="Roto, shot 040")
    (record,) = timers(fakes)
    assert record["id"] == native_id(started["timer"]["id"])
    assert record["context_id"] == COMPOSITING
    assert record["comment"] == "Roto, shot 040"
    assert record["start"] == clock.now()
    assert started["timer"]["context"] == {
        "type": "Task",
        "id": COMPOSITING,
        "title": "nightfall / Compositing",
    }


async def test_pause_removes_the_ftrack_timer_and_keeps_the_time_worked(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """ftrack cannot pause: the Timer is deleted (ftrack never counts the pause) and the time
    worked so far stays with timergate, without a Timelog yet."""
    logs_before = len(timelogs(fakes))
    timer = (await start(alice, ftrack))["timer"]
    clock.advance(600)
    paused = (await alice.data(PAUSE, {"input": {"id": timer["id"]}}))["pauseTimer"]["timer"]
    assert paused["state"] == "PAUSED" and paused["elapsedSeconds"] == 600
    assert timers(fakes) == []
    assert len(timelogs(fakes)) == logs_before
    clock.advance(3600)
    read = await get_timer(alice, timer["id"])
    assert read is not None and read["state"] == "PAUSED" and read["elapsedSeconds"] == 600


async def test_resume_back_dates_the_ftrack_timer_by_the_time_worked(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Resuming creates the Timer again under the same id, its start moved back by the time
    already worked, so ftrack's own clock shows the whole time."""
    timer = (await start(alice, ftrack, description="Comp"))["timer"]
    clock.advance(600)
    await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    clock.advance(1800)
    resumed = await alice.data(START, {"input": {"timerId": timer["id"]}})
    assert resumed["startTimer"]["timer"]["id"] == timer["id"]
    (record,) = timers(fakes)
    assert record["id"] == native_id(timer["id"])
    assert record["start"] == clock.now() - timedelta(seconds=600)
    assert record["comment"] == "Comp" and record["context_id"] == COMPOSITING


async def test_a_stop_after_pauses_logs_the_time_worked_once(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Stopping a timer that was paused writes one Timelog: from when it began, for the time
    worked (pauses left out), with its comment and task."""
    began = clock.now()
    logs_before = len(timelogs(fakes))
    timer = (await start(alice, ftrack, description="Lookdev"))["timer"]
    clock.advance(600)
    await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    clock.advance(3600)
    await alice.data(START, {"input": {"timerId": timer["id"]}})
    clock.advance(300)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 900
    assert stopped["timer"]["elapsedSeconds"] == 900
    logs = timelogs(fakes)
    assert len(logs) == logs_before + 1
    log = next(r for r in logs if r["id"] == native_id(stopped["entry"]["id"], "TimeEntry"))
    assert (log["start"], log["duration"]) == (began, 900)
    assert (log["comment"], log["context_id"]) == ("Lookdev", COMPOSITING)
    assert timers(fakes) == []


async def test_stopping_a_paused_timer_logs_its_time(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A paused timer (no Timer in ftrack) stops into a Timelog of the time worked."""
    timer = (await start(alice, ftrack))["timer"]
    clock.advance(420)
    await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    clock.advance(999)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 420
    assert any(r["duration"] == 420 for r in timelogs(fakes))
    assert await get_timer(alice, timer["id"]) is None


async def test_a_resumed_timer_stopped_in_ftracks_app_still_logs_all_its_time(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Because a resumed Timer is back-dated, ftrack's own stop (duration = now - start, as
    its web app and Python client compute it) logs the time worked before the pause too."""
    timer = (await start(alice, ftrack))["timer"]
    clock.advance(600)
    await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    clock.advance(3600)
    await alice.data(START, {"input": {"timerId": timer["id"]}})
    clock.advance(300)
    (record,) = timers(fakes)
    duration = int((clock.now() - record["start"]).total_seconds())
    await ftrack_app(
        fakes,
        {
            "action": "create",
            "entity_type": "Timelog",
            "entity_data": {
                "user_id": USER.id,
                "context_id": record["context_id"],
                "comment": "",
                "start": {"__type__": "datetime", "value": record["start"].isoformat()},
                "duration": duration,
            },
        },
        {"action": "delete", "entity_type": "Timer", "entity_key": [record["id"]]},
    )
    assert duration == 900
    assert await get_timer(alice, timer["id"]) is None


async def test_cancel_leaves_nothing_in_ftrack(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """cancelTimer deletes the Timer (or forgets a paused one) and writes no Timelog."""
    logs_before = len(timelogs(fakes))
    running = (await start(alice, ftrack))["timer"]
    clock.advance(60)
    await alice.data(CANCEL, {"input": {"id": running["id"]}})
    assert timers(fakes) == []
    paused = (await start(alice, ftrack))["timer"]
    clock.advance(60)
    await alice.data(PAUSE, {"input": {"id": paused["id"]}})
    await alice.data(CANCEL, {"input": {"id": paused["id"]}})
    assert await get_timer(alice, paused["id"]) is None
    error = await alice.error(START, {"input": {"timerId": paused["id"]}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert len(timelogs(fakes)) == logs_before and timers(fakes) == []


async def test_starting_while_one_runs_stops_it_and_keeps_its_time(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """ftrack keeps one Timer per user: a start stops the running one first (as ftrack's web
    app does), and its time becomes a Timelog reported in stoppedTimers."""
    first = (await start(alice, ftrack, 1, description="Lighting"))["timer"]
    clock.advance(120)
    second = await start(alice, ftrack, 0)
    (stopped,) = second["stoppedTimers"]
    assert stopped["timer"] == {"id": first["id"], "state": "STOPPED"}
    assert stopped["entry"]["durationSeconds"] == 120
    assert second["pausedTimers"] == []
    (record,) = timers(fakes)
    assert record["id"] == native_id(second["timer"]["id"])
    log = next(r for r in timelogs(fakes) if r["comment"] == "Lighting")
    assert (log["duration"], log["context_id"]) == (120, LIGHTING)


async def test_resuming_while_another_runs_stops_the_running_one(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Resuming a paused timer while another ftrack timer runs stops that one, keeping its
    time, then runs the resumed one."""
    paused = (await start(alice, ftrack))["timer"]
    clock.advance(30)
    await alice.data(PAUSE, {"input": {"id": paused["id"]}})
    other = (await start(alice, ftrack, 1))["timer"]
    clock.advance(60)
    resumed = (await alice.data(START, {"input": {"timerId": paused["id"]}}))["startTimer"]
    assert resumed["timer"]["state"] == "RUNNING"
    assert [s["timer"]["id"] for s in resumed["stoppedTimers"]] == [other["id"]]
    assert resumed["stoppedTimers"][0]["entry"]["durationSeconds"] == 60
    (record,) = timers(fakes)
    assert record["id"] == native_id(paused["id"])


async def test_a_timer_started_in_ftracks_app_shows_and_can_be_driven(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A Timer started with ftrack's own tools (``user.start_timer``: no start, the server's
    now) is the user's running timer in timergate, and pauses and stops like any other."""
    await ftrack_app(
        fakes,
        {
            "action": "create",
            "entity_type": "Timer",
            "entity_data": {"user_id": USER.id, "context_id": LIGHTING, "comment": "From ftrack"},
        },
    )
    clock.advance(75)
    (running,) = (await alice.data(RUNNING))["runningTimers"]
    assert running["description"] == "From ftrack" and running["elapsedSeconds"] == 75
    assert running["context"]["id"] == LIGHTING
    await alice.data(PAUSE, {"input": {"id": running["id"]}})
    stopped = (await alice.data(STOP, {"input": {"id": running["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 75
    assert stopped["entry"]["description"] == "From ftrack"


async def test_polling_sees_running_and_paused_timers(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], gateway: Gateway
) -> None:
    """open_timers (what the gateway polls) holds the running ftrack Timer and every timer
    paused in timergate."""
    paused = (await start(alice, ftrack))["timer"]
    await alice.data(PAUSE, {"input": {"id": paused["id"]}})
    running = (await start(alice, ftrack, 1))["timer"]
    user = await gateway.authenticator.authenticate(alice.token or "")
    assert user is not None and ftrack.key is not None
    provider = await gateway.connections.provider(user, ftrack.key)
    assert isinstance(provider, FtrackProvider)
    seen = {t.id: t.state.value for t in await provider.open_timers(user)}
    assert seen == {native_id(paused["id"]): "PAUSED", native_id(running["id"]): "RUNNING"}


async def test_updates_reach_the_ftrack_timer_or_the_paused_one(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A running timer's description and task are the Timer's comment and context; a paused
    timer's time worked can be set, and its stop logs that time."""
    timer = (await start(alice, ftrack, description="Draft"))["timer"]
    update = {
        "id": timer["id"],
        "description": "Final",
        "context": {"type": "Task", "id": LIGHTING},
    }
    updated = (await alice.data(UPDATE_TIMER, {"input": update}))["updateTimer"]["timer"]
    assert updated["context"]["id"] == LIGHTING and updated["version"] > timer["version"]
    (record,) = timers(fakes)
    assert (record["comment"], record["context_id"]) == ("Final", LIGHTING)
    refused = await alice.error(UPDATE_TIMER, {"input": {"id": timer["id"], "elapsedSeconds": 5}})
    assert refused["extensions"]["code"] == "INVALID_TRANSITION"
    clock.advance(100)
    await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    await alice.data(UPDATE_TIMER, {"input": {"id": timer["id"], "elapsedSeconds": 1200}})
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 1200
    assert stopped["entry"]["description"] == "Final"
