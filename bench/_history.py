"""A long history to measure lists on: one user with N timers and entries among 1,000 others.

Rows are made in start order across all users, so the subject's rows are scattered among the
others' as real traffic leaves them; each stopped timer has its entry (same id). The subject's
timers start one hour apart, ending at :data:`END`, so every full month holds the same number
of entries however long the history (a 1,000-entry history still covers February 2026). Each
other user has 100, spread over the same span. Besides those: one RUNNING and five PAUSED
timers for the subject and one PAUSED timer for each other user. 20 of the subject's entries
(and one in 5,000 of the others') mention "Kestrel", spread over the whole history; contexts
cycle through 40 tasks, so every filter fills a page at every size.

Loading is a bulk load: the store is created at its first schema (migration 1), the rows go in
with one ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), and connecting again applies the
later migrations, which build the list indexes, the counts and the text indexes over all rows
at once, as they do when an existing install upgrades. Row tuples are built here directly for
speed; the first ones are checked against the stores' own mapping (``store/_sql.py``).
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from timergate.domain import TimeEntry, Timer, TimerContext, TimerDetails, TimerState
from timergate.store._sql import (
    ENTRY_COLUMNS,
    TIMER_COLUMNS,
    entry_params,
    from_us,
    timer_params,
    to_us,
)

END = datetime(2026, 3, 1, tzinfo=UTC)
OTHER_USERS = 1000
OTHER_ROWS_EACH = 100
KESTRELS = 20
_HOUR = 3_600_000_000
_DAY = 24 * _HOUR
_TAKES = 40 * 60_000_000  # every timer ran 40 minutes
_VERBS = ("Review", "Write", "Fix", "Plan", "Deploy", "Test", "Design", "Triage")
_NOUNS = ("login page", "billing report", "API docs", "release notes", "search", "onboarding")
_TAGS = json.dumps(["bench"])

#: One timer to make: (start in µs, user id, variant, kestrel, state).
Spec = tuple[int, int, int, bool, str]


def details(variant: int, kestrel: bool) -> TimerDetails:
    task = variant % 40
    text = f"{_VERBS[variant % len(_VERBS)]} {_NOUNS[variant % len(_NOUNS)]}"
    return TimerDetails(
        description=f"{text} with Kestrel" if kestrel else text,
        context=TimerContext("task", f"T-{task}", f"Task {task}"),
        tags=("bench",),
        billable=variant % 3 != 0,
    )


def _specs(subject: int, others: list[int], size: int) -> Iterator[Spec]:
    """Every timer, in start order; ids follow this order."""
    end = to_us(END)
    kestrel_every = max(size // KESTRELS, 1)
    mine = (
        (end - (size - i) * _HOUR, subject, i, i % kestrel_every == kestrel_every // 2, "STOPPED")
        for i in range(size)
    )
    count = len(others) * OTHER_ROWS_EACH
    span = (size + 1) * _HOUR
    theirs = (
        (
            end - span + span * (2 * k + 1) // (2 * count),
            others[k % len(others)],
            k,
            k % 5000 == 7,
            "STOPPED",
        )
        for k in range(count)
    )
    yield from heapq.merge(mine, theirs)
    yield from ((end + n * 60_000_000, subject, n, False, "PAUSED") for n in range(5))
    yield end + 5 * 60_000_000, subject, 5, False, "RUNNING"
    yield from ((end + 60_000_000, user, n, False, "PAUSED") for n, user in enumerate(others))


class _Rows:
    """Timer and entry row tuples in column order, cheaply."""

    def __init__(self) -> None:
        self._details: dict[tuple[int, bool], tuple[Any, ...]] = {}
        self._dates: dict[int, str] = {}

    def _detail_values(self, variant: int, kestrel: bool) -> tuple[Any, ...]:
        key = (variant % 120, kestrel)  # 120: every combination of the cycles above
        if key not in self._details:
            d = details(*key)
            assert d.context is not None
            self._details[key] = (
                d.description,
                d.context.type,
                d.context.id,
                d.context.title,
                _TAGS,
                d.billable,
            )
        return self._details[key]

    def timer(self, row_id: int, spec: Spec) -> tuple[Any, ...]:
        start, user, variant, kestrel, state = spec
        stopped = state == "STOPPED"
        return (
            row_id,
            user,
            "local",
            state,
            *self._detail_values(variant, kestrel),
            _TAKES,
            start + 50 * 60_000_000 if state == "RUNNING" else None,
            start,
            start + (_TAKES if stopped else 60_000_000),
            3,
            row_id if stopped else None,
        )

    def entry(self, row_id: int, spec: Spec) -> tuple[Any, ...]:
        start, user, variant, kestrel, _ = spec
        day = start // _DAY
        if day not in self._dates:
            self._dates[day] = from_us(start).date().isoformat()
        return (
            row_id,
            user,
            "local",
            row_id,
            *self._detail_values(variant, kestrel),
            start,
            start + _TAKES,
            _TAKES // 1_000_000,
            self._dates[day],
            start + _TAKES,
            start + _TAKES,
            1,
        )


def _checked(rows: _Rows, row_id: int, spec: Spec) -> None:
    """The fast tuples are what the stores' own mapping makes of the same timer and entry."""
    start, user, variant, kestrel, state = spec
    started = from_us(start)
    timer = Timer(
        id=str(row_id),
        user_id=user,
        provider="local",
        state=TimerState(state),
        details=details(variant, kestrel),
        accumulated=timedelta(minutes=40),
        running_since=started + timedelta(minutes=50) if state == "RUNNING" else None,
        started_at=started,
        updated_at=started + timedelta(minutes=40 if state == "STOPPED" else 1),
        version=3,
        entry_id=str(row_id) if state == "STOPPED" else None,
    )
    assert rows.timer(row_id, spec) == (row_id, *timer_params(timer))
    ended = started + timedelta(minutes=40)
    entry = TimeEntry(
        id=str(row_id),
        user_id=user,
        provider="local",
        timer_id=str(row_id),
        details=timer.details,
        started_at=started,
        ended_at=ended,
        duration_seconds=2400,
        date=started.date(),
        created_at=ended,
        updated_at=ended,
        version=1,
    )
    assert rows.entry(row_id, spec) == (row_id, *entry_params(entry))


def history(
    subject: int, others: list[int], size: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Timer rows and entry rows (column order of ``store/_sql.py``) for ``size`` entries."""
    rows = _Rows()
    timers, entries = [], []
    for row_id, spec in enumerate(_specs(subject, others, size), start=1):
        if row_id <= 3:
            _checked(rows, row_id, spec)
        timers.append(rows.timer(row_id, spec))
        if spec[4] == "STOPPED":
            entries.append(rows.entry(row_id, spec))
    return timers, entries


def load_sqlite(path: str, timers: list[tuple[Any, ...]], entries: list[tuple[Any, ...]]) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")  # a bench's throwaway file
        db.execute("BEGIN")
        marks = ", ".join("?" for _ in TIMER_COLUMNS.split(","))
        db.executemany(f"INSERT INTO timers ({TIMER_COLUMNS}) VALUES ({marks})", timers)
        marks = ", ".join("?" for _ in ENTRY_COLUMNS.split(","))
        db.executemany(f"INSERT INTO time_entries ({ENTRY_COLUMNS}) VALUES ({marks})", entries)
        db.execute("COMMIT")  # no ANALYZE: the gateway never runs one, so plans go without
    finally:
        db.close()


async def load_postgres(
    url: str, timers: list[tuple[Any, ...]], entries: list[tuple[Any, ...]]
) -> None:
    import asyncpg

    at = ENTRY_COLUMNS.split(", ").index("date")
    dated = [(*e[:at], date.fromisoformat(e[at]), *e[at + 1 :]) for e in entries]
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "timers", records=timers, columns=TIMER_COLUMNS.split(", ")
            )
            await conn.copy_records_to_table(
                "time_entries", records=dated, columns=ENTRY_COLUMNS.split(", ")
            )
            for table in ("timers", "time_entries"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
                )
    finally:
        await conn.close()


async def analyze_postgres(url: str) -> None:
    """What autovacuum does soon after a load, so the measured state is the steady one."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE timers, time_entries")
    finally:
        await conn.close()
