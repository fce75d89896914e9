"""Event latency across two processes through each networked broker (Redis, PostgreSQL).

A subscriber process (this script with ``--role subscriber``) subscribes to one user channel
and records, for each event, the time from the event's ``at`` (set by the publisher just
before ``publish``) to its listener being called: encoding, the server, decoding and dispatch
included. This process publishes ``--count`` events at ``--rate`` per second, one at a time as
the gateway does, and reports p50 / p90 / p99 / max per broker and event size. Both processes
share this machine's clock.

Sizes: ``small`` is a STARTED event with a short description (about 0.8 KB of JSON);
``large`` carries a timer and an entry with 2,000-character descriptions in four-byte
characters (about 35 KB: several PostgreSQL NOTIFY chunks).

Run from the repository root, with Redis and PostgreSQL on their default ports::

    .venv/bin/python bench/broker_latency.py
    .venv/bin/python bench/broker_latency.py --count 2000 --rate 500 --brokers redis

Broker URLs: ``--redis-url``, ``--postgres-url`` (defaults: this machine's servers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from timergate.broker import open_broker
from timergate.domain import TimeEntry, Timer, TimerContext, TimerDetails, TimerState
from timergate.domain.events import TimerEvent, TimerEventType, user_channel

CHANNEL = user_channel(1)


def event(size: str) -> TimerEvent:
    now = datetime.now(UTC)
    description = "Write the quarterly report" if size == "small" else "🕰" * 2000
    details = TimerDetails(description, TimerContext("task", "T-42", "Q3 report"), ("writing",))
    timer = Timer("42", 1, "local", TimerState.RUNNING, details, timedelta(0), now, now, now, 1)
    if size == "small":
        return TimerEvent(TimerEventType.STARTED, 1, now, timer)
    entry = TimeEntry("7", 1, "local", "42", details, now, now, 0, date.today(), now, now, 1)
    return TimerEvent(TimerEventType.STOPPED, 1, now, timer, entry)


async def subscriber(url: str, count: int) -> None:
    broker = open_broker(url)
    await broker.connect()
    latencies: list[float] = []
    done = asyncio.Event()

    def listen(received: TimerEvent) -> None:
        latencies.append(time.time() - received.at.timestamp())
        if len(latencies) >= count:
            done.set()

    await broker.subscribe(CHANNEL, listen)
    print("ready", flush=True)
    await done.wait()
    await broker.disconnect()
    print(json.dumps(latencies), flush=True)


async def publish(url: str, count: int, rate: float, size: str) -> list[float]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        *("--role", "subscriber", "--url", url, "--count", str(count)),
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert (await child.stdout.readline()).strip() == b"ready"
    broker = open_broker(url)
    await broker.connect()
    try:
        start = time.monotonic()
        for n in range(count):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await broker.publish(CHANNEL, event(size))
    finally:
        await broker.disconnect()
    async with asyncio.timeout(60):
        out, _ = await child.communicate()
    latencies: list[float] = json.loads(out)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> list[dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", default="publisher", choices=["publisher", "subscriber"])
    parser.add_argument("--url")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--brokers", default="redis,postgresql")
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.role == "subscriber":
        await subscriber(args.url, args.count)
        return []
    urls = {"redis": args.redis_url, "postgresql": args.postgres_url}
    print(
        f"{args.count} events at {args.rate:g}/s, one publisher process, one subscriber process\n"
    )
    print("| broker | event | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    results: list[dict[str, object]] = []
    for name in args.brokers.split(","):
        for size in args.sizes.split(","):
            url = f"{urls[name]}{'&' if '?' in urls[name] else '?'}namespace=bench{uuid.uuid4().hex[:8]}"
            ms = [s * 1000 for s in await publish(url, args.count, args.rate, size)]
            row = [percentile(ms, q) for q in (0.5, 0.9, 0.99)] + [max(ms)]
            results.append({"broker": name, "size": size, "ms": row, "mean": statistics.fmean(ms)})
            print(f"| {name} | {size} | " + " | ".join(f"{v:.2f}" for v in row) + " |", flush=True)
    return results


def save(results: list[dict[str, object]]) -> None:
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"broker_latency-{int(time.time())}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    measured = asyncio.run(main())
    if measured:
        save(measured)
