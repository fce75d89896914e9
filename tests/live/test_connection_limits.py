"""Per-user connection caps and per-token rate limits on a real gateway, over every transport."""

from __future__ import annotations

import asyncio
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

CAP = 2
TOO_MANY = (1013, f"Too many open connections for this user (limit {CAP})")


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A gateway that lets each user hold two websockets and event streams."""
    with running_server(
        tmp_path_factory.mktemp("capped"), TIMERGATE_MAX_CONNECTIONS_PER_USER=str(CAP)
    ) as live:
        yield live


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A gateway that allows three requests a minute per token, two per address without one."""
    with running_server(
        tmp_path_factory.mktemp("limited"),
        TIMERGATE_RATE_LIMIT_PER_TOKEN="3/minute",
        TIMERGATE_RATE_LIMIT_PER_ADDRESS="2/minute",
    ) as live:
        yield live


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def make_people(server: LiveServer, http: httpx.AsyncClient, *names: str) -> list[Person]:
    unique = [f"{name}-{uuid.uuid4().hex[:8]}" for name in names]
    tokens = await asyncio.to_thread(server.create_tokens, *unique)
    http.base_url = httpx.URL(server.base_url)
    return [Person(name, token, http) for name, token in zip(unique, tokens, strict=True)]


@pytest.mark.parametrize("protocol", [GRAPHQL_TRANSPORT_WS, GRAPHQL_WS])
async def test_a_websocket_past_the_cap_is_closed_with_1013(
    capped_server: LiveServer, client: httpx.AsyncClient, protocol: str
) -> None:
    """The third websocket of a user is refused (legacy: connection_error first); others are not."""
    alice, bob = await make_people(capped_server, client, "alice", "bob")
    url = capped_server.ws_url
    async with Socket.connect(url) as one, Socket.connect(url) as two:
        await one.open(alice)
        await two.open(alice)
        async with Socket.connect(url, protocol) as third:
            if protocol == GRAPHQL_WS:
                answer = await third.init(alice.init_payload)
                assert answer["type"] == "connection_error"
                assert answer["payload"]["extensions"] == {
                    "code": "TOO_MANY_CONNECTIONS",
                    "limit": CAP,
                }
            else:
                await third.send({"type": "connection_init", "payload": alice.init_payload})
            assert await third.closed() == TOO_MANY
        async with Socket.connect(url, protocol) as bobs:
            await bobs.open(bob)


async def test_a_closed_websocket_makes_room_for_another(
    capped_server: LiveServer, client: httpx.AsyncClient
) -> None:
    """Once a user closes one of their websockets, a new one is accepted."""
    (alice,) = await make_people(capped_server, client, "alice")
    url = capped_server.ws_url
    async with Socket.connect(url) as kept:
        await kept.open(alice)
        async with Socket.connect(url) as closing:
            await closing.open(alice)
        deadline = asyncio.get_running_loop().time() + 5
        # The server notices the close a moment after the client sends it.
        while not await accepted(url, alice):
            assert asyncio.get_running_loop().time() < deadline, "the closed socket kept its place"
            await asyncio.sleep(0.05)


async def accepted(url: str, person: Person) -> bool:
    """Whether a new websocket of ``person`` gets connection_ack (rather than a close)."""
    async with Socket.connect(url) as ws:
        await ws.send({"type": "connection_init", "payload": person.init_payload})
        ack = asyncio.ensure_future(ws.receive(None))
        closed = asyncio.ensure_future(ws.closed())
        await asyncio.wait((ack, closed), return_when=asyncio.FIRST_COMPLETED)
        for waiting in (ack, closed):
            waiting.cancel()
        return ack.done() and not ack.cancelled() and ack.result() == {"type": "connection_ack"}


async def test_event_streams_and_websockets_share_the_cap(
    capped_server: LiveServer, client: httpx.AsyncClient
) -> None:
    """One websocket and one SSE stream fill a cap of two: the next of either is refused."""
    (alice,) = await make_people(capped_server, client, "alice")
    url = capped_server.ws_url
    async with Socket.connect(url) as ws, subscribed(alice, EVENTS):
        await ws.open(alice)
        response = await client.post(
            "/graphql",
            json={"query": EVENTS},
            headers={"Authorization": alice.authorization, "Accept": "text/event-stream"},
        )
        assert response.status_code == 429
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "TOO_MANY_CONNECTIONS", "limit": CAP}
        async with Socket.connect(url) as third:
            await third.send({"type": "connection_init", "payload": alice.init_payload})
            assert await third.closed() == TOO_MANY


async def test_websocket_operations_count_against_the_token(
    limited_server: LiveServer, client: httpx.AsyncClient
) -> None:
    """Past the token's limit a subscribe gets RATE_LIMITED with retryAfter; the socket stays."""
    (alice,) = await make_people(limited_server, client, "alice")
    async with Socket.connect(limited_server.ws_url) as ws:
        await ws.open(alice)  # 1
        await ws.subscribe("a", EVENTS)  # 2
        await ws.subscribe("b", EVENTS)  # 3
        await ws.subscribe("c", EVENTS)
        (error,) = await ws.error("c")
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        await ws.send({"type": "ping"})
        assert await ws.receive(None) == {"type": "pong"}


@pytest.mark.parametrize("protocol", [GRAPHQL_TRANSPORT_WS, GRAPHQL_WS])
async def test_a_connection_init_past_the_limit_is_closed_with_1013(
    limited_server: LiveServer, client: httpx.AsyncClient, protocol: str
) -> None:
    """A token past its limit cannot open a websocket: 1013 with the wait in the reason."""
    (alice,) = await make_people(limited_server, client, "alice")
    for _ in range(3):
        response = await alice.http.post(
            "/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": alice.authorization},
        )
        assert response.status_code == 200
    async with Socket.connect(limited_server.ws_url, protocol) as ws:
        if protocol == GRAPHQL_WS:
            answer = await ws.init(alice.init_payload)
            assert answer["type"] == "connection_error"
            assert answer["payload"]["extensions"]["code"] == "RATE_LIMITED"
        else:
            await ws.send({"type": "connection_init", "payload": alice.init_payload})
        code, reason = await ws.closed()
    assert code == 1013
    assert reason is not None and reason.startswith("Rate limited: retry in ")
