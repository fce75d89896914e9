"""Both websocket subprotocols, their authentication and errors, and the browser origin check."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from live_support import (
    EVENTS,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    TICKS,
    Socket,
)
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from timergate.graphql.websocket import MAX_OPERATIONS_PER_CONNECTION


async def closed_after_init(url: str, payload: Any) -> tuple[int | None, str | None]:
    async with Socket.connect(url) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        return await ws.closed()


async def test_a_missing_or_wrong_token_is_closed_with_4403(server, people) -> None:
    """graphql-transport-ws: no token, an unknown one or a malformed header: close 4403."""
    (alice,) = await people("alice")
    payloads = [
        None,
        {},
        {"Authorization": "Bearer tg_not-a-token-anyone-was-given"},
        {"Authorization": alice.token},  # no "Bearer"
        {"Authorization": ["Bearer", alice.token]},
    ]
    closes = await asyncio.gather(*(closed_after_init(server.ws_url, p) for p in payloads))
    assert closes == [(4403, "Forbidden")] * len(payloads)


async def test_subscribing_before_connection_init_is_closed_with_4401(server) -> None:
    """graphql-transport-ws: a subscribe before connection_init closes with 4401."""
    async with Socket.connect(server.ws_url) as ws:
        await ws.subscribe("early", TICKS)
        assert await ws.closed() == (4401, "Unauthorized")


@pytest.mark.parametrize("query", [TICKS, EVENTS], ids=["ticks", "events"])
async def test_a_duplicate_subscription_id_is_closed_with_4409(server, people, query) -> None:
    """graphql-transport-ws: reusing a live subscription's id closes with 4409."""
    (alice,) = await people("alice")
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("1", query)
        await ws.subscribe("1", query)
        assert await ws.closed() == (4409, "Subscriber for 1 already exists")


async def test_one_connection_runs_a_bounded_number_of_operations(server, people) -> None:
    """Past MAX_OPERATIONS_PER_CONNECTION, a further subscribe gets an error; the rest go on."""
    (alice,) = await people("alice")
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        for n in range(MAX_OPERATIONS_PER_CONNECTION):
            await ws.subscribe(str(n), EVENTS)
        await ws.subscribe("one-too-many", EVENTS)
        refused = await ws.receive("one-too-many")
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        await ws.stop("0")
        await ws.subscribe("room-again", TICKS)
        await alice.start("room for one more")
        tick = await ws.next("room-again")
        assert tick["timerTicks"]["elapsedSeconds"] >= 0


async def test_legacy_graphql_ws_answers_a_wrong_token_with_connection_error(server) -> None:
    """graphql-ws (legacy): a wrong token gets connection_error, then the socket closes."""
    async with Socket.connect(server.ws_url, GRAPHQL_WS) as ws:
        assert ws.protocol == GRAPHQL_WS
        answer = await ws.init({"Authorization": "Bearer tg_wrong"})
        assert answer["type"] == "connection_error"
        assert "Authorization" in answer["payload"]["message"]
        assert await ws.closed() == (4403, "Forbidden")


async def test_legacy_graphql_ws_ticks_and_completes(server, people) -> None:
    """graphql-ws (legacy): ticks come as "data", a stopped timer's stream as "complete"."""
    (alice,) = await people("alice")
    timer_id = await alice.start()
    async with Socket.connect(server.ws_url, GRAPHQL_WS) as ws:
        await ws.open(alice)
        await ws.subscribe("ticks", TICKS, timerId=timer_id)
        tick = (await ws.next("ticks"))["timerTicks"]
        assert tick["timer"]["id"] == timer_id
        assert tick["final"] is False

        await alice.stop(timer_id)
        final = (await ws.next("ticks"))["timerTicks"]
        assert final["final"] is True
        await ws.completed("ticks")


async def test_the_client_picks_the_subprotocol(server, people) -> None:
    """The server speaks whichever known subprotocol the client offers first."""
    (alice,) = await people("alice")
    for offered, spoken in (
        ([GRAPHQL_WS, GRAPHQL_TRANSPORT_WS], GRAPHQL_WS),
        ([GRAPHQL_TRANSPORT_WS, GRAPHQL_WS], GRAPHQL_TRANSPORT_WS),
        (["chat", GRAPHQL_TRANSPORT_WS], GRAPHQL_TRANSPORT_WS),
    ):
        async with Socket.connect(server.ws_url, offered) as ws:
            assert ws.protocol == spoken
            await ws.open(alice)


async def rejected_status(url: str, origin: str) -> int | None:
    """The HTTP status a handshake from ``origin`` was refused with; ``None`` if accepted."""
    try:
        async with Socket.connect(url, origin=Origin(origin)):
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_a_browser_origin_not_allowed_is_refused_at_the_handshake(server) -> None:
    """With no allowed origins, a websocket from a web page is refused with HTTP 403."""
    for origin in ("https://app.example", "https://evil.example", "null"):
        assert await rejected_status(server.ws_url, origin) == 403, origin


async def test_an_allowed_browser_origin_may_connect(server_for_app_example, people) -> None:
    """TIMERGATE_ALLOWED_ORIGINS=https://app.example lets that origin in, and only that one."""
    url = server_for_app_example.ws_url
    assert await rejected_status(url, "https://evil.example") == 403
    assert await rejected_status(url, "http://app.example") == 403

    token, *_ = server_for_app_example.create_tokens("carol")
    async with Socket.connect(url, origin=Origin("https://app.example")) as ws:
        assert await ws.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
        await ws.subscribe("viewer", "{ viewer { name } }")
        assert await ws.next("viewer") == {"viewer": {"name": "carol"}}
