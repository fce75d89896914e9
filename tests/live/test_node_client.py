"""The npm reference client ``graphql-ws`` (tests/js/ticks.mjs) follows a timer's ticks.

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
    elif not (JS / "node_modules" / "graphql-ws").is_dir():
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
