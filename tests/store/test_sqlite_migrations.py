"""A SQLite file made by an earlier timergate is migrated in place, losing nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_store_contract import insert_entries, insert_timers, make_entry, make_timer

from timergate.domain import TimerState, TokenGrant
from timergate.domain.connections import ProviderKind
from timergate.store import sqlite as sqlite_store
from timergate.store.sqlite import MIGRATIONS, SQLiteTimerStore

T0 = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
#: The migrations a database had before ids stopped being reused.
BEFORE_STABLE_IDS = 3


async def test_rebuilding_tables_for_stable_ids_keeps_every_row_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timers, entries, connections and their provider state survive the rebuild unchanged;
    the one-running-timer rule and foreign keys still hold, and freed ids stay freed."""
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    with monkeypatch.context() as old_code:
        old_code.setattr(sqlite_store, "MIGRATIONS", MIGRATIONS[:BEFORE_STABLE_IDS])
        old = SQLiteTimerStore(url)
        await old.connect()
        (alice,) = await old.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
        running, paused, doomed = await insert_timers(
            old,
            make_timer(alice, state=TimerState.RUNNING),
            make_timer(alice),
            make_timer(alice),
        )
        (entry,) = await insert_entries(old, make_entry(alice, timer_id=paused.id))
        connection = await old.add_connection(
            alice.id, ProviderKind.NOKO, "work", "http://noko.test", b"sealed", T0
        )
        await old.put_provider_state(connection.id, "cursor", "42")
        async with old.transaction() as tx:
            await tx.delete_timer(alice.id, doomed.id)
        await old.disconnect()

    store = SQLiteTimerStore(url)
    await store.connect()
    try:
        assert await store.get_timer(alice.id, running.id) == running
        assert await store.get_timer(alice.id, paused.id) == paused
        assert await store.get_entry(alice.id, entry.id) == entry
        assert await store.get_provider_state(connection.id, "cursor") == "42"
        with pytest.raises(sqlite3.IntegrityError):
            await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
        (fresh,) = await insert_timers(store, make_timer(alice))
        (newer,) = await insert_timers(store, make_timer(alice))
        async with store.transaction() as tx:
            await tx.delete_timer(alice.id, newer.id)
        (newest,) = await insert_timers(store, make_timer(alice))
        assert int(newest.id) > int(newer.id) > int(fresh.id)
        assert await store.remove_connection(alice.id, connection.id)
        assert await store.get_provider_state(connection.id, "cursor") is None
    finally:
        await store.disconnect()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations")]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        indexes = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {
            "timers_one_running_per_user",
            "timers_by_user_started",
            "time_entries_by_user_started",
            "time_entries_by_user_date",
            "connections_by_user",
        } <= indexes
