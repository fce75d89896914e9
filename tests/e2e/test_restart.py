"""A real server killed mid-timer picks up where it was: elapsed time lives in the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from serving import create_tokens, timergate_serve

STARTUP_DEADLINE = 30.0


@contextmanager
def server(database: str, port: int, workdir: Path) -> Iterator[str]:
    """A `timergate serve` process, ready to answer; killed with SIGKILL on the way out."""
    with timergate_serve(
        port, database, workdir / f"server-{port}.log", deadline=STARTUP_DEADLINE, crash=True
    ):
        yield f"http://127.0.0.1:{port}"


def graphql(base: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


READ = "query($id: ID!) { timer(id: $id) { state elapsedSeconds } }"


def test_a_running_timer_survives_a_crash(
    tmp_path: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    """After kill -9 and a restart on the same file, the timer runs on from its stored start."""
    database = f"sqlite:///{tmp_path / 'x.db'}"
    (token,) = create_tokens(database, "alice")

    with server(database, unused_tcp_port_factory(), tmp_path) as base:
        started = graphql(base, token, "mutation { startTimer(input: {}) { timer { id } } }")
        started_by = time.monotonic()  # the server's start instant is no later than this
        timer_id = started["startTimer"]["timer"]["id"]
        time.sleep(1.0)
        asked = time.monotonic()
        before = graphql(base, token, READ, {"id": timer_id})["timer"]
        assert before["state"] == "RUNNING"
        assert before["elapsedSeconds"] >= int(asked - started_by)
        read_at = time.monotonic()
    # The server was killed with SIGKILL on leaving the block.

    with server(database, unused_tcp_port_factory(), tmp_path) as base:
        time.sleep(max(0.0, 1.0 - (time.monotonic() - read_at)))
        asked = time.monotonic()
        after = graphql(base, token, READ, {"id": timer_id})["timer"]

    assert after["state"] == "RUNNING"
    assert after["elapsedSeconds"] >= int(asked - started_by)
    assert after["elapsedSeconds"] >= before["elapsedSeconds"] + 1
