"""Every list query SQLite runs reads through the index made for it, never the whole table.

SQLite plans from the schema alone (no statistics are gathered), so the plan a small file
gets is the plan a file with a million entries gets; ``bench/lists.py`` measures the times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import T0

from timergate.domain import After, EntryFilter, TimerFilter, TimerState, TokenGrant, User
from timergate.store._sql import Executor, Row
from timergate.store.sqlite import SQLiteTimerStore


class PlanRecorder:
    """Runs each read as the store would, noting SQLite's plan for it first."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self.plans: list[list[str]] = []

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        plan = await self._inner.fetch(f"EXPLAIN QUERY PLAN {sql}", params)
        self.plans.append([row[3] for row in plan])
        return await self._inner.fetch(sql, params)

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        await self._inner.execute(sql, params)


@pytest.fixture
async def recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[SQLiteTimerStore, PlanRecorder, User]]:
    store = SQLiteTimerStore(f"sqlite:///{tmp_path / 'plans.db'}")
    await store.connect()
    (user,) = await store.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
    recorder = PlanRecorder(store._reader())
    monkeypatch.setattr(store, "_reader", lambda: recorder)
    yield store, recorder, user
    await store.disconnect()


MONTH = {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28)}


@pytest.mark.parametrize(
    ("f", "index"),
    [
        (TimerFilter(), "timers_by_user_started"),
        (TimerFilter(states=(TimerState.RUNNING, TimerState.PAUSED)), "timers_open_by_user"),
        (TimerFilter(states=(TimerState.PAUSED,)), "timers_open_by_user"),
        (
            TimerFilter(states=(TimerState.RUNNING,)),
            ("timers_one_running_per_user", "timers_open_by_user"),
        ),
        (TimerFilter(context_type="task", context_id="T-1"), "timers_by_user_context"),
        (TimerFilter(context_id="T-1"), "timers_by_user_context_id"),
        (TimerFilter(started_from=T0, started_to=datetime(2026, 4, 1, tzinfo=UTC)), "started"),
        (TimerFilter(text="kestrel"), "INTEGER PRIMARY KEY"),
    ],
    ids=repr,
)
async def test_timer_lists_and_counts_use_their_index(
    recorded: tuple[SQLiteTimerStore, PlanRecorder, User],
    f: TimerFilter,
    index: str | tuple[str, ...],
) -> None:
    """A timers page, the next page and the count each search an index (or the counts)."""
    store, recorder, user = recorded
    await store.list_timers(user.id, f, first=20, after=None)
    await store.list_timers(user.id, f, first=20, after=After(T0, "7"))
    await store.count_timers(user.id, f)
    assert_indexed(recorder.plans, index, "timers")


@pytest.mark.parametrize(
    ("f", "index"),
    [
        (EntryFilter(), "time_entries_by_user_started"),
        (EntryFilter(**MONTH), "time_entries_by_user_date"),
        (EntryFilter(context_type="task", context_id="T-1"), "time_entries_by_user_context"),
        (EntryFilter(context_id="T-1"), "time_entries_by_user_context_id"),
        (EntryFilter(timer_id="12"), "time_entries_by_user_timer"),
        (EntryFilter(text="kestrel"), "INTEGER PRIMARY KEY"),
    ],
    ids=repr,
)
async def test_entry_lists_and_counts_use_their_index(
    recorded: tuple[SQLiteTimerStore, PlanRecorder, User], f: EntryFilter, index: str
) -> None:
    """An entries page, the next page and the count each search an index (or the counts)."""
    store, recorder, user = recorded
    await store.list_entries(user.id, f, first=20, after=None)
    await store.list_entries(user.id, f, first=20, after=After(T0, "7"))
    await store.count_entries(user.id, f)
    assert_indexed(recorder.plans, index, "time_entries")


async def test_counts_without_narrowing_filters_read_the_kept_counts(
    recorded: tuple[SQLiteTimerStore, PlanRecorder, User],
) -> None:
    """totalCount without a narrowing filter reads a handful of counter rows, not the list."""
    store, recorder, user = recorded
    await store.count_timers(user.id, TimerFilter(states=(TimerState.PAUSED,), provider="local"))
    await store.count_entries(user.id, EntryFilter(provider="local"))
    assert [line for plan in recorder.plans for line in plan] == [
        "SEARCH timer_counts USING PRIMARY KEY (user_id=? AND provider=? AND state=?)",
        "SEARCH entry_counts USING PRIMARY KEY (user_id=? AND provider=?)",
    ]


def assert_indexed(plans: list[list[str]], index: str | tuple[str, ...], table: str) -> None:
    """The two pages search ``index`` (or one of them); the count searches it or reads the
    kept counts; nothing scans the table."""
    indexes = (index,) if isinstance(index, str) else index
    first, after, count = plans
    counters = "timer_counts" if table == "timers" else "entry_counts"
    for plan in (first, after, count):
        assert not any(
            line == f"SCAN {table}" or line.startswith(f"SCAN {table} ") for line in plan
        )
    assert any(i in line for line in first for i in indexes), first
    assert any(i in line for line in after for i in indexes), after
    assert any(i in line for line in count for i in (*indexes, f"SEARCH {counters}")), count
