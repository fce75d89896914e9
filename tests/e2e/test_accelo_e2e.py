"""A user drives an Accelo deployment (the real `timergate fake accelo`) through a real gateway:
every change arrives on the websocket subscriptions, and the logged time reads back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.live.live_support import EVENTS, TICKS, Person, Socket

from serving import create_tokens, timergate_fake, timergate_serve

CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id status } }
}
"""
ENTRY = """
mutation Create($input: CreateTimeEntryInput!) {
  createTimeEntry(input: $input) { entry { id durationSeconds } }
}
"""
EDIT = """
mutation Edit($input: UpdateTimeEntryInput!) {
  updateTimeEntry(input: $input) { entry { id durationSeconds description } }
}
"""
DELETE = "mutation Delete($id: ID!) { deleteTimeEntry(input: {id: $id}) { id } }"
ENTRIES = """
query Entries($provider: String!) {
  timeEntries(filter: {provider: $provider}) { totalCount nodes { id durationSeconds } }
}
"""


async def next_event(socket: Socket) -> tuple[str, dict[str, Any]]:
    event = (await socket.next("events"))["timerEvents"]
    return event["type"], event


async def test_an_accelo_user_runs_every_operation_and_sees_it_live(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    """Connect, start, tick, pause, resume, stop, and enter time by hand: each change arrives
    as an event, and the time is read back from Accelo's activities."""
    database = f"sqlite:///{tmp_path / 'accelo.db'}"
    (token,) = create_tokens(database, "morgan")
    port = unused_tcp_port_factory()
    with (
        timergate_fake("accelo") as fake,
        timergate_serve(
            port,
            database,
            tmp_path / "server.log",
            environment={"TIMERGATE_ALLOWED_UPSTREAMS": fake["base_url"]},
        ),
    ):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            person = Person("morgan", token, http)
            connected = await person.data(
                CONNECT,
                input={"baseUrl": fake["base_url"], "credentials": {"accelo": fake["credentials"]}},
            )
            key = connected["connectProvider"]["connection"]["id"]
            context = fake["seed"]["context"]
            async with Socket.connect(f"ws://127.0.0.1:{port}/graphql") as socket:
                await socket.open(person)
                await socket.subscribe("events", EVENTS)
                timer_id = await person.start("Write the brief", provider=key, context=context)
                assert (await next_event(socket))[0] == "STARTED"
                await socket.subscribe("ticks", TICKS, timerId=timer_id)
                while (await socket.next("ticks"))["timerTicks"]["elapsedSeconds"] < 1:
                    pass
                await person.pause(timer_id)
                assert (await next_event(socket))[0] == "PAUSED"
                await person.resume(timer_id)
                assert (await next_event(socket))[0] == "RESUMED"
                entry_id = await person.stop(timer_id)
                kind, stopped = await next_event(socket)
                assert kind == "STOPPED" and stopped["entry"]["id"] == entry_id
                assert stopped["entry"]["durationSeconds"] >= 1

                created = await person.data(
                    ENTRY,
                    input={
                        "provider": key,
                        "description": "Call with Northwind",
                        "context": context,
                        "startedAt": "2026-03-02T09:00:00+00:00",
                        "durationSeconds": 1800,
                    },
                )
                by_hand = created["createTimeEntry"]["entry"]["id"]
                assert (await next_event(socket))[0] == "ENTRY_CREATED"
                await person.data(EDIT, input={"id": by_hand, "durationSeconds": 2700})
                assert (await next_event(socket))[0] == "ENTRY_UPDATED"
                listed = (await person.data(ENTRIES, provider=key))["timeEntries"]
                assert {e["id"] for e in listed["nodes"]} == {entry_id, by_hand}
                assert listed["totalCount"] == 2
                await person.data(DELETE, id=by_hand)
                assert (await next_event(socket))[0] == "ENTRY_DELETED"
