"""The contract every TimerStore keeps, run against each store URL in STORE_BACKENDS.

A backend that needs a service (PostgreSQL) reads its server from an environment variable and
is skipped, with the reason, when that is unset or the server does not answer.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

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
    TokenGrant,
    User,
)
from timergate.domain.connections import ProviderKind
from timergate.providers import LocalProvider
from timergate.store import TimerStore, open_store

#: Add "postgresql" once timergate.store opens postgresql:// URLs.
STORE_BACKENDS = ["sqlite"]
POSTGRES_ENV = "TIMERGATE_TEST_POSTGRES_URL"

T0 = datetime(2026, 3, 2, 8, 15, 30, 123_456, tzinfo=UTC)


# Backends: a fresh, empty database per test.


async def _postgres_database(server_url: str) -> tuple[str, str]:
    """Create an empty database on ``server_url``; return its URL and name."""
    import asyncpg

    name = f"timergate_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(server_url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} does not answer: {exc}")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlsplit(server_url)._replace(path=f"/{name}").geturl(), name


async def _drop_postgres_database(server_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=STORE_BACKENDS)
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database for the backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'timergate.db'}"
    elif request.param == "postgresql":
        server = os.environ.get(POSTGRES_ENV)
        if not server:
            pytest.skip(f"set {POSTGRES_ENV}=postgresql://user:pass@host/db to test PostgreSQL")
        url, name = await _postgres_database(server)
        yield url
        await _drop_postgres_database(server, name)
    else:  # pragma: no cover - a typo in STORE_BACKENDS
        raise ValueError(f"no fixture for store backend {request.param!r}")


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


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[TimerStore]:
    s = open_store(store_url)
    await s.connect()
    yield s
    await s.disconnect()


@pytest.fixture
async def alice(store: TimerStore) -> User:
    (user,) = await store.grant_tokens([TokenGrant("alice", b"alice-hash", "tg_alic")], T0)
    return user


@pytest.fixture
async def bob(store: TimerStore) -> User:
    (user,) = await store.grant_tokens([TokenGrant("bob", b"bob-hash", "tg_bob0")], T0)
    return user


# Building blocks.

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
) -> TimeEntry:
    return TimeEntry(
        id="",
        user_id=user.id,
        provider=provider,
        timer_id=timer_id,
        details=details,
        started_at=T0,
        ended_at=T0 + timedelta(hours=2, microseconds=1),
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
    return await _walk(lambda after: store.list_timers(user.id, f, first=page, after=after))


async def all_entries(
    store: TimerStore, user: User, f: EntryFilter, page: int = 2
) -> list[TimeEntry]:
    return await _walk(lambda after: store.list_entries(user.id, f, first=page, after=after))


async def _walk(fetch: Any) -> list[Any]:
    items: list[Any] = []
    after: After | None = None
    while True:
        page: Page[Any] = await fetch(after)
        items.extend(page.items)
        if not page.has_next:
            return items
        assert page.items, "a page with more to come is never empty"
        after = _after(page.items[-1])


def _after(item: Timer | TimeEntry) -> After:
    return After(item.started_at, item.id)


# Migrations and connections.


async def test_connect_applies_migrations_once(store_url: str) -> None:
    """A fresh database is migrated on connect; reconnecting applies nothing twice."""
    first = open_store(store_url)
    await first.connect()
    (user,) = await first.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
    (timer,) = await insert_timers(first, make_timer(user))
    await first.disconnect()
    versions = await applied_migrations(store_url)
    assert versions and versions == list(range(1, len(versions) + 1))

    for _ in range(2):
        again = open_store(store_url)
        await again.connect()
        assert await again.get_timer(user.id, timer.id) == timer
        await again.disconnect()
    assert await applied_migrations(store_url) == versions


async def test_ping_answers_while_connected_and_fails_after_disconnect(store_url: str) -> None:
    """/readyz relies on ping: it returns while the store answers and raises when it cannot."""
    s = open_store(store_url)
    await s.connect()
    await s.ping()
    await s.disconnect()
    with pytest.raises(RuntimeError, match="connect"):
        await s.ping()


async def test_store_refuses_work_before_connect(store_url: str) -> None:
    """Using a store before connect() is a clear error, not a hang or a crash elsewhere."""
    s = open_store(store_url)
    with pytest.raises(RuntimeError, match="connect"):
        await s.get_timer(1, "1")
    with pytest.raises(RuntimeError, match="connect"):
        async with s.transaction():
            pass


async def test_ids_of_deleted_objects_are_never_handed_out_again(
    store: TimerStore, alice: User
) -> None:
    """Deleting the newest timer, entry or connection frees no id: a client still holding the
    old id (a retried cancel, another device's list) must never reach a newer object."""
    (timer,) = await insert_timers(store, make_timer(alice))
    (entry,) = await insert_entries(store, make_entry(alice))
    connection = await store.add_connection(
        alice.id, ProviderKind.NOKO, None, "http://noko.test", b"sealed", T0
    )
    async with store.transaction() as tx:
        await tx.delete_timer(alice.id, timer.id)
        await tx.delete_entry(alice.id, entry.id)
    assert await store.remove_connection(alice.id, connection.id)

    (next_timer,) = await insert_timers(store, make_timer(alice))
    (next_entry,) = await insert_entries(store, make_entry(alice))
    next_connection = await store.add_connection(
        alice.id, ProviderKind.NOKO, None, "http://noko.test", b"sealed", T0
    )
    assert int(next_timer.id) > int(timer.id)
    assert int(next_entry.id) > int(entry.id)
    assert next_connection.id > connection.id


# Round trips.


@pytest.mark.parametrize(
    ("state", "details"),
    [
        (TimerState.RUNNING, FULL_DETAILS),
        (TimerState.PAUSED, TimerDetails()),
        (TimerState.STOPPED, TimerDetails(context=TimerContext("project", "p1"))),
    ],
    ids=["running-full", "paused-empty", "stopped-untitled-context"],
)
async def test_timer_round_trips_every_field(
    store: TimerStore, alice: User, state: TimerState, details: TimerDetails
) -> None:
    """A stored timer reads back field for field, to the microsecond, None fields included."""
    draft = make_timer(alice, state=state, details=details)
    (stored,) = await insert_timers(store, draft)
    assert stored.id and stored.id.isdigit()
    assert stored == replace(draft, id=stored.id)
    loaded = await store.get_timer(alice.id, stored.id)
    assert loaded == stored
    assert loaded is not None
    assert loaded.started_at.utcoffset() == timedelta(0)
    assert loaded.details.tags == details.tags  # a tuple, in order
    async with store.transaction() as tx:
        assert await tx.get_timer(alice.id, stored.id) == stored


async def test_timer_update_and_delete(store: TimerStore, alice: User) -> None:
    """An updated timer reads back as written; a deleted one is gone."""
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
    (entry,) = await insert_entries(store, make_entry(alice, timer_id=timer.id))
    stopped = replace(
        timer,
        state=TimerState.STOPPED,
        running_since=None,
        accumulated=timedelta(seconds=5400, microseconds=1),
        details=TimerDetails(description=None, tags=("x",), billable=True),
        updated_at=T0 + timedelta(hours=3, microseconds=5),
        version=timer.version + 1,
        entry_id=entry.id,
    )
    async with store.transaction() as tx:
        await tx.update_timer(stopped)
    assert await store.get_timer(alice.id, timer.id) == stopped
    assert await store.running_timers(alice.id) == []

    async with store.transaction() as tx:
        await tx.delete_timer(alice.id, timer.id)
    assert await store.get_timer(alice.id, timer.id) is None
    assert await store.get_entry(alice.id, entry.id) == entry, "the entry outlives its timer"


@pytest.mark.parametrize("details", [FULL_DETAILS, TimerDetails()], ids=["full", "empty"])
async def test_entry_round_trips_every_field(
    store: TimerStore, alice: User, details: TimerDetails
) -> None:
    """A stored entry reads back field for field, to the microsecond, None fields included."""
    draft = make_entry(alice, details=details, timer_id=None)
    (stored,) = await insert_entries(store, draft)
    assert stored == replace(draft, id=stored.id)
    assert await store.get_entry(alice.id, stored.id) == stored


async def test_entry_update_and_delete(store: TimerStore, alice: User) -> None:
    """An edited entry reads back as written; deleting it unlinks the timer it came from."""
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.STOPPED))
    (entry,) = await insert_entries(store, make_entry(alice, timer_id=timer.id))
    async with store.transaction() as tx:
        await tx.update_timer(replace(timer, entry_id=entry.id))
    edited = replace(
        entry,
        details=TimerDetails(description="Edited", context=None, tags=(), billable=True),
        ended_at=entry.ended_at + timedelta(microseconds=1),
        duration_seconds=0,
        date=date(2025, 12, 31),
        updated_at=entry.updated_at + timedelta(days=1),
        version=2,
    )
    async with store.transaction() as tx:
        await tx.update_entry(edited)
    assert await store.get_entry(alice.id, entry.id) == edited

    async with store.transaction() as tx:
        await tx.delete_entry(alice.id, entry.id)
        assert await tx.get_entry(alice.id, entry.id) is None
    assert await store.get_entry(alice.id, entry.id) is None
    unlinked = await store.get_timer(alice.id, timer.id)
    assert unlinked is not None and unlinked.entry_id is None


# Scoping.


async def test_reads_are_scoped_to_the_user(store: TimerStore, alice: User, bob: User) -> None:
    """Another user's timer or entry reads as missing, in every read, in and out of a transaction."""
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
    (entry,) = await insert_entries(store, make_entry(alice, timer_id=timer.id))

    assert await store.get_timer(bob.id, timer.id) is None
    assert await store.get_entry(bob.id, entry.id) is None
    assert await store.running_timers(bob.id) == []
    assert (await store.list_timers(bob.id, TimerFilter(), first=10, after=None)).items == []
    assert (await store.list_entries(bob.id, EntryFilter(), first=10, after=None)).items == []
    assert await store.count_timers(bob.id, TimerFilter()) == 0
    assert await store.count_entries(bob.id, EntryFilter()) == 0
    async with store.transaction() as tx:
        assert await tx.get_timer(bob.id, timer.id) is None
        assert await tx.get_entry(bob.id, entry.id) is None
        assert await tx.running_timers(bob.id) == []
        await tx.delete_timer(bob.id, timer.id)
        await tx.delete_entry(bob.id, entry.id)
    assert await store.get_timer(alice.id, timer.id) == timer, "bob cannot delete alice's timer"
    assert await store.get_entry(alice.id, entry.id) == entry, "nor her entry"


@pytest.mark.parametrize(
    "bad_id", ["", "abc", "-1", "1.0", " 1", "+1", "99999999999999999999999", "\u0661", "\uff11"]
)
async def test_ids_that_name_no_row_read_as_missing(
    store: TimerStore, alice: User, bad_id: str
) -> None:
    """A malformed or out-of-range id (a non-ASCII digit too) is not found, never a driver error."""
    (timer,) = await insert_timers(store, make_timer(alice))
    (entry,) = await insert_entries(store, make_entry(alice))
    assert (timer.id, entry.id) == ("1", "1"), "ids the bad ones could be mistaken for"
    assert await store.get_timer(alice.id, bad_id) is None
    assert await store.get_entry(alice.id, bad_id) is None
    async with store.transaction() as tx:
        assert await tx.get_timer(alice.id, bad_id) is None
        assert await tx.get_entry(alice.id, bad_id) is None


# Integrity and transactions.


async def test_database_refuses_a_second_running_timer(
    store: TimerStore, store_url: str, alice: User, bob: User
) -> None:
    """Even code that skips the provider's rule cannot store two RUNNING timers for one user."""
    (first,) = await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
    with pytest.raises(integrity_errors(store_url)):
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice, details=TimerDetails(description="paused")))
            await tx.insert_timer(make_timer(alice, state=TimerState.RUNNING))
    assert await store.running_timers(alice.id) == [first]
    assert await store.count_timers(alice.id, TimerFilter()) == 1, (
        "the whole transaction rolled back"
    )

    (bobs,) = await insert_timers(store, make_timer(bob, state=TimerState.RUNNING))
    assert await store.running_timers(bob.id) == [bobs], "the rule is per user"


async def test_resuming_into_a_second_running_timer_is_refused(
    store: TimerStore, store_url: str, alice: User
) -> None:
    """Updating a paused timer to RUNNING beside a running one is refused too."""
    running, paused = await insert_timers(
        store, make_timer(alice, state=TimerState.RUNNING), make_timer(alice)
    )
    resumed = replace(paused, state=TimerState.RUNNING, running_since=T0, version=4)
    with pytest.raises(integrity_errors(store_url)):
        async with store.transaction() as tx:
            await tx.update_timer(resumed)
    assert await store.get_timer(alice.id, paused.id) == paused
    assert await store.running_timers(alice.id) == [running]


async def test_failed_transaction_is_rolled_back(store: TimerStore, alice: User) -> None:
    """Everything a transaction wrote is undone when it raises, and the store stays usable."""
    (kept,) = await insert_timers(store, make_timer(alice))

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice))
            await tx.insert_entry(make_entry(alice))
            await tx.update_timer(replace(kept, version=99))
            await tx.delete_timer(alice.id, kept.id)
            raise Boom
    assert await store.get_timer(alice.id, kept.id) == kept
    assert await store.count_timers(alice.id, TimerFilter()) == 1
    assert await store.count_entries(alice.id, EntryFilter()) == 0

    (after,) = await insert_timers(store, make_timer(alice))
    assert await store.get_timer(alice.id, after.id) == after


async def test_cancelled_transaction_is_rolled_back(store: TimerStore, alice: User) -> None:
    """A request cancelled midway through a transaction leaves nothing behind."""
    started = asyncio.Event()

    async def slow_write() -> None:
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice))
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(slow_write())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.count_timers(alice.id, TimerFilter()) == 0
    (timer,) = await insert_timers(store, make_timer(alice))
    assert await store.get_timer(alice.id, timer.id) == timer


# Lists, filters and counts.


async def test_timers_paginate_newest_first(store: TimerStore, alice: User) -> None:
    """Pages run newest first; has_next and the after cursor walk them without gaps or repeats."""
    made = await insert_timers(
        store, *(make_timer(alice, started_at=T0 + timedelta(hours=i)) for i in range(5))
    )
    newest_first = [t.id for t in reversed(made)]

    first = await store.list_timers(alice.id, TimerFilter(), first=2, after=None)
    assert [t.id for t in first.items] == newest_first[:2] and first.has_next
    second = await store.list_timers(
        alice.id, TimerFilter(), first=2, after=_after(first.items[-1])
    )
    assert [t.id for t in second.items] == newest_first[2:4] and second.has_next
    third = await store.list_timers(
        alice.id, TimerFilter(), first=2, after=_after(second.items[-1])
    )
    assert [t.id for t in third.items] == newest_first[4:] and not third.has_next

    exact = await store.list_timers(alice.id, TimerFilter(), first=5, after=None)
    assert len(exact.items) == 5 and not exact.has_next
    assert [t.id for t in await all_timers(store, alice, TimerFilter(), page=1)] == newest_first
    assert first.items[0] == made[-1], "listed timers carry every field"


async def test_entries_paginate_newest_first(store: TimerStore, alice: User) -> None:
    """Entry pages run newest first with has_next and the after cursor."""
    made = await insert_entries(store, *(make_entry(alice) for _ in range(3)))
    page = await store.list_entries(alice.id, EntryFilter(), first=2, after=None)
    assert [e.id for e in page.items] == [made[2].id, made[1].id] and page.has_next
    rest = await store.list_entries(alice.id, EntryFilter(), first=2, after=_after(page.items[-1]))
    assert rest.items == [made[0]] and not rest.has_next


@pytest.fixture
async def alices_timers(store: TimerStore, alice: User, bob: User) -> dict[str, Timer]:
    """Alice's timers, with varied states, providers, contexts, starts and texts; and bob's."""
    specs = {
        "running": make_timer(
            alice, state=TimerState.RUNNING, details=TimerDetails(description="Deploy 50% rollout")
        ),
        "percentless": make_timer(
            alice,
            details=TimerDetails(description="Deploy 500 rollout"),
            started_at=T0 + timedelta(days=1),
        ),
        "underscore": make_timer(
            alice,
            details=TimerDetails(
                description="rename snake_case",
                context=TimerContext("issue", "GH-1", "Style"),
            ),
            started_at=T0 + timedelta(days=2),
        ),
        "no-underscore": make_timer(
            alice,
            state=TimerState.STOPPED,
            details=TimerDetails(
                description="rename snakeXcase",
                context=TimerContext("issue", "GH-2", "Style"),
            ),
            started_at=T0 + timedelta(days=3),
        ),
        "titled": make_timer(
            alice,
            state=TimerState.STOPPED,
            details=TimerDetails(context=TimerContext("project", "GH-1", "Quarterly REPORT")),
            started_at=T0 + timedelta(days=4),
            provider="toggl",
        ),
    }
    made = await insert_timers(store, *specs.values())
    await insert_timers(
        store, make_timer(bob, details=TimerDetails(description="Deploy 50% rollout"))
    )
    return dict(zip(specs, made, strict=True))


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (TimerFilter(), ["titled", "no-underscore", "underscore", "percentless", "running"]),
        (TimerFilter(states=(TimerState.RUNNING,)), ["running"]),
        (
            TimerFilter(states=(TimerState.PAUSED, TimerState.RUNNING)),
            ["underscore", "percentless", "running"],
        ),
        (TimerFilter(provider="toggl"), ["titled"]),
        (TimerFilter(provider="local", states=(TimerState.STOPPED,)), ["no-underscore"]),
        (TimerFilter(context_type="issue"), ["no-underscore", "underscore"]),
        (TimerFilter(context_id="GH-1"), ["titled", "underscore"]),
        (TimerFilter(context_type="issue", context_id="GH-1"), ["underscore"]),
        (
            TimerFilter(started_from=T0 + timedelta(days=1)),
            ["titled", "no-underscore", "underscore", "percentless"],
        ),
        (TimerFilter(started_to=T0 + timedelta(days=1)), ["running"]),
        (
            TimerFilter(
                started_from=T0 + timedelta(days=1, microseconds=1),
                started_to=T0 + timedelta(days=3, microseconds=1),
            ),
            ["no-underscore", "underscore"],
        ),
        (TimerFilter(text="%"), ["running"]),
        (TimerFilter(text="50%"), ["running"]),
        (TimerFilter(text="_"), ["underscore"]),
        (TimerFilter(text="snake_c"), ["underscore"]),
        (TimerFilter(text="deploy"), ["percentless", "running"]),
        (TimerFilter(text="report"), ["titled"]),
        (TimerFilter(text="\\"), []),
        (TimerFilter(text="nothing like it"), []),
    ],
    ids=lambda v: repr(v) if isinstance(v, TimerFilter) else None,
)
async def test_timer_filters(
    store: TimerStore,
    alice: User,
    alices_timers: dict[str, Timer],
    f: TimerFilter,
    expected: list[str],
) -> None:
    """Each filter selects the right timers (started range [from, to); % and _ literal), newest
    first, and the count agrees with the list."""
    names = {t.id: name for name, t in alices_timers.items()}
    listed = await all_timers(store, alice, f)
    assert [names[t.id] for t in listed] == expected
    assert await store.count_timers(alice.id, f) == len(expected)


async def test_text_filter_ignores_case_beyond_ascii(store: TimerStore, alice: User) -> None:
    """The text filter matches case-insensitively, as the API promises, for accented letters too."""
    (timer,) = await insert_timers(
        store, make_timer(alice, details=TimerDetails(description="Überarbeitung ÉTÉ"))
    )
    for text in ("überarbeitung", "ÜBERARBEITUNG", "été"):
        listed = await all_timers(store, alice, TimerFilter(text=text))
        assert [t.id for t in listed] == [timer.id], text


@pytest.fixture
async def alices_entries(store: TimerStore, alice: User, bob: User) -> dict[str, TimeEntry]:
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.STOPPED))
    specs = {
        "march-1": make_entry(alice, entry_date=date(2026, 3, 1)),
        "march-2-timer": make_entry(alice, entry_date=date(2026, 3, 2), timer_id=timer.id),
        "march-3": make_entry(
            alice,
            entry_date=date(2026, 3, 3),
            details=TimerDetails(description="100% done_ok"),
            provider="toggl",
        ),
        "april": make_entry(alice, entry_date=date(2026, 4, 1), details=TimerDetails()),
    }
    made = await insert_entries(store, *specs.values())
    await insert_entries(store, make_entry(bob, entry_date=date(2026, 3, 2)))
    return dict(zip(specs, made, strict=True))


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (EntryFilter(), ["april", "march-3", "march-2-timer", "march-1"]),
        (EntryFilter(date_from=date(2026, 3, 2)), ["april", "march-3", "march-2-timer"]),
        (EntryFilter(date_to=date(2026, 3, 2)), ["march-2-timer", "march-1"]),
        (
            EntryFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 3)),
            ["march-3", "march-2-timer"],
        ),
        (EntryFilter(date_from=date(2026, 3, 4), date_to=date(2026, 3, 31)), []),
        (EntryFilter(provider="toggl"), ["march-3"]),
        (EntryFilter(context_type="issue", context_id="GH-12"), ["march-2-timer", "march-1"]),
        (EntryFilter(text="100%"), ["march-3"]),
        (EntryFilter(text="_"), ["march-3"]),
        (EntryFilter(text="SAFARI"), ["march-2-timer", "march-1"]),
        (EntryFilter(timer_id="no-such-timer"), []),
        (EntryFilter(timer_id="\uff11"), []),  # a fullwidth 1 is not timer 1
        (EntryFilter(timer_id="9" * 30), []),
    ],
    ids=lambda v: repr(v) if isinstance(v, EntryFilter) else None,
)
async def test_entry_filters(
    store: TimerStore,
    alice: User,
    alices_entries: dict[str, TimeEntry],
    f: EntryFilter,
    expected: list[str],
) -> None:
    """Each entry filter (dates inclusive, literal % and _) selects the right entries; counts agree."""
    names = {e.id: name for name, e in alices_entries.items()}
    listed = await all_entries(store, alice, f)
    assert [names[e.id] for e in listed] == expected
    assert await store.count_entries(alice.id, f) == len(expected)


async def test_entries_filter_by_timer(
    store: TimerStore, alice: User, alices_entries: dict[str, TimeEntry]
) -> None:
    """Filtering by timer id finds the entry that timer produced, and only that."""
    timer_id = alices_entries["march-2-timer"].timer_id
    assert timer_id is not None
    f = EntryFilter(timer_id=timer_id)
    assert await all_entries(store, alice, f) == [alices_entries["march-2-timer"]]
    assert await store.count_entries(alice.id, f) == 1


# Users and tokens.


async def test_grant_tokens_creates_users_once(store: TimerStore) -> None:
    """Granting creates each user once, maps every token hash to its user, and keeps the user."""
    alice1, alice2, bob = await store.grant_tokens(
        [
            TokenGrant("alice", b"a1", "tg_a1"),
            TokenGrant("alice", b"a2", "tg_a2"),
            TokenGrant("bob", b"b1", "tg_b1"),
        ],
        T0,
    )
    assert alice1 == alice2 and alice1.id != bob.id
    assert (alice1.name, alice1.time_zone, alice1.created_at) == ("alice", "UTC", T0)
    (alice3,) = await store.grant_tokens(
        [TokenGrant("alice", b"a3", "tg_a3")], T0 + timedelta(days=1)
    )
    assert alice3 == alice1, "a later grant keeps the user and its creation time"

    for token_hash, user in ((b"a1", alice1), (b"a2", alice1), (b"a3", alice1), (b"b1", bob)):
        assert await store.user_for_token(token_hash) == user
    assert await store.user_for_token(b"unknown") is None
    assert await store.get_user(bob.id) == bob
    assert await store.get_user(bob.id + alice1.id + 1000) is None


async def test_grant_tokens_is_all_or_nothing(store: TimerStore, store_url: str) -> None:
    """A batch with a token hash already granted records none of its grants."""
    await store.grant_tokens([TokenGrant("alice", b"dup", "tg_dup")], T0)
    with pytest.raises(integrity_errors(store_url)):
        await store.grant_tokens(
            [TokenGrant("carol", b"c1", "tg_c1"), TokenGrant("bob", b"dup", "tg_dup")], T0
        )
    assert await store.user_for_token(b"c1") is None
    holder = await store.user_for_token(b"dup")
    assert holder is not None and holder.name == "alice"


async def test_revoked_tokens_name_nobody_and_only_those_go(store: TimerStore) -> None:
    """Revoking counts the tokens that existed; the user and their other tokens stay."""
    (user, _) = await store.grant_tokens(
        [TokenGrant("dora", b"d1", "tg_d1"), TokenGrant("dora", b"d2", "tg_d2")], T0
    )
    assert await store.revoke_tokens([b"d1", b"never-granted"]) == 1
    assert await store.user_for_token(b"d1") is None
    assert await store.user_for_token(b"d2") == user
    assert await store.revoke_tokens([b"d1"]) == 0


async def test_revocations_are_logged_in_order_for_other_instances(
    store: TimerStore, store_url: str
) -> None:
    """Each revoked token enters the revocation log once; another instance reads it after a seq."""
    await store.grant_tokens(
        [TokenGrant("erin", b"e1", "tg_e1"), TokenGrant("erin", b"e2", "tg_e2")], T0
    )
    start = await store.last_revocation()
    assert await store.revocations_after(start) == []
    await store.revoke_tokens([b"e1", b"never-granted"])
    await store.revoke_tokens([b"e1", b"e2"])
    other = open_store(store_url)
    await other.connect()
    try:
        logged = await other.revocations_after(start)
        assert [r.token_hash for r in logged] == [b"e1", b"e2"]
        assert logged[0].seq < logged[1].seq == await other.last_revocation()
        assert await other.revocations_after(logged[0].seq) == logged[1:]
    finally:
        await other.disconnect()


async def test_set_time_zone(store: TimerStore, alice: User, bob: User) -> None:
    """Setting a user's time zone is returned, read back by id and token, and touches no one else."""
    updated = await store.set_time_zone(alice.id, "Europe/Berlin")
    assert updated == replace(alice, time_zone="Europe/Berlin")
    assert await store.get_user(alice.id) == updated
    assert await store.user_for_token(b"alice-hash") == updated
    assert await store.get_user(bob.id) == bob


# Concurrency.


def _provider(store: TimerStore) -> LocalProvider:
    return LocalProvider(store)


async def test_concurrent_starts_leave_one_running_timer(store: TimerStore, alice: User) -> None:
    """Twenty starts at once for one user end with twenty timers, exactly one of them RUNNING."""
    provider = _provider(store)
    results = await asyncio.gather(
        *(provider.start(alice, TimerDetails(description=f"#{i}"), T0) for i in range(20))
    )
    running = await store.running_timers(alice.id)
    assert len(running) == 1
    assert await store.count_timers(alice.id, TimerFilter()) == 20
    assert await store.count_timers(alice.id, TimerFilter(states=(TimerState.PAUSED,))) == 19
    assert sum(len(r.paused) for r in results) == 19, "each start paused the one before it"


async def test_two_store_instances_racing_starts_leave_one_running_timer(
    store_url: str,
) -> None:
    """Two gateway processes on one database, starting timers at once, leave one RUNNING."""
    one, two = open_store(store_url), open_store(store_url)
    await one.connect()
    await two.connect()
    try:
        (alice,) = await one.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
        providers = [_provider(one), _provider(two)]
        await asyncio.gather(
            *(
                providers[i % 2].start(alice, TimerDetails(description=f"#{i}"), T0)
                for i in range(20)
            )
        )
        for s in (one, two):
            assert len(await s.running_timers(alice.id)) == 1
            assert await s.count_timers(alice.id, TimerFilter()) == 20
    finally:
        await one.disconnect()
        await two.disconnect()
