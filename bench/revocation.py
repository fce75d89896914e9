"""Revocation benchmark: from ``timergate token revoke`` to every transport refusing the token.

One ``timergate serve`` (SQLite, token lookups cached for an hour so only the revocation log
can cut a token, rate limits off so the HTTP poller below is never refused for its pace). Each
round makes a fresh user and token, then holds open, as that user:

* a ``graphql-transport-ws`` websocket and a legacy ``graphql-ws`` one, each subscribed to
  ``timerEvents``;
* a server-sent events stream of ``timerEvents``;
* an HTTP poller sending ``{ viewer { name } }`` every ``--poll-ms`` milliseconds (5).

It then runs ``timergate token revoke TOKEN`` as a subprocess, as an operator would, and
records when each websocket is closed (and with which code), when the SSE stream ends, and
when HTTP first answers 401. Times are reported from the command's start and from its exit
(the revocation commits in between); the gateway reads the log every second
(``TIMERGATE_REVOCATION_POLL_SECONDS``), so from exit the expected wait is about half that.

Run from the repository root::

    .venv/bin/python bench/revocation.py --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from _processes import (
    RESULTS_DIR,
    ROOT,
    clean_env,
    create_tokens,
    free_port,
    spawn_server,
    stop_server,
)

EVENTS = "subscription { timerEvents { type } }"
VIEWER = "{ viewer { name } }"
#: Nothing should take this long; a round that does fails the run.
DEADLINE = 15.0


@dataclass
class Round:
    """Seconds from the revoke command's start to each transport refusing the token."""

    cli_seconds: float = 0.0
    closes: dict[str, tuple[int | None, float]] = field(default_factory=dict)
    sse_ended: float = 0.0
    http_401: float = 0.0


async def open_socket(url: str, protocol: str, token: str) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol(protocol)])
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
    if ack["type"] != "connection_ack":
        raise SystemExit(f"{protocol}: no connection_ack: {ack}")
    kind = "start" if protocol == "graphql-ws" else "subscribe"
    await ws.send(json.dumps({"id": "1", "type": kind, "payload": {"query": EVENTS}}))
    return ws


async def closed_at(ws: ClientConnection, t0: float) -> tuple[int | None, float]:
    """The close code the server sent, and when (seconds after ``t0``)."""
    try:
        async with asyncio.timeout(DEADLINE):
            async for _ in ws:
                pass
    except ConnectionClosed:
        pass
    return ws.close_code, time.monotonic() - t0


async def sse_ended_at(response: httpx.Response, t0: float) -> float:
    async with asyncio.timeout(DEADLINE):
        async for _ in response.aiter_lines():
            pass
    return time.monotonic() - t0


async def http_401_at(http: httpx.AsyncClient, token: str, poll: float) -> float:
    """Poll until HTTP refuses the token; the monotonic time of the first 401."""
    headers = {"Authorization": f"Bearer {token}"}
    async with asyncio.timeout(DEADLINE):
        while True:
            response = await http.post("/graphql", json={"query": VIEWER}, headers=headers)
            if response.status_code == 401:
                return time.monotonic()
            if response.status_code != 200:
                raise SystemExit(f"HTTP answered {response.status_code}: {response.text}")
            await asyncio.sleep(poll)


async def one_round(port: int, db_url: str, token: str, poll: float) -> Round:
    url = f"ws://127.0.0.1:{port}/graphql"
    result = Round()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=DEADLINE) as http:
        modern = await open_socket(url, "graphql-transport-ws", token)
        legacy = await open_socket(url, "graphql-ws", token)
        async with http.stream(
            "POST",
            "/graphql",
            json={"query": EVENTS},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as sse:
            if sse.status_code != 200:
                raise SystemExit(f"SSE answered {sse.status_code}")
            await asyncio.sleep(0.3)  # let every subscription settle before the clock starts
            poller = asyncio.ensure_future(http_401_at(http, token, poll))
            t0 = time.monotonic()
            watchers = asyncio.gather(
                closed_at(modern, t0), closed_at(legacy, t0), sse_ended_at(sse, t0)
            )
            command = [sys.executable, "-m", "timergate", "token", "revoke", token]
            done = await asyncio.to_thread(
                subprocess.run,
                [*command, "--database", db_url],
                env=clean_env(),
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            result.cli_seconds = time.monotonic() - t0
            if done.returncode != 0:
                raise SystemExit(f"token revoke failed: {done.stderr}")
            modern_close, legacy_close, result.sse_ended = await watchers
            result.http_401 = await poller - t0
        result.closes = {"graphql-transport-ws": modern_close, "graphql-ws": legacy_close}
    return result


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


async def run(args: argparse.Namespace, port: int, db_url: str, tokens: list[str]) -> list[Round]:
    rounds = []
    for n, token in enumerate(tokens):
        result = await one_round(port, db_url, token, args.poll_ms / 1000)
        codes = {code for code, _ in result.closes.values()}
        if codes != {4403}:
            raise SystemExit(f"round {n}: websockets closed with {codes}, not 4403")
        rounds.append(result)
        print(
            f"round {n:2}: command {result.cli_seconds:.2f} s; "
            + ", ".join(f"{p} {t:.2f}" for p, (_, t) in result.closes.items())
            + f", sse {result.sse_ended:.2f}, http 401 {result.http_401:.2f} s",
            flush=True,
        )
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--poll-ms", type=float, default=5.0, help="HTTP poll interval (5)")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'revocation.db'}"
        users = [f"revoked-{uuid.uuid4().hex[:8]}" for _ in range(args.rounds)]
        tokens = create_tokens(db_url, users)
        port = free_port()
        env = clean_env() | {
            "TIMERGATE_TOKEN_CACHE_SECONDS": "3600",
            "TIMERGATE_RATE_LIMIT_PER_TOKEN": "off",
            "TIMERGATE_RATE_LIMIT_PER_ADDRESS": "off",
        }
        command = [sys.executable, "-m", "timergate", "serve", "--database", db_url]
        command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
        server = spawn_server("timergate", port, command, workdir / "server.log", env=env)
        try:
            rounds = asyncio.run(run(args, port, db_url, tokens))
        finally:
            stop_server(server)
    figures: dict[str, Any] = {"rounds": len(rounds), "from_command_start": {}, "from_exit": {}}
    measures = {
        "command": [r.cli_seconds for r in rounds],
        "graphql-transport-ws closed": [r.closes["graphql-transport-ws"][1] for r in rounds],
        "graphql-ws closed": [r.closes["graphql-ws"][1] for r in rounds],
        "sse ended": [r.sse_ended for r in rounds],
        "http 401": [r.http_401 for r in rounds],
    }
    print(f"\n{'seconds':28} {'from start p50/p90/max':>24} {'from exit p50/p90/max':>24}")
    for name, values in measures.items():
        start = summary(values)
        after = summary([v - r.cli_seconds for v, r in zip(values, rounds, strict=True)])
        figures["from_command_start"][name] = start
        if name != "command":
            figures["from_exit"][name] = after
        print(
            f"{name:28} {start['p50']:>8.2f} {start['p90']:>7.2f} {start['max']:>7.2f}"
            + (
                ""
                if name == "command"
                else f" {after['p50']:>8.2f} {after['p90']:>7.2f} {after['max']:>7.2f}"
            )
        )
    figures["machine"] = {"python": platform.python_version(), "cores": os.cpu_count()}
    figures["raw"] = [asdict(r) for r in rounds]
    RESULTS_DIR.mkdir(exist_ok=True)
    out = args.json or RESULTS_DIR / f"revocation-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nfigures: {out}")


if __name__ == "__main__":
    main()
