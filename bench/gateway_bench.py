"""Core gateway benchmark: startTimer + stopTimer round trips through three servers.

One run, three targets, each a uvicorn server in its own process with a fresh SQLite file:

``graphql``
    The real server, ``python -m timergate serve`` (``/graphql`` with the JSON fast path).
``view``
    ``/graphql`` through Strawberry's own view only (``bench/view_app.py``): what the fast
    path buys.
``bare``
    The same store writes behind two plain Starlette JSON endpoints (``bench/bare_app.py``):
    the baseline without GraphQL.

This process is the load generator: ``--clients`` concurrent clients (16), each with its own
user, token and keep-alive HTTP/1.1 connection, each looping start -> stop. The client writes
prebuilt requests on raw asyncio streams and reads the status line, headers and a
Content-Length body, so it stays cheap next to the server on a small machine. Every response
is checked (HTTP 200, no GraphQL ``errors``, the expected timer state); any failure makes the
run exit with status 1.

Run from the repository root::

    .venv/bin/python bench/gateway_bench.py

``--profile graphql,view`` also records those servers with py-spy (``pip install py-spy``;
not a project dependency) during their measured window and writes the raw stacks and a
summary by layer and function to ``bench/results/``. Profiled figures run a little lower.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _processes import (
    BENCH_DIR,
    RESULTS_DIR,
    ROOT,
    Server,
    clean_env,
    cpu_seconds,
    create_tokens,
    free_port,
    machine_busy_seconds,
    spawn_server,
    start_py_spy,
    stop_server,
)

try:
    import orjson

    _loads = orjson.loads
    _dumps = orjson.dumps
except ImportError:  # pragma: no cover - orjson is a timergate dependency
    _loads = json.loads

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


TARGETS = ("graphql", "view", "bare")
#: Other processes using more than this share of a core during a window make it noisy.
OTHER_LOAD_WARNING = 0.15

START_QUERY = (
    "mutation Start($input: StartTimerInput!) { startTimer(input: $input) "
    "{ timer { id state version } pausedTimers { id } } }"
)
STOP_QUERY = (
    "mutation Stop($id: ID!) { stopTimer(input: {id: $id}) "
    "{ timer { id state } entry { id durationSeconds } } }"
)
DESCRIPTION = "benchmark"


# --------------------------------------------------------------------------- servers


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def start_server(target: str, workdir: Path, users: list[str]) -> tuple[Server, list[str]]:
    """Create tokens in a fresh database, start ``target`` on it and wait until it answers."""
    db_url = f"sqlite:///{workdir / f'bench-{target}.db'}"
    tokens = create_tokens(db_url, users)
    port = free_port()
    flags = ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    env = clean_env()
    # Each client loops as fast as it can, far past a person's pace: the limiter still counts
    # every request (its cost is in the figures) but never refuses one.
    env["TIMERGATE_RATE_LIMIT_PER_TOKEN"] = "1000000/second"
    if target == "graphql":
        command = [sys.executable, "-m", "timergate", "serve", "--database", db_url, *flags]
    else:
        env["TIMERGATE_DATABASE_URL"] = db_url
        module = {"bare": "bare_app", "view": "view_app"}[target]
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(BENCH_DIR),
            f"{module}:create_app", "--host", "127.0.0.1", "--lifespan", "on", *flags,
        ]  # fmt: skip
    server = spawn_server(target, port, command, workdir / f"server-{target}.log", env=env)
    return server, tokens


# --------------------------------------------------------------------------- client


class BenchFailure(Exception):
    pass


@dataclass
class Phase:
    """Shared by all clients: whether responses now count, and what was counted."""

    recording: bool = False
    stopping: bool = False
    latencies_ns: list[int] = field(default_factory=list)
    round_trips: int = 0
    requests: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def fail(self, kind: str, detail: str) -> None:
        self.failures[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {detail[:300]}")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at < 0:
            raise BenchFailure(f"response without Content-Length: {head[:200]!r}")
        end = lower.index(b"\r\n", at + 2)
        length = int(lower[at + 17 : end])
        if b"\r\nconnection: close" in lower:
            raise BenchFailure("server closed the keep-alive connection")
        body = await self.reader.readexactly(length) if length else b""
        return status, body


def _prefix(port: int, path: str, token: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        "Content-Length: "
    ).encode()


def _request(prefix: bytes, body: bytes) -> bytes:
    return b"%s%d\r\n\r\n%s" % (prefix, len(body), body)


def _graphql_start(body: bytes) -> str:
    doc = _loads(body)
    if doc.get("errors"):
        raise BenchFailure(f"startTimer errors: {doc['errors']}")
    timer = doc["data"]["startTimer"]["timer"]
    if timer["state"] != "RUNNING" or doc["data"]["startTimer"]["pausedTimers"]:
        raise BenchFailure(f"unexpected startTimer payload: {doc}")
    return str(timer["id"])


def _graphql_stop(body: bytes, timer_id: str) -> None:
    doc = _loads(body)
    if doc.get("errors"):
        raise BenchFailure(f"stopTimer errors: {doc['errors']}")
    payload = doc["data"]["stopTimer"]
    if payload["timer"]["id"] != timer_id or payload["timer"]["state"] != "STOPPED":
        raise BenchFailure(f"unexpected stopTimer payload: {doc}")
    if payload["entry"] is None or "durationSeconds" not in payload["entry"]:
        raise BenchFailure(f"stopTimer recorded no entry: {doc}")


def _bare_start(body: bytes) -> str:
    doc = _loads(body)
    if doc["timer"]["state"] != "RUNNING" or doc["pausedTimers"]:
        raise BenchFailure(f"unexpected /start payload: {doc}")
    return str(doc["timer"]["id"])


def _bare_stop(body: bytes, timer_id: str) -> None:
    doc = _loads(body)
    if doc["timer"]["id"] != timer_id or doc["timer"]["state"] != "STOPPED":
        raise BenchFailure(f"unexpected /stop payload: {doc}")
    if doc["entry"] is None or "durationSeconds" not in doc["entry"]:
        raise BenchFailure(f"/stop recorded no entry: {doc}")


async def client(target: str, port: int, token: str, phase: Phase) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Connection(reader, writer)
    if target == "bare":
        start_prefix, stop_prefix = _prefix(port, "/start", token), _prefix(port, "/stop", token)
        start_request = _request(start_prefix, _dumps({"description": DESCRIPTION}))
        check_start, check_stop = _bare_start, _bare_stop

        def stop_body(timer_id: str) -> bytes:
            return _dumps({"id": timer_id})

    else:
        start_prefix = stop_prefix = _prefix(port, "/graphql", token)
        start_request = _request(
            start_prefix,
            _dumps(
                {
                    "query": START_QUERY,
                    "operationName": "Start",
                    "variables": {"input": {"description": DESCRIPTION}},
                }
            ),
        )
        check_start, check_stop = _graphql_start, _graphql_stop

        def stop_body(timer_id: str) -> bytes:
            return _dumps(
                {"query": STOP_QUERY, "operationName": "Stop", "variables": {"id": timer_id}}
            )

    clock = time.perf_counter_ns
    latencies = phase.latencies_ns
    step = "start"
    try:
        while not phase.stopping:
            step = "start"
            t0 = clock()
            status, body = await conn.exchange(start_request)
            t1 = clock()
            if status != 200:
                raise BenchFailure(f"HTTP {status} on start: {body[:300]!r}")
            timer_id = check_start(body)
            step = "stop"
            t2 = clock()
            status, body = await conn.exchange(_request(stop_prefix, stop_body(timer_id)))
            t3 = clock()
            if status != 200:
                raise BenchFailure(f"HTTP {status} on stop: {body[:300]!r}")
            check_stop(body, timer_id)
            if phase.recording:
                latencies.append(t1 - t0)
                latencies.append(t3 - t2)
                phase.requests += 2
                phase.round_trips += 1
    except BenchFailure as exc:
        phase.fail(f"{step}: bad response", str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        phase.fail(f"{step}: malformed response", repr(exc))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        phase.fail(f"{step}: connection error", repr(exc))
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# --------------------------------------------------------------------------- measurement


@dataclass
class Window:
    """One measured window of one target."""

    target: str
    round: int
    seconds: float
    round_trips: int
    requests: int
    server_cpu_s: float
    client_cpu_s: float
    #: CPU seconds used by everything else on the machine during the window.
    other_cpu_s: float
    latencies_ns: list[int]
    failures: Counter[str]
    examples: list[str]

    @property
    def round_trips_per_s(self) -> float:
        return self.round_trips / self.seconds


@dataclass
class Summary:
    """A target over all its rounds: medians of the rounds' rates, pooled latencies."""

    target: str
    rounds: int
    round_trips: int
    requests: int
    round_trips_per_s: float
    round_trips_per_s_min: float
    round_trips_per_s_max: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_op: float
    server_cpu_util: float
    client_cpu_util: float
    other_cpu_util: float
    failures: dict[str, int]
    failure_examples: list[str]
    server_errors: list[str] = field(default_factory=list)


def _percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index] / 1e6


async def drive(
    server: Server, tokens: list[str], warmup: float, duration: float, round_no: int,
    profile: Path | None = None,
) -> Window:  # fmt: skip
    """Warm up, then count ``duration`` seconds of start/stop round trips against ``server``."""
    target = server.target
    phase = Phase()
    tasks = [asyncio.create_task(client(target, server.port, t, phase)) for t in tokens]
    await asyncio.sleep(warmup)
    # --gil keeps the samples of the thread holding the GIL: the Python work the single
    # server process does one piece at a time. Waiting in epoll, in aiosqlite's queue and
    # inside SQLite's C code (which releases the GIL) is left out.
    spy = (
        start_py_spy(server.pid, duration, profile, rate=250, gil=True)
        if profile is not None
        else None
    )
    busy0 = machine_busy_seconds()
    cpu0, wall0, client0 = cpu_seconds(server.pid), time.perf_counter(), time.process_time()
    phase.recording = True
    await asyncio.sleep(duration)
    phase.recording = False
    cpu1, wall1, client1 = cpu_seconds(server.pid), time.perf_counter(), time.process_time()
    busy1 = machine_busy_seconds()
    phase.stopping = True
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    if spy is not None:
        spy.wait(timeout=60)
    return Window(
        target=target,
        round=round_no,
        seconds=wall1 - wall0,
        round_trips=phase.round_trips,
        requests=phase.requests,
        server_cpu_s=cpu1 - cpu0,
        client_cpu_s=client1 - client0,
        other_cpu_s=max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - (client1 - client0)),
        latencies_ns=phase.latencies_ns,
        failures=phase.failures,
        examples=phase.examples,
    )


def summarize(target: str, windows: list[Window]) -> Summary:
    rates = sorted(w.round_trips_per_s for w in windows)
    latencies = sorted(ns for w in windows for ns in w.latencies_ns)
    seconds = sum(w.seconds for w in windows)
    ops = sum(w.round_trips for w in windows)
    cpu = sum(w.server_cpu_s for w in windows)
    failures: Counter[str] = Counter()
    for w in windows:
        failures.update(w.failures)
    median = statistics.median(rates)
    return Summary(
        target=target,
        rounds=len(windows),
        round_trips=ops,
        requests=sum(w.requests for w in windows),
        round_trips_per_s=median,
        round_trips_per_s_min=rates[0],
        round_trips_per_s_max=rates[-1],
        requests_per_s=statistics.median(w.requests / w.seconds for w in windows),
        p50_ms=_percentile(latencies, 0.50),
        p90_ms=_percentile(latencies, 0.90),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] / 1e6 if latencies else float("nan"),
        server_cpu_ms_per_op=1000 * cpu / ops if ops else float("nan"),
        server_cpu_util=cpu / seconds,
        client_cpu_util=sum(w.client_cpu_s for w in windows) / seconds,
        other_cpu_util=sum(w.other_cpu_s for w in windows) / seconds,
        failures=dict(failures),
        failure_examples=[e for w in windows for e in w.examples][:5],
    )


#: (layer, predicate on a frame's file) for the self time of a sample's innermost frame.
_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("event loop (uvloop: socket reads/writes, callbacks)", ("asyncio/", "uvloop/")),
    ("uvicorn HTTP protocol (httptools)", ("uvicorn/",)),
    ("Starlette routing and middleware", ("starlette/",)),
    ("timergate fast path (graphql/http.py)", ("timergate/graphql/http.py",)),
    ("timergate bench endpoints (bare_app.py)", ("bare_app.py",)),
    ("graphql-core (execute, coerce variables)", ("graphql/",)),
    ("Strawberry (resolver wrapping, arguments, view)", ("strawberry/", "cross_web/")),
    ("timergate resolvers and GraphQL types", ("timergate/graphql/",)),
    ("timergate provider and domain", ("timergate/providers/", "timergate/domain/")),
    ("timergate store + aiosqlite hand-off", ("timergate/store/", "aiosqlite/", "queue.py",
                                              "threading.py", "sqlite3/")),
    ("timergate auth", ("timergate/auth.py",)),
    ("dataclasses/contextlib/other stdlib", ("contextlib.py", "dataclasses.py",
                                             "enum.py", "typing.py", "inspect.py", "base64.py",
                                             "json/", "datetime.py")),
]  # fmt: skip


def _frame_file(frame: str) -> str:
    inner = frame.rpartition(" (")[2]
    return inner.rsplit(":", 1)[0]


def _frame_name(frame: str) -> str:
    name, _, rest = frame.rpartition(" (")
    return f"{name} ({rest.rsplit(':', 1)[0]})" if name else frame


def _layer(path: str) -> str:
    for layer, needles in _LAYERS:
        if any(n in path for n in needles):
            return layer
    return f"other: {path}"


def summarize_profile(raw: Path, top: int = 20) -> str:
    """Shares of the GIL-holding samples: by layer (self time), by function, inclusive."""
    total = 0
    layers: Counter[str] = Counter()
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if " (" in f]
        if not frames:
            continue
        # Generated code (dataclass methods, lambdas built by exec) counts for its caller.
        owner = next((f for f in reversed(frames) if _frame_file(f) != "<string>"), frames[-1])
        layers[_layer(_frame_file(owner))] += count
        self_counts[_frame_name(frames[-1])] += count
        for name in {_frame_name(f) for f in frames}:
            incl_counts[name] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples of the thread holding the GIL", "self time by layer:"]
    lines += [f"  {100 * c / total:5.1f}%  {n}" for n, c in layers.most_common()]
    lines.append("self time by function:")
    lines += [f"  {100 * c / total:5.1f}%  {n}" for n, c in self_counts.most_common(top)]
    lines.append("inclusive time:")
    lines += [f"  {100 * c / total:5.1f}%  {n}" for n, c in incl_counts.most_common(top * 3)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def table(summaries: list[Summary]) -> str:
    bare = next((s for s in summaries if s.target == "bare"), None)
    rows = [
        "| target | round trips/s (min-max) | requests/s | p50 ms | p99 ms "
        "| server CPU ms/op | server CPU | vs bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        ratio = f"{s.round_trips_per_s / bare.round_trips_per_s:.2f}" if bare else "-"
        rows.append(
            f"| {s.target} | {s.round_trips_per_s:,.0f} ({s.round_trips_per_s_min:,.0f}-"
            f"{s.round_trips_per_s_max:,.0f}) | {s.requests_per_s:,.0f} "
            f"| {s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.server_cpu_ms_per_op:.2f} "
            f"| {100 * s.server_cpu_util:.0f}% | {ratio} |"
        )
    return "\n".join(rows)


def _round_ratios(windows: list[Window], target: str) -> list[float]:
    """graphql/bare (or ``target``/bare) throughput within each round."""
    by_round: dict[int, dict[str, Window]] = {}
    for w in windows:
        by_round.setdefault(w.round, {})[w.target] = w
    return [
        r[target].round_trips_per_s / r["bare"].round_trips_per_s
        for r in by_round.values()
        if target in r and "bare" in r and r["bare"].round_trips
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="measured windows per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each window")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per window")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    parser.add_argument("--json", type=Path, help="write results here (default bench/results/)")
    parser.add_argument(
        "--profile",
        default="",
        metavar="TARGETS",
        help="after the rounds, one more window per listed target (e.g. graphql) recorded "
        "with py-spy; not counted in the figures",
    )
    args = parser.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    profiled = [t.strip() for t in args.profile.split(",") if t.strip()]
    if unknown := set(targets + profiled) - set(TARGETS):
        parser.error(f"unknown targets: {sorted(unknown)}")
    if not set(profiled) <= set(targets):
        parser.error("--profile targets must be among --targets")
    users = [f"u{i}" for i in range(1, args.clients + 1)]
    stamp = time.strftime("%Y%m%d-%H%M%S")

    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        loop_factory = None

    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; {args.clients} clients; "
        f"{args.rounds} rounds of {args.warmup:g} s warm-up + {args.duration:g} s per target",
        flush=True,
    )
    windows: list[Window] = []
    profiles: list[Path] = []
    servers: dict[str, tuple[Server, list[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="timergate-bench-") as tmp:
        try:
            # All servers up at once (idle ones cost nothing); one is loaded at a time.
            for target in targets:
                servers[target] = start_server(target, Path(tmp), users)
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                for round_no in range(1, args.rounds + 1):
                    # Rotate the order so no target always runs first or last.
                    shift = (round_no - 1) % len(targets)
                    for target in targets[shift:] + targets[:shift]:
                        server, tokens = servers[target]
                        w = runner.run(drive(server, tokens, args.warmup, args.duration, round_no))
                        windows.append(w)
                        print(
                            f"  round {round_no}  {target:8} {w.round_trips_per_s:7,.0f} "
                            f"round trips/s  server CPU {100 * w.server_cpu_s / w.seconds:3.0f}%"
                            f"  client CPU {100 * w.client_cpu_s / w.seconds:3.0f}%"
                            f"  other CPU {100 * w.other_cpu_s / w.seconds:3.0f}%"
                            + (f"  FAILURES {dict(w.failures)}" if w.failures else ""),
                            flush=True,
                        )
                for target in profiled:
                    server, tokens = servers[target]
                    raw = RESULTS_DIR / f"profile-{stamp}-{target}.txt"
                    profiles.append(raw)
                    w = runner.run(
                        drive(server, tokens, args.warmup, args.duration, 0, profile=raw)
                    )
                    print(f"  profiled {target:8} {w.round_trips_per_s:7,.0f} round trips/s")
                    if w.failures:
                        windows.append(w)  # failures count even here
        finally:
            for server, _ in servers.values():
                stop_server(server, timeout=15)
        logs = {t: s.log_text() for t, (s, _) in servers.items()}

    summaries = []
    for target in targets:
        measured = [w for w in windows if w.target == target and w.round > 0]
        summary = summarize(target, measured)
        summary.failures.update(
            {k: v for w in windows if w.target == target and w.round == 0
             for k, v in w.failures.items()}
        )  # fmt: skip
        summary.server_errors = [
            line for line in logs[target].splitlines() if "Traceback" in line or "ERROR" in line
        ][:10]
        summaries.append(summary)

    print()
    print(table(summaries))
    ratios: dict[str, Any] = {}
    by_target = {s.target: s for s in summaries}
    if "bare" in by_target:
        for target in ("graphql", "view"):
            if target in by_target:
                per_round = _round_ratios(windows, target)
                ratio = by_target[target].round_trips_per_s / by_target["bare"].round_trips_per_s
                ratios[target] = {"median_ratio": ratio, "per_round": per_round}
                print(
                    f"\n{target}/bare throughput: {ratio:.2f} (rounds: "
                    + ", ".join(f"{r:.2f}" for r in per_round)
                    + ")"
                    + ("  target >= 0.50" if target == "graphql" else "")
                )

    noisy = [w for w in windows if w.round > 0 and w.other_cpu_s / w.seconds > OTHER_LOAD_WARNING]
    if noisy:
        print(
            f"\nwarning: {len(noisy)} of {len(windows)} windows ran beside other load over "
            f"{100 * OTHER_LOAD_WARNING:.0f}% of a core; rerun on a quiet machine for clean figures",
        )

    out = args.json or RESULTS_DIR / f"gateway-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "clients": args.clients,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "src_changes": _git("status", "--porcelain", "--", "src").splitlines(),
    }
    rounds = [
        {k: v for k, v in asdict(w).items() if k not in ("latencies_ns", "examples")}
        | {"round_trips_per_s": w.round_trips_per_s}
        for w in windows
    ]
    out.write_text(
        json.dumps(
            {"meta": meta, "summary": [asdict(s) for s in summaries], "ratios": ratios,
             "windows": rounds},
            indent=2,
        )
    )  # fmt: skip
    print(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    for raw in profiles:
        if raw.exists():
            summary_path = raw.with_suffix(".summary.txt")
            summary_path.write_text(summarize_profile(raw) + "\n")
            print(f"profile: {summary_path.relative_to(ROOT)}")

    failed = False
    for s in summaries:
        if s.failures or s.server_errors:
            failed = True
            print(f"\nFAILED: {s.target}: {s.failures}", file=sys.stderr)
            for line in s.failure_examples + s.server_errors:
                print(f"  {line}", file=sys.stderr)
        if s.round_trips == 0:
            failed = True
            print(f"\nFAILED: {s.target}: no round trip completed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
