"""The embedded store: SQLite through aiosqlite, in WAL mode.

Durability: WAL with ``synchronous=NORMAL`` by default. A committed transaction survives a
crash of timergate itself; a power cut or OS crash may lose the last moments of commits (never
corrupting the file). Add ``?synchronous=FULL`` to the URL to fsync on every commit instead.

Writes go through one connection, serialised in-process by a lock and across processes by
``BEGIN IMMEDIATE`` (so a read-then-write transaction never fails with ``SQLITE_BUSY``
midway). Reads use a second connection and never wait for writers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiosqlite

from timergate.domain import (
    After,
    EntryFilter,
    Page,
    Revocation,
    TimeEntry,
    Timer,
    TimerFilter,
    TokenGrant,
    User,
)
from timergate.domain.clock import utc_now
from timergate.domain.connections import Connection, ConnectionStatus, ProviderKind
from timergate.domain.idempotency import IdempotencyRecord, KeyState
from timergate.errors import BadUserInput, NotFound
from timergate.store._connections import (
    CONNECTION_COLUMNS,
    CONNECTIONS_TABLE,
    connection_from_row,
)
from timergate.store._idempotency import (
    IDEMPOTENCY_COLUMNS,
    IDEMPOTENCY_TABLE,
    record_from_row,
    record_params,
)
from timergate.store._sql import (
    ENTRY_COLUMNS,
    TIMER_COLUMNS,
    entry_from_row,
    entry_params,
    entry_where,
    from_us,
    native_key,
    timer_from_row,
    timer_params,
    timer_where,
    to_us,
)
from timergate.store._stable_ids import NEVER_REUSE_IDS

__all__ = ["SQLiteTimerStore"]

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
    IDEMPOTENCY_TABLE,
    NEVER_REUSE_IDS,
)

#: How long the revocation log keeps an entry: far longer than any gateway goes without polling.
REVOCATION_LOG_KEEP = timedelta(days=1)

_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}
_TIMER_PARAMS = ", ".join("?" for _ in TIMER_COLUMNS.split(",")[1:])
_ENTRY_PARAMS = ", ".join("?" for _ in ENTRY_COLUMNS.split(",")[1:])
_TIMER_SET = ", ".join(f"{c.strip()} = ?" for c in TIMER_COLUMNS.split(",")[1:])
_ENTRY_SET = ", ".join(f"{c.strip()} = ?" for c in ENTRY_COLUMNS.split(",")[1:])
_USER_COLUMNS = "id, name, time_zone, created_at_us"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _user(row: Sequence[Any]) -> User:
    return User(id=row[0], name=row[1], time_zone=row[2], created_at=from_us(row[3]))


class _SQLiteTransaction:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def _one(self, sql: str, params: Sequence[Any]) -> Any:
        rows = await self._db.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None:
        native = native_key(timer_id)
        if native is None:
            return None
        row = await self._one(
            f"SELECT {TIMER_COLUMNS} FROM timers WHERE id = ? AND user_id = ?", (native, user_id)
        )
        return timer_from_row(row) if row else None

    async def running_timers(self, user_id: int) -> list[Timer]:
        rows = await self._db.execute_fetchall(
            f"SELECT {TIMER_COLUMNS} FROM timers WHERE user_id = ? AND state = 'RUNNING'",
            (user_id,),
        )
        return [timer_from_row(r) for r in rows]

    async def insert_timer(self, timer: Timer) -> Timer:
        row = await self._one(
            f"INSERT INTO timers ({TIMER_COLUMNS.partition(', ')[2]}) VALUES ({_TIMER_PARAMS}) "
            "RETURNING id",
            timer_params(timer),
        )
        return Timer(**{**_fields(timer), "id": str(row[0])})

    async def update_timer(self, timer: Timer) -> None:
        await self._db.execute(
            f"UPDATE timers SET {_TIMER_SET} WHERE id = ? AND user_id = ?",
            (*timer_params(timer), int(timer.id), timer.user_id),
        )

    async def delete_timer(self, user_id: int, timer_id: str) -> None:
        await self._db.execute(
            "DELETE FROM timers WHERE id = ? AND user_id = ?", (int(timer_id), user_id)
        )

    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None:
        native = native_key(entry_id)
        if native is None:
            return None
        row = await self._one(
            f"SELECT {ENTRY_COLUMNS} FROM time_entries WHERE id = ? AND user_id = ?",
            (native, user_id),
        )
        return entry_from_row(row) if row else None

    async def insert_entry(self, entry: TimeEntry) -> TimeEntry:
        row = await self._one(
            f"INSERT INTO time_entries ({ENTRY_COLUMNS.partition(', ')[2]}) "
            f"VALUES ({_ENTRY_PARAMS}) RETURNING id",
            entry_params(entry),
        )
        return TimeEntry(**{**_fields(entry), "id": str(row[0])})

    async def update_entry(self, entry: TimeEntry) -> None:
        await self._db.execute(
            f"UPDATE time_entries SET {_ENTRY_SET} WHERE id = ? AND user_id = ?",
            (*entry_params(entry), int(entry.id), entry.user_id),
        )

    async def delete_entry(self, user_id: int, entry_id: str) -> None:
        native = int(entry_id)
        await self._db.execute(
            "DELETE FROM time_entries WHERE id = ? AND user_id = ?", (native, user_id)
        )
        await self._db.execute(
            "UPDATE timers SET entry_id = NULL WHERE entry_id = ? AND user_id = ?",
            (native, user_id),
        )

    async def claim_idempotency(
        self, record: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        old = to_us(expired_before)
        # Forget expired keys a few at a time, this one's first if it has expired.
        await self._db.execute(
            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys "
            "WHERE created_at_us < ? LIMIT 100) OR (user_id = ? AND key = ? AND created_at_us < ?)",
            (old, record.user_id, record.key, old),
        )
        marks = ", ".join("?" for _ in IDEMPOTENCY_COLUMNS.split(","))
        taken = await self._one(
            f"INSERT INTO idempotency_keys ({IDEMPOTENCY_COLUMNS}) VALUES ({marks}) "
            "ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id",
            record_params(record, to_us(record.created_at)),
        )
        if taken is not None:
            return None
        row = await self._one(
            f"SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE user_id = ? AND key = ?",
            (record.user_id, record.key),
        )
        return record_from_row(row)

    async def settle_idempotency(
        self, user_id: int, key: str, state: KeyState, result: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE idempotency_keys SET state = ?, result = ? WHERE user_id = ? AND key = ?",
            (state.value, result, user_id, key),
        )


def _fields(obj: Timer | TimeEntry) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


class SQLiteTimerStore:
    """:class:`~timergate.store.base.TimerStore` on a SQLite file (``sqlite:///path.db``)."""

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
        self._reader: aiosqlite.Connection | None = None
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
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._migrate(self._writer)
        self._reader = await self._open()

    async def ping(self) -> None:
        await self._db.execute_fetchall("SELECT 1")

    async def disconnect(self) -> None:
        for db in (self._reader, self._writer):
            if db is not None:
                await db.close()
        self._reader = self._writer = None

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
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
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (version, to_us(utc_now()))
                )
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise

    @property
    def _db(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("the store is not connected; call connect() first")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SQLiteTransaction]:
        if self._writer is None:
            raise RuntimeError("the store is not connected; call connect() first")
        db = self._writer
        async with self._write_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteTransaction(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # Reads, outside any write transaction.

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None:
        return await _SQLiteTransaction(self._db).get_timer(user_id, timer_id)

    async def running_timers(self, user_id: int) -> list[Timer]:
        return await _SQLiteTransaction(self._db).running_timers(user_id)

    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None:
        return await _SQLiteTransaction(self._db).get_entry(user_id, entry_id)

    async def list_timers(
        self, user_id: int, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        rows = await self._page(
            "timers", TIMER_COLUMNS, *timer_where(user_id, filter), first, after
        )
        return Page([timer_from_row(r) for r in rows[:first]], len(rows) > first)

    async def count_timers(self, user_id: int, filter: TimerFilter) -> int:
        where, params = timer_where(user_id, filter)
        rows = await self._db.execute_fetchall(f"SELECT COUNT(*) FROM timers WHERE {where}", params)
        return int(next(iter(rows))[0])

    async def list_entries(
        self, user_id: int, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        rows = await self._page(
            "time_entries", ENTRY_COLUMNS, *entry_where(user_id, filter), first, after
        )
        return Page([entry_from_row(r) for r in rows[:first]], len(rows) > first)

    async def count_entries(self, user_id: int, filter: EntryFilter) -> int:
        where, params = entry_where(user_id, filter)
        rows = await self._db.execute_fetchall(
            f"SELECT COUNT(*) FROM time_entries WHERE {where}", params
        )
        return int(next(iter(rows))[0])

    async def _page(
        self,
        table: str,
        columns: str,
        where: str,
        params: list[Any],
        first: int,
        after: After | None,
    ) -> list[Any]:
        if after is not None:
            at = to_us(after.at)
            if after.id is None:
                where += f" AND started_at_us {'<=' if after.inclusive else '<'} ?"
                params = [*params, at]
            else:
                position = native_key(after.id)
                if position is None:
                    raise BadUserInput(
                        "after is not a cursor from this API; use pageInfo.endCursor.",
                        field="after",
                    )
                where += " AND (started_at_us < ? OR (started_at_us = ? AND id < ?))"
                params = [*params, at, at, position]
        return list(
            await self._db.execute_fetchall(
                f"SELECT {columns} FROM {table} WHERE {where} "
                "ORDER BY started_at_us DESC, id DESC LIMIT ?",
                [*params, first + 1],
            )
        )

    # Users and tokens.

    async def user_for_token(self, token_hash: bytes) -> User | None:
        rows = await self._db.execute_fetchall(
            "SELECT u.id, u.name, u.time_zone, u.created_at_us FROM tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
            (token_hash,),
        )
        row = next(iter(rows), None)
        return _user(row) if row else None

    async def get_user(self, user_id: int) -> User | None:
        rows = await self._db.execute_fetchall(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)
        )
        row = next(iter(rows), None)
        return _user(row) if row else None

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
                    f"SELECT {_USER_COLUMNS} FROM users WHERE name IN ({marks})", chunk
                )
                by_name.update((row[1], _user(row)) for row in rows)
            await db.executemany(
                "INSERT INTO tokens (hash, user_id, prefix, created_at_us) VALUES (?, ?, ?, ?)",
                [(g.token_hash, by_name[g.user_name].id, g.token_prefix, created) for g in grants],
            )
        return [by_name[g.user_name] for g in grants]

    async def revoke_tokens(self, token_hashes: Sequence[bytes]) -> int:
        revoked = 0
        now = to_us(utc_now())
        async with self.transaction():
            db = self._writer
            assert db is not None
            for token_hash in token_hashes:
                rows = await db.execute_fetchall(
                    "DELETE FROM tokens WHERE hash = ? RETURNING hash", (token_hash,)
                )
                if list(rows):
                    revoked += 1
                    await db.execute(
                        "INSERT INTO token_revocations (token_hash, revoked_at_us) VALUES (?, ?)",
                        (token_hash, now),
                    )
            await db.execute(
                "DELETE FROM token_revocations WHERE revoked_at_us < ?",
                (now - REVOCATION_LOG_KEEP // timedelta(microseconds=1),),
            )
        return revoked

    # Vendor connections.

    async def add_connection(
        self,
        user_id: int,
        kind: ProviderKind,
        label: str | None,
        base_url: str,
        sealed_credentials: bytes,
        now: datetime,
    ) -> Connection:
        at = to_us(now)
        async with self.transaction():
            assert self._writer is not None
            rows = await self._writer.execute_fetchall(
                "INSERT INTO connections (user_id, kind, label, base_url, credentials, status, "
                f"created_at_us, updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                f"RETURNING {CONNECTION_COLUMNS}",
                (user_id, kind.value, label, base_url, sealed_credentials, "ACTIVE", at, at),
            )
        return connection_from_row(next(iter(rows)))

    async def list_connections(self, user_id: int) -> list[Connection]:
        rows = await self._db.execute_fetchall(
            f"SELECT {CONNECTION_COLUMNS} FROM connections WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [connection_from_row(r) for r in rows]

    async def get_connection(
        self, user_id: int, connection_id: int
    ) -> tuple[Connection, bytes] | None:
        rows = await self._db.execute_fetchall(
            f"SELECT {CONNECTION_COLUMNS}, credentials FROM connections "
            "WHERE id = ? AND user_id = ?",
            (connection_id, user_id),
        )
        row = next(iter(rows), None)
        return (connection_from_row(row), bytes(row[-1])) if row else None

    async def update_connection(
        self,
        user_id: int,
        connection_id: int,
        now: datetime,
        *,
        status: ConnectionStatus | None = None,
        sealed_credentials: bytes | None = None,
    ) -> Connection | None:
        async with self.transaction():
            assert self._writer is not None
            rows = await self._writer.execute_fetchall(
                "UPDATE connections SET status = COALESCE(?, status), "
                "credentials = COALESCE(?, credentials), updated_at_us = ? "
                f"WHERE id = ? AND user_id = ? RETURNING {CONNECTION_COLUMNS}",
                (
                    status.value if status else None,
                    sealed_credentials,
                    to_us(now),
                    connection_id,
                    user_id,
                ),
            )
        row = next(iter(rows), None)
        return connection_from_row(row) if row else None

    async def remove_connection(self, user_id: int, connection_id: int) -> bool:
        async with self.transaction():
            assert self._writer is not None
            rows = await self._writer.execute_fetchall(
                "DELETE FROM connections WHERE id = ? AND user_id = ? RETURNING id",
                (connection_id, user_id),
            )
        return bool(list(rows))

    # Idempotency keys.

    async def get_idempotency(
        self, user_id: int, key: str, expired_before: datetime
    ) -> IdempotencyRecord | None:
        rows = await self._db.execute_fetchall(
            f"SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency_keys "
            "WHERE user_id = ? AND key = ? AND created_at_us >= ?",
            (user_id, key, to_us(expired_before)),
        )
        row = next(iter(rows), None)
        return record_from_row(row) if row else None

    async def claim_idempotency(
        self, record: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        async with self.transaction() as tx:
            return await tx.claim_idempotency(record, expired_before)

    async def settle_idempotency(
        self, user_id: int, key: str, state: KeyState, result: str | None
    ) -> None:
        async with self.transaction() as tx:
            await tx.settle_idempotency(user_id, key, state, result)

    async def release_idempotency(self, user_id: int, key: str) -> None:
        async with self.transaction():
            assert self._writer is not None
            await self._writer.execute(
                "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, key)
            )

    async def get_provider_state(self, connection_id: int, key: str) -> str | None:
        rows = await self._db.execute_fetchall(
            "SELECT value FROM provider_state WHERE connection_id = ? AND key = ?",
            (connection_id, key),
        )
        row = next(iter(rows), None)
        return str(row[0]) if row else None

    async def put_provider_state(self, connection_id: int, key: str, value: str | None) -> None:
        async with self.transaction():
            assert self._writer is not None
            if value is None:
                await self._writer.execute(
                    "DELETE FROM provider_state WHERE connection_id = ? AND key = ?",
                    (connection_id, key),
                )
            else:
                await self._writer.execute(
                    "INSERT INTO provider_state (connection_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (connection_id, key) DO UPDATE SET value = excluded.value",
                    (connection_id, key, value),
                )

    async def reseal_credentials(self, reseal: Callable[[bytes], bytes]) -> int:
        async with self.transaction():
            assert self._writer is not None
            rows = list(
                await self._writer.execute_fetchall("SELECT id, credentials FROM connections")
            )
            await self._writer.executemany(
                "UPDATE connections SET credentials = ? WHERE id = ?",
                [(reseal(bytes(row[1])), row[0]) for row in rows],
            )
        return len(rows)

    async def last_revocation(self) -> int:
        rows = await self._db.execute_fetchall(
            "SELECT COALESCE(MAX(seq), 0) FROM token_revocations"
        )
        return int(next(iter(rows))[0])

    async def revocations_after(self, seq: int) -> list[Revocation]:
        rows = await self._db.execute_fetchall(
            "SELECT seq, token_hash, revoked_at_us FROM token_revocations WHERE seq > ? "
            "ORDER BY seq",
            (seq,),
        )
        return [Revocation(row[0], bytes(row[1]), from_us(row[2])) for row in rows]

    async def set_time_zone(self, user_id: int, time_zone: str) -> User:
        async with self.transaction():
            assert self._writer is not None
            rows = await self._writer.execute_fetchall(
                f"UPDATE users SET time_zone = ? WHERE id = ? RETURNING {_USER_COLUMNS}",
                (time_zone, user_id),
            )
        row = next(iter(rows), None)
        if row is None:
            raise NotFound("No such user.")
        return _user(row)
