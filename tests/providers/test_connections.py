"""Connecting vendors: checked credentials, kept secret; the allow-list; and what a vendor that
is down, slow, refusing or talking nonsense does to a user's answers (as little as possible)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import CONNECT, HARNESSES, FakeRouter, Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import PAUSE, START, get_timer

from timergate.config import Settings
from timergate.domain import ManualClock
from timergate.fakes.base import Fake

NOKO = HARNESSES["noko"]

TIMERS = "{ timers { totalCount nodes { id provider state } } }"
CONNECTIONS = "{ viewer { connections { id kind label baseUrl status } } }"
DISCONNECT = "mutation D($id: ID!) { disconnectProvider(input: {id: $id}) { id } }"


def connect_input(fakes: dict[str, Fake], **overrides: Any) -> dict[str, Any]:
    described = fakes["noko"].describe(NOKO.base_url)
    given = {"label": "Work", "baseUrl": NOKO.base_url, "credentials": NOKO.credentials(described)}  # type: ignore[misc]
    return {"input": {**given, **overrides}}


@pytest.fixture
async def noko(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    return await connect(alice, NOKO, fakes)


async def faults(fakes: dict[str, Fake], **switches: Any) -> None:
    fakes["noko"].control.update(switches)


async def test_a_connection_is_listed_with_its_capabilities(
    alice: GraphQLClient, noko: Handle
) -> None:
    """viewer.connections shows the connection, its status and what it can do."""
    data = await alice.data(CONNECTIONS)
    (connection,) = data["viewer"]["connections"]
    assert connection == {
        "id": noko.key,
        "kind": "NOKO",
        "label": "noko test",
        "baseUrl": NOKO.base_url,
        "status": "ACTIVE",
    }
    assert noko.capabilities["START"] == "NATIVE"


async def test_wrong_credentials_are_refused_and_nothing_is_kept(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """A token the vendor refuses answers UPSTREAM_AUTH_FAILED; no connection is stored."""
    error = await alice.error(
        CONNECT, connect_input(fakes, credentials={"noko": {"token": "not-a-token"}})
    )
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_an_address_outside_the_allow_list_is_refused(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """A baseUrl the operator did not allow answers BAD_USER_INPUT naming the option."""
    for url in ("http://10.0.0.7:8080", "http://noko.fake.test.evil.example", "file:///etc"):
        error = await alice.error(CONNECT, connect_input(fakes, baseUrl=url))
        assert error["extensions"]["code"] == "BAD_USER_INPUT", url
        assert error["extensions"]["field"] == "input.baseUrl"
    error = await alice.error(CONNECT, connect_input(fakes, baseUrl="http://10.0.0.7"))
    assert "--allow-upstream" in error["message"]


async def test_the_default_address_is_the_vendors_public_api(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """Without baseUrl the vendor's public API is called (unreachable from the test)."""
    error = await alice.error(CONNECT, connect_input(fakes, baseUrl=None))
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


async def test_a_redirect_is_not_followed(alice: GraphQLClient, fakes: dict[str, Fake]) -> None:
    """A vendor answering with a redirect is unavailable: the gateway goes nowhere else."""
    await faults(fakes, fail_status=302)
    error = await alice.error(CONNECT, connect_input(fakes))
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "redirect" in error["message"]


@pytest.mark.parametrize(
    ("switches", "code"),
    [
        (
            {
                "fail_status": 503,
                "fail_body": "<html>down</html>",
                "fail_content_type": "text/html",
            },
            "UPSTREAM_UNAVAILABLE",
        ),
        (
            {
                "fail_status": 200,
                "fail_body": "<html>oops</html>",
                "fail_content_type": "text/html",
            },
            "UPSTREAM_UNAVAILABLE",
        ),
        ({"fail_status": 429}, "UPSTREAM_RATE_LIMITED"),
        ({"delay_seconds": 5.0}, "UPSTREAM_UNAVAILABLE"),
    ],
    ids=["down", "garbage", "rate-limited", "slow"],
)
async def test_a_failing_vendor_leaves_the_other_timers_readable(
    alice: GraphQLClient,
    noko: Handle,
    fakes: dict[str, Fake],
    switches: dict[str, Any],
    code: str,
) -> None:
    """Lists keep what the healthy providers hold, with an error naming the failing one."""
    local = (await alice.data(START, {"input": {"description": "local work"}}))["startTimer"]
    vendor = (await alice.data(START, {"input": noko.start_input()}))["startTimer"]["timer"]
    await faults(fakes, **switches)
    body = await alice.execute(TIMERS)
    assert [t["id"] for t in body["data"]["timers"]["nodes"]] == [local["timer"]["id"]]
    errors = body["errors"]
    assert {e["extensions"]["code"] for e in errors} == {code}
    assert errors[0]["path"][0] == "timers"
    assert errors[0]["extensions"]["provider"] == noko.key
    assert vendor["id"] not in str(body["data"])


async def test_a_start_that_cannot_pause_the_running_timer_changes_nothing(
    alice: GraphQLClient, noko: Handle, fakes: dict[str, Fake]
) -> None:
    """If the running timer's vendor is down, a start elsewhere fails naming that timer."""
    vendor = (await alice.data(START, {"input": noko.start_input()}))["startTimer"]["timer"]
    await faults(fakes, fail_status=503)
    error = await alice.error(START, {"input": {"description": "local"}})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["extensions"]["provider"] == noko.key
    await faults(fakes, fail_status=None)
    body = await alice.execute(TIMERS)
    assert [t["id"] for t in body["data"]["timers"]["nodes"]] == [vendor["id"]]
    assert body["data"]["timers"]["nodes"][0]["state"] == "RUNNING"


async def test_refused_credentials_show_in_the_connection_status(
    alice: GraphQLClient, noko: Handle, fakes: dict[str, Fake]
) -> None:
    """A vendor that starts refusing the token answers UPSTREAM_AUTH_FAILED and the connection
    says so."""
    timer = (await alice.data(START, {"input": noko.start_input()}))["startTimer"]["timer"]
    await faults(fakes, fail_status=401)
    error = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    connections = (await alice.data(CONNECTIONS))["viewer"]["connections"]
    assert [c["status"] for c in connections] == ["AUTH_FAILED"]


async def test_disconnecting_hides_the_connections_timers(
    alice: GraphQLClient, noko: Handle, clock: ManualClock
) -> None:
    """After disconnectProvider its timers vanish from reads and its ids answer NOT_FOUND."""
    timer = (await alice.data(START, {"input": noko.start_input()}))["startTimer"]["timer"]
    assert await alice.data(DISCONNECT, {"id": noko.key}) == {
        "disconnectProvider": {"id": noko.key}
    }
    assert (await alice.data(TIMERS))["timers"]["nodes"] == []
    assert await get_timer(alice, timer["id"]) is None
    error = await alice.error(PAUSE, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    again = await alice.error(DISCONNECT, {"id": noko.key})
    assert again["extensions"]["code"] == "NOT_FOUND"
    start = await alice.error(START, {"input": noko.start_input()})
    assert start["extensions"]["code"] == "NOT_FOUND"


async def test_another_users_connection_answers_like_a_missing_one(
    alice: GraphQLClient, bob: GraphQLClient, noko: Handle
) -> None:
    """Bob cannot use, list or disconnect alice's connection."""
    missing = await bob.error(DISCONNECT, {"id": noko.key + "x"})
    for attempt in (
        await bob.error(START, {"input": noko.start_input()}),
        await bob.error(DISCONNECT, {"id": noko.key}),
    ):
        assert attempt["extensions"] == missing["extensions"] == {"code": "NOT_FOUND"}
        assert attempt["message"] == missing["message"]
    assert (await bob.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_credentials_never_leave_in_clear(
    alice: GraphQLClient,
    fakes: dict[str, Fake],
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A planted token appears in no response, no log line, and not in the database file."""
    canary = "canary-7f3d9c1e-token"
    caplog.set_level(logging.DEBUG)
    refused = await alice.execute(
        CONNECT, connect_input(fakes, credentials={"noko": {"token": canary}})
    )
    assert canary not in str(refused)
    described = fakes["noko"].describe(NOKO.base_url)
    real = described.credentials["token"]
    accepted = await alice.execute(CONNECT, connect_input(fakes))
    assert real not in str(accepted)
    await faults(fakes, fail_status=500, fail_body=f"server echoed {real}")
    await alice.execute(TIMERS)
    for secret in (canary, real):
        assert secret not in caplog.text
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert real.encode() not in path.read_bytes()


async def test_the_generated_key_file_is_private(settings: Settings, alice: GraphQLClient) -> None:
    """Without TIMERGATE_SECRET_KEY a key is generated beside the database, readable by its
    owner only."""
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    key_file = database.with_name("timergate.key")
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600


async def test_stored_credentials_are_sealed(
    alice: GraphQLClient, noko: Handle, settings: Settings
) -> None:
    """The credentials column holds a Fernet token, not JSON."""
    database = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        (sealed,) = db.execute("SELECT credentials FROM connections").fetchone()
    assert bytes(sealed).startswith(b"gAAAAA")


async def test_an_oauth_access_token_connects_as_a_bearer_token(
    alice: GraphQLClient, fakes: dict[str, Fake], router: FakeRouter
) -> None:
    """Noko takes OAuth access tokens as bearer tokens: one refused in the personal-token
    header is tried as a bearer token, and the connection then keeps using that."""
    oauth = fakes["noko"].describe(NOKO.base_url).seed["oauthCredentials"]["token"]

    async def refuse_personal_header(
        request: httpx.Request, forward: Callable[[httpx.Request], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        return httpx.Response(401, text=" ", headers={"Content-Type": "text/html"})

    router.intercept(lambda r: r.headers.get("X-NokoToken") == oauth, refuse_personal_header)
    await alice.data(CONNECT, connect_input(fakes, credentials={"noko": {"token": oauth}}))
    (connection,) = (await alice.data(CONNECTIONS))["viewer"]["connections"]
    context = fakes["noko"].describe(NOKO.base_url).seed["context"]
    await alice.data(START, {"input": {"provider": connection["id"], "context": context}})
    last = router.delivered[-1]
    assert last.headers["Authorization"] == f"Bearer {oauth}"
    assert "X-NokoToken" not in last.headers


async def test_a_read_that_fails_once_is_retried_but_a_write_is_not(
    alice: GraphQLClient, noko: Handle, router: FakeRouter
) -> None:
    """A vendor's passing 503 on a read is retried (the answer arrives); a write that fails is
    sent once and reported, never repeated blindly."""

    async def unavailable(
        request: httpx.Request, forward: Callable[[httpx.Request], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        return httpx.Response(503, text="busy")

    router.intercept(lambda r: r.method == "GET" and r.url.path == "/v2/timers", unavailable)
    body = await alice.execute("{ timers { nodes { id } } }")
    assert "errors" not in body, body
    router.intercept(lambda r: r.method == "PUT", unavailable)
    before = len(router.delivered)
    error = await alice.error(START, {"input": noko.start_input()})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    writes = [r for r in router.delivered[before:] if r.method == "PUT"]
    assert writes == [], "the failed write was not sent again"
