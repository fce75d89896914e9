"""The Worksection adapter's refusals: bad credentials, an expired token, a bad time zone, bad
tasks, rate limits and outages each get their gateway code, a message a person can act on,
and lose nothing."""

from __future__ import annotations

from typing import Any

import pytest
from harness import FakeRouter, Handle
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from tests.conftest import GraphQLClient
from worksection_support import (
    CLOSED_TASK,
    CONNECTIONS,
    OLENA,
    OTHER_TASK,
    RUNNING,
    START_TIMER,
    STOP_TIMER,
    TASK,
    WORKSECTION,
    clock,
    connection_status,
    fake,
    olena,
    start,
    task,
)

from timergate.domain import ManualClock
from timergate.fakes.worksection import WorksectionFake

__all__ = ["clock", "fake", "olena"]  # fixtures

CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id status } }
}
"""
UPDATE = """
mutation Update($input: UpdateTimerInput!) { updateTimer(input: $input) { timer { id } } }
"""
RESUME = "mutation Resume($id: ID!) { startTimer(input: {timerId: $id}) { timer { id } } }"
CREATE_ENTRY = """
mutation Create($input: CreateTimeEntryInput!) { createTimeEntry(input: $input) { entry { id } } }
"""


def credentials(fake: WorksectionFake, **changes: str) -> dict[str, Any]:
    described = fake.describe(WORKSECTION.base_url)
    given = {**described.credentials, "timeZone": described.seed["timeZone"], **changes}
    return {"worksection": given}


async def connect_error(client: GraphQLClient, given: dict[str, Any]) -> dict[str, Any]:
    variables = {"input": {"baseUrl": WORKSECTION.base_url, "credentials": given}}
    return await client.error(CONNECT, variables)


@pytest.mark.parametrize(
    ("wrong", "named"), [("accessToken", "access token"), ("adminKey", "admin key")]
)
async def test_connecting_checks_both_ways_in(
    alice: GraphQLClient, fake: WorksectionFake, wrong: str, named: str
) -> None:
    """A wrong token or admin key answers UPSTREAM_AUTH_FAILED naming which one, without
    echoing it, and nothing is kept."""
    secret = "wsk_0123456789abcdef0123456789abcdef"
    error = await connect_error(alice, credentials(fake, **{wrong: secret}))
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert named in error["message"] and secret not in error["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_an_account_time_zone_that_is_no_iana_name_is_refused(
    alice: GraphQLClient, fake: WorksectionFake, router: FakeRouter
) -> None:
    """BAD_USER_INPUT on the timeZone field, before any call to Worksection; nothing kept."""
    error = await connect_error(alice, credentials(fake, timeZone="Kyiv/Standard"))
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "input.credentials.worksection.timeZone",
    }
    assert "Kyiv/Standard" in error["message"] and "IANA" in error["message"]
    assert router.requests.get(WORKSECTION.host, 0) == 0
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


@pytest.mark.parametrize(
    ("context", "why"),
    [
        (task("999999"), "no such task"),
        (task(CLOSED_TASK), "closed"),
    ],
)
async def test_a_task_that_cannot_take_a_timer_leaves_the_running_one_running(
    alice: GraphQLClient,
    olena: Handle,
    fake: WorksectionFake,
    clock: ManualClock,
    context: dict[str, str],
    why: str,
) -> None:
    """An unknown or closed task answers BAD_USER_INPUT; the timer already running in
    Worksection is neither stopped nor saved."""
    running = fake.account.start_timer(OLENA, TASK)
    clock.advance(60)
    variables = {"input": {"provider": olena.key, "context": context}}
    error = await alice.error(START_TIMER, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.context"
    assert why in error["message"]
    assert fake.account.running_timer(OLENA) is running
    assert not [c for c in fake.account.costs.values() if c.user_id == OLENA]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"context": {"type": "project", "id": "6622"}}, "input.context"),
        ({"context": task("onboarding")}, "input.context"),
        ({"tags": ["design"]}, "input.tags"),
        ({"billable": False}, "input.billable"),
    ],
)
async def test_what_worksection_cannot_keep_is_refused_not_dropped(
    alice: GraphQLClient,
    olena: Handle,
    fake: WorksectionFake,
    router: FakeRouter,
    extra: dict[str, Any],
    field: str,
) -> None:
    """A context that is no task, tags or billable: false answer BAD_USER_INPUT on that
    field, and nothing reaches Worksection."""
    before = router.requests.get(WORKSECTION.host, 0)
    variables = {"input": {"provider": olena.key, "context": task(TASK), **extra}}
    error = await alice.error(START_TIMER, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert router.requests.get(WORKSECTION.host, 0) == before
    assert fake.account.running_timer(OLENA) is None


async def test_a_running_timer_keeps_its_task_and_its_elapsed_time(
    alice: GraphQLClient, olena: Handle
) -> None:
    """updateTimer refuses another task (BAD_USER_INPUT) and a new elapsed time
    (INVALID_TRANSITION: a Worksection timer never pauses)."""
    timer = (await start(alice, olena, TASK))["timer"]
    moved = {"id": timer["id"], "context": task(OTHER_TASK)}
    error = await alice.error(UPDATE, {"input": moved})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.context"}
    error = await alice.error(UPDATE, {"input": {"id": timer["id"], "elapsedSeconds": 10}})
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    assert error["extensions"]["state"] == "RUNNING"


async def test_resuming_and_writing_entries_are_refused_before_any_call(
    alice: GraphQLClient, olena: Handle, router: FakeRouter
) -> None:
    """RESUME and CREATE_ENTRY answer UNSUPPORTED_BY_PROVIDER with the reason, nothing sent."""
    timer = (await start(alice, olena, TASK))["timer"]
    before = router.requests.get(WORKSECTION.host, 0)
    error = await alice.error(RESUME, {"id": timer["id"]})
    assert error["extensions"]["code"] == "UNSUPPORTED_BY_PROVIDER"
    assert "cannot pause" in error["message"]
    entry = {"provider": olena.key, "startedAt": "2026-03-02T09:00:00Z", "durationSeconds": 60}
    error = await alice.error(CREATE_ENTRY, {"input": {**entry, "context": task(TASK)}})
    assert error["extensions"]["code"] == "UNSUPPORTED_BY_PROVIDER"
    assert router.requests.get(WORKSECTION.host, 0) == before


async def test_an_expired_token_needs_reauthorization(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """Worksection's tokens last 24 hours and these credentials cannot refresh: the start
    answers UPSTREAM_AUTH_FAILED saying so, nothing starts, and the connection shows
    NEEDS_REAUTHORIZATION."""
    clock.advance(hours=24, seconds=1)
    error = await alice.error(START_TIMER, {"input": olena.start_input(0)})
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert "expired" in error["message"]
    assert fake.account.running_timer(OLENA) is None
    assert await connection_status(alice) == "NEEDS_REAUTHORIZATION"


async def test_a_replaced_admin_key_marks_the_connection_auth_failed(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake
) -> None:
    """When the account's key changes, reads answer UPSTREAM_AUTH_FAILED (Worksection's code 2
    inside an HTTP 200) and the connection shows AUTH_FAILED."""
    fake.account.api_key = "wsk_replaced"
    body = await alice.execute(RUNNING)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert error["extensions"]["provider"] == olena.key
    assert "admin key" in error["message"] and "wsk_" not in error["message"]
    assert await connection_status(alice) == "AUTH_FAILED"


async def test_worksections_rate_limit_answers_upstream_rate_limited(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake
) -> None:
    """Past one request a second Worksection answers 429: the start answers
    UPSTREAM_RATE_LIMITED with retryAfter, and nothing started."""
    assert (await alice.data(RUNNING))["runningTimers"] == []
    fake.control.rate_limit = True
    assert (await alice.data(RUNNING))["runningTimers"] == []  # this second's one request
    error = await alice.error(START_TIMER, {"input": olena.start_input(0)})
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    assert fake.account.running_timer(OLENA) is None


async def test_a_rate_limit_right_after_a_start_says_the_timer_started(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """When Worksection started the timer but will not show it yet, the error says it
    started, and the timer shows once Worksection answers again."""
    assert (await alice.data(RUNNING))["runningTimers"] == []
    fake.control.rate_limit = True
    clock.advance(5)
    error = await alice.error(START_TIMER, {"input": olena.start_input(0)})
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert "The timer started in Worksection" in error["message"]
    clock.advance(5)
    [timer] = (await alice.data(RUNNING))["runningTimers"]
    assert timer["context"]["id"] == TASK


class OneActionRateLimited:
    """The fake, except that one action answers 429 (someone else used up the second)."""

    def __init__(self, fake: WorksectionFake, action: str) -> None:
        self._fake = fake
        self._action = f"action={action}".encode()

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._action in scope["query_string"].split(b"&"):
            refusal = JSONResponse({"status": "error"}, 429, headers={"Retry-After": "1"})
            return await refusal(scope, receive, send)
        await self._fake.app(scope, receive, send)


async def test_a_stop_whose_cost_cannot_be_read_back_is_still_a_stop(
    alice: GraphQLClient,
    olena: Handle,
    fake: WorksectionFake,
    router: FakeRouter,
    clock: ManualClock,
) -> None:
    """The stop happened and Worksection saved the time: the answer is the stopped timer,
    without an entry, rather than an error that would suggest it still runs."""
    timer = (await start(alice, olena, TASK))["timer"]
    clock.advance(120)
    router.mount(WORKSECTION.host, OneActionRateLimited(fake, "get_costs"))  # type: ignore[arg-type]
    stopped = (await alice.data(STOP_TIMER, {"input": {"id": timer["id"]}}))["stopTimer"]
    assert stopped["timer"]["state"] == "STOPPED" and stopped["entry"] is None
    assert fake.account.running_timer(OLENA) is None
    assert [c.minutes for c in fake.account.costs.values() if c.user_id == OLENA] == [2]


async def test_an_outage_answers_upstream_unavailable(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake
) -> None:
    """An HTML error page instead of Worksection's JSON answers UPSTREAM_UNAVAILABLE."""
    assert (await alice.data(RUNNING))["runningTimers"] == []
    fake.control.update({"fail_status": 502, "fail_body": "<html>Bad gateway</html>"})
    error = await alice.error(START_TIMER, {"input": olena.start_input(0)})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["extensions"]["provider"] == olena.key
