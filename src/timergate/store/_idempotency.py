"""The SQL of idempotency keys, shared in intent by the SQL stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from timergate.domain.idempotency import IdempotencyRecord, KeyState
from timergate.store._sql import from_us

__all__ = ["IDEMPOTENCY_COLUMNS", "IDEMPOTENCY_TABLE", "record_from_row", "record_params"]

IDEMPOTENCY_TABLE = """
    CREATE TABLE idempotency_keys (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        operation TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('PENDING', 'DONE', 'UNKNOWN')),
        result TEXT,
        created_at_us INTEGER NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at_us);
"""

IDEMPOTENCY_COLUMNS = "user_id, key, operation, fingerprint, state, result, created_at_us"


def record_from_row(row: Sequence[Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=row[0],
        key=row[1],
        operation=row[2],
        fingerprint=row[3],
        state=KeyState(row[4]),
        result=row[5],
        created_at=from_us(row[6]),
    )


def record_params(record: IdempotencyRecord, created_at_us: int) -> tuple[Any, ...]:
    return (
        record.user_id,
        record.key,
        record.operation,
        record.fingerprint,
        record.state.value,
        record.result,
        created_at_us,
    )
