"""Building blocks of the store tests: timers and entries to store, and ways to read them back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from timergate.domain import (
    After,
    EntryFilter,
    Page,
    TimeEntry,
    Timer,
    TimerContext,
    TimerDetails,
    TimerFilter,
    TimerState,
    User,
)
from timergate.store import TimerStore

T0 = datetime(2026, 3, 2, 8, 15, 30, 123_456, tzinfo=UTC)


def integrity_errors(url: str) -> tuple[type[BaseException], ...]:
    """The driver's exceptions for a violated constraint."""
    if url.startswith("sqlite"):
        return (sqlite3.IntegrityError,)
    import asyncpg

    return (asyncpg.IntegrityConstraintViolationError,)


async def applied_migrations(url: str) -> list[int]:
    """The versions recorded in ``schema_migrations``, read past the store."""
    if url.startswith("sqlite"):
        path = urlsplit(url).path[1:]
        with sqlite3.connect(path) as db:
            return [v for (v,) in db.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
    finally:
        await conn.close()
    return [r[0] for r in rows]


FULL_DETAILS = TimerDetails(
    description="Review 50% of PR #12 — naïve ünïcödé",
    context=TimerContext("issue", "GH-12", "Login fails on Safari"),
    tags=("review", "frontend", "ü"),
    billable=False,
)


def make_timer(
    user: User,
    *,
    state: TimerState = TimerState.PAUSED,
    details: TimerDetails = FULL_DETAILS,
    started_at: datetime = T0,
    provider: str = "local",
) -> Timer:
    return Timer(
        id="",
        user_id=user.id,
        provider=provider,
        state=state,
        details=details,
        accumulated=timedelta(hours=1, microseconds=7),
        running_since=started_at + timedelta(minutes=5, microseconds=1)
        if state is TimerState.RUNNING
        else None,
        started_at=started_at,
        updated_at=started_at + timedelta(seconds=1, microseconds=999_999),
        version=3,
    )


def make_entry(
    user: User,
    *,
    details: TimerDetails = FULL_DETAILS,
    timer_id: str | None = None,
    entry_date: date = date(2026, 3, 2),
    provider: str = "local",
    started_at: datetime = T0,
) -> TimeEntry:
    return TimeEntry(
        id="",
        user_id=user.id,
        provider=provider,
        timer_id=timer_id,
        details=details,
        started_at=started_at,
        ended_at=started_at + timedelta(hours=2, microseconds=1),
        duration_seconds=5400,
        date=entry_date,
        created_at=T0 + timedelta(hours=2, microseconds=2),
        updated_at=T0 + timedelta(hours=2, microseconds=3),
        version=1,
    )


async def insert_timers(store: TimerStore, *timers: Timer) -> list[Timer]:
    async with store.transaction() as tx:
        return [await tx.insert_timer(t) for t in timers]


async def insert_entries(store: TimerStore, *entries: TimeEntry) -> list[TimeEntry]:
    async with store.transaction() as tx:
        return [await tx.insert_entry(e) for e in entries]


async def all_timers(store: TimerStore, user: User, f: TimerFilter, page: int = 2) -> list[Timer]:
    """Every timer the filter matches, page by page, checking the pages fit together."""
    return await walk(lambda after: store.list_timers(user.id, f, first=page, after=after))


async def all_entries(
    store: TimerStore, user: User, f: EntryFilter, page: int = 2
) -> list[TimeEntry]:
    return await walk(lambda after: store.list_entries(user.id, f, first=page, after=after))


async def walk(fetch: Any) -> list[Any]:
    """Every item of a list, page after page from the cursors, checking the pages fit."""
    items: list[Any] = []
    after: After | None = None
    while True:
        page: Page[Any] = await fetch(after)
        items.extend(page.items)
        if not page.has_next:
            return items
        assert page.items, "a page with more to come is never empty"
        after = after_item(page.items[-1])


def after_item(item: Timer | TimeEntry) -> After:
    """Where the next page starts after ``item``: what a cursor holds."""
    return After(item.started_at, item.id)
