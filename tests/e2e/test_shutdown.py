"""A real ``timergate serve`` on SIGTERM: requests in flight finish, live clients are told to
reconnect, and the process exits within its bound."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from serving import create_tokens, free_port, timergate_serve

RECEIVE_TIMEOUT = 5.0
EVENTS = "subscription { timerEvents { type timer { id } } }"
START = 'mutation { startTimer(input: {description: "shutdown"}) { timer { id } } }'
STOP = "mutation { stopTimer { timer { state } } }"


class SlowUpload:
    """A POST whose body is held back: the server is running it (it asked for the body with
    100 Continue) until the test sends the body."""

    def __init__(self, port: int, token: str, body: dict[str, Any]) -> None:
        self._port, self._token, self._body = port, token, orjson.dumps(body)

    async def begin(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self._port)
        head = (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {self._token}\r\nContent-Length: {len(self._body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        )
        self.writer.write(head.encode())
        await self.writer.drain()
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            assert await self.reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"

    async def finish(self) -> tuple[int, dict[str, Any]]:
        """Send the body; the response's status and JSON body."""
        self.writer.write(self._body)
        await self.writer.drain()
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            response = await self.reader.read()  # the server closes after a drained request
        head, _, body = response.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        self.writer.close()
        return status, json.loads(body)


async def subscribe_over_websocket(url: str, token: str) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(
        orjson.dumps(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        ).decode()
    )
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}
    await ws.send(orjson.dumps(subscribe).decode())
    return ws


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """Each graphql-sse event's name and decoded data, until the stream ends."""
    name, data = None, []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            name = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data.append(line.partition(":")[2].strip())
        elif line == "" and name is not None:
            text = "\n".join(data)
            yield name, json.loads(text) if text else None
            name, data = None, []


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shutdown.db'}"


async def test_sigterm_drains_live_connections_and_finishes_requests_in_flight(
    tmp_path: Path, database: str
) -> None:
    """On SIGTERM: no new connections; a websocket is closed with 1012 (Service Restart); an
    event stream ends with SHUTTING_DOWN; a request in flight completes; the process exits."""
    (token,) = create_tokens(database, "alice")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    with timergate_serve(
        port,
        database,
        tmp_path / "server.log",
        environment={"TIMERGATE_SHUTDOWN_TIMEOUT_SECONDS": "10"},
    ) as process:
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=RECEIVE_TIMEOUT
        ) as http:
            ws = await subscribe_over_websocket(f"ws://127.0.0.1:{port}/graphql", token)
            sse_headers = {"Accept": "text/event-stream"}
            async with http.stream(
                "POST", "/graphql", json={"query": EVENTS}, headers=sse_headers
            ) as sse:
                stream = sse_events(sse)
                await http.post("/graphql", json={"query": START})
                async with asyncio.timeout(RECEIVE_TIMEOUT):
                    assert (
                        orjson.loads(await ws.recv())["payload"]["data"]["timerEvents"]["type"]
                        == "STARTED"
                    )
                    name, payload = await anext(stream)
                assert (name, payload["data"]["timerEvents"]["type"]) == ("next", "STARTED")
                in_flight = SlowUpload(port, token, {"query": STOP})
                await in_flight.begin()

                process.send_signal(signal.SIGTERM)

                with pytest.raises(ConnectionClosed) as closed:
                    async with asyncio.timeout(RECEIVE_TIMEOUT):
                        await ws.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1012
                assert "reconnect" in closed.value.rcvd.reason

                async with asyncio.timeout(RECEIVE_TIMEOUT):
                    rest = [event async for event in stream]
                assert rest[-1][0] == "complete"
                (error,) = rest[0][1]["errors"]
                assert error["extensions"]["code"] == "SHUTTING_DOWN"

            with pytest.raises(httpx.ConnectError):
                await http.get("/healthz")

            status, body = await in_flight.finish()
            assert status == 200
            assert body == {"data": {"stopTimer": {"timer": {"state": "STOPPED"}}}}

        assert process.wait(timeout=15) in (0, -signal.SIGTERM)


async def test_a_request_that_never_finishes_is_cut_at_the_shutdown_timeout(
    tmp_path: Path, database: str
) -> None:
    """A stuck request cannot hold the process past TIMERGATE_SHUTDOWN_TIMEOUT_SECONDS."""
    (token,) = create_tokens(database, "alice")
    port = free_port()
    log = tmp_path / "server.log"
    with timergate_serve(
        port, database, log, environment={"TIMERGATE_SHUTDOWN_TIMEOUT_SECONDS": "1"}
    ) as process:
        stuck = SlowUpload(port, token, {"query": STOP})
        await stuck.begin()
        process.send_signal(signal.SIGTERM)
        try:
            # 1 s of grace, plus start-up of the interpreter's exit: far less than this.
            returncode = await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server outlived its shutdown timeout:\n{log.read_text()}")
        stuck.writer.close()
    assert returncode in (0, -signal.SIGTERM)
    assert "timeout graceful shutdown exceeded" in log.read_text()


def test_a_gateway_whose_broker_is_unreachable_exits_at_start_and_names_it(
    tmp_path: Path, database: str
) -> None:
    """A wrong --broker stops `timergate serve` at once with an error naming the broker (its
    password hidden), instead of serving without live updates or hanging."""
    command = [sys.executable, "-m", "timergate", "serve", "--port", str(free_port())]
    broker = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [*command, "--database", database, "--broker", broker],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "cannot reach the Redis broker at redis://:***@127.0.0.1:" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
