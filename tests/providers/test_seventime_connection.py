"""The Seven Time connection: its credentials, whose timers it sees, and how Seven Time's
errors and limits reach the user. The fake Seven Time runs in this process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiolimiter import AsyncLimiter
from harness import HARNESSES
from seventime_support import (
    ANNA,
    CONNECT,
    ERIK,
    PROJECT,
    SECRET,
    SEVEN_TIME,
    FaultRouter,
    connect,
    fake_of,
    timer_gid,
)
from tests.conftest import GraphQLClient
from tests.graphql.support import (
    DELETE_ENTRY,
    PAUSE,
    get_entry,
    get_timer,
    global_id,
    start,
    stop,
)

from timergate.config import Settings
from timergate.domain import ManualClock, SystemClock, User
from timergate.domain.connections import Connection, ConnectionStatus, ProviderKind
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.errors import UpstreamRateLimited
from timergate.fakes.base import Fake, system_now
from timergate.fakes.seventime import create_fake
from timergate.gateway import Gateway
from timergate.providers.registry import ProviderSetup
from timergate.providers.seventime import SevenTimeProvider

CONNECTIONS = "{ viewer { connections { id status } } }"
RUNNING = "{ runningTimers { id state context { type id title } } }"
ENTRY_IDS = "{ timeEntries(first: 100) { totalCount nodes { id } } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, polling connections often (only while someone listens)."""
    return replace(settings, poll_interval_seconds=0.05)


@pytest.fixture
def router(fakes: dict[str, Fake]) -> FaultRouter:
    """The fakes, behind a router that can make single calls fail."""
    router = FaultRouter()
    for name, fake in fakes.items():
        router.mount(HARNESSES[name].host, fake)
    return router


def connect_input(**credentials: str) -> dict[str, Any]:
    given = {"clientSecret": SECRET, "userId": ANNA, **credentials}
    return {"input": {"baseUrl": SEVEN_TIME.base_url, "credentials": {"sevenTime": given}}}


async def start_on_project(client: GraphQLClient, connection: str) -> dict[str, Any]:
    return await start(client, provider=connection, context={"type": "project", "id": PROJECT})


# Connecting.


async def test_a_wrong_key_is_refused_and_nothing_is_kept(alice: GraphQLClient) -> None:
    """A key Seven Time refuses answers UPSTREAM_AUTH_FAILED, and no connection is kept."""
    error = await alice.error(CONNECT, connect_input(clientSecret="st-wrong-key"))
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert "st-wrong-key" not in error["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_an_unknown_user_is_refused_naming_the_user_binding(alice: GraphQLClient) -> None:
    """A key that works with a user id its company lacks is the user's mistake, and says
    which field to fix; nothing is kept."""
    error = await alice.error(CONNECT, connect_input(userId="65f1a2b3c4d5e6f708192a99"))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.credentials.sevenTime.userId"
    assert "65f1a2b3c4d5e6f708192a99" in error["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


@pytest.mark.parametrize("user_id", ["", "   ", "../users", "65f1a2b3c4d5e6f708192a01?x=1"])
async def test_a_blank_or_malformed_user_binding_is_refused_before_any_call(
    alice: GraphQLClient, router: FaultRouter, user_id: str
) -> None:
    """A user id that cannot name a Seven Time user is refused before anything is sent."""
    error = await alice.error(CONNECT, connect_input(userId=user_id))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.credentials.sevenTime.userId"
    assert router.sent == []


async def test_a_missing_user_binding_is_refused_by_the_schema(alice: GraphQLClient) -> None:
    """credentials.sevenTime needs userId: the request is refused, naming it."""
    variables = connect_input()
    del variables["input"]["credentials"]["sevenTime"]["userId"]
    body = await alice.execute(CONNECT, variables)
    assert body.get("data") is None
    assert "userId" in body["errors"][0]["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


# Whose timers and time logs a connection sees.


async def test_another_seven_time_users_timer_answers_like_a_missing_one(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """The key could reach Erik's timer, but Anna's connection treats its id as unknown and
    leaves it running."""
    connection = await connect(alice)
    account = fake_of(fakes).account
    eriks = account.start_timer({"user": ERIK, "project": PROJECT})
    gid = timer_gid(connection, eriks.id)
    assert await get_timer(alice, gid) is None
    for query in (PAUSE, STOP_BY_ID):
        error = await alice.error(query, {"input": {"id": gid}})
        assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await alice.data(RUNNING))["runningTimers"] == []
    assert eriks.id in account.timers


async def test_another_seven_time_users_time_log_answers_like_a_missing_one(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Erik's time log is neither listed, read nor deletable through Anna's connection."""
    connection = await connect(alice)
    account = fake_of(fakes).account
    account.start_timer({"user": ERIK, "project": PROJECT})
    clock.advance(600)
    log = account.stop_timer({"user": ERIK})
    gid = global_id("TimeEntry", connection, log.id)
    assert await get_entry(alice, gid) is None
    error = await alice.error(DELETE_ENTRY, {"input": {"id": gid}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await alice.data(ENTRY_IDS))["timeEntries"]["totalCount"] == 0
    assert log.id in account.time_logs


STOP_BY_ID = "mutation Stop($input: StopTimerInput) { stopTimer(input: $input) { timer { id } } }"


async def test_stopping_a_timer_that_is_not_running_answers_not_found(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A second stop of the same timer is NOT_FOUND with a reason; the first stop's time log
    stays, once."""
    connection = await connect(alice)
    timer = await start_on_project(alice, connection)
    clock.advance(60)
    await stop(alice, timer["id"])
    error = await alice.error(STOP_BY_ID, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "stopped already" in error["message"]
    assert len(fake_of(fakes).account.time_logs) == 1


async def test_a_stretch_stopped_meanwhile_in_seven_time_answers_not_found(
    alice: GraphQLClient, router: FaultRouter
) -> None:
    """When Seven Time answers 404 to a stop (the timer ended there meanwhile), the stop is
    NOT_FOUND rather than a failure."""
    connection = await connect(alice)
    timer = await start_on_project(alice, connection)
    router.fail("POST", "/api/2/stopTimer", 404, {"errorMessage": "No active timer"})
    error = await alice.error(STOP_BY_ID, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "NOT_FOUND"


# Timers changed in Seven Time's own app.


async def test_a_timer_started_in_seven_time_shows_up_and_stops_through_timergate(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A timer the user started in Seven Time's app is their running timer here, on its
    project, and stopping it here records its time log."""
    connection = await connect(alice)
    started = fake_of(fakes).account.start_timer({"user": ANNA, "project": PROJECT})
    clock.advance(300)
    running = (await alice.data(RUNNING))["runningTimers"]
    assert [t["id"] for t in running] == [timer_gid(connection, started.id)]
    assert running[0]["context"] == {
        "type": "project",
        "id": PROJECT,
        "title": "Stambyte Solgläntan",
    }
    stopped = await stop(alice, running[0]["id"])
    assert stopped["entry"]["durationSeconds"] == 300


async def test_a_timer_stopped_in_seven_time_is_gone(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """A timer stopped in Seven Time's app no longer shows as running or at all."""
    connection = await connect(alice)
    timer = await start_on_project(alice, connection)
    fake_of(fakes).account.stop_timer({"user": ANNA})
    assert await get_timer(alice, timer["id"]) is None
    assert (await alice.data(RUNNING))["runningTimers"] == []


async def until(condition: Callable[[], bool]) -> None:
    """Wait (a bounded while) for something the gateway does in the background."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it did not happen")


async def test_changes_made_in_seven_times_app_reach_subscribers(
    alice: GraphQLClient, gateway: Gateway, fakes: dict[str, Fake], router: FaultRouter
) -> None:
    """While the user listens, a timer started and then stopped in Seven Time's app reaches
    their events as STARTED and STOPPED, once each."""
    connection = await connect(alice)
    user = await gateway.authenticator.authenticate(alice.token or "")
    assert user is not None
    seen: list[TimerEvent] = []
    unsubscribe = await gateway.broker.subscribe(user_channel(user.id), seen.append)
    router.sent.clear()
    unwatch = await gateway.poller.watch(user)
    try:
        await until(lambda: ("GET", "/api/2/timers") in router.sent)  # the first look
        account = fake_of(fakes).account
        started = account.start_timer({"user": ANNA, "project": PROJECT})
        await until(lambda: len(seen) >= 1)
        account.stop_timer({"user": ANNA})
        await until(lambda: len(seen) >= 2)
    finally:
        unwatch()
        await unsubscribe()
    assert [(e.type, e.timer and e.timer.id) for e in seen] == [
        (TimerEventType.STARTED, started.id),
        (TimerEventType.STOPPED, started.id),
    ]
    assert all(e.timer and e.timer.provider == connection for e in seen)


# Seven Time's errors and limits.


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_USER_INPUT"),
        (401, "UPSTREAM_AUTH_FAILED"),
        (403, "UPSTREAM_AUTH_FAILED"),
        (500, "UPSTREAM_UNAVAILABLE"),
        (503, "UPSTREAM_UNAVAILABLE"),
    ],
)
async def test_seven_times_errors_become_gateway_codes_and_lose_nothing(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock, status: int, code: str
) -> None:
    """Each documented error status answers its gateway code; once Seven Time answers again
    the timer is still running with all its time."""
    connection = await connect(alice)
    timer = await start_on_project(alice, connection)
    fake = fake_of(fakes)
    fake.control.update(
        {
            "fail_status": status,
            "fail_content_type": "application/json",
            "fail_body": json.dumps({"errorMessage": "Invalid parameter 'user'"}),
        }
    )
    clock.advance(120)
    error = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == code
    if status == 400:
        assert "Invalid parameter 'user'" in error["message"]
    fake.control.reset()
    if status in (401, 403):
        connections = (await alice.data(CONNECTIONS))["viewer"]["connections"]
        assert connections[0]["status"] == ConnectionStatus.AUTH_FAILED.value
    else:
        again = await get_timer(alice, timer["id"])
        assert again is not None and again["state"] == "RUNNING"
        assert again["elapsedSeconds"] == 120
    assert len(fake.account.time_logs) == 0


async def test_an_error_message_never_shows_the_key(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """Seven Time's words reach the user, but never the key, even if Seven Time echoes it."""
    connection = await connect(alice)
    timer = await start_on_project(alice, connection)
    fake_of(fakes).control.update(
        {
            "fail_status": 400,
            "fail_content_type": "application/json",
            "fail_body": json.dumps({"errorMessage": f"Key {SECRET} may not do that"}),
        }
    )
    error = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert "may not do that" in error["message"]
    assert SECRET not in json.dumps(error)


async def test_rate_limiting_answers_rate_limited_and_loses_nothing(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Past 4 requests in a second Seven Time answers 429 without Retry-After: the user gets
    UPSTREAM_RATE_LIMITED with a one-second retry, and the timer is untouched until then."""
    connection = await connect(alice)
    timer = await start_on_project(alice, connection)
    fake = fake_of(fakes)
    fake.control.update({"rate_limit": True})
    clock.advance(1)
    for _ in range(10):
        body = await alice.execute(TIMER_STATE, {"id": timer["id"]})
        if body.get("errors"):
            break
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == 1
    assert "4 a second" in error["message"]
    refused = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert refused["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert len(fake.account.timers) == 1 and not fake.account.time_logs
    clock.advance(2)
    paused = await alice.data(PAUSE, {"input": {"id": timer["id"]}})
    assert paused["pauseTimer"]["timer"]["state"] == "PAUSED"


TIMER_STATE = "query T($id: ID!) { timer(id: $id) { state } }"


async def test_the_adapter_paces_itself_under_seven_times_limit() -> None:
    """Paced, a burst of calls stays under Seven Time's 4 requests a second; the same burst
    unpaced is refused. (Runs on the wall clock: the limit is about real seconds.)"""
    fake = create_fake(now=system_now, rate_limit=True)
    user = User(1, "alice", "UTC", datetime(2026, 1, 1, tzinfo=UTC))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        paced = _provider(fake, client, paced=True)
        for _ in range(6):
            assert await paced.open_timers(user) == []
        unpaced = _provider(fake, client, paced=False)
        with pytest.raises(UpstreamRateLimited):
            for _ in range(6):
                await unpaced.open_timers(user)


class _Notes:
    """A connection's notes, in memory."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def get(self, key: str) -> Any | None:
        return self.values.get(key)

    async def put(self, key: str, value: Any | None) -> None:
        self.values[key] = value


def _provider(fake: Fake, client: httpx.AsyncClient, *, paced: bool) -> SevenTimeProvider:
    """A provider on ``fake`` as the gateway builds one, with or without its pacing."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    connection = Connection(
        id=1,
        user_id=1,
        kind=ProviderKind.SEVEN_TIME,
        label="Work",
        base_url="http://seventime.test",
        status=ConnectionStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )

    async def keep(_: Any) -> None:
        return None

    async def note() -> None:
        return None

    setup = ProviderSetup(
        connection=connection,
        credentials={"clientSecret": SECRET, "userId": ANNA},
        client=client,
        clock=SystemClock(),
        on_auth_failure=note,
        save_credentials=keep,
        on_reauthorization_needed=note,
        limiter=lambda rate, period: AsyncLimiter(rate, period) if paced else None,
        state=_Notes(),
    )
    return SevenTimeProvider(setup)
