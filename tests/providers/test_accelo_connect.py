"""Connecting an Accelo deployment through GraphQL: which tokens are accepted, the connection's
status when the token can no longer be used, renewed tokens kept, and no secret shown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from harness import CONNECT, HARNESSES, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import START

from timergate.domain import ManualClock
from timergate.domain.connections import connection_id
from timergate.errors import BadUserInput
from timergate.fakes.base import Fake
from timergate.gateway import Gateway
from timergate.providers.registry import VENDORS
from timergate.providers.upstream import UpstreamAllowList

ACCELO = HARNESSES["accelo"]
CONNECTIONS = "{ viewer { connections { id kind status } } }"
RUNNING = "{ runningTimers { id } }"


def connect_input(
    credentials: dict[str, Any], base_url: str | None = ACCELO.base_url
) -> dict[str, Any]:
    given: dict[str, Any] = {"label": "Work", "credentials": {"accelo": credentials}}
    if base_url is not None:
        given["baseUrl"] = base_url
    return {"input": given}


def seeded(fakes: dict[str, Fake]) -> dict[str, Any]:
    return dict(fakes["accelo"].describe(ACCELO.base_url).credentials)


async def status_of(client: GraphQLClient, key: str, wanted: str) -> str:
    """The connection's status once the gateway has recorded it (it records in the background)."""
    status = ""
    for _ in range(100):
        connections = (await client.data(CONNECTIONS))["viewer"]["connections"]
        status = next(c["status"] for c in connections if c["id"] == key)
        if status == wanted:
            break
        await asyncio.sleep(0.01)
    return status


async def test_a_connected_deployment_declares_what_it_does(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """Accelo's connection shows stop and log as emulated (activities), the rest native."""
    handle = await connect(alice, ACCELO, fakes)
    assert handle.capabilities["STOP"] == handle.capabilities["LOG"] == "EMULATED"
    assert {op for op, support in handle.capabilities.items() if support == "NATIVE"} == {
        "START", "RESUME", "PAUSE", "CANCEL", "UPDATE",
        "CREATE_ENTRY", "UPDATE_ENTRY", "DELETE_ENTRY", "LIST_ENTRIES",
    }  # fmt: skip


async def test_a_service_applications_token_is_refused_and_nothing_kept(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """Connecting with a client_credentials token says timers are for users, and keeps nothing."""
    fake = fakes["accelo"]
    token = await service_token(fake)
    error = await alice.error(CONNECT, connect_input({"token": token}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.credentials.accelo.token"
    assert "not to service applications" in error["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def service_token(fake: Fake) -> str:
    client = fake.service_client  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        answer = await http.post(
            "http://accelo.fake.test/oauth2/v0/token",
            data={"grant_type": "client_credentials", "scope": "write(all)"},
            auth=(client.client_id, client.secret),
        )
    token: str = answer.json()["access_token"]
    return token


async def test_wrong_or_incomplete_credentials_are_refused(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """A token Accelo refuses, half the refresh credentials, or no baseUrl: a clear error each."""
    wrong = await alice.error(CONNECT, connect_input({"token": "not-a-token"}))
    assert wrong["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    partial = await alice.error(
        CONNECT,
        connect_input({"token": seeded(fakes)["token"], "clientId": "x", "clientSecret": "y"}),
    )
    assert partial["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "input.credentials.accelo.refreshToken",
    }
    no_url = await alice.error(CONNECT, connect_input(seeded(fakes), base_url=None))
    assert no_url["extensions"]["field"] == "input.baseUrl"
    assert "https://{deployment}.api.accelo.com" in no_url["message"]
    assert (await alice.data(CONNECTIONS))["viewer"]["connections"] == []


async def test_the_base_url_may_name_the_api_path(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """https://{deployment}.api.accelo.com/api/v0, as Accelo's docs write it, works too."""
    data = await alice.data(CONNECT, connect_input(seeded(fakes), ACCELO.base_url + "/api/v0"))
    assert data["connectProvider"]["connection"]["status"] == "ACTIVE"
    assert (await alice.data(RUNNING))["runningTimers"] == []


def test_only_accelos_api_hosts_are_allowed_by_default() -> None:
    """Any deployment's API host is allowed; other hosts need the operator's word."""
    allow = UpstreamAllowList([h for spec in VENDORS.values() for h in spec.public_hosts], [])
    assert (
        allow.check("https://planet-express.api.accelo.com")
        == "https://planet-express.api.accelo.com"
    )
    with pytest.raises(BadUserInput):
        allow.check("https://planet-express.accelo.com")


async def test_an_expired_token_without_refresh_shows_on_the_connection(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Past its 30 days, a token that cannot be renewed fails reads with UPSTREAM_AUTH_FAILED
    and the connection asks to be authorised again."""
    handle_data = await alice.data(CONNECT, connect_input({"token": seeded(fakes)["token"]}))
    key = handle_data["connectProvider"]["connection"]["id"]
    clock.advance(days=31)
    body = await alice.execute(RUNNING)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    assert error["extensions"]["provider"] == key
    assert await status_of(alice, key, "NEEDS_REAUTHORIZATION") == "NEEDS_REAUTHORIZATION"


async def test_renewed_tokens_are_kept_across_reopening(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock, gateway: Gateway
) -> None:
    """Each renewal's rotated refresh token is stored: the connection renews again after the
    gateway forgets it, and a connection made with an expired token keeps the renewed pair."""
    clock.advance(days=31)  # the seeded token has expired; its refresh token still works
    data = await alice.data(CONNECT, connect_input(seeded(fakes)))
    key = data["connectProvider"]["connection"]["id"]
    user = await gateway.authenticator.authenticate(alice.token or "")
    assert user is not None
    for _ in range(2):
        gateway.connections.forget(user.id, connection_id(key))
        started = await alice.data(START, {"input": {"provider": key, "description": "Renewed"}})
        assert started["startTimer"]["timer"]["state"] == "RUNNING"
        clock.advance(days=31)
    assert await status_of(alice, key, "ACTIVE") == "ACTIVE"


async def test_no_secret_reaches_responses_or_logs(
    alice: GraphQLClient,
    fakes: dict[str, Fake],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused, expired and unrenewable tokens: no token, secret or refresh token is shown."""
    caplog.set_level(logging.DEBUG)
    given = seeded(fakes)
    secrets = [given["token"], given["clientSecret"], given["refreshToken"], "not-a-token"]
    seen = [(await alice.post(CONNECT, connect_input({"token": "not-a-token"}))).text]
    await alice.data(CONNECT, connect_input({"token": given["token"]}))
    await alice.data(CONNECT, connect_input({**given, "refreshToken": "stale"}))
    clock.advance(days=31)
    running = await alice.execute(RUNNING)
    assert len(running["errors"]) == 2, "an expired token, and one Accelo will not renew"
    seen += [str(running), (await alice.post(CONNECTIONS)).text]
    for text in [*seen, caplog.text]:
        for secret in secrets:
            assert secret not in text
