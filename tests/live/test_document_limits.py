"""The fragment bomb against a running server, over every transport, while others are served.

``query { ...F0 } fragment F0 on Query { ...F1 ...F1 } … fragment F30 on Query { __typename }``
is 2 KB and expands to 2^30 selections; it used to block the server for minutes. Every
request here has a client deadline (``RECEIVE_TIMEOUT``) far above the milliseconds a refusal
takes, so a server that froze would fail these tests rather than hang them.
"""

from __future__ import annotations

import asyncio
import json

import httpx
from live_support import GRAPHQL_TRANSPORT_WS, GRAPHQL_WS, RECEIVE_TIMEOUT, Socket

BOMB = (
    "query { ...F0 } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    + " fragment F30 on Query { __typename }"
)
EXPANDS = "expands to more than 1000 selections"


def assert_refused(errors: list[dict[str, object]]) -> None:
    (error,) = errors
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert EXPANDS in str(error["message"])


async def test_the_bomb_is_refused_over_post_with_or_without_a_token(http, people) -> None:
    """POST: refused for an anonymous client and for a user alike."""
    (alice,) = await people("alice")
    for headers in ({}, {"Authorization": alice.authorization}):
        response = await http.post(
            "/graphql", json={"query": BOMB}, headers=headers, timeout=RECEIVE_TIMEOUT
        )
        assert response.status_code == 200
        assert_refused(response.json()["errors"])


async def test_the_bomb_is_refused_over_get(http) -> None:
    """GET (Strawberry's view): refused the same way."""
    response = await http.get("/graphql", params={"query": BOMB}, timeout=RECEIVE_TIMEOUT)
    assert_refused(response.json()["errors"])


async def test_the_bomb_is_refused_over_server_sent_events(http, people) -> None:
    """SSE: the stream carries the refusal and completes."""
    (alice,) = await people("alice")
    response = await http.post(
        "/graphql",
        json={"query": BOMB.replace("query", "subscription", 1)},
        headers={"Authorization": alice.authorization, "Accept": "text/event-stream"},
        timeout=RECEIVE_TIMEOUT,
    )
    data = [
        line.partition(":")[2].strip()
        for line in response.text.splitlines()
        if line.startswith("data:")
    ]
    assert_refused(json.loads(data[0])["errors"])


async def test_the_bomb_is_refused_over_both_websocket_protocols(server, people) -> None:
    """graphql-transport-ws and graphql-ws answer the operation with the refusal."""
    (alice,) = await people("alice")
    for protocol in (GRAPHQL_TRANSPORT_WS, GRAPHQL_WS):
        async with Socket.connect(server.ws_url, protocol) as ws:
            await ws.open(alice)
            await ws.subscribe("bomb", BOMB)
            assert_refused(await ws.error("bomb"))


async def test_others_are_served_while_bombs_arrive(http, people) -> None:
    """Ordinary requests sent among a volley of bombs are all answered."""
    (alice,) = await people("alice")

    async def bomb() -> None:
        response = await http.post(
            "/graphql",
            json={"query": BOMB},
            headers={"Authorization": alice.authorization},  # within the per-token rate
            timeout=RECEIVE_TIMEOUT,
        )
        assert_refused(response.json()["errors"])

    async def viewer() -> str:
        response = await http.post(
            "/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": alice.authorization},
            timeout=RECEIVE_TIMEOUT,
        )
        name: str = response.json()["data"]["viewer"]["name"]
        return name

    results = await asyncio.gather(*[bomb() for _ in range(10)], viewer(), viewer())
    assert results[-2:] == [alice.name, alice.name]
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=RECEIVE_TIMEOUT) as other:
        assert (await other.get("/healthz")).json() == {"status": "ok"}
