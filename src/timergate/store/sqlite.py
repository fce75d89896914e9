"""The embedded store: SQLite through aiosqlite, in WAL mode.

Durability: WAL with ``synchronous=NORMAL`` by default. A committed transaction survives a
crash of timergate itself; a power cut or OS crash may lose the last moments of commits (never
corrupting the file). Add ``?synchronous=FULL`` to the URL to fsync on every commit instead.

Writes go through one connection, serialised in-process by a lock and across processes by
``BEGIN IMMEDIATE`` (so a read-then-write transaction never fails with ``SQLITE_BUSY``
midway). Reads use a second connection and never wait for writers.

Text filters use FTS5 trigram tables (``timers_text``, ``time_entries_text``), which fold case
across Unicode; a text of one or two characters has no trigram, so it is matched with ``LIKE``
over the user's rows instead.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiosqlite

from timergate.domain import TokenGrant, User
from timergate.domain.clock import utc_now
from timergate.store._connections import CONNECTIONS_TABLE, SQLConnections
from timergate.store._idempotency import IDEMPOTENCY_TABLE, SQLIdempotency
from timergate.store._leases import LEASES_TABLE, SQLLeases
from timergate.store._sql import Executor, Row, to_us
from timergate.store._sql_lists import ListQueries, like_pattern
from timergate.store._sql_store import USER_COLUMNS, SQLTimerStore, SQLTransaction, user_from_row
from timergate.store._sqlite_lists import SQLITE_LIST_INDEXES
from timergate.store._stable_ids import NEVER_REUSE_IDS

__all__ = ["MIGRATIONS", "SQLiteTimerStore"]

#: Versioned migrations, applied in order at start; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        time_zone TEXT NOT NULL DEFAULT 'UTC',
        created_at_us INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        hash BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        prefix TEXT NOT NULL,
        created_at_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE timers (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('RUNNING', 'PAUSED', 'STOPPED')),
        description TEXT,
        context_type TEXT,
        context_id TEXT,
        context_title TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        billable INTEGER NOT NULL,
        accumulated_us INTEGER NOT NULL CHECK (accumulated_us >= 0),
        running_since_us INTEGER,
        started_at_us INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL,
        version INTEGER NOT NULL,
        entry_id INTEGER,
        CHECK ((state = 'RUNNING') = (running_since_us IS NOT NULL))
    );
    -- The one-running-timer rule, enforced by the database even if code races.
    CREATE UNIQUE INDEX timers_one_running_per_user ON timers(user_id) WHERE state = 'RUNNING';
    CREATE INDEX timers_by_user ON timers(user_id, id);
    CREATE TABLE time_entries (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        timer_id INTEGER,
        description TEXT,
        context_type TEXT,
        context_id TEXT,
        context_title TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        billable INTEGER NOT NULL,
        started_at_us INTEGER NOT NULL,
        ended_at_us INTEGER NOT NULL CHECK (ended_at_us >= started_at_us),
        duration_seconds INTEGER NOT NULL CHECK (duration_seconds >= 0),
        date TEXT NOT NULL,
        created_at_us INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE INDEX time_entries_by_user ON time_entries(user_id, id);
    CREATE INDEX time_entries_by_user_date ON time_entries(user_id, date);
    """,
    CONNECTIONS_TABLE,
    # The revocation log: every gateway on this database polls it to drop revoked tokens at once.
    """
    CREATE TABLE token_revocations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash BLOB NOT NULL,
        revoked_at_us INTEGER NOT NULL
    );
    CREATE INDEX token_revocations_by_time ON token_revocations(revoked_at_us);
    """,
    # 4: ids of deleted timers, entries and connections are never handed out again.
    NEVER_REUSE_IDS,
    # 5: lists that stay fast however long a user's history grows (see _sqlite_lists.py).
    SQLITE_LIST_INDEXES,
    # 6: idempotency keys and the results they replay.
    IDEMPOTENCY_TABLE,
    # 7: leases, so one instance at a time polls a user's vendor connections.
    LEASES_TABLE,
)

_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration script, trigger bodies kept whole."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def _text_match(table: str, text: str, params: list[Any]) -> tuple[str, str]:
    if len(text) >= 3:
        # One FTS5 phrase: the text's trigrams in a row, i.e. the text as a substring. NOT
        # INDEXED: the matching rowids drive the query, not a walk of the user's rows.
        params.append('"' + text.replace('"', '""') + '"')
        return (
            f"{table} NOT INDEXED",
            f"id IN (SELECT rowid FROM {table}_text WHERE {table}_text MATCH ?)",
        )
    # No trigram in one or two characters: LIKE over the user's rows, with Python's lower()
    # (see _open), as SQLite's own folds ASCII only.
    params.extend([like_pattern(text.lower())] * 2)
    return (
        table,
        "(lower(description) LIKE ? ESCAPE '\\' OR lower(context_title) LIKE ? ESCAPE '\\')",
    )


class _SQLiteExecutor:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return list(await self._db.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        await self._db.execute(sql, params)


class SQLiteTimerStore(SQLTimerStore, SQLConnections, SQLIdempotency, SQLLeases):
    """:class:`~timergate.store.base.TimerStore` on a SQLite file (``sqlite:///path.db``)."""

    _lists = ListQueries(_text_match)

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "sqlite":
            raise ValueError(f"not a sqlite:// URL: {url!r}")
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy and databases read them.
        self.path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not self.path:
            raise ValueError("a sqlite URL needs a file path, e.g. sqlite:///timergate.db")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.synchronous = options.pop("synchronous", "NORMAL").upper()
        if self.synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {sorted(_SYNCHRONOUS)}")
        if options:
            raise ValueError(f"unknown sqlite URL options: {sorted(options)}")
        self.url = url
        self._writer: aiosqlite.Connection | None = None
        self._reader_db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SQLiteTimerStore({self.url!r})"

    async def _open(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None)
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute(f"PRAGMA synchronous = {self.synchronous}")
        # SQLite's own lower() folds ASCII only; the text filters need all of Unicode.
        await db.create_function("lower", 1, _lower, deterministic=True)
        return db

    async def connect(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        # Processes opening a new file at once: while one switches it to WAL, SQLite answers
        # the others "database is locked" at once, without waiting out busy_timeout. Nothing
        # has happened when it does, so try again for as long as busy_timeout would wait.
        for attempt in range(1, 101):
            try:
                await self._writer.execute("PRAGMA journal_mode = WAL")
                await self._migrate(self._writer)
                break
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or attempt == 100:
                    await self.disconnect()
                    raise
                await asyncio.sleep(0.1)
        self._reader_db = await self._open()

    async def disconnect(self) -> None:
        for db in (self._reader_db, self._writer):
            if db is not None:
                await db.close()
        self._reader_db = self._writer = None

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
        # BEGIN IMMEDIATE: a second process starting at once waits, then finds the work done.
        await db.execute("BEGIN IMMEDIATE")
        try:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)"
            )
            rows = await db.execute_fetchall(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
            )
            current = next(iter(rows))[0]
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in _statements(script):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (version, to_us(utc_now()))
                )
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise

    def _reader(self) -> Executor:
        if self._reader_db is None:
            raise RuntimeError("the store is not connected; call connect() first")
        return _SQLiteExecutor(self._reader_db)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Executor]:
        if self._writer is None:
            raise RuntimeError("the store is not connected; call connect() first")
        db = self._writer
        async with self._write_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteExecutor(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLTransaction]:
        async with self._write() as db:
            yield SQLTransaction(db)

    # Users and tokens.

    async def grant_tokens(self, grants: Sequence[TokenGrant], now: datetime) -> list[User]:
        created = to_us(now)
        names = list(dict.fromkeys(g.user_name for g in grants))
        by_name: dict[str, User] = {}
        async with self.transaction():
            db = self._writer
            assert db is not None
            # Batched statements: provisioning thousands of users stays one quick transaction.
            await db.executemany(
                "INSERT INTO users (name, created_at_us) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                [(name, created) for name in names],
            )
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = await db.execute_fetchall(
                    f"SELECT {USER_COLUMNS} FROM users WHERE name IN ({marks})", chunk
                )
                by_name.update((row[1], user_from_row(row)) for row in rows)
            await db.executemany(
                "INSERT INTO tokens (hash, user_id, prefix, created_at_us) VALUES (?, ?, ?, ?)",
                [(g.token_hash, by_name[g.user_name].id, g.token_prefix, created) for g in grants],
            )
        return [by_name[g.user_name] for g in grants]
