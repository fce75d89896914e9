"""The Python client ``gql`` follows ticks and events over each websocket subprotocol.

gql offers the legacy ``graphql-ws`` first unless told otherwise, and the server speaks the
client's first choice; each test pins one subprotocol so both are exercised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from live_support import (
    EVENTS,
    EVERY_CHANGE,
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    RECEIVE_TIMEOUT,
    TICKS,
    Person,
    assert_on_boundary,
    make_every_change,
    summary,
)

protocols = pytest.mark.parametrize("protocol", [GRAPHQL_TRANSPORT_WS, GRAPHQL_WS])


@asynccontextmanager
async def gql_session(
    url: str, person: Person, protocol: str
) -> AsyncIterator[tuple[AsyncClientSession, WebsocketsTransport]]:
    transport = WebsocketsTransport(
        url=url,
        init_payload=person.init_payload,
        subprotocols=[protocol],
        connect_timeout=RECEIVE_TIMEOUT,
        ack_timeout=RECEIVE_TIMEOUT,
        close_timeout=RECEIVE_TIMEOUT,
    )
    async with Client(transport=transport) as session:
        assert transport.subprotocol == protocol
        yield session, transport


async def take(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The next ``count`` results of ``stream``, each within the receive timeout."""
    async with asyncio.timeout(RECEIVE_TIMEOUT * count):
        return [await anext(stream) for _ in range(count)]


@protocols
async def test_gql_follows_a_timer_until_it_stops(server, people, protocol) -> None:
    """Ticks one second apart, a final tick on stopTimer, then the subscription ends."""
    (alice,) = await people("alice")
    timer_id = await alice.start("gql")
    async with gql_session(server.ws_url, alice, protocol) as (session, _):
        stream = session.subscribe(GraphQLRequest(TICKS, variable_values={"timerId": timer_id}))
        first, second = (r["timerTicks"] for r in await take(stream, 2))
        for tick in (first, second):
            assert tick["timer"]["id"] == timer_id
            assert tick["final"] is False
            assert_on_boundary(tick["at"])
        assert second["elapsedSeconds"] == first["elapsedSeconds"] + 1

        await alice.stop(timer_id)
        (final,) = (r["timerTicks"] for r in await take(stream, 1))
        assert final["final"] is True
        assert final["timer"]["state"] == "STOPPED"
        with pytest.raises(StopAsyncIteration):
            await take(stream, 1)


@protocols
async def test_gql_reports_a_bad_interval_as_a_query_error(server, people, protocol) -> None:
    """An out-of-range intervalSeconds reaches gql as an error with code BAD_USER_INPUT."""
    (alice,) = await people("alice")
    async with gql_session(server.ws_url, alice, protocol) as (session, _):
        stream = session.subscribe(GraphQLRequest(TICKS, variable_values={"interval": 0}))
        with pytest.raises(TransportQueryError) as refused:
            await take(stream, 1)
    assert refused.value.errors is not None
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["BAD_USER_INPUT"]


@protocols
async def test_gql_receives_every_change_as_an_event(server, people, protocol) -> None:
    """All ten kinds of TimerEvent arrive in order through gql."""
    (alice,) = await people("alice")
    async with gql_session(server.ws_url, alice, protocol) as (session, transport):
        stream = session.subscribe(GraphQLRequest(EVENTS))
        listening = asyncio.ensure_future(take(stream, len(EVERY_CHANGE)))
        # gql registers the subscription once it is sent; the server starts operations in
        # the order they arrive, so once a later query is answered the subscription listens.
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            while not transport.listeners:  # noqa: ASYNC110 - gql offers no event for it
                await asyncio.sleep(0.01)
        await session.execute(GraphQLRequest("{ viewer { name } }"))

        ids = await make_every_change(alice)
        received = [r["timerEvents"] for r in await listening]
        await stream.aclose()  # unsubscribes
    assert [summary(e, ids) for e in received] == EVERY_CHANGE
