"""A real server killed mid-timer picks up where it was: elapsed time lives in the store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

STARTUP_DEADLINE = 30.0


def timergate(*args: str) -> list[str]:
    """The command line that runs `timergate ARGS` with this interpreter."""
    return [sys.executable, "-m", "timergate", *args]


@contextmanager
def server(database: str, port: int, workdir: Path) -> Iterator[str]:
    """A `timergate serve` process, ready to answer; always killed on the way out."""
    log = workdir / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMERGATE_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            timergate("serve", "--port", str(port), "--database", database, "--no-access-log"),
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not get ready:\n{log.read_text()}")
            time.sleep(0.05)
        yield base
    finally:
        if process.poll() is None:
            process.kill()  # SIGKILL: no shutdown handlers run
        process.wait(timeout=10)


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
    created = subprocess.run(
        timergate("token", "create", "--user", "alice", "--database", database),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (token,) = created.stdout.split()

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
