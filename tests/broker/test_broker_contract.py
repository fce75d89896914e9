"""One contract for every broker: what a subscriber may rely on, whichever broker runs."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from broker_support import Inbox

from timergate.broker import Broker
from timergate.broker.wire import encode
from timergate.domain import TimeEntry, Timer, TimerContext, TimerDetails, TimerState
from timergate.domain.control import ConnectionsChanged, TokensRevoked
from timergate.domain.events import TimerEvent, TimerEventType, user_channel

AT = datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC)


def event(n: int, *, user_id: int = 1, description: str | None = None) -> TimerEvent:
    """A STOPPED event with a timer and an entry; ``n`` tells events apart."""
    details = TimerDetails(
        description=description or f"event {n}",
        context=TimerContext("task", f"T-{n}", "Quarterly report"),
        tags=("writing", "q3"),
        billable=n % 2 == 0,
    )
    timer = Timer(
        id=str(n),
        user_id=user_id,
        provider="local",
        state=TimerState.STOPPED,
        details=details,
        accumulated=timedelta(seconds=n, microseconds=7),
        running_since=None,
        started_at=AT - timedelta(hours=1),
        updated_at=AT,
        version=n + 1,
        entry_id=f"e{n}",
    )
    entry = TimeEntry(
        id=f"e{n}",
        user_id=user_id,
        provider="local",
        timer_id=str(n),
        details=details,
        started_at=timer.started_at,
        ended_at=AT,
        duration_seconds=n,
        date=date(2026, 3, 29),
        created_at=AT,
        updated_at=AT,
        version=1,
    )
    return TimerEvent(TimerEventType.STOPPED, user_id, AT, timer, entry)


async def test_an_event_reaches_every_listener_of_its_channel_in_every_instance(
    instances: tuple[Broker, Broker],
) -> None:
    """A change made through one instance reaches subscribers on all of them, intact."""
    a, b = instances
    on_a, on_b, also_on_b = Inbox(), Inbox(), Inbox()
    await a.subscribe(user_channel(1), on_a)
    await b.subscribe(user_channel(1), on_b)
    await b.subscribe(user_channel(1), also_on_b)

    await a.publish(user_channel(1), event(1))

    for inbox in (on_a, on_b, also_on_b):
        assert await inbox.next() == event(1)


async def test_events_arrive_once_each_in_the_order_published(
    instances: tuple[Broker, Broker],
) -> None:
    """Subscribers see each change once, in order (a pause before the start that follows it)."""
    a, b = instances
    inbox = Inbox()
    await b.subscribe(user_channel(1), inbox)

    for n in range(30):
        await a.publish(user_channel(1), event(n))

    assert [await inbox.next() for _ in range(30)] == [event(n) for n in range(30)]
    await a.publish(user_channel(1), event(99))
    assert await inbox.next() == event(99)  # no duplicate came before it
    assert inbox.pending() == []


async def test_a_channel_carries_only_its_own_events(instances: tuple[Broker, Broker]) -> None:
    """One user's subscriber never hears another user's events."""
    a, b = instances
    alice, bob = Inbox(), Inbox()
    await b.subscribe(user_channel(1), alice)
    await b.subscribe(user_channel(2), bob)

    await a.publish(user_channel(1), event(1, user_id=1))
    await a.publish(user_channel(2), event(2, user_id=2))

    assert await alice.next() == event(1, user_id=1)
    assert await bob.next() == event(2, user_id=2)
    assert alice.pending() == [] and bob.pending() == []


async def test_an_unsubscribed_listener_hears_nothing_more(
    instances: tuple[Broker, Broker],
) -> None:
    """After unsubscribing, a listener is not called, while its neighbours still are."""
    a, b = instances
    leaving, staying = Inbox(), Inbox()
    unsubscribe = await b.subscribe(user_channel(1), leaving)
    await b.subscribe(user_channel(1), staying)
    await unsubscribe()

    await a.publish(user_channel(1), event(1))

    assert await staying.next() == event(1)
    assert leaving.pending() == []


async def test_a_channel_can_be_subscribed_again_after_its_last_listener_left(
    instances: tuple[Broker, Broker],
) -> None:
    """A user who closes their only subscription and opens a new one still gets events."""
    a, b = instances
    unsubscribe = await b.subscribe(user_channel(1), Inbox())
    await unsubscribe()
    inbox = Inbox()
    await b.subscribe(user_channel(1), inbox)

    await a.publish(user_channel(1), event(1))

    assert await inbox.next() == event(1)


async def test_listeners_are_called_on_the_event_loop(instances: tuple[Broker, Broker]) -> None:
    """A listener may touch the loop's objects (queues, events) without locks."""
    a, b = instances
    inbox = Inbox()
    await b.subscribe(user_channel(1), inbox)

    await a.publish(user_channel(1), event(1))
    await inbox.next()

    assert inbox.threads == {threading.get_ident()}
    assert inbox.loops == {id(asyncio.get_running_loop())}


async def test_a_failing_listener_does_not_stop_the_others(
    instances: tuple[Broker, Broker], caplog: pytest.LogCaptureFixture
) -> None:
    """One subscriber's bug does not cost other subscribers their events."""
    a, b = instances

    def broken(message: object) -> None:
        raise RuntimeError("listener bug")

    inbox = Inbox()
    await b.subscribe(user_channel(1), broken)
    await b.subscribe(user_channel(1), inbox)

    await a.publish(user_channel(1), event(1))
    await a.publish(user_channel(1), event(2))

    assert [await inbox.next(), await inbox.next()] == [event(1), event(2)]
    assert "listener bug" in caplog.text


async def test_control_messages_reach_every_instance_including_the_sender(
    instances: tuple[Broker, Broker],
) -> None:
    """A revocation or connection change made on one instance takes effect on all of them."""
    a, b = instances
    on_a, on_b = Inbox(), Inbox()
    await a.subscribe_control(on_a)
    await b.subscribe_control(on_b)

    revoked = TokensRevoked((b"\x01" * 32, b"\x02" * 32))
    await a.publish_control(revoked)
    await b.publish_control(ConnectionsChanged(7, 3))

    for inbox in (on_a, on_b):
        assert [await inbox.next(), await inbox.next()] == [revoked, ConnectionsChanged(7, 3)]


async def test_control_messages_and_events_keep_to_their_own_listeners(
    instances: tuple[Broker, Broker],
) -> None:
    """An event listener never gets a control message, nor a control listener an event."""
    a, b = instances
    control, events = Inbox(), Inbox()
    await b.subscribe_control(control)
    await b.subscribe(user_channel(1), events)

    await a.publish(user_channel(1), event(1))
    await a.publish_control(ConnectionsChanged(1))

    assert await events.next() == event(1)
    assert await control.next() == ConnectionsChanged(1)
    assert events.pending() == [] and control.pending() == []


async def test_events_larger_than_a_notify_payload_arrive_whole_and_in_order(
    instances: tuple[Broker, Broker],
) -> None:
    """The largest events (long descriptions in four-byte characters) cross intact, in order
    with small ones."""
    a, b = instances
    inbox = Inbox()
    await b.subscribe(user_channel(1), inbox)
    large = event(1, description="🕰" * 2000)
    assert len(encode(large)) > 16_000  # several PostgreSQL NOTIFY payloads

    await a.publish(user_channel(1), large)
    await a.publish(user_channel(1), event(2))
    await a.publish(user_channel(1), event(3, description="é" * 2000 + "🕰" * 1000))

    assert await inbox.next() == large
    assert await inbox.next() == event(2)
    assert await inbox.next() == event(3, description="é" * 2000 + "🕰" * 1000)


async def test_a_broker_answers_ping_while_connected(instances: tuple[Broker, Broker]) -> None:
    """/readyz relies on ping returning while the broker can publish and deliver."""
    a, _ = instances
    await a.ping()
