"""The SQL of idempotency keys, shared by both stores (``?`` placeholders, as in ``_sql.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from timergate.domain.idempotency import IdempotencyRecord, KeyState
from timergate.store._sql import Executor, Row, SQLStoreBase, from_us, to_us

__all__ = [
    "IDEMPOTENCY_TABLE",
    "SQLIdempotency",
    "claim_idempotency",
    "settle_idempotency",
]

#: The table, as SQLite and PostgreSQL both read it (integers are 64-bit in both).
IDEMPOTENCY_TABLE = """
    CREATE TABLE idempotency_keys (
        user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        operation TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('PENDING', 'DONE', 'UNKNOWN')),
        result TEXT,
        created_at_us BIGINT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at_us);
"""

_COLUMNS = "user_id, key, operation, fingerprint, state, result, created_at_us"
_MARKS = ", ".join("?" for _ in _COLUMNS.split(","))


def _record(row: Row) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=row[0],
        key=row[1],
        operation=row[2],
        fingerprint=row[3],
        state=KeyState(row[4]),
        result=row[5],
        created_at=from_us(row[6]),
    )


def _params(record: IdempotencyRecord) -> tuple[Any, ...]:
    return (
        record.user_id,
        record.key,
        record.operation,
        record.fingerprint,
        record.state.value,
        record.result,
        to_us(record.created_at),
    )


async def claim_idempotency(
    db: Executor, record: IdempotencyRecord, expired_before: datetime
) -> IdempotencyRecord | None:
    """Keep ``record``; or answer the live record already under its key, left alone."""
    old = to_us(expired_before)
    # Forget expired keys a few at a time (this one's first, if it expired).
    await db.execute(
        "DELETE FROM idempotency_keys WHERE (user_id = ? AND key = ? AND created_at_us < ?) "
        "OR (user_id, key) IN (SELECT user_id, key FROM idempotency_keys "
        "WHERE created_at_us < ? LIMIT 100)",
        (record.user_id, record.key, old, old),
    )
    taken = await db.fetch(
        f"INSERT INTO idempotency_keys ({_COLUMNS}) VALUES ({_MARKS}) "
        "ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id",
        _params(record),
    )
    if taken:
        return None
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM idempotency_keys WHERE user_id = ? AND key = ?",
        (record.user_id, record.key),
    )
    return _record(rows[0])


async def settle_idempotency(
    db: Executor, user_id: int, key: str, state: KeyState, result: str | None
) -> None:
    await db.execute(
        "UPDATE idempotency_keys SET state = ?, result = ? WHERE user_id = ? AND key = ?",
        (state.value, result, user_id, key),
    )


class SQLIdempotency(SQLStoreBase):
    """Idempotency keys outside a timer's transaction (each call its own transaction)."""

    async def get_idempotency(
        self, user_id: int, key: str, expired_before: datetime
    ) -> IdempotencyRecord | None:
        rows = await self._reader().fetch(
            f"SELECT {_COLUMNS} FROM idempotency_keys "
            "WHERE user_id = ? AND key = ? AND created_at_us >= ?",
            (user_id, key, to_us(expired_before)),
        )
        return _record(rows[0]) if rows else None

    async def claim_idempotency(
        self, record: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        async with self._write() as db:
            return await claim_idempotency(db, record, expired_before)

    async def settle_idempotency(
        self, user_id: int, key: str, state: KeyState, result: str | None
    ) -> None:
        async with self._write() as db:
            await settle_idempotency(db, user_id, key, state, result)

    async def release_idempotency(self, user_id: int, key: str) -> None:
        async with self._write() as db:
            await db.execute(
                "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, key)
            )
