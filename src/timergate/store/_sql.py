"""Columns, row mapping and the executor seam shared by the SQL stores.

Both stores keep the same columns under the same names: instants as integer microseconds since
the Unix epoch (exact, sortable, one mapping for both), ids as 64-bit integers. SQL shared by
both stores is written with ``?`` placeholders; the PostgreSQL executor numbers them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from timergate.domain import TimeEntry, Timer, TimerContext, TimerDetails, TimerState

__all__ = [
    "ENTRY_COLUMNS",
    "TIMER_COLUMNS",
    "Executor",
    "Row",
    "SQLStoreBase",
    "entry_from_row",
    "entry_params",
    "from_us",
    "native_key",
    "timer_from_row",
    "timer_params",
    "to_us",
]

Row = Sequence[Any]


class Executor(Protocol):
    """Runs one statement written with ``?`` placeholders, on a connection or a pool."""

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]: ...
    async def execute(self, sql: str, params: Sequence[Any]) -> None: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

TIMER_COLUMNS = (
    "id, user_id, provider, state, description, context_type, context_id, context_title, "
    "tags, billable, accumulated_us, running_since_us, started_at_us, updated_at_us, version, "
    "entry_id"
)
ENTRY_COLUMNS = (
    "id, user_id, provider, timer_id, description, context_type, context_id, context_title, "
    "tags, billable, started_at_us, ended_at_us, duration_seconds, date, created_at_us, "
    "updated_at_us, version"
)


def to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch: exact, sortable and the same in every database."""
    return (value - _EPOCH) // _US


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _details(row: Sequence[Any], offset: int) -> TimerDetails:
    ctx_type, ctx_id, ctx_title, tags, billable = row[offset : offset + 5]
    return TimerDetails(
        description=row[offset - 1],
        context=TimerContext(ctx_type, ctx_id, ctx_title) if ctx_type is not None else None,
        tags=tuple(json.loads(tags)) if tags != "[]" else (),
        billable=bool(billable),
    )


def _details_params(details: TimerDetails) -> tuple[Any, ...]:
    ctx = details.context
    return (
        details.description,
        ctx.type if ctx else None,
        ctx.id if ctx else None,
        ctx.title if ctx else None,
        json.dumps(list(details.tags)),
        details.billable,
    )


def timer_from_row(row: Sequence[Any]) -> Timer:
    running_since = row[11]
    return Timer(
        id=str(row[0]),
        user_id=row[1],
        provider=row[2],
        state=TimerState(row[3]),
        details=_details(row, 5),
        accumulated=timedelta(microseconds=row[10]),
        running_since=from_us(running_since) if running_since is not None else None,
        started_at=from_us(row[12]),
        updated_at=from_us(row[13]),
        version=row[14],
        entry_id=str(row[15]) if row[15] is not None else None,
    )


def timer_params(timer: Timer) -> tuple[Any, ...]:
    """Values for every timer column after ``id``, in :data:`TIMER_COLUMNS` order."""
    return (
        timer.user_id,
        timer.provider,
        timer.state.value,
        *_details_params(timer.details),
        timer.accumulated // _US,
        to_us(timer.running_since) if timer.running_since is not None else None,
        to_us(timer.started_at),
        to_us(timer.updated_at),
        timer.version,
        int(timer.entry_id) if timer.entry_id is not None else None,
    )


def entry_from_row(row: Sequence[Any]) -> TimeEntry:
    return TimeEntry(
        id=str(row[0]),
        user_id=row[1],
        provider=row[2],
        timer_id=str(row[3]) if row[3] is not None else None,
        details=_details(row, 5),
        started_at=from_us(row[10]),
        ended_at=from_us(row[11]),
        duration_seconds=row[12],
        date=row[13] if isinstance(row[13], date) else date.fromisoformat(row[13]),
        created_at=from_us(row[14]),
        updated_at=from_us(row[15]),
        version=row[16],
    )


def entry_params(entry: TimeEntry) -> tuple[Any, ...]:
    """Values for every entry column after ``id``, in :data:`ENTRY_COLUMNS` order."""
    return (
        entry.user_id,
        entry.provider,
        int(entry.timer_id) if entry.timer_id is not None else None,
        *_details_params(entry.details),
        to_us(entry.started_at),
        to_us(entry.ended_at),
        entry.duration_seconds,
        entry.date.isoformat(),
        to_us(entry.created_at),
        to_us(entry.updated_at),
        entry.version,
    )


def native_key(value: str) -> int | None:
    """A native id as the integer key, or None when it cannot name a row."""
    # isascii(): int() would also read other scripts' digits, giving one row many ids.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


class SQLStoreBase:
    """Where a SQL store runs its statements."""

    def _reader(self) -> Executor:
        """Where reads run; raises ``RuntimeError`` before ``connect()``."""
        raise NotImplementedError

    def _write(self) -> AbstractAsyncContextManager[Executor]:
        """One write transaction: committed on success, rolled back on error."""
        raise NotImplementedError
