"""Live subscriptions after their instance lost the broker for a while: ticks catch up by
re-reading the timers; an event stream tells its subscriber to re-read and subscribe again."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from instances import Instance, instance, new_user
from services import broker_url
from tcp_proxy import TcpProxy
from timergate.config import Settings
from timergate.domain import TimerDetails, User
from timergate.graphql.context import RequestContext
from timergate.live.feeds import Tick, TickFeed
from timergate.live.subscriptions import TickSubscription

RECEIVE_TIMEOUT = 5.0
RECONNECT_TIMEOUT = 20.0


@pytest.fixture(params=["redis", "postgresql"])
def shared_broker(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


@pytest.fixture
async def proxy(shared_broker: str) -> AsyncIterator[TcpProxy]:
    tcp = TcpProxy(shared_broker)
    await tcp.start()
    try:
        yield tcp
    finally:
        await tcp.close()


@pytest.fixture
async def pair(
    tmp_path: Path, shared_broker: str, proxy: TcpProxy
) -> AsyncIterator[tuple[Instance, Instance]]:
    """Instance A, on the broker; instance B, on the broker through the proxy."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'shared.db'}",
        broker_url=shared_broker,
        access_log=False,
    )
    async with instance(settings) as a, instance(replace(settings, broker_url=proxy.url)) as b:
        yield a, b


async def outage(proxy: TcpProxy, b: Instance, during: Any) -> None:
    """Cut B off its broker, run ``during`` (changes B cannot hear), then let B back."""
    gaps: asyncio.Queue[None] = asyncio.Queue()
    await b.gateway.broker.subscribe_control(lambda m: None, on_gap=lambda: gaps.put_nowait(None))
    await proxy.cut()
    await during()
    await proxy.restore()
    async with asyncio.timeout(RECONNECT_TIMEOUT):
        await gaps.get()


async def next_ticks(b: Instance, feed: TickFeed) -> list[Tick]:
    """Tick B's clock until its feed has ticks (the catch-up runs in the background)."""
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        while not feed.pending:
            b.gateway.scheduler.tick_all(math.floor(time.time()))
            await asyncio.sleep(0.05)
    return feed.take()


async def test_ticks_pick_up_a_timer_started_while_the_broker_was_away(
    pair: tuple[Instance, Instance], proxy: TcpProxy
) -> None:
    """A timer started on A during B's outage ticks on B once B is back."""
    a, b = pair
    user, _ = await new_user(a.gateway, "alice")
    feed = TickFeed(lambda: None)
    subscription = await TickSubscription.open(b.gateway, user, feed, timer_id=None)
    try:
        started = []

        async def start() -> None:
            started.append(await a.gateway.timers.start(user, None, TimerDetails()))

        await outage(proxy, b, start)

        ticks = await next_ticks(b, feed)
    finally:
        await subscription.close()
    assert [t.timer.id for t in ticks] == [started[0].timer.id]
    assert not ticks[0].final


async def test_a_watched_timer_stopped_while_the_broker_was_away_ends_its_stream(
    pair: tuple[Instance, Instance], proxy: TcpProxy
) -> None:
    """A stop B did not hear still reaches B's subscriber: a final tick, then the end."""
    a, b = pair
    user, _ = await new_user(a.gateway, "alice")
    timer = (await a.gateway.timers.start(user, None, TimerDetails())).timer
    ended = asyncio.Event()
    feed = TickFeed(lambda: ended.set() if feed.ended else None)
    subscription = await TickSubscription.open(
        b.gateway, user, feed, timer_id=timer.id, provider=timer.provider
    )
    try:

        async def stop() -> None:
            await a.gateway.timers.stop(user, timer.provider, timer.id)

        await outage(proxy, b, stop)
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            await ended.wait()
        (final,) = feed.take()
    finally:
        await subscription.close()
    assert final.final and final.timer.state == "STOPPED"


async def test_an_event_stream_that_missed_events_asks_its_subscriber_to_re_read(
    pair: tuple[Instance, Instance], proxy: TcpProxy
) -> None:
    """timerEvents cannot replay what B missed: it ends with EVENTS_MISSED and says what to do."""
    a, b = pair
    user, _ = await new_user(a.gateway, "alice")
    stream = await subscribe_events(b, user)
    # The stream subscribes when first read: start timers until one is heard, so it is live.
    first = asyncio.ensure_future(anext(stream))
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        while not first.done():
            await a.gateway.timers.start(user, None, TimerDetails())
            await asyncio.wait({first}, timeout=0.1)
    assert first.result().errors is None

    async def start() -> None:
        await a.gateway.timers.start(user, None, TimerDetails())

    await outage(proxy, b, start)
    results = []
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        async for result in stream:
            results.append(result)
            if result.errors:
                break
    await stream.aclose()
    *before, last = results
    assert all(r.data["timerEvents"]["type"] in ("STARTED", "PAUSED") for r in before)
    assert last.errors is not None
    (error,) = last.errors
    assert error.extensions is not None and error.extensions["code"] == "EVENTS_MISSED"
    assert "re-read" in error.message


async def subscribe_events(b: Instance, user: User) -> Any:
    context = RequestContext(gateway=b.gateway, user=user, now=b.gateway.clock.now())
    return await b.app.state.schema.subscribe(
        "subscription { timerEvents { type } }", context_value=context
    )
