"""The provider contract: every provider behaves the same through the one GraphQL API.

Each scenario runs once per provider (``local`` and every vendor's fake). A provider passes
every scenario its capabilities claim and answers UNSUPPORTED_BY_PROVIDER for the others,
before anything reaches the vendor.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import HARNESSES, FakeRouter, Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import (
    CANCEL,
    LOG,
    PAUSE,
    START,
    STOP,
    UPDATE_TIMER,
    get_timer,
)

from timergate.domain import ManualClock
from timergate.domain.connections import TimerOperation
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.domain.ids import decode_global_id
from timergate.fakes.base import Fake
from timergate.gateway import Gateway
from timergate.live.feeds import TickFeed
from timergate.live.subscriptions import TickSubscription

ENTRIES = """
query Entries($filter: TimeEntryFilter) {
  timeEntries(filter: $filter, first: 50) {
    totalCount nodes { id provider durationSeconds description context { type id } }
  }
}
"""

RUNNING = "{ runningTimers { id provider state } viewer { runningTimer { id } } }"

START_AND_MAKE_ROOM = """
mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) {
    timer { id state }
    pausedTimers { id state }
    stoppedTimers { timer { id state } entry { id durationSeconds } }
  }
}
"""


def requires(provider: Handle, *operations: TimerOperation) -> None:
    missing = [op.value for op in operations if not provider.supports(op)]
    if missing:
        pytest.skip(f"{provider.harness.name} does not claim {', '.join(missing)}")


async def start_timer(
    client: GraphQLClient, provider: Handle, index: int = 0, **extra: Any
) -> dict[str, Any]:
    data = await client.data(START, {"input": provider.start_input(index, **extra)})
    timer: dict[str, Any] = data["startTimer"]["timer"]
    return timer


async def test_a_started_timer_runs_and_counts_time(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """startTimer makes a RUNNING timer in that provider; its elapsed time follows the clock."""
    requires(provider, TimerOperation.START)
    timer = await start_timer(alice, provider, description="Write the report")
    assert timer["state"] == "RUNNING"
    assert timer["provider"] == provider.shown
    assert timer["description"].startswith("Write the report")
    assert timer["context"]["id"] == provider.contexts[0]["id"]
    clock.advance(90)
    again = await get_timer(alice, timer["id"])
    assert again is not None and again["state"] == "RUNNING"
    assert 89 <= again["elapsedSeconds"] <= 91


async def test_pause_freezes_time_and_resume_continues(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """A paused timer keeps its time; resuming runs it again from there."""
    requires(provider, TimerOperation.START, TimerOperation.PAUSE, TimerOperation.RESUME)
    timer = await start_timer(alice, provider)
    clock.advance(60)
    paused = (await alice.data(PAUSE, {"input": {"id": timer["id"]}}))["pauseTimer"]["timer"]
    assert paused["state"] == "PAUSED"
    assert 59 <= paused["elapsedSeconds"] <= 61
    clock.advance(600)
    still = await get_timer(alice, timer["id"])
    assert still is not None and still["elapsedSeconds"] == paused["elapsedSeconds"]
    again = await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    assert again["pauseTimer"]["timer"]["version"] == paused["version"], "a second pause is a no-op"

    resumed = await alice.data(START, {"input": {"timerId": timer["id"]}})
    assert resumed["startTimer"]["timer"]["state"] == "RUNNING"
    clock.advance(30)
    now = await get_timer(alice, timer["id"])
    assert now is not None and 89 <= now["elapsedSeconds"] <= 91


async def test_stop_records_the_time_as_an_entry(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """stopTimer ends the timer and its time appears as an entry in timeEntries."""
    requires(provider, TimerOperation.START, TimerOperation.STOP)
    timer = await start_timer(alice, provider, description="Fix the bug")
    clock.advance(120)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["timer"]["state"] == "STOPPED"
    entry = stopped["entry"]
    assert entry is not None
    assert entry["durationSeconds"] == provider.harness.entry_seconds(120, 0)
    assert entry["provider"] == provider.shown
    if provider.supports(TimerOperation.LIST_ENTRIES):
        listed = await alice.data(ENTRIES, {"filter": {"provider": provider.shown}})
        assert entry["id"] in [e["id"] for e in listed["timeEntries"]["nodes"]]


async def test_stop_without_an_id_stops_whatever_runs(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """stopTimer without an id finds the running timer in any provider; repeating is harmless."""
    requires(provider, TimerOperation.START, TimerOperation.STOP)
    timer = await start_timer(alice, provider)
    clock.advance(60)
    first = (await alice.data(STOP, {"input": {}}))["stopTimer"]
    assert first["timer"]["id"] == timer["id"]
    second = (await alice.data(STOP, {"input": {}}))["stopTimer"]
    assert second == {"timer": None, "entry": None}


async def test_log_records_chosen_details(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """logTimer stops the timer with the entry's description and duration chosen."""
    requires(provider, TimerOperation.START, TimerOperation.LOG)
    timer = await start_timer(alice, provider, index=1)
    clock.advance(100)
    logged = await alice.data(
        LOG,
        {"input": {"id": timer["id"], "description": "Logged by hand", "durationSeconds": 1800}},
    )
    entry = logged["logTimer"]["entry"]
    assert entry["description"].startswith("Logged by hand")
    assert entry["durationSeconds"] == provider.harness.entry_seconds(1800, 1)
    assert logged["logTimer"]["timer"]["state"] == "STOPPED"


async def test_cancel_discards_without_an_entry(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """cancelTimer removes the timer and records no time."""
    requires(provider, TimerOperation.START, TimerOperation.CANCEL)
    before = await alice.data(ENTRIES, {"filter": {"provider": provider.shown}})
    timer = await start_timer(alice, provider)
    clock.advance(60)
    await alice.data(CANCEL, {"input": {"id": timer["id"]}})
    assert await get_timer(alice, timer["id"]) is None
    after = await alice.data(ENTRIES, {"filter": {"provider": provider.shown}})
    assert after["timeEntries"]["totalCount"] == before["timeEntries"]["totalCount"]


async def test_update_changes_the_description(
    alice: GraphQLClient, provider: Handle, clock: ManualClock
) -> None:
    """updateTimer edits the description; the version grows."""
    requires(provider, TimerOperation.START, TimerOperation.UPDATE)
    timer = await start_timer(alice, provider, description="Draft")
    clock.advance(5)
    updated = await alice.data(
        UPDATE_TIMER, {"input": {"id": timer["id"], "description": "Final text"}}
    )
    after = updated["updateTimer"]["timer"]
    assert after["description"].startswith("Final text")
    assert after["version"] > timer["version"]
    read = await get_timer(alice, timer["id"])
    assert read is not None and read["description"].startswith("Final text")


@pytest.mark.parametrize("other_name", sorted(HARNESSES))
async def test_one_running_timer_across_providers(
    alice: GraphQLClient,
    provider: Handle,
    other_name: str,
    fakes: dict[str, Fake],
    clock: ManualClock,
) -> None:
    """Starting a timer anywhere pauses (or stops) the one running in any other provider."""
    other = (
        provider
        if other_name == provider.harness.name
        else await connect(alice, HARNESSES[other_name], fakes)
    )
    requires(provider, TimerOperation.START)
    requires(other, TimerOperation.START)
    first = await start_timer(alice, other, index=1 if other is provider else 0)
    clock.advance(30)
    data = await alice.data(START_AND_MAKE_ROOM, {"input": provider.start_input(0)})
    payload = data["startTimer"]
    moved = [t["id"] for t in payload["pausedTimers"]] + [
        s["timer"]["id"] for s in payload["stoppedTimers"]
    ]
    assert first["id"] in moved
    running = await alice.data(RUNNING)
    assert [t["id"] for t in running["runningTimers"]] == [payload["timer"]["id"]]
    assert running["viewer"]["runningTimer"]["id"] == payload["timer"]["id"]


async def test_every_capability_is_declared(alice: GraphQLClient, provider: Handle) -> None:
    """A connection lists a support level for every timer operation."""
    if provider.key is None:
        pytest.skip("timergate's own store is no connection")
    assert set(provider.capabilities) == {op.value for op in TimerOperation}
    assert set(provider.capabilities.values()) <= {"NATIVE", "EMULATED", "UNSUPPORTED"}


_ATTEMPTS: dict[TimerOperation, tuple[str, dict[str, Any]]] = {
    TimerOperation.PAUSE: (PAUSE, {}),
    TimerOperation.CANCEL: (CANCEL, {}),
    TimerOperation.LOG: (LOG, {"durationSeconds": 60}),
    TimerOperation.UPDATE: (UPDATE_TIMER, {"description": "x"}),
}


async def test_unsupported_operations_are_refused_before_any_call(
    alice: GraphQLClient, provider: Handle, router: FakeRouter
) -> None:
    """An operation a provider cannot do answers UNSUPPORTED_BY_PROVIDER naming the provider
    and the operation, and nothing is sent to the vendor."""
    unsupported = [op for op in _ATTEMPTS if not provider.supports(op)]
    if not unsupported:
        pytest.skip(f"{provider.harness.name} supports every timer operation")
    requires(provider, TimerOperation.START)
    timer = await start_timer(alice, provider)
    for operation in unsupported:
        query, extra = _ATTEMPTS[operation]
        before = router.requests.get(provider.harness.host, 0)
        error = await alice.error(query, {"input": {"id": timer["id"], **extra}})
        assert error["extensions"]["code"] == "UNSUPPORTED_BY_PROVIDER"
        assert error["extensions"]["operation"] == operation.value
        assert error["extensions"]["provider"] == provider.shown
        assert router.requests.get(provider.harness.host, 0) == before


async def test_another_users_timer_answers_like_a_missing_one(
    alice: GraphQLClient, bob: GraphQLClient, provider: Handle, fakes: dict[str, Fake]
) -> None:
    """Bob cannot read or touch alice's timer: the same answer as for an id that names nothing."""
    requires(provider, TimerOperation.START)
    timer = await start_timer(alice, provider)
    if provider.key is not None:
        await connect(bob, provider.harness, fakes, other=True)
    assert await get_timer(bob, timer["id"]) is None
    error = await bob.error(PAUSE, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_changes_are_published_as_events(
    alice: GraphQLClient, provider: Handle, gateway: Gateway, clock: ManualClock
) -> None:
    """Every change made through the gateway reaches the user's subscribers, in order."""
    requires(provider, TimerOperation.START, TimerOperation.STOP)
    seen: list[TimerEvent] = []
    user = await gateway.authenticator.authenticate(alice.token or "")
    assert user is not None
    unsubscribe = await gateway.broker.subscribe(user_channel(user.id), seen.append)
    try:
        timer = await start_timer(alice, provider)
        clock.advance(30)
        if provider.supports(TimerOperation.PAUSE):
            await alice.data(PAUSE, {"input": {"id": timer["id"]}})
        await alice.data(STOP, {"input": {"id": timer["id"]}})
    finally:
        await unsubscribe()
    kinds = [e.type for e in seen]
    expected = [TimerEventType.STARTED]
    if provider.supports(TimerOperation.PAUSE):
        expected.append(TimerEventType.PAUSED)
    expected.append(TimerEventType.STOPPED)
    assert kinds == expected
    assert all(e.timer is not None and e.timer.provider == provider.shown for e in seen)
    versions = [e.timer.version for e in seen if e.timer]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


async def test_a_running_timer_ticks_and_a_pause_sends_the_final_tick(
    alice: GraphQLClient, provider: Handle, gateway: Gateway, clock: ManualClock
) -> None:
    """timerTicks of any provider's timer: its elapsed time at each tick instant, and a final
    tick when it stops running."""
    requires(provider, TimerOperation.START, TimerOperation.STOP)
    user = await gateway.authenticator.authenticate(alice.token or "")
    assert user is not None
    timer = await start_timer(alice, provider)
    gid = decode_global_id(timer["id"], expected="Timer")
    feed = TickFeed(lambda: None)
    subscription = await TickSubscription.open(
        gateway, user, feed, timer_id=gid.native_id, provider=gid.provider
    )
    try:
        clock.advance(42)
        subscription.tick(clock.now())
        (tick,) = feed.take()
        assert not tick.final and 41 <= tick.elapsed_seconds <= 43
        assert tick.timer.provider == provider.shown
        ending = PAUSE if provider.supports(TimerOperation.PAUSE) else STOP
        await alice.data(ending, {"input": {"id": timer["id"]}})
        (last,) = feed.take()
        assert last.final and last.elapsed_seconds == tick.elapsed_seconds
    finally:
        await subscription.close()
