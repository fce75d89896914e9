"""`timergate token revoke` reaches a running gateway at once: HTTP, websockets and SSE.

The gateway here caches token lookups for an hour, so only the revocation log can make it
refuse a token within these tests.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from live_support import (
    EVENTS,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    LiveServer,
    Person,
    Socket,
    running_server,
    subscribed,
)

VIEWER = "{ viewer { name } }"
REVOKED = (4403, "Forbidden: the token was revoked")
#: A bound on each wait, so a revocation that never arrives fails instead of hanging; the
#: log is read every second, and the CLI itself takes a moment to start.
WITHIN = 10.0


@pytest.fixture(scope="module")
def long_cache_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(
        tmp_path_factory.mktemp("revocation"), TIMERGATE_TOKEN_CACHE_SECONDS="3600"
    ) as live:
        yield live


@pytest.fixture
async def http(long_cache_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=long_cache_server.base_url, timeout=5) as client:
        yield client


async def make_people(server: LiveServer, http: httpx.AsyncClient, *names: str) -> list[Person]:
    unique = [f"{name}-{uuid.uuid4().hex[:8]}" for name in names]
    tokens = await asyncio.to_thread(server.create_tokens, *unique)
    return [Person(name, token, http) for name, token in zip(unique, tokens, strict=True)]


async def revoke(server: LiveServer, token: str) -> None:
    """Run `timergate token revoke TOKEN` against the server's database, as an operator would."""
    command = [sys.executable, "-m", "timergate", "token", "revoke", token]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--database", server.database_url],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "revoked 1 of 1 tokens"), done.stderr


async def test_revoking_closes_websockets_ends_streams_and_refuses_http_at_once(
    long_cache_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """After `token revoke`: both websocket protocols close with 4403, SSE ends, HTTP says 401."""
    server = long_cache_server
    alice, bob = await make_people(server, http, "alice", "bob")
    assert await alice.data(VIEWER) == {"viewer": {"name": alice.name}}  # now cached
    async with (
        Socket.connect(server.ws_url, GRAPHQL_TRANSPORT_WS) as modern,
        Socket.connect(server.ws_url, GRAPHQL_WS) as legacy,
        Socket.connect(server.ws_url) as bobs,
        subscribed(alice, EVENTS, read_timeout=WITHIN) as stream,
    ):
        for socket, person in ((modern, alice), (legacy, alice), (bobs, bob)):
            await socket.open(person)
            await socket.subscribe("events", EVENTS)
        await alice.start("before the revocation")
        for socket in (modern, legacy):
            assert (await socket.next("events"))["timerEvents"]["type"] == "STARTED"
        assert (await stream.next())["timerEvents"]["type"] == "STARTED"

        await revoke(server, alice.token)

        assert await modern.closed(within=WITHIN) == REVOKED
        assert await legacy.closed(within=WITHIN) == REVOKED
        name, payload = await stream.event()
        assert name == "next"
        (error,) = payload["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}
        assert "revoked" in error["message"]
        assert (await stream.event())[0] == "complete"
        await stream.ended()

        response = await http.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": alice.authorization}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        await bob.start("bob goes on")
        assert (await bobs.next("events"))["timerEvents"]["type"] == "STARTED"


async def test_a_revoked_token_cannot_open_a_websocket(
    long_cache_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """A connection_init with a revoked, still cached token: 4403, or connection_error (legacy)."""
    server = long_cache_server
    (carol,) = await make_people(server, http, "carol")
    async with Socket.connect(server.ws_url) as first:
        await first.open(carol)  # caches the lookup
        await revoke(server, carol.token)
        # Its close shows the gateway has read the revocation.
        assert await first.closed(within=WITHIN) == REVOKED
    async with Socket.connect(server.ws_url) as modern:
        await modern.send({"type": "connection_init", "payload": carol.init_payload})
        assert await modern.closed() == (4403, "Forbidden")
    async with Socket.connect(server.ws_url, GRAPHQL_WS) as legacy:
        answer = await legacy.init(carol.init_payload)
        assert answer["type"] == "connection_error"
        assert answer["payload"]["extensions"] == {"code": "UNAUTHENTICATED"}
        assert await legacy.closed() == (4403, "Forbidden")
