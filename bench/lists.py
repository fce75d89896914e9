"""List queries against a long history: does each stay flat from 1k to 1M entries?

For each store (``--stores``, default sqlite,postgresql) and each history size (``--sizes``,
default 1000,1000000), this seeds a fresh store with one user's history of that many timers
and entries among 1,000 other users (``bench/_history.py``), then times each query through
the store API, as the gateway calls it: ``--repeat`` rounds (default 30) after three warm-up
rounds, reporting the median. A round runs the query once against every size's store (all stay
open), so load from elsewhere on the machine falls on every size alike. The table gives each
query at each size and the ratio between the largest and the smallest size; the target is a
ratio under 2.

Run from the repository root, with PostgreSQL at ``--postgres`` (default the trust-auth server
on 127.0.0.1:5432; a database ``timergate_bench_…`` is created there and dropped afterwards)::

    .venv/bin/python bench/lists.py
    .venv/bin/python bench/lists.py --stores sqlite --sizes 1000,100000 --repeat 10

Results also go to ``bench/results/lists-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _history import (
    END,
    OTHER_USERS,
    analyze_postgres,
    history,
    load_postgres,
    load_sqlite,
)
from timergate.domain import (
    After,
    EntryFilter,
    ManualClock,
    TimeEntry,
    Timer,
    TimerDetails,
    TimerFilter,
    TimerState,
    TokenGrant,
    User,
)
from timergate.providers import LocalProvider
from timergate.store import TimerStore, open_store, postgres, sqlite

ROOT = Path(__file__).resolve().parents[1]
FEBRUARY = EntryFilter(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
OPEN = TimerFilter(states=(TimerState.RUNNING, TimerState.PAUSED))

Query = Callable[[], Awaitable[Any]]


@asynccontextmanager
async def fresh_store(kind: str, postgres_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty store of ``kind``, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    import asyncpg

    name = f"timergate_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def prepare(url: str, size: int) -> tuple[TimerStore, User, dict[str, float]]:
    """A connected store holding the history; seconds spent loading and upgrading."""
    module = sqlite if url.startswith("sqlite") else postgres
    with mock.patch.object(module, "MIGRATIONS", module.MIGRATIONS[:1]):
        first_schema = open_store(url)
        await first_schema.connect()
        names = ["subject", *(f"other-{n}" for n in range(OTHER_USERS))]
        users = await first_schema.grant_tokens(
            [TokenGrant(name, f"hash-{name}".encode(), "tg_") for name in names], END
        )
        await first_schema.disconnect()
    started = time.perf_counter()
    timers, entries = history(users[0].id, [u.id for u in users[1:]], size)
    if module is sqlite:
        load_sqlite(urlsplit(url).path[1:], timers, entries)
    else:
        await load_postgres(url, timers, entries)
    loaded = time.perf_counter()
    store = open_store(url)
    await store.connect()  # the later migrations: indexes, counts and text, over every row
    if module is postgres:
        await analyze_postgres(url)
    upgraded = time.perf_counter()
    return store, users[0], {"load": loaded - started, "migrate": upgraded - loaded}


async def queries(store: TimerStore, user: User, size: int) -> dict[str, Query]:
    """The measured operations, by name, in table order."""
    middle = END - timedelta(hours=size // 2)
    deep_entries = await store.list_entries(
        user.id, EntryFilter(date_to=middle.date()), first=1, after=None
    )
    deep_timers = await store.list_timers(
        user.id, TimerFilter(started_to=middle), first=1, after=None
    )
    timer_id = deep_entries.items[0].timer_id
    provider = LocalProvider(store)
    clock = ManualClock(END + timedelta(days=1))

    async def write() -> None:
        started = await provider.start(
            user, TimerDetails(description="Measure a write"), clock.advance(1)
        )
        await provider.stop(user, started.timer.id, clock.advance(1))

    def entries(f: EntryFilter, after: After | None = None) -> Query:
        return lambda: store.list_entries(user.id, f, first=20, after=after)

    def timers(f: TimerFilter, after: After | None = None) -> Query:
        return lambda: store.list_timers(user.id, f, first=20, after=after)

    def place(item: TimeEntry | Timer) -> After:
        return After(item.started_at, item.id)

    return {
        "entries: first page": entries(EntryFilter()),
        "entries: deep page (middle of the history)": entries(
            EntryFilter(), place(deep_entries.items[0])
        ),
        "entries: month filter (February 2026)": entries(FEBRUARY),
        "entries: text (`kestrel`)": entries(EntryFilter(text="kestrel")),
        "entries: context (task T-7)": entries(EntryFilter(context_type="task", context_id="T-7")),
        "entries: timerId": entries(EntryFilter(timer_id=timer_id)),
        "entries: totalCount": lambda: store.count_entries(user.id, EntryFilter()),
        "entries: totalCount, month filter": lambda: store.count_entries(user.id, FEBRUARY),
        "timers: first page": timers(TimerFilter()),
        "timers: deep page (middle of the history)": timers(
            TimerFilter(), place(deep_timers.items[0])
        ),
        "timers: open timers (RUNNING, PAUSED)": timers(OPEN),
        "timers: text (`kestrel`)": timers(TimerFilter(text="kestrel")),
        "timers: totalCount": lambda: store.count_timers(user.id, TimerFilter()),
        "timers: totalCount, open timers": lambda: store.count_timers(user.id, OPEN),
        "runningTimers": lambda: store.running_timers(user.id),
        "write: startTimer + stopTimer": write,
    }


async def measure(by_size: dict[int, Query], repeat: int) -> dict[int, float]:
    """Median milliseconds per size over ``repeat`` rounds, after three warm-up rounds.

    Each round runs the query once at every size, so load from elsewhere on the machine
    falls on every size alike.
    """
    times: dict[int, list[float]] = {size: [] for size in by_size}
    for round_ in range(3 + repeat):
        for size, query in by_size.items():
            started = time.perf_counter()
            await query()
            if round_ >= 3:
                times[size].append((time.perf_counter() - started) * 1000)
    return {size: statistics.median(ms) for size, ms in times.items()}


async def run(
    stores: list[str], sizes: list[int], repeat: int, postgres_url: str
) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": sizes, "stores": {}, "load_average": {}}
    for kind in stores:
        seeding: dict[int, dict[str, float]] = {}
        async with AsyncExitStack() as stack:
            measured: dict[int, dict[str, Query]] = {}
            for size in sizes:
                url = await stack.enter_async_context(fresh_store(kind, postgres_url))
                store, user, seconds = await prepare(url, size)
                stack.push_async_callback(store.disconnect)
                seeding[size] = seconds
                print(
                    f"{kind} {size:,} entries: rows made and loaded in {seconds['load']:.1f} s, "
                    f"indexed and counted by the migrations in {seconds['migrate']:.1f} s",
                    flush=True,
                )
                measured[size] = await queries(store, user, size)
            before = os.getloadavg()[0]
            per_query = {
                name: await measure({size: measured[size][name] for size in sizes}, repeat)
                for name in measured[sizes[0]]
            }
            results["load_average"][kind] = [before, os.getloadavg()[0]]
        per_size = {size: {name: ms[size] for name, ms in per_query.items()} for size in sizes}
        results["stores"][kind] = {"ms": per_size, "seed_seconds": seeding}
    return results


def table(results: dict[str, Any]) -> str:
    """Milliseconds (median) per query: each store's sizes, then largest / smallest."""
    sizes: list[int] = results["sizes"]
    stores: dict[str, Any] = results["stores"]
    head = ["query"]
    for kind in stores:
        head += [f"{kind} {size:,}" for size in sizes] + [f"{kind} ratio"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name in next(iter(stores.values()))["ms"][sizes[0]]:
        cells = [name]
        for measured in stores.values():
            row = [measured["ms"][size][name] for size in sizes]
            cells += [f"{ms:.2f}" for ms in row] + [f"{row[-1] / row[0]:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    stores = args.stores.split(",")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results = asyncio.run(run(stores, sizes, args.repeat, args.postgres))
    print(table(results))
    for kind, (before, after) in results["load_average"].items():
        print(f"{kind}: load average {before:.1f} before measuring, {after:.1f} after")
    out = ROOT / "bench" / "results" / f"lists-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
