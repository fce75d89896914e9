"""The shared store: PostgreSQL through an asyncpg connection pool (the ``postgres`` extra).

``postgresql://user:password@host:5432/db`` (or ``postgres://``). Two URL options belong to
timergate: ``min_size`` and ``max_size`` size the pool (default 2 and 10 connections per
gateway process; a process runs one statement per connection at a time, so ten covers a
busy instance and leaves room under PostgreSQL's default ``max_connections`` of 100 for
several instances). Every other option goes to asyncpg (``sslmode``, server settings).

Many gateway processes may share one database:

- Migrations run at connect under an advisory lock, so instances starting together apply
  each migration once, in order, and the others wait for it.
- Write transactions run at READ COMMITTED and take a per-user advisory lock before touching a
  user's rows, so a user's read-then-write transactions (pause the running timer, start
  another) run one after another across every instance, as SQLite's ``BEGIN IMMEDIATE`` does
  for one file. Racing starts therefore neither fail on the one-running-timer index nor hit
  serialisation failures; the index stays as the last word.
- What is safe to retry is retried: a read, and the ``BEGIN`` of a transaction, when the
  connection turns out to be lost (a restarted server, a dropped idle connection), and a read
  that PostgreSQL rolled back (serialisation failure or deadlock). A transaction that failed
  midway is not replayed here: its caller decides.

Text filters use pg_trgm indexes over ``lower(… COLLATE "und-x-icu")``, which folds case across
Unicode whatever the database's locale, so the server needs ICU (as PostgreSQL's Debian, Red Hat
and Docker builds have) and the right to ``CREATE EXTENSION pg_trgm`` (a trusted extension:
the database owner may), or an administrator creates it once beforehand.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg

from timergate.domain import TokenGrant, User
from timergate.domain.clock import utc_now
from timergate.store import obscure_url
from timergate.store._connections import SQLConnections
from timergate.store._idempotency import SQLIdempotency
from timergate.store._leases import SQLLeases
from timergate.store._postgres_migrations import MIGRATIONS
from timergate.store._sql import Executor, Row, to_us
from timergate.store._sql_lists import ListQueries, like_pattern
from timergate.store._sql_store import USER_COLUMNS, SQLTimerStore, SQLTransaction, user_from_row

__all__ = ["MIGRATIONS", "PostgresTimerStore"]

T = TypeVar("T")

#: Advisory lock keys in the two-int form, apart from the per-user locks (one bigint each).
_MIGRATION_LOCK = (0x74696D65, 1)
_REVOCATION_LOCK = (0x74696D65, 2)
_ATTEMPTS = 3
_LOST_CONNECTION: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
    # What asyncpg raises when an idle connection the server closed is used before the
    # close is noticed (MagicStack/asyncpg#1069).
    asyncpg.InternalClientError,
)
#: A statement PostgreSQL rolled back whole: running it again is safe for a read.
_ROLLED_BACK: tuple[type[BaseException], ...] = (asyncpg.TransactionRollbackError,)
_PG_EPOCH = date(2000, 1, 1).toordinal()
_PLACEHOLDER = re.compile(r"\?")


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """``?`` placeholders as asyncpg's ``$1, $2, …`` (no shared SQL has a ``?`` literal)."""
    counter = iter(range(1, 1_000_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def _text_match(table: str, text: str, params: list[Any]) -> tuple[str, str]:
    # The same expressions as the trigram indexes of migration 2, so the planner can use them.
    params.extend([like_pattern(text.lower())] * 2)
    return table, (
        '(lower(description COLLATE "und-x-icu") LIKE ? '
        'OR lower(context_title COLLATE "und-x-icu") LIKE ?)'
    )


def _encode_date(value: str | date) -> tuple[int]:
    # Dates travel as ISO text in the shared SQL (SQLite stores them so).
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return (day.toordinal() - _PG_EPOCH,)


def _decode_date(value: tuple[int]) -> date:
    return date.fromordinal(value[0] + _PG_EPOCH)


def _discard(conn: asyncpg.Connection) -> None:
    """Close a connection left in an unknown state, so the pool opens a fresh one instead."""
    with contextlib.suppress(asyncpg.InterfaceError):  # already closed and given back
        conn.terminate()


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "date", schema="pg_catalog", encoder=_encode_date, decoder=_decode_date, format="tuple"
    )


async def _retrying(
    operation: Callable[[], Awaitable[T]], retry_on: tuple[type[BaseException], ...]
) -> T:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return await operation()
        except retry_on:
            if attempt == _ATTEMPTS:
                raise
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


class _ConnectionExecutor:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        rows: list[Row] = await self._conn.fetch(_numbered(sql), *params)
        return rows

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        await self._conn.execute(_numbered(sql), *params)


class _PoolExecutor:
    """Reads, each on whichever pooled connection is free, retried when safe."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        numbered = _numbered(sql)

        async def attempt() -> list[Row]:
            async with self._pool.acquire() as conn:
                try:
                    rows: list[Row] = await conn.fetch(numbered, *params)
                except _LOST_CONNECTION:
                    _discard(conn)
                    raise
                return rows

        return await _retrying(attempt, _LOST_CONNECTION + _ROLLED_BACK)

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        await self._pool.execute(_numbered(sql), *params)


class _PostgresTransaction(SQLTransaction):
    """Locks each user it touches for the rest of the transaction, before reading their rows."""

    def __init__(self, db: Executor) -> None:
        super().__init__(db)
        self._locked: set[int] = set()

    async def _scope(self, user_id: int) -> None:
        if user_id not in self._locked:
            await self._db.execute("SELECT pg_advisory_xact_lock(?)", (user_id,))
            self._locked.add(user_id)


class PostgresTimerStore(SQLTimerStore, SQLConnections, SQLIdempotency, SQLLeases):
    """:class:`~timergate.store.base.TimerStore` on PostgreSQL (``postgresql://…``)."""

    _lists = ListQueries(_text_match)

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"not a postgresql:// URL: {obscure_url(url)!r}")
        options = dict(parse_qsl(parts.query))
        try:
            self.min_size = int(options.pop("min_size", 2))
            self.max_size = int(options.pop("max_size", 10))
        except ValueError:
            raise ValueError("min_size and max_size must be whole numbers") from None
        if self.max_size < 1 or not 0 <= self.min_size <= self.max_size:
            raise ValueError("the pool needs 0 <= min_size <= max_size and max_size >= 1")
        # Plan each statement with its values: a generic plan, which asyncpg's prepared
        # statements get after five runs, cannot see a text filter's rarity or a user's
        # size, and walks a long history for a rare word (900 ms at 1M entries, not 1 ms).
        defaults = {"application_name": "timergate", "plan_cache_mode": "force_custom_plan"}
        self._server_settings = {k: v for k, v in defaults.items() if k not in options}
        self._dsn = parts._replace(scheme="postgresql", query=urlencode(options)).geturl()
        self.url = url
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return f"PostgresTimerStore({obscure_url(self.url)!r})"

    async def connect(self) -> None:
        pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self.min_size,
            max_size=self.max_size,
            init=_init_connection,
            server_settings=self._server_settings,
        )
        try:
            async with pool.acquire() as conn:
                await _migrate(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def disconnect(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the store is not connected; call connect() first")
        return self._pool

    def _reader(self) -> Executor:
        return _PoolExecutor(self._require_pool())

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Executor]:
        pool = self._require_pool()
        conn, tx = await _retrying(lambda: _begin(pool), _LOST_CONNECTION)
        try:
            try:
                yield _ConnectionExecutor(conn)
            except BaseException:
                try:
                    await tx.rollback()
                except Exception:
                    _discard(conn)  # cancelled mid-statement, or lost
                raise
            await tx.commit()
        finally:
            await pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLTransaction]:
        async with self._write() as db:
            yield _PostgresTransaction(db)

    async def _before_revoking(self, db: Executor) -> None:
        await db.execute("SELECT pg_advisory_xact_lock(?, ?)", _REVOCATION_LOCK)

    # Users and tokens.

    async def grant_tokens(self, grants: Sequence[TokenGrant], now: datetime) -> list[User]:
        created = to_us(now)
        names = list(dict.fromkeys(g.user_name for g in grants))
        async with self._require_pool().acquire() as conn, conn.transaction():
            # Arrays: provisioning thousands of users is three statements.
            await conn.execute(
                "INSERT INTO users (name, created_at_us) SELECT unnest($1::text[]), $2 "
                "ON CONFLICT (name) DO NOTHING",
                names,
                created,
            )
            rows = await conn.fetch(
                f"SELECT {USER_COLUMNS} FROM users WHERE name = ANY($1::text[])", names
            )
            by_name = {row[1]: user_from_row(row) for row in rows}
            await conn.execute(
                "INSERT INTO tokens (hash, user_id, prefix, created_at_us) "
                "SELECT h, u, p, $4 FROM unnest($1::bytea[], $2::bigint[], $3::text[]) AS g(h, u, p)",
                [g.token_hash for g in grants],
                [by_name[g.user_name].id for g in grants],
                [g.token_prefix for g in grants],
                created,
            )
        return [by_name[g.user_name] for g in grants]


async def _begin(pool: asyncpg.Pool) -> tuple[asyncpg.Connection, Any]:
    """A pooled connection with a transaction open on it (nothing has run yet: retryable)."""
    conn = await pool.acquire()
    tx = conn.transaction()
    try:
        await tx.start()
    except BaseException as exc:
        if isinstance(exc, _LOST_CONNECTION):
            _discard(conn)
        await pool.release(conn)
        raise
    return conn, tx


async def _migrate(conn: asyncpg.Connection) -> None:
    """Apply pending migrations; instances starting at once take turns on an advisory lock."""
    await conn.execute("SELECT pg_advisory_lock($1, $2)", *_MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at_us BIGINT NOT NULL)"
        )
        current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2)", version, to_us(utc_now())
                )
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", *_MIGRATION_LOCK)
