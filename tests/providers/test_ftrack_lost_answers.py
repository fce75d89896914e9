"""ftrack writes whose answer is lost (a timeout in the middle of a stop, say): timergate reads
what happened before it sends anything again, so time is neither logged twice nor lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stamina
from ftrack_support import (
    FTRACK,
    START,
    answer_lost,
    ftrack_of,
    never_arrives,
    timelogs,
    timers,
    writes,
)
from harness import FakeRouter, Forward, Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import PAUSE, STOP, get_timer

from timergate.domain import ManualClock
from timergate.fakes.base import Fake


@pytest.fixture(autouse=True)
def no_retry_waits() -> Iterator[None]:
    """Reads are still retried, without sleeping between attempts."""
    with stamina.set_testing(True, attempts=3, cap=True):
        yield


@pytest.fixture
async def ftrack(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    return await connect(alice, FTRACK, fakes)


async def started(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], clock: ManualClock
) -> tuple[dict[str, Any], int]:
    """A timer that ran 120 s, and how many Timelogs the user had before."""
    before = len(timelogs(fakes))
    timer = (await alice.data(START, {"input": ftrack.start_input(0)}))["startTimer"]["timer"]
    clock.advance(120)
    return timer, before


def then_ftrack_is_down(fakes: dict[str, Fake], then: Any) -> Any:
    """An interceptor: ``then`` handles the request, and from now on ftrack answers 503."""

    async def handler(request: httpx.Request, forward: Forward) -> httpx.Response:
        try:
            return await then(request, forward)
        finally:
            ftrack_of(fakes).control.fail_status = 503

    return handler


async def test_a_stop_whose_answer_is_lost_is_logged_once(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """ftrack logged the time but its answer never came: timergate reads, finds the Timelog
    it wrote and answers the stop, without sending it again."""
    timer, before = await started(alice, ftrack, fakes, clock)
    router.intercept(writes("create", "Timelog"), answer_lost)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["timer"]["state"] == "STOPPED"
    assert stopped["entry"]["durationSeconds"] == 120
    assert len(timelogs(fakes)) == before + 1
    assert timers(fakes) == []
    assert len([r for r in router.delivered if writes("create", "Timelog")(r)]) == 1


async def test_a_stop_that_never_reached_ftrack_is_sent_again(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """The stop was lost on its way: timergate sees the Timer still there and no Timelog,
    sends the stop again, and the time is logged once."""
    timer, before = await started(alice, ftrack, fakes, clock)
    router.intercept(writes("create", "Timelog"), never_arrives)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 120
    assert len(timelogs(fakes)) == before + 1
    assert timers(fakes) == []


async def test_a_late_first_copy_and_the_retry_cannot_both_log(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """The first stop arrives only after timergate read that nothing happened: the second
    copy, carrying the same Timelog id, is refused, and the stop still succeeds once."""
    timer, before = await started(alice, ftrack, fakes, clock)
    delayed: list[httpx.Request] = []

    async def hold(request: httpx.Request, forward: Forward) -> httpx.Response:
        delayed.append(request)
        raise httpx.ReadTimeout("still on its way", request=request)

    async def first_lands_then_retry(request: httpx.Request, forward: Forward) -> httpx.Response:
        await forward(delayed[0])  # the late first copy lands just before the retry
        return await forward(request)

    router.intercept(writes("create", "Timelog"), hold)
    router.intercept(writes("create", "Timelog"), first_lands_then_retry)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 120
    assert len(timelogs(fakes)) == before + 1


async def test_an_unconfirmed_stop_fails_and_stopping_again_logs_nothing_more(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """ftrack logged the time, lost the answer and then went down: the stop answers
    UPSTREAM_UNAVAILABLE saying nothing is recorded twice; once ftrack is back the timer is
    gone, and a second stop finds nothing to log."""
    timer, before = await started(alice, ftrack, fakes, clock)
    router.intercept(writes("create", "Timelog"), then_ftrack_is_down(fakes, answer_lost))
    error = await alice.error(STOP, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "Nothing is recorded twice" in error["message"]
    ftrack_of(fakes).control.reset()
    again = await alice.error(STOP, {"input": {"id": timer["id"]}})
    assert again["extensions"]["code"] == "NOT_FOUND"
    assert len(timelogs(fakes)) == before + 1
    assert timelogs(fakes)[-1]["duration"] == 120


async def test_an_unconfirmed_stop_that_did_not_land_loses_no_time(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """The stop never reached ftrack, which then went down: the timer still runs in ftrack,
    and a later stop logs all of its time."""
    timer, before = await started(alice, ftrack, fakes, clock)
    router.intercept(writes("create", "Timelog"), then_ftrack_is_down(fakes, never_arrives))
    error = await alice.error(STOP, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    ftrack_of(fakes).control.reset()
    clock.advance(30)
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 150
    assert len(timelogs(fakes)) == before + 1


async def test_a_paused_timers_unconfirmed_stop_is_never_logged_twice(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """A paused timer lives in timergate, so nothing in ftrack vanishes when its stop lands:
    the Timelog id chosen for it is kept, and once ftrack is back the timer is seen as
    stopped instead of being logged again."""
    timer, before = await started(alice, ftrack, fakes, clock)
    await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    router.intercept(writes("create", "Timelog"), then_ftrack_is_down(fakes, answer_lost))
    error = await alice.error(STOP, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    ftrack_of(fakes).control.reset()
    assert await get_timer(alice, timer["id"]) is None
    again = await alice.error(STOP, {"input": {"id": timer["id"]}})
    assert again["extensions"]["code"] == "NOT_FOUND"
    assert len(timelogs(fakes)) == before + 1


async def test_a_pause_whose_answer_is_lost_keeps_the_time(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """ftrack deleted the Timer but its answer was lost and ftrack went down: the time worked
    was noted before the delete was sent, so once ftrack is back the timer is PAUSED with it."""
    timer, _ = await started(alice, ftrack, fakes, clock)
    router.intercept(writes("delete", "Timer"), then_ftrack_is_down(fakes, answer_lost))
    error = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    ftrack_of(fakes).control.reset()
    read = await get_timer(alice, timer["id"])
    assert read is not None and read["state"] == "PAUSED" and read["elapsedSeconds"] == 120
    assert timers(fakes) == []


async def test_a_pause_that_never_reached_ftrack_leaves_the_timer_running(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """The pause never reached ftrack, which then went down: once ftrack is back its Timer
    still runs, so the timer reads RUNNING with all its time, not paused twice over."""
    timer, _ = await started(alice, ftrack, fakes, clock)
    router.intercept(writes("delete", "Timer"), then_ftrack_is_down(fakes, never_arrives))
    error = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    ftrack_of(fakes).control.reset()
    clock.advance(30)
    read = await get_timer(alice, timer["id"])
    assert read is not None and read["state"] == "RUNNING" and read["elapsedSeconds"] == 150
    stopped = (await alice.data(STOP, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["entry"]["durationSeconds"] == 150


async def test_reads_are_retried_but_writes_are_not_repeated_blindly(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    clock: ManualClock,
    router: FakeRouter,
) -> None:
    """ftrack's reads are POSTs too: one that meets a 502 is asked again and the start goes
    on; the start itself is sent once."""

    async def bad_gateway(request: httpx.Request, forward: Forward) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad gateway</html>")

    router.intercept(lambda r: b'"action":"query"' in r.content, bad_gateway)
    data = await alice.data(START, {"input": ftrack.start_input(0)})
    assert data["startTimer"]["timer"]["state"] == "RUNNING"
    assert len([r for r in router.delivered if writes("create", "Timer")(r)]) == 1
    assert len(timers(fakes)) == 1
