"""What the networked brokers do about their connection: reconnecting, gaps, refusals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from broker_support import RECONNECT_TIMEOUT, Inbox, connected
from test_broker_contract import event

from services import broker_url, namespaced
from serving import free_port
from tcp_proxy import TcpProxy
from timergate.broker import Broker, BrokerUnavailable, open_broker
from timergate.broker.postgres import PostgresBroker
from timergate.broker.redis import RedisBroker
from timergate.domain.control import ConnectionsChanged
from timergate.domain.events import user_channel


@pytest.fixture
async def proxy(server_url: str) -> AsyncIterator[TcpProxy]:
    """A way to the broker's server that the test can cut, freeze and restore."""
    tcp = TcpProxy(server_url)
    await tcp.start()
    try:
        yield tcp
    finally:
        await tcp.close()


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check`` holds (polling), failing after the reconnect timeout."""
    async with asyncio.timeout(RECONNECT_TIMEOUT):
        while not await check():  # noqa: ASYNC110 (what is awaited has no event to wait on)
            await asyncio.sleep(0.05)


async def unavailable(broker: Broker) -> bool:
    try:
        await broker.ping()
    except BrokerUnavailable:
        return True
    return False


async def noticed(caplog: pytest.LogCaptureFixture) -> bool:
    return "lost the" in caplog.text


async def test_instances_in_different_namespaces_do_not_hear_each_other(server_url: str) -> None:
    """Two deployments sharing one Redis or database stay apart."""
    base = server_url.partition("?")[0]
    ours, theirs = await connected(namespaced(base)), await connected(namespaced(base))
    try:
        inbox, control = Inbox(), Inbox()
        await ours.subscribe(user_channel(1), inbox)
        await ours.subscribe_control(control)
        await theirs.publish(user_channel(1), event(1))
        await theirs.publish_control(ConnectionsChanged(1))
        await ours.publish(user_channel(1), event(2))
        await ours.publish_control(ConnectionsChanged(2))

        assert await inbox.next() == event(2)
        assert await control.next() == ConnectionsChanged(2)
    finally:
        await ours.disconnect()
        await theirs.disconnect()


async def test_a_lost_connection_is_logged_restored_and_reported_as_a_gap(
    server_url: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """After an outage the broker reconnects by itself, says so, tells each subscription that
    it may have missed messages, and delivers again."""
    caplog.set_level(logging.WARNING, logger="timergate.broker")
    publisher, subscriber = await connected(server_url), await connected(proxy.url)
    try:
        inbox, control = Inbox(), Inbox()
        gaps: asyncio.Queue[str] = asyncio.Queue()
        await subscriber.subscribe(user_channel(1), inbox, on_gap=lambda: gaps.put_nowait("event"))
        await subscriber.subscribe_control(control, on_gap=lambda: gaps.put_nowait("control"))

        await proxy.cut()
        await eventually(lambda: unavailable(subscriber))
        await proxy.restore()
        async with asyncio.timeout(RECONNECT_TIMEOUT):
            assert {await gaps.get(), await gaps.get()} == {"event", "control"}

        await subscriber.ping()
        await publisher.publish(user_channel(1), event(1))
        await publisher.publish_control(ConnectionsChanged(1))
        assert await inbox.next() == event(1)
        assert await control.next() == ConnectionsChanged(1)
    finally:
        await publisher.disconnect()
        await subscriber.disconnect()
    assert "lost the" in caplog.text and "reconnecting" in caplog.text
    assert "reconnected to the" in caplog.text


async def test_while_the_server_is_away_the_broker_refuses_at_once(
    server_url: str, proxy: TcpProxy
) -> None:
    """Publishing, subscribing and ping fail with BrokerUnavailable instead of hanging, so a
    mutation still answers and /readyz reports the broker."""
    broker = await connected(proxy.url)
    try:
        await proxy.cut()
        await eventually(lambda: unavailable(broker))
        with pytest.raises(BrokerUnavailable):
            await broker.publish(user_channel(1), event(1))
        with pytest.raises(BrokerUnavailable):
            await broker.subscribe(user_channel(1), Inbox())
        with pytest.raises(BrokerUnavailable):
            await broker.publish_control(ConnectionsChanged(1))
    finally:
        await broker.disconnect()


async def test_unsubscribing_during_an_outage_does_not_wait_for_the_server(
    server_url: str, proxy: TcpProxy
) -> None:
    """A subscriber that leaves while the broker is away is let go at once, and its channel is
    not subscribed again on reconnect."""
    publisher, subscriber = await connected(server_url), await connected(proxy.url)
    try:
        leaving, staying = Inbox(), Inbox()
        gaps: asyncio.Queue[None] = asyncio.Queue()
        unsubscribe = await subscriber.subscribe(user_channel(1), leaving)
        await subscriber.subscribe(user_channel(2), staying, on_gap=lambda: gaps.put_nowait(None))
        await proxy.cut()
        await eventually(lambda: unavailable(subscriber))

        async with asyncio.timeout(1):
            await unsubscribe()

        await proxy.restore()
        async with asyncio.timeout(RECONNECT_TIMEOUT):
            await gaps.get()
        await publisher.publish(user_channel(1), event(1))
        await publisher.publish(user_channel(2), event(2))
        assert await staying.next() == event(2)
        assert leaving.pending() == []
    finally:
        await publisher.disconnect()
        await subscriber.disconnect()


@pytest.mark.parametrize("kind", [RedisBroker, PostgresBroker])
async def test_a_silent_connection_is_dropped_and_reopened(
    kind: type[RedisBroker | PostgresBroker], caplog: pytest.LogCaptureFixture
) -> None:
    """A server that stops answering without closing the socket is noticed by the health
    ping, and the broker comes back once the server answers again."""
    caplog.set_level(logging.WARNING, logger="timergate.broker")
    url = broker_url("redis" if kind is RedisBroker else "postgresql")
    tcp = TcpProxy(url)
    await tcp.start()
    subscriber = kind(tcp.url, timeout=1.0, health_interval=0.2)
    publisher = await connected(url)
    try:
        await subscriber.connect()
        inbox = Inbox()
        gaps: asyncio.Queue[None] = asyncio.Queue()
        await subscriber.subscribe(user_channel(1), inbox, on_gap=lambda: gaps.put_nowait(None))

        tcp.freeze()
        await eventually(lambda: noticed(caplog))
        await tcp.restore()
        async with asyncio.timeout(RECONNECT_TIMEOUT):
            await gaps.get()

        await publisher.publish(user_channel(1), event(1))
        assert await inbox.next() == event(1)
    finally:
        await publisher.disconnect()
        await subscriber.disconnect()
        await tcp.close()


async def test_connecting_to_an_unreachable_broker_fails_clearly(server_url: str) -> None:
    """A wrong broker URL stops the gateway at start with BrokerUnavailable, not a hang."""
    scheme, _, rest = server_url.partition("://")
    host_and_rest = rest.rpartition("@")[2]
    unreachable = f"{scheme}://127.0.0.1:{free_port()}/{host_and_rest.partition('/')[2]}"
    broker = open_broker(unreachable)
    with pytest.raises(BrokerUnavailable) as caught:
        await broker.connect()
    assert "127.0.0.1" in "".join(caught.value.__notes__)
    # The client-facing message names no host.
    assert "127.0.0.1" not in caught.value.message


def test_broker_urls_pick_their_broker_and_refuse_unknown_schemes() -> None:
    """--broker takes memory://, redis:// or postgresql://, and says so for anything else."""
    assert type(open_broker("memory://")).__name__ == "MemoryBroker"
    assert isinstance(open_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    assert isinstance(open_broker("postgresql://u@127.0.0.1/db"), PostgresBroker)
    with pytest.raises(ValueError, match="memory://, redis://"):
        open_broker("kafka://127.0.0.1")
    with pytest.raises(ValueError, match="namespace"):
        open_broker("redis://127.0.0.1:6379/0?namespace=no spaces")


def test_a_broker_never_shows_its_password() -> None:
    """Logs and reprs of a broker obscure the password in its URL."""
    for url in ("redis://:s3cret@127.0.0.1:6379/0", "postgresql://u:s3cret@127.0.0.1/db"):
        assert "s3cret" not in repr(open_broker(url))
