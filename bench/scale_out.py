"""Scale-out on PostgreSQL: mutation throughput with one gateway and with two, and the latency
from a mutation on gateway A to the event on a subscriber of gateway B, under that load.

Two real ``timergate serve`` processes, A and B, share one PostgreSQL store (a fresh schema)
and one broker (``redis://`` or ``postgresql://``, a fresh namespace), as
``deploy/docker-compose.yml`` runs them. For each broker, each round measures two windows:

``1 instance``
    all ``--clients`` clients (16) send to A; B runs, idle.
``2 instances``
    the same clients, half to A and half to B (a load balancer's round robin).

Each client is one user looping ``startTimer`` then ``stopTimer`` over a keep-alive HTTP/1.1
connection (prebuilt requests on raw asyncio streams, so the load generator stays cheap), and
checks every answer. Meanwhile a probe (a process of its own) subscribes ``timerEvents`` on B
as another user and sends that user's ``startTimer`` to A ``--probe-rate`` times a second,
timing each from sending it to A's answer and to B's subscriber having the STARTED event (the
difference is the broker's hop and B's delivery).

CPU per process is utime + stime from ``/proc`` over each measured window, as a share of one
core: A, B, every ``postgres`` process (the server's backends, whoever's), ``redis-server``,
the load generator (this process and the probe), and everything else on the machine.

Run from the repository root, with PostgreSQL and Redis on their default ports::

    .venv/bin/python bench/scale_out.py
    .venv/bin/python bench/scale_out.py --brokers redis --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import orjson

from _processes import (
    RESULTS_DIR,
    Server,
    clean_env,
    cpu_seconds,
    create_tokens,
    free_port,
    machine_busy_seconds,
    postgres_schema,
    spawn_server,
    stop_server,
)

START = "mutation { startTimer(input: {}) { timer { id state } } }"
STOP = "mutation($id: ID!) { stopTimer(input: {id: $id}) { timer { state } } }"
EVENTS = "subscription { timerEvents { type timer { id } } }"
SCENARIOS = ("1 instance", "2 instances")


# --------------------------------------------------------------------------- load


@dataclass
class Phase:
    recording: bool = False
    stopping: bool = False
    mutations: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _request(port: int, token: str, body: dict[str, Any]) -> bytes:
    payload = orjson.dumps(body)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> dict[str, Any]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if head[9:12] != b"200":
        raise RuntimeError(f"HTTP {head[9:12].decode()}: {head[:200]!r}")
    lower = head.lower()
    at = lower.index(b"\r\ncontent-length:") + 17
    body = await reader.readexactly(int(lower[at : lower.index(b"\r\n", at)]))
    document: dict[str, Any] = orjson.loads(body)
    if document.get("errors"):
        raise RuntimeError(f"GraphQL errors: {document['errors']}")
    return document


async def client(port: int, token: str, phase: Phase) -> None:
    """Start a timer, stop it, again and again; count both while recording."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = _request(port, token, {"query": START})
    clock = time.perf_counter_ns
    try:
        while not phase.stopping:
            t0 = clock()
            started = await _exchange(reader, writer, start)
            t1 = clock()
            timer_id = started["data"]["startTimer"]["timer"]["id"]
            stop = _request(port, token, {"query": STOP, "variables": {"id": timer_id}})
            stopped = await _exchange(reader, writer, stop)
            t2 = clock()
            if stopped["data"]["stopTimer"]["timer"]["state"] != "STOPPED":
                raise RuntimeError(f"not stopped: {stopped}")
            if phase.recording:
                phase.mutations += 2
                phase.latencies_ns += [t1 - t0, t2 - t1]
    except (RuntimeError, OSError, KeyError, asyncio.IncompleteReadError) as exc:
        phase.failures.append(repr(exc)[:300])
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# --------------------------------------------------------------------------- the probe


async def probe(
    port_a: int, port_b: int, token: str, rate: float, seconds: float
) -> list[tuple[float, float]]:
    """Milliseconds from sending ``startTimer`` to A until A answers, and until B's subscriber
    has its event."""
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    auth = {"Authorization": f"Bearer {token}"}
    latencies: list[tuple[float, float]] = []
    async with connect(
        f"ws://127.0.0.1:{port_b}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(orjson.dumps({"type": "connection_init", "payload": auth}).decode())
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}
        await ws.send(orjson.dumps(subscribe).decode())
        await asyncio.sleep(0.5)  # B has subscribed at the broker
        reader, writer = await asyncio.open_connection("127.0.0.1", port_a)
        request = _request(port_a, token, {"query": START})
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            due = time.perf_counter() + 1 / rate
            sent = time.perf_counter()
            answer = await _exchange(reader, writer, request)
            answered = time.perf_counter()
            timer_id = answer["data"]["startTimer"]["timer"]["id"]
            while True:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                event = message["payload"]["data"]["timerEvents"]
                if event["type"] == "STARTED" and event["timer"]["id"] == timer_id:
                    break
            arrived = time.perf_counter()
            latencies.append(((answered - sent) * 1000, (arrived - sent) * 1000))
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        writer.close()
    return latencies


def start_probe(port_a: int, port_b: int, token: str, rate: float, seconds: float) -> Any:
    """The probe in a process of its own, so the load's event loop cannot delay it."""
    args = ["--probe", json.dumps([port_a, port_b, token, rate, seconds])]
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


# --------------------------------------------------------------------------- a window


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


def cpu_by_group(groups: dict[str, list[int]]) -> dict[str, float]:
    total = {}
    for group, pids in groups.items():
        seconds = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):
                seconds += cpu_seconds(pid)
        total[group] = seconds
    return total


@dataclass
class Window:
    broker: str
    scenario: str
    round: int
    seconds: float
    mutations: int
    latencies_ns: list[int]
    #: The probe's (mutation answered, event on B) in milliseconds from sending.
    probe_ms: list[tuple[float, float]]
    cpu: dict[str, float]
    failures: list[str]

    @property
    def rate(self) -> float:
        return self.mutations / self.seconds


async def measure(
    broker: str,
    scenario: str,
    round_no: int,
    servers: list[Server],
    tokens: list[str],
    probe_token: str,
    args: argparse.Namespace,
) -> Window:
    a, b = servers
    targets = [a.port] if scenario == "1 instance" else [a.port, b.port]
    phase = Phase()
    tasks = [
        asyncio.create_task(client(targets[n % len(targets)], token, phase))
        for n, token in enumerate(tokens)
    ]
    await asyncio.sleep(args.warmup)
    # The probe starts up, subscribes, then probes for about as long as the window lasts.
    prober = start_probe(a.port, b.port, probe_token, args.probe_rate, args.duration - 1.0)
    groups = {
        "gateway A": [a.pid],
        "gateway B": [b.pid],
        "PostgreSQL": pids_named("postgres"),
        "Redis": pids_named("redis-server"),
        "load generator": [os.getpid(), prober.pid],
    }
    await asyncio.sleep(0.5)  # the probe subscribes before the window opens
    before, busy0, wall0 = cpu_by_group(groups), machine_busy_seconds(), time.perf_counter()
    phase.recording = True
    await asyncio.sleep(args.duration - 0.5)
    phase.recording = False
    after, busy1, wall1 = cpu_by_group(groups), machine_busy_seconds(), time.perf_counter()
    phase.stopping = True
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    out, err = await asyncio.to_thread(prober.communicate, timeout=60)
    if prober.returncode != 0:
        raise SystemExit(f"the probe failed:\n{err.decode()}")
    cpu = {group: after[group] - before[group] for group in groups}
    cpu["other"] = max(0.0, (busy1 - busy0) - sum(cpu.values()))
    cpu["machine"] = busy1 - busy0
    return Window(
        broker, scenario, round_no, wall1 - wall0, phase.mutations, phase.latencies_ns,
        json.loads(out), cpu, phase.failures,
    )  # fmt: skip


# --------------------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def table(windows: list[Window]) -> str:
    groups = ["gateway A", "gateway B", "PostgreSQL", "Redis", "load generator", "other"]
    rows = [
        "| broker | gateways | mutations/s (min-max) | mutation p50 / p99 ms "
        "| event A→B p50 / p99 ms | after A's answer p50 / p99 ms | "
        + " | ".join(groups)
        + " | machine |",
        "|---|---|---:|---:|---:|---:|" + "---:|" * (len(groups) + 1),
    ]
    for broker in dict.fromkeys(w.broker for w in windows):
        for scenario in SCENARIOS:
            ws = [w for w in windows if (w.broker, w.scenario) == (broker, scenario)]
            if not ws:
                continue
            rates = sorted(w.rate for w in ws)
            latencies = [ns / 1e6 for w in ws for ns in w.latencies_ns]
            events = [event for w in ws for _, event in w.probe_ms]
            hops = [event - answer for w in ws for answer, event in w.probe_ms]
            seconds = sum(w.seconds for w in ws)
            shares = [100 * sum(w.cpu[g] for w in ws) / seconds for g in [*groups, "machine"]]
            rows.append(
                f"| {broker} | {scenario.split()[0]} | {statistics.median(rates):,.0f} "
                f"({rates[0]:,.0f}-{rates[-1]:,.0f}) "
                f"| {percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.99):.1f} "
                f"| {percentile(events, 0.5):.1f} / {percentile(events, 0.99):.1f} "
                f"| {percentile(hops, 0.5):.1f} / {percentile(hops, 0.99):.1f} | "
                + " | ".join(f"{share:.0f}%" for share in shares)
                + " |"
            )
    return "\n".join(rows)


def run_broker(
    broker: str, broker_url: str, store_url: str, workdir: Path, args: argparse.Namespace
) -> list[Window]:
    users = [f"load{n}" for n in range(args.clients)]
    *tokens, probe_token = create_tokens(store_url, [*users, "probe"])
    env = clean_env() | {
        "TIMERGATE_DATABASE_URL": store_url,
        "TIMERGATE_BROKER_URL": f"{broker_url}?namespace=bench{uuid.uuid4().hex[:8]}",
        # The clients loop far faster than people click: no rate limit refuses them.
        "TIMERGATE_RATE_LIMIT_PER_TOKEN": "off",
    }
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            command = [sys.executable, "-m", "timergate", "serve", "--port", str(port)]
            command += ["--no-access-log", "--log-level", "warning"]
            log = workdir / f"{broker}-{name}.log"
            servers.append(spawn_server(name, port, command, log, env=env))
        windows = []
        for round_no in range(args.rounds):
            order = SCENARIOS if round_no % 2 == 0 else SCENARIOS[::-1]
            for scenario in order:
                window = asyncio.run(
                    measure(broker, scenario, round_no, servers, tokens, probe_token, args)
                )
                print(
                    f"  {broker} {scenario} round {round_no}: {window.rate:,.0f} mutations/s, "
                    f"{len(window.failures)} failures",
                    file=sys.stderr,
                )
                windows.append(window)
        return windows
    finally:
        for server in servers:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", default="redis,postgresql")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--probe-rate", type=float, default=25.0, help="probe starts a second")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(asyncio.run(probe(*json.loads(args.probe)))))
        return
    urls = {"redis": args.redis_url, "postgresql": args.postgres_url}
    windows: list[Window] = []
    with TemporaryDirectory() as tmp:
        for broker in args.brokers.split(","):
            with postgres_schema(args.postgres_url) as store_url:
                windows += run_broker(broker, urls[broker], store_url, Path(tmp), args)
    failures = [f for w in windows for f in w.failures]
    print(
        f"{args.clients} clients (startTimer then stopTimer, each its own user), "
        f"{args.rounds} rounds of {args.duration:.0f} s per row; probe {args.probe_rate:.0f}/s; "
        "CPU as a share of one core\n"
    )
    print(table(windows))
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"scale_out-{int(time.time())}.json"
    out.write_text(json.dumps([asdict(w) for w in windows]))
    if failures:
        raise SystemExit(f"{len(failures)} clients failed, e.g. {failures[:3]}")


if __name__ == "__main__":
    main()
