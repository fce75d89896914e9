"""Several gateway instances sharing a store and a Redis or PostgreSQL broker: what one
instance does, the others see."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from instances import instance, new_user
from services import broker_url
from tcp_proxy import TcpProxy
from timergate.cli import main
from timergate.config import Settings
from timergate.domain.connections import ProviderKind
from timergate.domain.control import ConnectionsChanged, ControlMessage, TokensRevoked
from timergate.domain.events import TimerEvent
from timergate.live.feeds import EventFeed
from timergate.live.subscriptions import EventSubscription

RECEIVE_TIMEOUT = 5.0
RECONNECT_TIMEOUT = 20.0
DISCONNECT = "mutation($id: ID!) { disconnectProvider(input: {id: $id}) { id } }"
START = "mutation { startTimer(input: {}) { timer { id state } } }"


@pytest.fixture(params=["redis", "postgresql"])
def shared_broker(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


@pytest.fixture
def settings(tmp_path: Path, shared_broker: str) -> Settings:
    """Settings every instance shares: one store, one broker."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'shared.db'}",
        broker_url=shared_broker,
        access_log=False,
    )


@pytest.fixture
async def proxy(shared_broker: str) -> AsyncIterator[TcpProxy]:
    """A way to the broker that the test can cut, for one instance."""
    tcp = TcpProxy(shared_broker)
    await tcp.start()
    try:
        yield tcp
    finally:
        await tcp.close()


class ControlInbox:
    """A control listener: each message it hears, and each gap."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[ControlMessage] = asyncio.Queue()
        self.gaps: asyncio.Queue[None] = asyncio.Queue()

    async def next(self) -> ControlMessage:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            return await self.messages.get()

    async def gap(self) -> None:
        async with asyncio.timeout(RECONNECT_TIMEOUT):
            await self.gaps.get()


async def listen_to_control(gateway_broker: object) -> ControlInbox:
    inbox = ControlInbox()
    await gateway_broker.subscribe_control(  # type: ignore[attr-defined]
        inbox.messages.put_nowait, on_gap=lambda: inbox.gaps.put_nowait(None)
    )
    return inbox


async def test_a_change_made_on_one_instance_reaches_a_subscriber_on_another(
    settings: Settings,
) -> None:
    """A timer started through A is an event for B's subscriber, with the timer as stored."""
    async with instance(settings) as a, instance(settings) as b:
        user, token = await new_user(a.gateway, "alice")
        arrived = asyncio.Event()
        feed = EventFeed(arrived.set)
        subscription = await EventSubscription.open(b.gateway, user, feed)
        try:
            started = (await a.data(token, START))["startTimer"]["timer"]
            async with asyncio.timeout(RECEIVE_TIMEOUT):
                await arrived.wait()
            (event,) = feed.take()
        finally:
            await subscription.close()
    assert isinstance(event, TimerEvent)
    assert event.type == "STARTED" and event.user_id == user.id
    assert event.timer is not None and event.timer.state == started["state"]


async def test_disconnecting_on_one_instance_makes_the_others_forget_the_connection(
    settings: Settings,
) -> None:
    """disconnectProvider through A: B drops its cached connections of that user at once."""
    async with instance(settings) as a, instance(settings) as b:
        user, token = await new_user(a.gateway, "alice")
        connection = await a.gateway.store.add_connection(
            user.id,
            ProviderKind.NOKO,
            "Work",
            "https://api.nokotime.com",
            b"sealed",
            a.gateway.clock.now(),
        )
        assert len(await b.gateway.connections.of(user)) == 1  # B has it cached now
        heard = await listen_to_control(b.gateway.broker)

        await a.data(token, DISCONNECT, id=connection.key)

        message = await heard.next()
        assert isinstance(message, ConnectionsChanged) and message.user_id == user.id
        # B's own control listener ran before this one: its cache is gone.
        assert await b.gateway.connections.of(user) == []


async def test_an_instance_that_lost_its_broker_forgets_every_cached_connection(
    settings: Settings, proxy: TcpProxy
) -> None:
    """Connection changes missed during a broker outage cannot linger: after the reconnect,
    the instance re-reads every user's connections."""
    async with instance(settings) as a, instance(replace(settings, broker_url=proxy.url)) as b:
        user, _ = await new_user(a.gateway, "alice")
        connection = await a.gateway.store.add_connection(
            user.id,
            ProviderKind.NOKO,
            None,
            "https://api.nokotime.com",
            b"sealed",
            a.gateway.clock.now(),
        )
        assert len(await b.gateway.connections.of(user)) == 1
        heard = await listen_to_control(b.gateway.broker)

        await proxy.cut()
        await a.gateway.connections.disconnect(user, connection.key)  # B cannot hear it
        await proxy.restore()
        await heard.gap()

        assert await b.gateway.connections.of(user) == []


async def test_a_mutation_answers_even_when_its_event_cannot_be_published(
    settings: Settings, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """With the broker away the change is still made and reported; the lost event is logged."""
    caplog.set_level(logging.WARNING, logger="timergate.timers")
    async with instance(replace(settings, broker_url=proxy.url)) as a:
        user, token = await new_user(a.gateway, "alice")
        await proxy.cut()

        started = (await a.data(token, START))["startTimer"]["timer"]

        assert started["state"] == "RUNNING"
        assert [t.state for t in await a.gateway.store.running_timers(user.id)] == ["RUNNING"]
    assert "were not published: the broker is unreachable" in caplog.text


VIEWER = "{ viewer { name } }"


async def viewer_status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


async def test_a_token_revoked_on_one_instance_is_refused_at_once_by_another(
    settings: Settings,
) -> None:
    """A revocation made through A reaches B through the broker, long before B would look at
    the revocation log or its token cache would expire."""
    slow = replace(settings, revocation_poll_seconds=3600, token_cache_seconds=3600)
    async with instance(slow) as a, instance(slow) as b:
        _, token = await new_user(a.gateway, "alice")
        assert await viewer_status(b.http, token) == 200  # B has the token cached now
        heard = await listen_to_control(b.gateway.broker)

        await a.gateway.revoke_tokens([token])

        assert isinstance(await heard.next(), TokensRevoked)
        assert await viewer_status(b.http, token) == 401


async def test_token_revoke_tells_running_gateways_through_the_broker(
    settings: Settings,
) -> None:
    """`timergate token revoke --broker URL` reaches a running gateway at once."""
    slow = replace(settings, revocation_poll_seconds=3600, token_cache_seconds=3600)
    async with instance(slow) as b:
        _, token = await new_user(b.gateway, "alice")
        assert await viewer_status(b.http, token) == 200
        heard = await listen_to_control(b.gateway.broker)

        args = ["token", "revoke", token, "--database", settings.database_url]
        code = await asyncio.to_thread(main, [*args, "--broker", settings.broker_url])

        assert code == 0
        assert isinstance(await heard.next(), TokensRevoked)
        assert await viewer_status(b.http, token) == 401
