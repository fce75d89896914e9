"""What the SQL stores share: timer and entry rows in a transaction, reads, users and tokens.

A store supplies where reads run (``_reader``) and write transactions (``_write``); the SQL
here, written once with ``?`` placeholders, serves both. Vendor connections' SQL lives in
``_connections.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from timergate.domain import (
    After,
    EntryFilter,
    Page,
    Revocation,
    TimeEntry,
    Timer,
    TimerFilter,
    User,
)
from timergate.domain.clock import utc_now
from timergate.domain.idempotency import IdempotencyRecord, KeyState
from timergate.errors import NotFound
from timergate.store._idempotency import claim_idempotency, settle_idempotency
from timergate.store._sql import (
    ENTRY_COLUMNS,
    TIMER_COLUMNS,
    Executor,
    Row,
    SQLStoreBase,
    entry_from_row,
    entry_params,
    from_us,
    native_key,
    timer_from_row,
    timer_params,
    to_us,
)
from timergate.store._sql_lists import ListQueries

__all__ = [
    "REVOCATION_LOG_KEEP",
    "USER_COLUMNS",
    "SQLTimerStore",
    "SQLTransaction",
    "user_from_row",
]

#: How long the revocation log keeps an entry: far longer than any gateway goes without polling.
REVOCATION_LOG_KEEP = timedelta(days=1)

USER_COLUMNS = "id, name, time_zone, created_at_us"
_TIMER_NAMES = TIMER_COLUMNS.partition(", ")[2]
_ENTRY_NAMES = ENTRY_COLUMNS.partition(", ")[2]
_TIMER_MARKS = ", ".join("?" for _ in _TIMER_NAMES.split(","))
_ENTRY_MARKS = ", ".join("?" for _ in _ENTRY_NAMES.split(","))
_TIMER_SET = ", ".join(f"{c.strip()} = ?" for c in _TIMER_NAMES.split(","))
_ENTRY_SET = ", ".join(f"{c.strip()} = ?" for c in _ENTRY_NAMES.split(","))


def user_from_row(row: Row) -> User:
    return User(id=row[0], name=row[1], time_zone=row[2], created_at=from_us(row[3]))


class SQLTransaction:
    """:class:`~timergate.store.base.StoreTransaction` over one executor.

    Outside a transaction the same methods serve as plain reads.
    """

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def _scope(self, user_id: int) -> None:
        """Called before a user's rows are touched; a store may serialise per user here."""

    async def _one(self, sql: str, params: Sequence[Any]) -> Row | None:
        rows = await self._db.fetch(sql, params)
        return rows[0] if rows else None

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None:
        await self._scope(user_id)
        native = native_key(timer_id)
        if native is None:
            return None
        row = await self._one(
            f"SELECT {TIMER_COLUMNS} FROM timers WHERE id = ? AND user_id = ?", (native, user_id)
        )
        return timer_from_row(row) if row else None

    async def running_timers(self, user_id: int) -> list[Timer]:
        await self._scope(user_id)
        rows = await self._db.fetch(
            f"SELECT {TIMER_COLUMNS} FROM timers WHERE user_id = ? AND state = 'RUNNING'",
            (user_id,),
        )
        return [timer_from_row(r) for r in rows]

    async def insert_timer(self, timer: Timer) -> Timer:
        await self._scope(timer.user_id)
        row = await self._one(
            f"INSERT INTO timers ({_TIMER_NAMES}) VALUES ({_TIMER_MARKS}) RETURNING id",
            timer_params(timer),
        )
        assert row is not None
        return replace(timer, id=str(row[0]))

    async def update_timer(self, timer: Timer) -> None:
        await self._scope(timer.user_id)
        await self._db.execute(
            f"UPDATE timers SET {_TIMER_SET} WHERE id = ? AND user_id = ?",
            (*timer_params(timer), int(timer.id), timer.user_id),
        )

    async def delete_timer(self, user_id: int, timer_id: str) -> None:
        await self._scope(user_id)
        native = native_key(timer_id)
        if native is not None:
            await self._db.execute(
                "DELETE FROM timers WHERE id = ? AND user_id = ?", (native, user_id)
            )

    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None:
        await self._scope(user_id)
        native = native_key(entry_id)
        if native is None:
            return None
        row = await self._one(
            f"SELECT {ENTRY_COLUMNS} FROM time_entries WHERE id = ? AND user_id = ?",
            (native, user_id),
        )
        return entry_from_row(row) if row else None

    async def insert_entry(self, entry: TimeEntry) -> TimeEntry:
        await self._scope(entry.user_id)
        row = await self._one(
            f"INSERT INTO time_entries ({_ENTRY_NAMES}) VALUES ({_ENTRY_MARKS}) RETURNING id",
            entry_params(entry),
        )
        assert row is not None
        return replace(entry, id=str(row[0]))

    async def update_entry(self, entry: TimeEntry) -> None:
        await self._scope(entry.user_id)
        await self._db.execute(
            f"UPDATE time_entries SET {_ENTRY_SET} WHERE id = ? AND user_id = ?",
            (*entry_params(entry), int(entry.id), entry.user_id),
        )

    async def delete_entry(self, user_id: int, entry_id: str) -> None:
        await self._scope(user_id)
        native = native_key(entry_id)
        if native is None:
            return
        await self._db.execute(
            "DELETE FROM time_entries WHERE id = ? AND user_id = ?", (native, user_id)
        )
        await self._db.execute(
            "UPDATE timers SET entry_id = NULL WHERE user_id = ? AND entry_id = ?",
            (user_id, native),
        )

    async def claim_idempotency(
        self, record: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        return await claim_idempotency(self._db, record, expired_before)

    async def settle_idempotency(
        self, user_id: int, key: str, state: KeyState, result: str | None
    ) -> None:
        await settle_idempotency(self._db, user_id, key, state, result)


class SQLTimerStore(SQLStoreBase):
    """Reads, users and tokens of a SQL store; a subclass connects and grants tokens."""

    _lists: ClassVar[ListQueries]

    async def _before_revoking(self, db: Executor) -> None:
        """Called first in a revocation's transaction: a store whose writers run side by side
        makes revocations commit in ``seq`` order here, so no watcher skips one."""

    async def ping(self) -> None:
        """Answers when the database does; raises ``RuntimeError`` before ``connect()``."""
        await self._reader().fetch("SELECT 1", ())

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None:
        return await SQLTransaction(self._reader()).get_timer(user_id, timer_id)

    async def running_timers(self, user_id: int) -> list[Timer]:
        return await SQLTransaction(self._reader()).running_timers(user_id)

    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None:
        return await SQLTransaction(self._reader()).get_entry(user_id, entry_id)

    async def list_timers(
        self, user_id: int, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        return await self._lists.list_timers(
            self._reader(), user_id, filter, first=first, after=after
        )

    async def count_timers(self, user_id: int, filter: TimerFilter) -> int:
        return await self._lists.count_timers(self._reader(), user_id, filter)

    async def list_entries(
        self, user_id: int, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        return await self._lists.list_entries(
            self._reader(), user_id, filter, first=first, after=after
        )

    async def count_entries(self, user_id: int, filter: EntryFilter) -> int:
        return await self._lists.count_entries(self._reader(), user_id, filter)

    async def user_for_token(self, token_hash: bytes) -> User | None:
        rows = await self._reader().fetch(
            "SELECT u.id, u.name, u.time_zone, u.created_at_us FROM tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
            (token_hash,),
        )
        return user_from_row(rows[0]) if rows else None

    async def set_time_zone(self, user_id: int, time_zone: str) -> User:
        async with self._write() as db:
            rows = await db.fetch(
                f"UPDATE users SET time_zone = ? WHERE id = ? RETURNING {USER_COLUMNS}",
                (time_zone, user_id),
            )
        if not rows:
            raise NotFound("No such user.")
        return user_from_row(rows[0])

    async def revoke_tokens(self, token_hashes: Sequence[bytes]) -> int:
        revoked = 0
        now = to_us(utc_now())
        async with self._write() as db:
            await self._before_revoking(db)
            for token_hash in token_hashes:
                if await db.fetch(
                    "DELETE FROM tokens WHERE hash = ? RETURNING hash", (token_hash,)
                ):
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

    async def last_revocation(self) -> int:
        rows = await self._reader().fetch("SELECT COALESCE(MAX(seq), 0) FROM token_revocations", ())
        return int(rows[0][0])

    async def revocations_after(self, seq: int) -> list[Revocation]:
        rows = await self._reader().fetch(
            "SELECT seq, token_hash, revoked_at_us FROM token_revocations WHERE seq > ? "
            "ORDER BY seq",
            (seq,),
        )
        return [Revocation(row[0], bytes(row[1]), from_us(row[2])) for row in rows]
