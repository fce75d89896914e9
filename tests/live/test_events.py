"""A user's other devices hear of every change to their timers and entries, and nobody else's."""

from __future__ import annotations

import asyncio
from typing import Any

from live_support import (
    EVENTS,
    EVERY_CHANGE,
    START,
    Person,
    Socket,
    instant,
    make_every_change,
    summary,
)


async def events(ws: Socket, op_id: str, count: int) -> list[dict[str, Any]]:
    return [(await ws.next(op_id))["timerEvents"] for _ in range(count)]


async def test_every_change_made_over_http_reaches_the_subscriber(server, people) -> None:
    """Each mutation gives one TimerEvent of its type, in order, with the timer and entry."""
    (alice,) = await people("alice")
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("events", EVENTS)
        # Operations start in order: once a later query is answered, the subscription listens.
        await ws.subscribe("viewer", "{ viewer { name } }")
        assert await ws.next("viewer") == {"viewer": {"name": alice.name}}
        received, ids = await asyncio.gather(
            events(ws, "events", len(EVERY_CHANGE)), make_every_change(alice)
        )
        await ws.silent("events", 0.3)

    assert [summary(e, ids) for e in received] == EVERY_CHANGE
    instants = [instant(e["at"]) for e in received]
    assert instants == sorted(instants)
    stopped = received[4]
    assert stopped["entry"]["durationSeconds"] == stopped["timer"]["elapsedSeconds"]


async def test_users_only_hear_of_their_own_changes(server, people) -> None:
    """Alice and Bob change timers at once; each subscriber gets exactly their own events."""
    alice, bob = await people("alice", "bob")

    async def listen_and_change(person: Person) -> None:
        async with Socket.connect(server.ws_url) as ws:
            await ws.open(person)
            await ws.subscribe("events", EVENTS)
            await ws.subscribe("viewer", "{ viewer { name } }")
            await ws.next("viewer")
            received, ids = await asyncio.gather(
                events(ws, "events", len(EVERY_CHANGE)), make_every_change(person)
            )
            # Nothing of the other user's changes arrives, during or after.
            assert [summary(e, ids) for e in received] == EVERY_CHANGE
            await ws.silent("events", 0.5)

    await asyncio.gather(listen_and_change(alice), listen_and_change(bob))


async def test_a_mutation_on_one_websocket_reaches_a_subscriber_on_another(server, people) -> None:
    """startTimer sent over one connection is an event on the user's other connection."""
    (alice,) = await people("alice")
    async with Socket.connect(server.ws_url) as phone, Socket.connect(server.ws_url) as laptop:
        await phone.open(alice)
        await laptop.open(alice)
        await laptop.subscribe("events", EVENTS)
        await laptop.subscribe("viewer", "{ viewer { name } }")
        await laptop.next("viewer")

        await phone.subscribe("start", START, input={"description": "from the phone"})
        started = (await phone.next("start"))["startTimer"]["timer"]
        await phone.completed("start")

        (event,) = await events(laptop, "events", 1)
        assert event["type"] == "STARTED"
        assert event["timer"]["id"] == started["id"]
        assert event["timer"]["state"] == "RUNNING"
