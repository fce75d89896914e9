"""From a mutation on gateway A to the event on a subscriber of gateway B, through each broker.

Two real ``timergate serve`` processes (A and B) share one store (PostgreSQL, a fresh
schema, by default; or SQLite) and one broker (``redis://`` or ``postgresql://``, each run in
its own namespace). A websocket client on B subscribes ``timerEvents``; this process then
sends ``startTimer`` to A over HTTP, one at a time, and measures:

* event latency: from sending the mutation to A until B's subscriber has the STARTED event
  (the mutation's own work included: one store transaction and the publish);
* mutation latency: from sending the mutation until A's response.

Each start also pauses the previous timer (one running timer per user), so every mutation
publishes two events. Nothing else loads the gateways: this is the latency of one change at a
time (``bench/scale_out.py`` measures it under load).

Run from the repository root, with Redis and PostgreSQL on their default ports::

    .venv/bin/python bench/cross_instance.py
    .venv/bin/python bench/cross_instance.py --count 500 --brokers redis --store sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from _processes import (
    clean_env,
    create_tokens,
    free_port,
    postgres_schema,
    spawn_server,
    stop_server,
)

START = "mutation { startTimer(input: {}) { timer { id } } }"
EVENTS = "subscription { timerEvents { type timer { id } } }"


async def measure(port_a: int, port_b: int, token: str, count: int) -> dict[str, list[float]]:
    event_ms: list[float] = []
    mutation_ms: list[float] = []
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        connect(
            f"ws://127.0.0.1:{port_b}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
        ) as ws,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_a}", headers=auth) as http,
    ):
        await ws.send(orjson.dumps({"type": "connection_init", "payload": auth}).decode())
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}
        await ws.send(orjson.dumps(subscribe).decode())
        await asyncio.sleep(0.5)  # the subscription is made at B's broker
        for n in range(count + 20):  # the first 20 warm up
            sent = time.perf_counter()
            response = await http.post("/graphql", json={"query": START})
            answered = time.perf_counter()
            timer_id = response.json()["data"]["startTimer"]["timer"]["id"]
            while True:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                event = message["payload"]["data"]["timerEvents"]
                if event["type"] == "STARTED" and event["timer"]["id"] == timer_id:
                    break
            arrived = time.perf_counter()
            if n >= 20:
                event_ms.append((arrived - sent) * 1000)
                mutation_ms.append((answered - sent) * 1000)
    return {"event": event_ms, "mutation": mutation_ms}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(broker_url: str, count: int, db: str, workdir: Path) -> dict[str, list[float]]:
    (token,) = create_tokens(db, ["bench"])
    env = clean_env() | {"TIMERGATE_BROKER_URL": broker_url, "TIMERGATE_DATABASE_URL": db}
    servers = []
    try:
        for name in ("a", "b"):
            port = free_port()
            command = [
                sys.executable,
                "-m",
                "timergate",
                "serve",
                "--port",
                str(port),
                "--no-access-log",
            ]
            servers.append(spawn_server(name, port, command, workdir / f"{name}.log", env=env))
        return asyncio.run(measure(servers[0].port, servers[1].port, token, count))
    finally:
        for server in servers:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--brokers", default="redis,postgresql")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--store", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    urls = {"redis": args.redis_url, "postgresql": args.postgres_url}
    print(
        f"{args.count} sequential startTimer mutations on A, subscriber on B, {args.store} store\n"
    )
    print("| broker | measure | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.brokers.split(","):
            url = f"{urls[name]}?namespace=bench{uuid.uuid4().hex[:8]}"
            with contextlib.ExitStack() as stack:
                if args.store == "postgresql":
                    db = stack.enter_context(postgres_schema(args.postgres_url))
                else:
                    db = f"sqlite:///{Path(tmp) / f'{uuid.uuid4().hex[:6]}.db'}"
                measured = run(url, args.count, db, Path(tmp))
            results[name] = measured
            for what in ("event", "mutation"):
                ms = measured[what]
                row = [percentile(ms, q) for q in (0.5, 0.9, 0.99)] + [max(ms)]
                label = "mutation on A → event on B" if what == "event" else "mutation on A"
                print(f"| {name} | {label} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"cross_instance-{int(time.time())}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main()
