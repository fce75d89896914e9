"""Hardening benchmark: how fast a real server refuses hostile documents and drops slow clients.

One ``python -m timergate serve`` (default limits unless flags say otherwise, rate limits off)
on a fresh SQLite file, and this process as the client. It measures:

* **documents**, each sent ``--requests`` times over ``POST /graphql`` on one keep-alive
  connection, as round trips seen by the client and as server CPU (utime + stime from /proc)
  per request. ``fresh`` sends a new text every time (a different trailing comment, so the
  document cache never helps); ``cached`` repeats one text:

  - ``bomb-31``: ``query { ...F0 }`` with ``F0 … F30`` each spreading the next twice
    (2^30 selections once expanded), refused by the expansion limit;
  - ``merge-400``: ``{ viewer { name } ... }`` (400 times), refused when the field-merging rule spends
    its comparison budget: the dearest document the limits let reach graphql-core's rules;
  - ``introspection``: graphql-core's standard introspection query, answered (for scale);
  - ``viewer``: ``{ viewer { name } }`` with a token, answered (for scale);

* **others served meanwhile**: ``--senders`` clients post fresh bombs back to back while one
  client posts ``{ viewer { name } }`` in a loop for ``--duration`` seconds; its latency
  percentiles, next to the same loop on an idle server;
* **slow clients**: the time from a client's last byte until the server closes the connection,
  for a head left unfinished (``--header-timeout``), a body left unfinished
  (``--body-timeout``) and a connection that sends nothing; ``--slow`` of each at once;
* **an endless header**: ``--header-mb`` MB of one header line that never ends; the server's
  resident memory before and after, and what it answered.

Run from the repository root (about a minute with the default 10 s and 30 s deadlines)::

    .venv/bin/python bench/hardening.py
    .venv/bin/python bench/hardening.py --header-timeout 2 --body-timeout 2   # quicker

Results also go to ``bench/results/hardening-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _processes import (
    RESULTS_DIR,
    clean_env,
    cpu_seconds,
    create_tokens,
    free_port,
    rss_bytes,
    spawn_server,
    stop_server,
)

BOMB = (
    "query { ...F0 } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    + " fragment F30 on Query { __typename }"
)
MERGE = "{" + " viewer { name }" * 400 + " }"
VIEWER = "{ viewer { name } }"


class Client:
    """One keep-alive HTTP/1.1 connection writing each request in one piece.

    (A client that writes the head and the body separately can wait on delayed ACKs and
    measure tens of milliseconds that are not the server's.)
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Client:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, query: str, token: str | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query}).encode()
        head = "POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        if token is not None:
            head += f"Authorization: Bearer {token}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        lower = answer.lower()
        at = lower.index(b"\r\ncontent-length:") + 17
        length = int(lower[at : lower.index(b"\r\n", at)])
        result: dict[str, Any] = json.loads(await self.reader.readexactly(length))
        return result

    def close(self) -> None:
        self.writer.close()


def introspection() -> str:
    from graphql import get_introspection_query

    return get_introspection_query()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# --------------------------------------------------------------------------- documents


async def documents(port: int, token: str, pid: int, requests: int) -> list[dict[str, Any]]:
    rows = []
    cases = [
        ("bomb-31", BOMB, False, "GRAPHQL_VALIDATION_FAILED"),
        ("merge-400", MERGE, True, "GRAPHQL_VALIDATION_FAILED"),
        ("introspection", introspection(), False, None),
        ("viewer", VIEWER, True, None),
    ]
    client = await Client.open(port)
    for name, text, with_token, code in cases:
        for mode in ("fresh", "cached"):
            times: list[float] = []
            cpu_before = cpu_seconds(pid)
            for i in range(requests):
                query = f"{text} # {i}" if mode == "fresh" else text
                start = time.perf_counter()
                body = await client.post(query, token if with_token else None)
                times.append(time.perf_counter() - start)
                got = body["errors"][0]["extensions"]["code"] if "errors" in body else None
                if got != code:
                    raise SystemExit(f"{name}: expected {code}, got {body}"[:500])
            cpu = (cpu_seconds(pid) - cpu_before) / requests
            rows.append(
                {
                    "document": name,
                    "mode": mode,
                    "bytes": len(text),
                    "p50_ms": statistics.median(times) * 1000,
                    "p99_ms": percentile(times, 0.99) * 1000,
                    "max_ms": max(times) * 1000,
                    "server_cpu_ms": cpu * 1000,
                }
            )
    client.close()
    return rows


# --------------------------------------------------------------------------- others served


def latency(times: list[float]) -> dict[str, Any]:
    return {
        "n": len(times),
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": percentile(times, 0.99) * 1000,
        "max_ms": max(times) * 1000,
    }


async def viewer_latencies(port: int, token: str, duration: float) -> list[float]:
    times: list[float] = []
    client = await Client.open(port)
    end = time.monotonic() + duration
    while time.monotonic() < end:
        start = time.perf_counter()
        body = await client.post(VIEWER, token)
        times.append(time.perf_counter() - start)
        if body.get("data") is None:
            raise SystemExit(f"viewer failed: {body}")
    client.close()
    return times


async def bombard(port: int, duration: float, sender: int) -> int:
    sent = 0
    client = await Client.open(port)
    end = time.monotonic() + duration
    while time.monotonic() < end:
        if "errors" not in await client.post(f"{BOMB} # {sender} {sent}"):
            raise SystemExit("a bomb was not refused")
        sent += 1
    client.close()
    return sent


async def others_served(
    port: int, token: str, pid: int, senders: int, duration: float
) -> dict[str, Any]:
    idle = await viewer_latencies(port, token, duration)
    cpu_before = cpu_seconds(pid)
    results = await asyncio.gather(
        viewer_latencies(port, token, duration),
        *[bombard(port, duration, s) for s in range(senders)],
    )
    busy: list[float] = results[0]
    bombs = sum(results[1:])
    return {
        "senders": senders,
        "bombs_refused_per_s": bombs / duration,
        "server_cpu_share": (cpu_seconds(pid) - cpu_before) / duration,
        "idle": latency(idle),
        "under_bombs": latency(busy),
    }


# --------------------------------------------------------------------------- slow clients


async def time_to_drop(port: int, prefix: bytes) -> tuple[float, bytes]:
    """Send ``prefix``, then nothing: seconds until the server closes, and what it said."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(prefix)
    await writer.drain()
    start = time.perf_counter()
    answer = await asyncio.wait_for(reader.read(), timeout=300)
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed, answer.split(b"\r\n", 1)[0]


SLOW = {
    "unfinished head": b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: a",
    "unfinished body": (
        b"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"query":'
    ),
    "nothing sent": b"",
}


async def slow_clients(port: int, count: int) -> list[dict[str, Any]]:
    rows = []
    for name, prefix in SLOW.items():
        results = await asyncio.gather(*[time_to_drop(port, prefix) for _ in range(count)])
        times = [t for t, _ in results]
        rows.append(
            {
                "client": name,
                "connections": count,
                "answer": results[0][1].decode() or "(closed without an answer)",
                "min_s": min(times),
                "max_s": max(times),
            }
        )
    return rows


def endless_header(port: int, pid: int, megabytes: int) -> dict[str, Any]:
    before = rss_bytes(pid)
    sent = 0
    answer = b""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(30)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ")
        try:
            chunk = b"a" * (1 << 20)
            for _ in range(megabytes):
                connection.sendall(chunk)
                sent += len(chunk)
            while data := connection.recv(65536):
                answer += data
        except ConnectionError:
            pass
    elapsed = time.perf_counter() - start
    time.sleep(0.5)
    return {
        "sent_mb": sent / (1 << 20),
        "seconds": elapsed,
        "answer": answer.split(b"\r\n", 1)[0].decode() or "(connection reset)",
        "rss_before_mb": before / (1 << 20),
        "rss_after_mb": rss_bytes(pid) / (1 << 20),
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--header-mb", type=int, default=200)
    parser.add_argument("--header-timeout", type=float, default=None)
    parser.add_argument("--body-timeout", type=float, default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hardening-"))
    database = f"sqlite:///{workdir / 'bench.db'}"
    (token,) = create_tokens(database, ["bench"])
    port = free_port()
    command = [sys.executable, "-m", "timergate", "serve", "--port", str(port)]
    command += ["--database", database, "--no-access-log", "--log-level", "warning"]
    # Measure the limits, not the rate limiter (which would refuse most of this traffic).
    command += ["--rate-limit-per-token", "off", "--rate-limit-per-address", "off"]
    if args.header_timeout is not None:
        command += ["--header-timeout", str(args.header_timeout)]
    if args.body_timeout is not None:
        command += ["--body-timeout", str(args.body_timeout)]
    server = spawn_server("timergate", port, command, workdir / "server.log", env=clean_env())
    try:
        doc_rows = asyncio.run(documents(port, token, server.pid, args.requests))
        served = asyncio.run(others_served(port, token, server.pid, args.senders, args.duration))
        slow_rows = asyncio.run(slow_clients(port, args.slow))
        header = endless_header(port, server.pid, args.header_mb)
    finally:
        stop_server(server)
    errors = [line for line in server.log_text().splitlines() if "ERROR" in line]

    print("| document | texts | bytes | p50 ms | p99 ms | max ms | server CPU ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in doc_rows:
        print(
            f"| {row['document']} | {row['mode']} | {row['bytes']:,} | {row['p50_ms']:.1f} "
            f"| {row['p99_ms']:.1f} | {row['max_ms']:.1f} | {row['server_cpu_ms']:.2f} |"
        )
    print()
    print(
        f"`{{ viewer {{ name }} }}` while {served['senders']} clients post fresh bombs "
        f"({served['bombs_refused_per_s']:.0f} refused/s, server at "
        f"{served['server_cpu_share']:.0%} of a core):"
    )
    print("| server | requests | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for label, key in (("idle", "idle"), ("under bombs", "under_bombs")):
        row = served[key]
        print(
            f"| {label} | {row['n']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {row['max_ms']:.1f} |"
        )
    print()
    print("| slow client | connections | answer | dropped after (s) |")
    print("|---|---:|---|---|")
    for row in slow_rows:
        print(
            f"| {row['client']} | {row['connections']} | {row['answer']} "
            f"| {row['min_s']:.2f} to {row['max_s']:.2f} |"
        )
    print()
    print(
        f"Endless header: {header['sent_mb']:.0f} MB sent in {header['seconds']:.2f} s, answer "
        f"`{header['answer']}`, server RSS {header['rss_before_mb']:.1f} MB before, "
        f"{header['rss_after_mb']:.1f} MB after."
    )
    print(f"Server log errors: {len(errors)}")
    print(f"Load average (1, 5, 15 min) at the end: {os.getloadavg()}")

    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"hardening-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average": os.getloadavg(),
                },
                "args": vars(args),
                "documents": doc_rows,
                "others_served": served,
                "slow_clients": slow_rows,
                "endless_header": header,
                "server_log_errors": errors,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
