"""Noko end to end: `timergate fake noko` and `timergate serve --allow-upstream` as real
processes; a user connects with the credentials the fake printed, drives every timer
operation, watches the ticks, and sees a change made directly on Noko arrive as an event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_support import (
    EVENTS,
    TICKS,
    LiveServer,
    Person,
    Socket,
    running_server,
)

from serving import timergate_fake
from timergate.vault import new_key

CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id status } }
}
"""
START = """
mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) { timer { id state provider } pausedTimers { id } }
}
"""
PAUSE = "mutation P($id: ID!) { pauseTimer(input: {id: $id}) { timer { state } } }"
STOP = "mutation S($id: ID!) { stopTimer(input: {id: $id}) { timer { state } entry { id durationSeconds } } }"
LOG = """
mutation L($id: ID!) {
  logTimer(input: {id: $id, durationSeconds: 600, description: "Logged"}) {
    entry { id durationSeconds description }
  }
}
"""
CANCEL = "mutation C($id: ID!) { cancelTimer(input: {id: $id}) { id } }"
UPDATE = """
mutation U($id: ID!) { updateTimer(input: {id: $id, description: "Renamed"}) { timer { description } } }
"""
ENTRIES = "{ timeEntries(first: 50) { nodes { id provider durationSeconds } } }"


@pytest.fixture(scope="module")
def noko() -> Iterator[dict[str, Any]]:
    with timergate_fake("noko") as description:
        yield description


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, noko: dict[str, Any]) -> Iterator[LiveServer]:
    with running_server(
        tmp_path_factory.mktemp("noko-live"),
        TIMERGATE_ALLOWED_UPSTREAMS=noko["base_url"],
        TIMERGATE_SECRET_KEY=new_key(),
        TIMERGATE_POLL_INTERVAL_SECONDS="0.5",
        # The fake does not limit; the pacing itself is tested in-process.
        TIMERGATE_UPSTREAM_PACING="false",
    ) as live:
        yield live


@pytest.fixture
async def person(server: LiveServer) -> AsyncIterator[Person]:
    (token,) = server.create_tokens("noko-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        yield Person("noko-user", token, http)


async def test_a_user_drives_noko_through_the_gateway(
    server: LiveServer, noko: dict[str, Any], person: Person
) -> None:
    """Connect with what the fake printed; start, tick, pause, resume, update, stop, log and
    cancel Noko timers; the entries show up; the token never reaches the log."""
    connected = await person.data(
        CONNECT,
        input={
            "label": "Noko",
            "baseUrl": noko["base_url"],
            "credentials": {"noko": noko["credentials"]},
        },
    )
    connection = connected["connectProvider"]["connection"]
    assert connection["status"] == "ACTIVE"
    key = connection["id"]
    context = noko["seed"]["context"]
    other = {"type": "project", "id": noko["seed"]["projectIds"][1]}

    async with Socket.connect(server.ws_url) as socket:
        await socket.open(person)
        started = await person.data(START, input={"provider": key, "context": context})
        timer_id = started["startTimer"]["timer"]["id"]
        assert started["startTimer"]["timer"]["provider"] == key
        await socket.subscribe("ticks", TICKS, timerId=timer_id)
        first = (await socket.next("ticks"))["timerTicks"]
        second = (await socket.next("ticks"))["timerTicks"]
        assert first["timer"]["id"] == timer_id and first["timer"]["provider"] == key
        assert second["elapsedSeconds"] >= first["elapsedSeconds"]

        assert (await person.data(PAUSE, id=timer_id))["pauseTimer"]["timer"]["state"] == "PAUSED"
        final = (await socket.next("ticks"))["timerTicks"]
        assert final["final"] is True
        await person.resume(timer_id)
        renamed = await person.data(UPDATE, id=timer_id)
        assert renamed["updateTimer"]["timer"]["description"].startswith("Renamed")
        stopped = await person.data(STOP, id=timer_id)
        assert stopped["stopTimer"]["timer"]["state"] == "STOPPED"
        entry_id = stopped["stopTimer"]["entry"]["id"]

    logged_timer = await person.start(provider=key, context=other)
    logged = await person.data(LOG, id=logged_timer)
    assert logged["logTimer"]["entry"]["durationSeconds"] == 600
    cancelled = await person.start(provider=key, context=context)
    await person.data(CANCEL, id=cancelled)

    entries = (await person.data(ENTRIES))["timeEntries"]["nodes"]
    ids = {e["id"] for e in entries if e["provider"] == key}
    assert {entry_id, logged["logTimer"]["entry"]["id"]} <= ids
    assert noko["credentials"]["token"] not in server.log.read_text()


async def test_a_change_made_in_noko_itself_arrives_as_an_event(
    server: LiveServer, noko: dict[str, Any], person: Person
) -> None:
    """A timer started directly at Noko (not through the gateway) reaches timerEvents."""
    connected = await person.data(
        CONNECT,
        input={
            "baseUrl": noko["base_url"],
            "credentials": {"noko": noko["seed"]["otherCredentials"]},
        },
    )
    key = connected["connectProvider"]["connection"]["id"]
    project = noko["seed"]["projectIds"][2]
    async with Socket.connect(server.ws_url) as socket:
        await socket.open(person)
        await socket.subscribe("events", EVENTS)
        await socket.silent("events", 1.2)  # the first look learns what is there
        async with httpx.AsyncClient(base_url=noko["base_url"], timeout=5) as direct:
            response = await direct.put(
                f"/v2/projects/{project}/timer/start",
                headers={
                    "X-NokoToken": noko["seed"]["otherCredentials"]["token"],
                    "User-Agent": "the Noko web app",
                },
                json={"description": "Started in Noko"},
            )
            assert response.status_code == 200, response.text
        event = (await socket.next("events", within=5))["timerEvents"]
        assert event["type"] == "STARTED"
        assert event["timer"]["state"] == "RUNNING"
        timers = await person.data("{ runningTimers { id provider } }")
        assert [t["provider"] for t in timers["runningTimers"]] == [key]
        assert timers["runningTimers"][0]["id"] == event["timer"]["id"]


@pytest.fixture(scope="module")
def limited_noko() -> Iterator[dict[str, Any]]:
    with timergate_fake("noko", "--rate-limit") as description:
        yield description


async def test_the_gateway_paces_itself_under_nokos_rate_limit(
    tmp_path: Path, limited_noko: dict[str, Any]
) -> None:
    """A burst of reads against a Noko that enforces 2 requests a second is spread out by the
    gateway instead of being refused with 429 (Person.data fails on any error)."""
    with running_server(
        tmp_path,
        TIMERGATE_ALLOWED_UPSTREAMS=limited_noko["base_url"],
        TIMERGATE_SECRET_KEY=new_key(),
    ) as live:
        (token,) = live.create_tokens("burst")
        async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as http:
            person = Person("burst", token, http)
            connected = await person.data(
                CONNECT,
                input={
                    "baseUrl": limited_noko["base_url"],
                    "credentials": {"noko": limited_noko["credentials"]},
                },
            )
            assert connected["connectProvider"]["connection"]["status"] == "ACTIVE"
            # Twelve users' screens refreshing at once: every read asks Noko.
            answers = await asyncio.gather(
                *(person.data("{ timers { nodes { id state } } }") for _ in range(12))
            )
            assert all(a["timers"]["nodes"] == [] for a in answers)
