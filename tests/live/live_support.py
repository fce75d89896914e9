"""What the live tests send, and clients that speak to a running gateway over the wire.

``Person`` makes changes over HTTP as one user; ``Socket`` is a hand-driven websocket that
routes each message to its operation id, so several subscriptions on one connection can be
read side by side; ``EventStream`` reads a server-sent events response; ``running_server``
starts ``timergate serve`` for a test module with settings of its own. Every read has a deadline: a missing message fails fast instead of hanging.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from serving import create_tokens, free_port, timergate_serve

#: The longest any test waits for one message. Ticks are one second apart; two-second
#: intervals need a little more than two.
RECEIVE_TIMEOUT = 3.5

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
GRAPHQL_WS = "graphql-ws"

TIMER_FIELDS = """
fragment TimerFields on Timer {
  id provider state description context { type id title } tags billable
  elapsedSeconds startedAt runningSince updatedAt version
}
"""

TICKS = (
    """
subscription Ticks($timerId: ID, $interval: Int! = 1) {
  timerTicks(timerId: $timerId, intervalSeconds: $interval) {
    elapsedSeconds at final timer { ...TimerFields }
  }
}
"""
    + TIMER_FIELDS
)

EVENTS = """
subscription Events {
  timerEvents {
    type at
    timer { id state version elapsedSeconds entry { id } }
    entry { id durationSeconds description }
  }
}
"""

START = """
mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) { timer { id state version } pausedTimers { id } }
}
"""
PAUSE = "mutation Pause($id: ID!) { pauseTimer(input: {id: $id}) { timer { id state } } }"
STOP = """
mutation Stop($id: ID!) { stopTimer(input: {id: $id}) { timer { id state } entry { id } } }
"""
LOG = """
mutation Log($id: ID!) {
  logTimer(input: {id: $id, description: "logged"}) { timer { id } entry { id } }
}
"""
CANCEL = "mutation Cancel($id: ID!) { cancelTimer(input: {id: $id}) { id } }"
UPDATE_TIMER = """
mutation UpdateTimer($id: ID!, $description: String) {
  updateTimer(input: {id: $id, description: $description}) { timer { id version } }
}
"""
CREATE_ENTRY = """
mutation CreateEntry($startedAt: DateTime!) {
  createTimeEntry(input: {startedAt: $startedAt, durationSeconds: 900}) { entry { id } }
}
"""
UPDATE_ENTRY = """
mutation UpdateEntry($id: ID!) {
  updateTimeEntry(input: {id: $id, description: "edited"}) { entry { id } }
}
"""
DELETE_ENTRY = "mutation DeleteEntry($id: ID!) { deleteTimeEntry(input: {id: $id}) { id } }"


@dataclass
class Person:
    """One user of the gateway, making changes over HTTP with their bearer token."""

    name: str
    token: str
    http: httpx.AsyncClient

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"

    @property
    def init_payload(self) -> dict[str, str]:
        """What a websocket client sends in ``connection_init``."""
        return {"Authorization": self.authorization}

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": self.authorization},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def start(self, description: str | None = None, **input: Any) -> str:
        """Start a new timer (pausing any running one); its id."""
        if description is not None:
            input["description"] = description
        data = await self.data(START, input=input)
        timer_id: str = data["startTimer"]["timer"]["id"]
        return timer_id

    async def resume(self, timer_id: str) -> None:
        await self.data(START, input={"timerId": timer_id})

    async def pause(self, timer_id: str) -> None:
        await self.data(PAUSE, id=timer_id)

    async def stop(self, timer_id: str) -> str:
        """Stop a timer; the id of the entry it recorded."""
        data = await self.data(STOP, id=timer_id)
        entry_id: str = data["stopTimer"]["entry"]["id"]
        return entry_id

    async def log(self, timer_id: str) -> str:
        data = await self.data(LOG, id=timer_id)
        entry_id: str = data["logTimer"]["entry"]["id"]
        return entry_id

    async def cancel(self, timer_id: str) -> None:
        await self.data(CANCEL, id=timer_id)


class Socket:
    """A websocket to ``/graphql`` driven message by message.

    A reader task files every message under its ``id`` (connection messages under ``None``)
    and records the close code when the server closes.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.protocol = ws.subprotocol
        self.legacy = self.protocol == GRAPHQL_WS
        self._inbox: defaultdict[str | None, asyncio.Queue[dict[str, Any]]] = defaultdict(
            asyncio.Queue
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, url: str, protocols: str | list[str] = GRAPHQL_TRANSPORT_WS, **options: Any
    ) -> AsyncIterator[Socket]:
        """Connect offering ``protocols`` (in order of preference)."""
        offered = [protocols] if isinstance(protocols, str) else protocols
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            ws = await connect(url, subprotocols=[Subprotocol(p) for p in offered], **options)
        socket = cls(ws)
        try:
            yield socket
        finally:
            socket._reader.cancel()
            await ws.close()

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                message = orjson.loads(text)
                self._inbox[message.get("id")].put_nowait(message)
        except ConnectionClosed:
            pass

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def receive(
        self, op_id: str | None = None, within: float = RECEIVE_TIMEOUT
    ) -> dict[str, Any]:
        """The next message for ``op_id``; fails after ``within`` seconds."""
        try:
            async with asyncio.timeout(within):
                return await self._inbox[op_id].get()
        except TimeoutError:
            raise AssertionError(
                f"no message for {op_id!r} within {within} s (close code {self.ws.close_code})"
            ) from None

    async def silent(self, op_id: str, seconds: float) -> None:
        """Assert nothing arrives for ``op_id`` during ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                message = await self._inbox[op_id].get()
        except TimeoutError:
            return
        raise AssertionError(f"expected silence on {op_id!r}, got {message}")

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        """Send ``connection_init``; the server's answer."""
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive(None)

    async def open(self, person: Person) -> None:
        """Authenticate as ``person``."""
        assert await self.init(person.init_payload) == {"type": "connection_ack"}

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "start" if self.legacy else "subscribe",
                "payload": {"query": query, "variables": variables},
            }
        )

    async def stop(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "stop" if self.legacy else "complete"})

    async def next(self, op_id: str, within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The ``data`` of the next result for ``op_id``; fails on anything else."""
        message = await self.receive(op_id, within)
        assert message["type"] == ("data" if self.legacy else "next"), message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def error(self, op_id: str) -> list[dict[str, Any]]:
        """The errors the server answered ``op_id`` with."""
        message = await self.receive(op_id)
        assert message["type"] == "error", message
        payload = message["payload"]
        return payload if isinstance(payload, list) else [payload]

    async def completed(self, op_id: str) -> None:
        message = await self.receive(op_id)
        assert message == {"id": op_id, "type": "complete"}, message

    async def closed(self, within: float = RECEIVE_TIMEOUT) -> tuple[int | None, str | None]:
        """Wait for the server to close; the close code and reason."""
        try:
            async with asyncio.timeout(within):
                await asyncio.shield(self._reader)
        except TimeoutError:
            raise AssertionError(f"the server did not close within {within} s") from None
        return self.ws.close_code, self.ws.close_reason


class EventStream:
    """One graphql-sse ("distinct connections") response, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def event(self) -> tuple[str, Any]:
        """The next event's name and decoded data; fails after the receive timeout."""
        name, data = None, []
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            async for line in self._lines:
                if line.startswith(":"):
                    continue  # a heartbeat comment
                if line.startswith("event:"):
                    name = line.partition(":")[2].strip()
                elif line.startswith("data:"):
                    data.append(line.partition(":")[2].strip())
                elif line == "" and name is not None:
                    text = "\n".join(data)  # "complete" carries an empty data field
                    return name, json.loads(text) if text else None
        raise AssertionError("the event stream ended")

    async def ended(self) -> None:
        """Assert the server ends the response, with no further event."""
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            async for line in self._lines:
                assert line.startswith(":") or not line, f"expected the end, got {line!r}"

    async def next(self) -> dict[str, Any]:
        name, payload = await self.event()
        assert name == "next", (name, payload)
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data


@asynccontextmanager
async def subscribed(
    person: Person, query: str, *, read_timeout: float = RECEIVE_TIMEOUT, **variables: Any
) -> AsyncIterator[EventStream]:
    """An SSE subscription; ``read_timeout`` bounds each wait for bytes."""
    async with person.http.stream(
        "POST",
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": person.authorization, "Accept": "text/event-stream"},
        timeout=httpx.Timeout(5, read=read_timeout),
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


#: How long the server may take to answer /healthz after it is launched.
STARTUP_DEADLINE = 15.0


@dataclass(frozen=True)
class LiveServer:
    """A running ``timergate serve`` process."""

    port: int
    database_url: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def create_tokens(self, *names: str) -> list[str]:
        """A new token for each user name, made by ``timergate token create``."""
        return create_tokens(self.database_url, *names)


@contextmanager
def running_server(directory: Path, **environment: str) -> Iterator[LiveServer]:
    """Start ``timergate serve``, wait until /healthz answers, and kill it on the way out."""
    port = free_port()
    server = LiveServer(
        port=port,
        database_url=f"sqlite:///{directory / 'live.db'}",
        log=directory / "server.log",
    )
    with timergate_serve(
        port, server.database_url, server.log, environment=environment, deadline=STARTUP_DEADLINE
    ):
        yield server


def instant(text: str) -> datetime:
    """A ``DateTime`` the API sent, checked to be in UTC."""
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None and not value.utcoffset(), text
    return value


def assert_on_boundary(at: str, interval: int = 1) -> None:
    """``at`` is a whole second of Unix time divisible by ``interval``."""
    value = instant(at)
    assert value.microsecond == 0, at
    assert int(value.timestamp()) % interval == 0, (at, interval)


def lag(at: str) -> float:
    """Seconds between the tick's instant and now."""
    return time.time() - instant(at).timestamp()


def utc_now() -> datetime:
    return datetime.now(UTC)


#: One change of each kind, as (type, timer, timer state, entry) where "a", "b", "c" name
#: timers and "e1".. entries in the order ``make_every_change`` makes them.
EVERY_CHANGE = [
    ("STARTED", "a", "RUNNING", None),
    ("UPDATED", "a", "RUNNING", None),
    ("PAUSED", "a", "PAUSED", None),
    ("RESUMED", "a", "RUNNING", None),
    ("STOPPED", "a", "STOPPED", "e1"),
    ("STARTED", "b", "RUNNING", None),
    ("LOGGED", "b", "STOPPED", "e2"),
    ("STARTED", "c", "RUNNING", None),
    # A cancelled timer is deleted; the event shows it as it was.
    ("CANCELLED", "c", "RUNNING", None),
    ("ENTRY_CREATED", None, None, "e3"),
    ("ENTRY_UPDATED", None, None, "e3"),
    ("ENTRY_DELETED", None, None, "e3"),
]


async def make_every_change(person: Person) -> dict[str, str]:
    """Make the changes of ``EVERY_CHANGE`` over HTTP; the ids behind its names."""
    ids: dict[str, str] = {}
    ids["a"] = await person.start("a")
    await person.data(UPDATE_TIMER, id=ids["a"], description="a, renamed")
    await person.pause(ids["a"])
    await person.resume(ids["a"])
    ids["e1"] = await person.stop(ids["a"])
    ids["b"] = await person.start("b")
    ids["e2"] = await person.log(ids["b"])
    ids["c"] = await person.start("c")
    await person.cancel(ids["c"])
    created = await person.data(CREATE_ENTRY, startedAt="2024-05-01T09:00:00+00:00")
    ids["e3"] = created["createTimeEntry"]["entry"]["id"]
    await person.data(UPDATE_ENTRY, id=ids["e3"])
    await person.data(DELETE_ENTRY, id=ids["e3"])
    return ids


def summary(event: dict[str, Any], ids: dict[str, str]) -> tuple[str | None, ...]:
    """An ``EVENTS`` result as an ``EVERY_CHANGE`` row, ids replaced by their names."""
    names = {v: k for k, v in ids.items()}
    timer, entry = event["timer"], event["entry"]
    if timer is not None and entry is not None:
        # The timer that recorded an entry links to it.
        assert timer["entry"] == {"id": entry["id"]}, event
    return (
        event["type"],
        names[timer["id"]] if timer else None,
        timer["state"] if timer else None,
        names[entry["id"]] if entry else None,
    )
