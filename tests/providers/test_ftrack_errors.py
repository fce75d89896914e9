"""Bad input and failing servers on an ftrack connection: each gets its gateway code and a
message a person can act on, changes nothing, and never shows the API key."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stamina
from ftrack_support import COMPOSITING, FTRACK, START, ftrack_app, ftrack_of, timers, writes
from harness import CONNECT, FakeRouter, Forward, Handle, connect, description
from tests.conftest import GraphQLClient
from tests.graphql.support import LOG

from timergate.fakes.base import Fake
from timergate.fakes.ftrack.seed import NIGHTFALL, USER

CONNECTIONS = "{ viewer { connections { id status } } }"


@pytest.fixture(autouse=True)
def no_retry_waits() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3, cap=True):
        yield


@pytest.fixture
async def ftrack(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    return await connect(alice, FTRACK, fakes)


def connect_input(fakes: dict[str, Fake], **credentials: str) -> dict[str, Any]:
    given = {**description(FTRACK, fakes).credentials, **credentials}
    return {"input": {"baseUrl": FTRACK.base_url, "credentials": {"ftrack": given}}}


async def start_error(alice: GraphQLClient, ftrack: Handle, **given: Any) -> dict[str, Any]:
    return await alice.error(START, {"input": ftrack.start_input(0, **given)})


# Credentials.


async def test_wrong_credentials_are_refused_and_not_kept(
    alice: GraphQLClient, fakes: dict[str, Fake], caplog: pytest.LogCaptureFixture
) -> None:
    """connectProvider with a wrong API key answers UPSTREAM_AUTH_FAILED, keeps nothing, and
    the key shows nowhere (neither in the error nor in the log)."""
    caplog.set_level(logging.DEBUG)
    wrong = "0f8e6a51-1b7e-4c2e-9d0a-5a1f6e2b9c31"
    body = await alice.execute(CONNECT, connect_input(fakes, apiKey=wrong))
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert "API key" in error["message"]
    assert wrong not in json.dumps(body) and wrong not in caplog.text
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_a_revoked_key_marks_the_connection(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """When ftrack stops accepting a kept key, operations answer UPSTREAM_AUTH_FAILED and the
    connection's status becomes AUTH_FAILED, so the user knows to connect it again."""
    ftrack_of(fakes).store.api_keys[USER.username] = "a-new-key"
    error = await start_error(alice, ftrack)
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert error["extensions"]["provider"] == ftrack.key
    for _ in range(100):  # the status is written in the background
        (connection,) = (await alice.data(CONNECTIONS))["viewer"]["connections"]
        if connection["status"] != "ACTIVE":
            break
        await asyncio.sleep(0.01)
    assert connection["status"] == "AUTH_FAILED"


async def test_a_server_without_timezone_support_is_refused(
    alice: GraphQLClient, fakes: dict[str, Fake], router: FakeRouter
) -> None:
    """ftrack servers with timezone support off answer local times of unknown offset: the
    connection is refused with a clear reason instead of recording wrong times."""

    async def timezone_off(request: httpx.Request, forward: Forward) -> httpx.Response:
        answer = await forward(request)
        results = json.loads(await answer.aread())
        results[0]["is_timezone_support_enabled"] = False
        return httpx.Response(200, json=results)

    router.intercept(lambda r: b"query_server_information" in r.content, timezone_off)
    error = await alice.error(CONNECT, connect_input(fakes))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "timezone support" in error["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


# Servers that are not (or no longer) answering like ftrack.


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, "<html><body>Sign in to ftrack</body></html>", "text/html"),
        (502, "<html>Bad gateway</html>", "text/html"),
        (200, '{"hello": "world"}', "application/json"),
        (200, "\x00\x01garbage", "application/octet-stream"),
    ],
)
async def test_html_or_garbage_is_upstream_unavailable(
    alice: GraphQLClient, fakes: dict[str, Fake], status: int, body: str, content_type: str
) -> None:
    """A server answering HTML, foreign JSON or garbage fails the connection with
    UPSTREAM_UNAVAILABLE; nothing is kept."""
    control = ftrack_of(fakes).control
    control.update({"fail_status": status, "fail_body": body, "fail_content_type": content_type})
    error = await alice.error(CONNECT, connect_input(fakes))
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    control.reset()
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_a_failing_server_starts_nothing(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """An ftrack behind a failing proxy answers UPSTREAM_UNAVAILABLE naming the connection;
    no Timer is created."""
    ftrack_of(fakes).control.update({"fail_status": 503, "fail_body": "<h1>Maintenance</h1>"})
    error = await start_error(alice, ftrack)
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": ftrack.key}
    ftrack_of(fakes).control.reset()
    assert timers(fakes) == []


async def test_rate_limiting_is_reported(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """An HTTP 429 from ftrack (or a proxy before it) answers UPSTREAM_RATE_LIMITED."""
    ftrack_of(fakes).control.update({"fail_status": 429, "fail_body": "Too many requests"})
    error = await start_error(alice, ftrack)
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"


@pytest.mark.parametrize(
    ("exception", "code", "words"),
    [
        ("ValidationError", "BAD_USER_INPUT", "Timer.comment takes a string"),
        ("PermissionError", "BAD_USER_INPUT", "does not allow this"),
        ("ServerError", "UPSTREAM_UNAVAILABLE", "ServerError"),
    ],
)
async def test_ftracks_error_objects_are_mapped(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    router: FakeRouter,
    exception: str,
    code: str,
    words: str,
) -> None:
    """ftrack answers errors with HTTP 200 and one {exception, content} object: validation
    and permission refusals are BAD_USER_INPUT with ftrack's words, anything else is ftrack
    failing."""

    async def refuse(request: httpx.Request, forward: Forward) -> httpx.Response:
        content = (
            "Timer.comment takes a string, not 1." if exception == "ValidationError" else "No."
        )
        error = {"exception": exception, "content": content, "error_code": None}
        return httpx.Response(200, json=error)

    router.intercept(writes("create", "Timer"), refuse)
    error = await start_error(alice, ftrack)
    assert error["extensions"]["code"] == code
    assert words in error["message"]
    assert timers(fakes) == []


# What a timer is started on, and with what.


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({"type": "Task", "id": "0f8e6a51-1b7e-4c2e-9d0a-5a1f6e2b9c31"}, "no Task with id"),
        ({"type": "Task", "id": 'x" or id is_not "'}, "no Task with id"),
        ({"type": "task", "id": COMPOSITING}, "is an ftrack Task, not a task"),
        ({"type": "Task", "id": NIGHTFALL}, "is an ftrack Project, not a Task"),
    ],
)
async def test_unknown_contexts_are_bad_input(
    alice: GraphQLClient,
    ftrack: Handle,
    fakes: dict[str, Fake],
    context: dict[str, str],
    words: str,
) -> None:
    """A context that is not one of the user's ftrack tasks answers BAD_USER_INPUT on
    input.context saying what is wrong; no Timer is created."""
    error = await alice.error(START, {"input": {"provider": ftrack.key, "context": context}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.context"}
    assert words in error["message"]
    assert timers(fakes) == []


async def test_tags_and_non_billable_time_are_refused(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake]
) -> None:
    """ftrack keeps no tags and no billable flag: asking for them answers BAD_USER_INPUT
    rather than dropping them silently."""
    tags = await start_error(alice, ftrack, tags=["review"])
    assert tags["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.tags"}
    billable = await start_error(alice, ftrack, billable=False)
    assert billable["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.billable"}
    assert timers(fakes) == []
    timer = (await alice.data(START, {"input": ftrack.start_input(0)}))["startTimer"]["timer"]
    logged = await alice.error(LOG, {"input": {"id": timer["id"], "billable": False}})
    assert logged["extensions"]["field"] == "input.billable"
    assert len(timers(fakes)) == 1


async def test_a_second_timer_started_meanwhile_elsewhere_is_reported(
    alice: GraphQLClient, ftrack: Handle, fakes: dict[str, Fake], router: FakeRouter
) -> None:
    """ftrack holds one Timer per user: when ftrack's own app starts one between timergate's
    look and its start, ftrack refuses the second (DuplicateEntryError) and the user gets
    BAD_USER_INPUT saying what happened; the other Timer is left alone."""

    async def started_elsewhere(request: httpx.Request, forward: Forward) -> httpx.Response:
        timer = {"user_id": USER.id, "context_id": COMPOSITING, "comment": "From the web app"}
        await ftrack_app(fakes, {"action": "create", "entity_type": "Timer", "entity_data": timer})
        return await forward(request)

    router.intercept(writes("create", "Timer"), started_elsewhere)
    error = await start_error(alice, ftrack, description="Mine")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "one per user" in error["message"]
    assert [t["comment"] for t in timers(fakes)] == ["From the web app"]
