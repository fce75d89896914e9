"""JavaScript clients from npm, at their default settings, drive the gateway from Node.js.

``graphql-ws`` (tests/js/ticks.mjs) follows a timer's ticks; urql's core client
(tests/js/urql.mjs, subscriptions as server-sent events) and Apollo Client (tests/js/apollo.mjs,
HTTP with graphql-ws split off for subscriptions) query, mutate and subscribe.

Needs ``node`` and ``npm ci --prefix tests/js``. Without them the test is skipped, except
under CI=true, where it fails instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from live_support import RECEIVE_TIMEOUT, assert_on_boundary

JS = Path(__file__).resolve().parents[1] / "js"

pytestmark = pytest.mark.node


@pytest.fixture
def node() -> str:
    """The node executable, once the client's packages are installed."""
    executable = shutil.which("node")
    if executable is None:
        missing = "node is not on PATH"
    elif not all(
        (JS / "node_modules" / package).is_dir()
        for package in ("graphql-ws", "@urql/core", "@apollo/client")
    ):
        missing = "tests/js/node_modules is missing; run: npm ci --prefix tests/js"
    else:
        return executable
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (CI=true: the node client tests must run)")
    pytest.skip(missing)


async def read_line(stream: asyncio.StreamReader) -> dict[str, Any]:
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        line = await stream.readline()
    assert line, "ticks.mjs ended early"
    result: dict[str, Any] = json.loads(line)
    return result


async def test_the_graphql_ws_reference_client_follows_a_timer(node, server, people) -> None:
    """graphql-ws from npm gets whole-second ticks, the final tick, and the completion."""
    (alice,) = await people("alice")
    timer_id = await alice.start("node")
    client = await asyncio.create_subprocess_exec(
        node,
        str(JS / "ticks.mjs"),
        server.ws_url,
        timer_id,
        "10",  # more than will come: the stream's completion must end the script
        "15",
        cwd=JS,
        env={**os.environ, "TIMERGATE_TOKEN": alice.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert client.stdout is not None and client.stderr is not None
        first, second = await read_line(client.stdout), await read_line(client.stdout)
        for result in (first, second):
            tick = result["data"]["timerTicks"]
            assert "errors" not in result
            assert tick["timer"] == {
                "id": timer_id,
                "state": "RUNNING",
                "elapsedSeconds": tick["elapsedSeconds"],
            }
            assert tick["final"] is False
            assert_on_boundary(tick["at"])
        ticked = [r["data"]["timerTicks"]["elapsedSeconds"] for r in (first, second)]
        assert ticked[1] == ticked[0] + 1

        stopped_at = time.monotonic()
        await alice.stop(timer_id)
        final = (await read_line(client.stdout))["data"]["timerTicks"]
        assert final["final"] is True
        assert final["timer"]["state"] == "STOPPED"
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            rest, errors = await client.communicate()
        assert client.returncode == 0, errors.decode()
        assert rest == b""
        assert time.monotonic() - stopped_at < RECEIVE_TIMEOUT
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()


async def run_script(node: str, *args: str, token: str) -> list[dict[str, Any]]:
    """Run a script of tests/js to its end; the steps it printed, one JSON object a line."""
    client = await asyncio.create_subprocess_exec(
        node,
        *args,
        cwd=JS,
        env={**os.environ, "TIMERGATE_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(20):
            out, errors = await client.communicate()
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    assert client.returncode == 0, (out.decode(), errors.decode())
    return [json.loads(line) for line in out.decode().splitlines()]


def assert_the_story(steps: list[dict[str, Any]], name: str) -> None:
    """Viewer, start, two ticks, then the stop and the final tick (in either order), then 401."""
    without_typenames = json.loads(json.dumps(steps).replace('"__typename": ', '"_": '))
    for step in without_typenames:
        _drop(step, "_")
    viewer, started, first, second, *ending, refused = without_typenames
    assert viewer == {"step": "viewer", "viewer": {"name": name}}
    timer = started["startTimer"]["timer"]
    assert timer["state"] == "RUNNING"
    assert [first["step"], second["step"]] == ["tick", "tick"]
    assert second["elapsedSeconds"] == first["elapsedSeconds"] + 1
    assert {first["final"], second["final"]} == {False}
    by_step = {step["step"]: step for step in ending}
    assert set(by_step) == {"stopped", "tick"}
    assert by_step["stopped"]["stopTimer"]["timer"] == {"id": timer["id"], "state": "STOPPED"}
    final = by_step["tick"]
    assert final["final"] is True
    assert final["timer"] == {"id": timer["id"], "state": "STOPPED"}
    assert refused["step"] == "wrong token"
    assert refused["codes"] == ["UNAUTHENTICATED"]


def _drop(value: Any, key: str) -> None:
    if isinstance(value, dict):
        value.pop(key, None)
        for item in value.values():
            _drop(item, key)


async def test_urql_queries_mutates_and_subscribes_over_server_sent_events(
    node, server, people
) -> None:
    """urql with its default Accept gets JSON for queries and mutations, and its own SSE
    subscriptions (fetchSubscriptions) deliver ticks; a wrong token reaches it as 401."""
    (alice,) = await people("alice")
    steps = await run_script(
        node, str(JS / "urql.mjs"), f"{server.base_url}/graphql", token=alice.token
    )
    assert_the_story(steps, alice.name)
    assert steps[-1]["status"] == 401


async def test_apollo_client_queries_mutates_and_subscribes_over_graphql_ws(
    node, server, people
) -> None:
    """Apollo Client (HTTP link split with a graphql-ws link) queries, mutates and follows
    ticks; a wrong token reaches it as the GraphQL error UNAUTHENTICATED."""
    (alice,) = await people("alice")
    steps = await run_script(
        node,
        str(JS / "apollo.mjs"),
        f"{server.base_url}/graphql",
        server.ws_url,
        token=alice.token,
    )
    assert_the_story(steps, alice.name)
