"""Live ticks fan-out benchmark: N websocket subscribers, one tick each per second.

One run measures, side by side at each subscriber count (``--counts``, default
1000,5000,10000), each target in its own fresh server process:

``timergate``
    The real server, ``python -m timergate serve`` (uvicorn, ``ws="websockets-sansio"``,
    per-message compression off), on a SQLite store holding one user, token and running
    timer per subscriber.
``bare``
    ``bench/bare_ws_server.py``: websockets' asyncio server (compression off, uvloop) writing
    each client a message of the same JSON shape and size once per wall-clock second. The
    machine's limit; timergate's targets are relative to it.
``bare-deflate``
    The same with websockets' default permessage-deflate, for its memory cost.

This process is the load generator (uvloop; a minimal websocket client on asyncio protocols so
it stays cheap next to the server): it opens N connections with subprotocol
``graphql-transport-ws``, sends ``connection_init`` with the user's token, subscribes
``timerTicks(timerId: $id) { elapsedSeconds at timer { id state } }`` and checks every tick
(its timer id, RUNNING, ``at`` moving forward). After all are ticking and a settle period, it
counts the ticks received during a window that starts half way between two ticks, and reports
per target and count:

* ticks delivered per second (expected: N) and seconds skipped (gaps in a client's ``at``);
* lag from the tick's scheduled instant (its ``at``, a whole second) to its receipt here,
  p50 / p99 / max (client and server share this machine's clock);
* server CPU (utime + stime from /proc) per delivered tick, and as a share of one core;
* server resident memory per subscriber: (VmRSS with N subscribed - VmRSS before) / N;
* this load process's CPU as a share of one core, and the machine's idle share.

Setup (not measured): ``timergate token create`` with many ``--user`` flags (batches), then
one ``startTimer`` per user over HTTP with a bounded pool, on a setup server; each measured
timergate server then starts fresh on that database. The open-files limit is raised to the
hard limit here and inherited by every server (checked in /proc/<pid>/limits).

Run from the repository root::

    .venv/bin/python bench/fanout.py                     # 1000, 5000, 10000
    .venv/bin/python bench/fanout.py --counts 200 --window 5 --settle 2   # smoke run

``--profile`` adds one more timergate run at the largest count with py-spy attached
(``pip install py-spy``; not a project dependency) and writes the hot spots to
``bench/results/``; that run is not in the table. Results also go to
``bench/results/fanout-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zlib
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from _processes import (
    BENCH_DIR,
    RESULTS_DIR,
    ROOT,
    Server,
    answers_healthz,
    cpu_seconds,
    create_tokens,
    free_port,
    logged_ready,
    machine_idle,
    nofile_limit,
    raise_nofile,
    rss_bytes,
    spawn_server,
    start_py_spy,
    stop_server,
)

TARGETS = ("bare", "bare-deflate", "timergate")

START_QUERY = (
    "mutation Start($input: StartTimerInput!) { startTimer(input: $input) { timer { id state } } }"
)
TICKS_QUERY = (
    "subscription Ticks($id: ID!) { timerTicks(timerId: $id) "
    "{ elapsedSeconds at timer { id state } } }"
)

# Targets (docs/benchmarks.md).
TARGET_P99_FACTOR = 2.0
TARGET_CPU_MS_PER_TICK = 0.1
TARGET_BYTES_PER_SUBSCRIBER = 30_000


# --------------------------------------------------------------------------- processes


def start_server(target: str, workdir: Path, db_url: str, tag: str) -> Server:
    port = free_port()
    if target == "timergate":
        command = [
            sys.executable, "-m", "timergate", "serve", "--port", str(port),
            "--database", db_url, "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        ready = answers_healthz
    else:
        compression = "deflate" if target == "bare-deflate" else "off"
        command = [
            sys.executable, str(BENCH_DIR / "bare_ws_server.py"), "--port", str(port),
            "--compression", compression,
        ]  # fmt: skip
        ready = logged_ready
    # The raised RLIMIT_NOFILE of this process is inherited.
    return spawn_server(target, port, command, workdir / f"server-{target}-{tag}.log", ready=ready)


# --------------------------------------------------------------------------- setup


async def start_timers(port: int, tokens: list[str], concurrency: int = 32) -> list[str]:
    """One ``startTimer`` per token over HTTP, ``concurrency`` at a time; the timer ids."""
    import httpx

    ids: list[str] = [""] * len(tokens)
    body = {"query": START_QUERY, "variables": {"input": {"description": "fan-out"}}}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:
        queue = list(enumerate(tokens))
        queue.reverse()

        async def worker() -> None:
            while queue:
                i, token = queue.pop()
                r = await client.post(
                    "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
                )
                doc = r.json()
                if r.status_code != 200 or doc.get("errors"):
                    raise SystemExit(f"startTimer failed: HTTP {r.status_code} {doc}")
                timer = doc["data"]["startTimer"]["timer"]
                if timer["state"] != "RUNNING":
                    raise SystemExit(f"startTimer: unexpected {doc}")
                ids[i] = timer["id"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


# --------------------------------------------------------------------------- client


class Stats:
    """Shared by all clients of one run."""

    def __init__(self) -> None:
        self.recording = False
        self.ticks = 0
        self.lags = array("d")
        self.skipped = 0
        self.errors: Counter[str] = Counter()
        self.examples: list[str] = []
        self.closes: Counter[str] = Counter()
        self.at_cache: dict[str, float] = {}

    def fail(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {detail[:300]}")

    def at_epoch(self, at: str) -> float:
        value = self.at_cache.get(at)
        if value is None:
            value = self.at_cache[at] = datetime.fromisoformat(at).timestamp()
            if len(self.at_cache) > 600:
                self.at_cache.clear()
                self.at_cache[at] = value
        return value


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    if n:
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
        payload = (int.from_bytes(payload, "little") ^ key).to_bytes(n, "little")
    return head + mask + payload


_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class TickClient(asyncio.Protocol):
    """One websocket subscriber: handshake, graphql-transport-ws, then count ticks."""

    def __init__(self, stats: Stats, port: int, token: str, timer_id: str, deflate: bool) -> None:
        self.stats = stats
        self.port = port
        self.token = token
        self.timer_id = timer_id
        self.offer_deflate = deflate
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.key = base64.b64encode(os.urandom(16))
        self.inflate: Any = None
        self.inflate_reset = False
        self.fragments: list[bytes] | None = None
        self.fragment_compressed = False
        self.acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_at = 0.0
        self.received = 0
        self.closed = False

    # transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        extension = (
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            if self.offer_deflate
            else b""
        )
        transport.write(
            b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n%s\r\n"
            % (self.port, self.key, extension)
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            self.stats.closes["connection lost"] += 1
        if not self.acked.done():
            self.acked.set_exception(ConnectionError(f"lost before ack: {exc!r}"))

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(_frame(opcode, payload))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def fail(self, kind: str, detail: str) -> None:
        self.stats.fail(kind, detail)
        if not self.acked.done():
            self.acked.set_exception(ConnectionError(f"{kind}: {detail}"))
        self.close()

    # reading

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            if not self._upgrade(head):
                return
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1]
            if n & 0x80:
                return self.fail("protocol", "masked frame from server")
            h = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                h = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                h = 10
            if size - pos < h + n:
                break
            payload = bytes(buf[pos + h : pos + h + n])
            pos += h + n
            self._frame(b0, payload, now)
            if self.closed:
                return
        if pos:
            del buf[:pos]

    def _upgrade(self, head: str) -> bool:
        lines = head.split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            self.fail("handshake", lines[0])
            return False
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self.key + _GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            self.fail("handshake", "bad Sec-WebSocket-Accept")
            return False
        if headers.get("sec-websocket-protocol") != "graphql-transport-ws":
            self.fail("handshake", f"subprotocol {headers.get('sec-websocket-protocol')!r}")
            return False
        extensions = headers.get("sec-websocket-extensions", "")
        if self.offer_deflate:
            if "permessage-deflate" not in extensions:
                self.fail("handshake", f"deflate not negotiated: {extensions!r}")
                return False
            self.inflate = zlib.decompressobj(-15)
            self.inflate_reset = "server_no_context_takeover" in extensions
        self.upgraded = True
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        self.send(0x1, orjson.dumps(init))
        return True

    def _frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode == 0x0:
            if self.fragments is None:
                return self.fail("protocol", "unexpected continuation")
            self.fragments.append(payload)
            if not fin:
                return None
            payload = b"".join(self.fragments)
            compressed = self.fragment_compressed
            self.fragments = None
        elif opcode in (0x1, 0x2):
            compressed = bool(b0 & 0x40)
            if not fin:
                self.fragments = [payload]
                self.fragment_compressed = compressed
                return None
        elif opcode == 0x9:
            return self.send(0xA, payload)
        elif opcode == 0xA:
            return None
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            reason = payload[2:].decode(errors="replace")
            self.stats.closes[f"{code} {reason}"] += 1
            self.closed = True
            if not self.acked.done():
                self.acked.set_exception(ConnectionError(f"closed {code} {reason}"))
            if self.transport is not None:
                self.transport.close()
            return None
        else:
            return self.fail("protocol", f"opcode {opcode}")
        if compressed:
            if self.inflate is None:
                return self.fail("protocol", "compressed frame without deflate")
            payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            if self.inflate_reset:
                self.inflate = zlib.decompressobj(-15)
        self._message(payload, now)
        return None

    def _message(self, raw: bytes, now: float) -> None:
        stats = self.stats
        try:
            message = orjson.loads(raw)
            kind = message["type"]
            if kind == "next":
                payload = message["payload"]
                if message["id"] != "1" or "errors" in payload:
                    return self.fail("tick error", raw.decode(errors="replace"))
                tick = payload["data"]["timerTicks"]
                timer = tick["timer"]
                if timer["id"] != self.timer_id or timer["state"] != "RUNNING":
                    return self.fail("wrong tick", raw.decode(errors="replace"))
                at = stats.at_epoch(tick["at"])
                last = self.last_at
                if at <= last or not isinstance(tick["elapsedSeconds"], int):
                    return self.fail("tick out of order", raw.decode(errors="replace"))
                self.last_at = at
                self.received += 1
                if stats.recording:
                    stats.ticks += 1
                    stats.lags.append(now - at)
                    if last and at - last > 1.5:
                        stats.skipped += round(at - last) - 1
            elif kind == "connection_ack":
                subscribe = {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": TICKS_QUERY,
                        "operationName": "Ticks",
                        "variables": {"id": self.timer_id},
                    },
                }
                self.send(0x1, orjson.dumps(subscribe))
                if not self.acked.done():
                    self.acked.set_result(None)
            elif kind == "ping":
                self.send(0x1, b'{"type":"pong"}')
            elif kind == "pong":
                pass
            else:
                self.fail(f"message {kind}", raw.decode(errors="replace"))
        except (KeyError, TypeError, ValueError) as exc:
            self.fail("malformed message", f"{exc!r}: {raw[:200]!r}")


async def open_clients(
    port: int,
    tokens: list[str],
    timer_ids: list[str],
    stats: Stats,
    deflate: bool,
    concurrency: int,
) -> list[TickClient]:
    loop = asyncio.get_running_loop()
    clients: list[TickClient] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one(token: str, timer_id: str) -> None:
        async with semaphore:
            try:
                _, client = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: TickClient(stats, port, token, timer_id, deflate),
                        "127.0.0.1",
                        port,
                    ),
                    timeout=30,
                )
                clients.append(client)
                await asyncio.wait_for(client.acked, timeout=30)
            except (OSError, ConnectionError, TimeoutError) as exc:
                stats.fail("connect", repr(exc))

    await asyncio.gather(*(one(t, i) for t, i in zip(tokens, timer_ids, strict=True)))
    return clients


# --------------------------------------------------------------------------- one run


@dataclass
class Result:
    target: str
    subscribers: int
    connected: int
    ticking: int
    connect_seconds: float
    window_seconds: float
    ticks: int
    ticks_per_s: float
    delivered_ratio: float
    skipped: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_s: float
    server_cpu_ms_per_tick: float
    server_cpu_util: float
    rss_before_mib: float
    rss_after_mib: float
    kib_per_subscriber: float
    load_cpu_util: float
    machine_idle: float
    other_cpu_util: float
    server_nofile: str
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)
    closes: dict[str, int] = field(default_factory=dict)
    server_log_errors: list[str] = field(default_factory=list)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def run_one(
    target: str,
    count: int,
    tokens: list[str],
    timer_ids: list[str],
    workdir: Path,
    db_url: str,
    args: argparse.Namespace,
    profile: Path | None = None,
) -> Result:
    print(f"  {target} x {count}: starting server", flush=True)
    server = start_server(target, workdir, db_url, f"{count}{'-profile' if profile else ''}")
    stats = Stats()
    clients: list[TickClient] = []
    spy: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.sleep(1.0)
        rss0 = rss_bytes(server.pid)
        t0 = time.perf_counter()
        clients = await open_clients(
            server.port,
            tokens[:count],
            timer_ids[:count],
            stats,
            target == "bare-deflate",
            args.connect_concurrency,
        )
        connect_seconds = time.perf_counter() - t0
        connected = sum(
            1 for c in clients if c.acked.done() and not c.acked.exception() and not c.closed
        )
        print(f"    {connected}/{count} connected in {connect_seconds:.1f} s", flush=True)
        # Wait (bounded) until every client has had a tick, then settle.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(c.received or c.closed for c in clients):
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(args.settle)
        ticking = sum(1 for c in clients if c.received and not c.closed)

        # The window starts half way between two ticks.
        now = time.time()
        await asyncio.sleep(math.floor(now) + 1.5 - now)
        if profile is not None:
            spy = start_py_spy(server.pid, args.window, profile, rate=200)
        idle0, total0 = machine_idle()
        cpu0, load0, wall0 = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
        stats.recording = True
        await asyncio.sleep(args.window)
        stats.recording = False
        cpu1, load1, wall1 = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
        idle1, total1 = machine_idle()
        rss1 = rss_bytes(server.pid)
        nofile = nofile_limit(server.pid)
        if spy is not None:
            spy.wait(timeout=120)
    finally:
        for client in clients:
            client.close()
        await asyncio.sleep(1.0)
        stop_server(server)
    log = server.log_text()
    log_errors = [
        line
        for line in log.splitlines()
        if "Traceback" in line or "ERROR" in line or "Error" in line
    ][:5]

    seconds = wall1 - wall0
    lags = sorted(stats.lags)
    cpu = cpu1 - cpu0
    load = load1 - load0
    idle_share = (idle1 - idle0) / max(1, total1 - total0)
    result = Result(
        target=target,
        subscribers=count,
        connected=connected,
        ticking=ticking,
        connect_seconds=round(connect_seconds, 2),
        window_seconds=round(seconds, 3),
        ticks=stats.ticks,
        ticks_per_s=round(stats.ticks / seconds, 1),
        delivered_ratio=round(stats.ticks / seconds / count, 4),
        skipped=stats.skipped,
        p50_ms=round(_quantile(lags, 0.50) * 1000, 2),
        p99_ms=round(_quantile(lags, 0.99) * 1000, 2),
        max_ms=round((lags[-1] if lags else float("nan")) * 1000, 2),
        server_cpu_s=round(cpu, 3),
        server_cpu_ms_per_tick=round(cpu / stats.ticks * 1000, 4) if stats.ticks else float("nan"),
        server_cpu_util=round(cpu / seconds, 3),
        rss_before_mib=round(rss0 / 2**20, 1),
        rss_after_mib=round(rss1 / 2**20, 1),
        kib_per_subscriber=round((rss1 - rss0) / count / 1024, 1),
        load_cpu_util=round(load / seconds, 3),
        machine_idle=round(idle_share, 3),
        # Cores busy with anything but this server and this load process (other jobs).
        other_cpu_util=round(
            max(0.0, (1 - idle_share) * (os.cpu_count() or 1) - cpu / seconds - load / seconds), 3
        ),
        server_nofile=nofile,
        errors=dict(stats.errors),
        error_examples=stats.examples,
        closes=dict(stats.closes),
        server_log_errors=log_errors,
    )
    print(
        f"    {result.ticks_per_s:.0f} ticks/s ({result.delivered_ratio:.1%}), "
        f"lag p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms, "
        f"{result.server_cpu_ms_per_tick:.4f} ms CPU/tick ({result.server_cpu_util:.0%} of a core), "
        f"{result.kib_per_subscriber:.1f} KiB/sub, load {result.load_cpu_util:.0%}, "
        f"idle {result.machine_idle:.0%}, other jobs {result.other_cpu_util:.2f} cores, errors {result.errors or 'none'}",
        flush=True,
    )
    return result


# --------------------------------------------------------------------------- profiling


def _short(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file-tail.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("uvicorn websockets-sansio protocol", ("uvicorn/protocols/websockets",)),
    ("websockets (sans-I/O frames)", ("websockets/",)),
    ("uvicorn/starlette ASGI glue", ("uvicorn/", "starlette/")),
    ("timergate websocket endpoint", ("timergate/graphql/websocket.py",)),
    ("timergate tick renderer", ("timergate/graphql/tick_render.py",)),
    ("timergate scheduler/feeds/subscriptions", ("timergate/live/",)),
    ("timergate domain", ("timergate/domain/",)),
    ("other timergate", ("timergate/",)),
    ("asyncio/uvloop event loop", ("asyncio/", "uvloop/")),
    ("stdlib (datetime, enum, json, ...)", ("lib/python3.11/",)),
]


def summarize_profile(raw: Path, top: int = 20) -> str:
    """Self time by function and by layer, inclusive time by function."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        samples = int(n)
        total += samples
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        leaf = frames[-1]
        self_time[_short(leaf)] += samples
        for f in {_short(f) for f in frames}:
            inclusive[f] += samples
        path = leaf.rpartition(" (")[2]
        for layer, markers in _LAYERS:
            if any(m in path for m in markers):
                layers[layer] += samples
                break
        else:
            layers["other"] += samples
    out = [f"{total} samples (200 Hz, --nonblocking, all threads, idle excluded)", ""]
    out.append("Self time by layer (innermost frame):")
    out += [f"  {n / total:6.1%}  {k}" for k, n in layers.most_common()]
    out += ["", f"Self time, top {top} functions:"]
    out += [f"  {n / total:6.1%}  {k}" for k, n in self_time.most_common(top)]
    out += ["", f"Inclusive time, top {top} functions:"]
    out += [f"  {n / total:6.1%}  {k}" for k, n in inclusive.most_common(top)]
    return "\n".join(out)


# --------------------------------------------------------------------------- report


def table(results: list[Result]) -> str:
    rows = [
        "| Target | Subscribers | Ticks/s delivered | Skipped | Lag p50 | Lag p99 | Lag max "
        "| Server CPU / tick | Server CPU | RSS / subscriber | Load CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r.target} | {r.subscribers:,} | {r.ticks_per_s:,.0f} ({r.delivered_ratio:.1%}) "
            f"| {r.skipped:,} | {r.p50_ms:,.1f} ms | {r.p99_ms:,.1f} ms | {r.max_ms:,.1f} ms "
            f"| {r.server_cpu_ms_per_tick:.3f} ms | {r.server_cpu_util:.0%} "
            f"| {r.kib_per_subscriber:.1f} KiB | {r.load_cpu_util:.0%} |"
        )
    return "\n".join(rows)


def verdicts(results: list[Result]) -> list[str]:
    out = []
    bare = {r.subscribers: r for r in results if r.target == "bare"}
    for r in results:
        if r.target != "timergate":
            continue
        checks = [
            (
                "all served every second",
                r.delivered_ratio >= 0.99 and r.skipped == 0 and r.ticking == r.subscribers,
                f"{r.ticks_per_s:,.0f}/s of {r.subscribers:,}, {r.skipped} skipped",
            ),
        ]
        if r.subscribers in bare:
            b = bare[r.subscribers]
            checks.append(
                (
                    "p99 lag <= 2x bare",
                    r.p99_ms <= TARGET_P99_FACTOR * b.p99_ms,
                    f"{r.p99_ms:.1f} ms vs bare {b.p99_ms:.1f} ms ({r.p99_ms / b.p99_ms:.1f}x)",
                )
            )
        checks += [
            (
                "< 0.1 ms CPU/tick",
                r.server_cpu_ms_per_tick < TARGET_CPU_MS_PER_TICK,
                f"{r.server_cpu_ms_per_tick:.3f} ms",
            ),
            (
                "< 30 KB/subscriber",
                r.kib_per_subscriber * 1024 < TARGET_BYTES_PER_SUBSCRIBER,
                f"{r.kib_per_subscriber:.1f} KiB",
            ),
        ]
        for name, ok, detail in checks:
            out.append(
                f"timergate x {r.subscribers:,}: {name}: {'met' if ok else 'MISSED'} ({detail})"
            )
    return out


async def main_async(args: argparse.Namespace) -> int:
    counts = sorted({int(c) for c in args.counts.split(",")})
    targets = [t for t in TARGETS if t in args.targets.split(",")]
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {sorted(unknown)}")
    nofile = raise_nofile()
    need = max(counts) + 100
    if nofile < need:
        raise SystemExit(f"open-files limit {nofile} < {need}; raise the hard limit")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    print(
        f"fan-out: counts {counts}, targets {targets}, window {args.window} s, "
        f"settle {args.settle} s, {os.cpu_count()} cores, open files {nofile}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="timergate-fanout-") as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'fanout.db'}"
        users = [f"fanout-{i:05d}" for i in range(max(counts))]
        t = time.perf_counter()
        tokens = create_tokens(db_url, users)
        print(f"setup: {len(tokens)} tokens in {time.perf_counter() - t:.1f} s", flush=True)
        # Always: the bare servers send the same timer ids, so their messages match in size.
        t = time.perf_counter()
        setup = start_server("timergate", workdir, db_url, "setup")
        try:
            timer_ids = await start_timers(setup.port, tokens)
        finally:
            stop_server(setup)
        print(
            f"setup: {len(timer_ids)} timers started in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        results: list[Result] = []
        for count in counts:
            for target in targets:
                results.append(
                    await run_one(target, count, tokens, timer_ids, workdir, db_url, args)
                )
        profile_text = ""
        if args.profile:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            raw = RESULTS_DIR / f"fanout-profile-{stamp}.raw.txt"
            print(f"profile: timergate x {max(counts)} with py-spy", flush=True)
            profiled = await run_one(
                "timergate", max(counts), tokens, timer_ids, workdir, db_url, args, raw
            )
            profile_text = (
                f"timergate x {max(counts)} under py-spy: {profiled.ticks_per_s:,.0f} ticks/s, "
                f"{profiled.server_cpu_ms_per_tick:.3f} ms CPU/tick, "
                f"{profiled.server_cpu_util:.0%} of a core\n\n" + summarize_profile(raw)
            )
            (RESULTS_DIR / f"fanout-profile-{stamp}.txt").write_text(profile_text + "\n")

    print()
    print(table(results))
    print()
    for line in verdicts(results):
        print(line)
    problems = [r for r in results if r.errors or r.connected < r.subscribers]
    for r in problems:
        print(f"{r.target} x {r.subscribers}: errors {r.errors} {r.error_examples}")
    for r in results:
        if r.closes or r.server_log_errors:
            print(f"{r.target} x {r.subscribers}: closes {r.closes}; log {r.server_log_errors}")
    if profile_text:
        print()
        print(profile_text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"fanout-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "counts": counts,
                "window_seconds": args.window,
                "settle_seconds": args.settle,
                "cores": os.cpu_count(),
                "python": sys.version.split()[0],
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1000,5000,10000", help="subscriber counts")
    parser.add_argument("--targets", default=",".join(TARGETS), help=",".join(TARGETS))
    parser.add_argument("--window", type=float, default=15.0, help="measured seconds")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after all tick")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="extra py-spy run of timergate")
    args = parser.parse_args()
    import uvloop

    return uvloop.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
