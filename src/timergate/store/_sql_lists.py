"""Lists and counts in the SQL both stores speak: filters, order, keyset cursors, counters.

Every list runs newest first, by ``started_at_us`` and then ``id``, and every filter a client
can send has an index that starts with the user (see the stores' migrations), so a page costs
the same however long a user's history grows:

- A page goes on after a place in that order (:class:`~timergate.domain.After`: the last row's
  start and id), with ``(started_at_us, id) < (?, ?)``, so a deep page reads no more rows than
  the first, and rows added or edited elsewhere never shift or repeat the pages after it.
- Counts without a narrowing filter come from ``timer_counts`` and ``entry_counts``, which
  triggers keep exact with every write; other filters count their matches through their index.
- States are written into the SQL as literals (they come from an enum, never from a client's
  text), because a partial index is only used when the query names its condition itself.
- Text is matched by each store's own index (:data:`TextMatch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from timergate.domain import After, EntryFilter, Page, TimeEntry, Timer, TimerFilter, TimerState
from timergate.errors import BadUserInput
from timergate.store._sql import (
    ENTRY_COLUMNS,
    TIMER_COLUMNS,
    Executor,
    Row,
    entry_from_row,
    native_key,
    timer_from_row,
    to_us,
)

__all__ = ["OPEN_STATES", "ListQueries", "Selection", "TextMatch", "like_pattern"]

#: The condition of the ``timers_open_by_user`` partial index, word for word: SQLite uses a
#: partial index only when the query repeats its condition.
OPEN_STATES = "state IN ('PAUSED', 'RUNNING')"
_OPEN = frozenset((TimerState.PAUSED, TimerState.RUNNING))
_ORDER = "ORDER BY started_at_us DESC, id DESC"


class Selection(NamedTuple):
    """Rows of one user a filter keeps: ``SELECT … FROM {source} WHERE {where}``.

    ``dated``: the filter bounds the rows by date, whose index should lead the plan; a cursor's
    start-time bound must not draw the planner to the start-time index instead (it would walk
    every older row when a month's last page comes up short).
    """

    source: str
    where: str
    params: list[Any]
    dated: bool = False


#: Keeps the rows of ``table`` whose description or context title contains ``text`` (any
#: case): returns the source to select from (``table``, or ``table`` with a hint for the
#: planner) and a condition, appending the condition's parameters to ``params``.
TextMatch = Callable[[str, str, list[Any]], tuple[str, str]]

Item = TypeVar("Item", Timer, TimeEntry)


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) finding ``text`` anywhere, % and _ literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _states(states: Sequence[TimerState]) -> str | None:
    """The state condition for a filter, or None when it keeps every state."""
    chosen = sorted(set(states))
    if not chosen or len(chosen) == len(TimerState):
        return None
    if chosen == [TimerState.RUNNING]:
        # Both partial indexes' conditions: the open one also serves the order and a cursor.
        return f"{OPEN_STATES} AND state = 'RUNNING'"
    literals = ", ".join(f"'{TimerState(state).value}'" for state in chosen)
    listed = f"state IN ({literals})"
    if set(chosen) == _OPEN:
        return OPEN_STATES
    return f"{OPEN_STATES} AND {listed}" if set(chosen) <= _OPEN else listed


class ListQueries:
    """The list and count queries of one store, given how that store matches text."""

    def __init__(self, text_match: TextMatch) -> None:
        self._text_match = text_match

    def timers(self, user_id: int, f: TimerFilter) -> Selection:
        """The user's timers ``f`` keeps."""
        clauses = ["user_id = ?"]
        params: list[Any] = [user_id]
        states = _states(f.states)
        if states is not None:
            clauses.append(states)
        source = self._common(
            "timers", f.provider, f.context_type, f.context_id, f.text, clauses, params
        )
        if f.started_from is not None:
            clauses.append("started_at_us >= ?")
            params.append(to_us(f.started_from))
        if f.started_to is not None:
            clauses.append("started_at_us < ?")
            params.append(to_us(f.started_to))
        return Selection(source, " AND ".join(clauses), params)

    def entries(self, user_id: int, f: EntryFilter) -> Selection:
        """The user's entries ``f`` keeps."""
        clauses = ["user_id = ?"]
        params: list[Any] = [user_id]
        source = self._common(
            "time_entries", f.provider, f.context_type, f.context_id, f.text, clauses, params
        )
        if f.date_from is not None:
            clauses.append("date >= ?")
            params.append(f.date_from.isoformat())
        if f.date_to is not None:
            clauses.append("date <= ?")
            params.append(f.date_to.isoformat())
        if f.timer_id is not None:
            clauses.append("timer_id = ?")
            native = native_key(f.timer_id)
            params.append(-1 if native is None else native)
        dated = f.date_from is not None or f.date_to is not None
        return Selection(source, " AND ".join(clauses), params, dated)

    def _common(
        self,
        table: str,
        provider: str | None,
        context_type: str | None,
        context_id: str | None,
        text: str | None,
        clauses: list[str],
        params: list[Any],
    ) -> str:
        """Adds the conditions both lists share; returns the source to select from."""
        for column, value in (
            ("provider", provider),
            ("context_type", context_type),
            ("context_id", context_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if not text:
            return table
        source, condition = self._text_match(table, text, params)
        clauses.append(condition)
        return source

    async def list_timers(
        self, db: Executor, user_id: int, f: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        return await _page(db, self.timers(user_id, f), TIMER_COLUMNS, first, after, timer_from_row)

    async def list_entries(
        self, db: Executor, user_id: int, f: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        return await _page(
            db, self.entries(user_id, f), ENTRY_COLUMNS, first, after, entry_from_row
        )

    async def count_timers(self, db: Executor, user_id: int, f: TimerFilter) -> int:
        narrowing = (f.context_type, f.context_id, f.started_from, f.started_to, f.text or None)
        if any(value is not None for value in narrowing):
            return await _count(db, self.timers(user_id, f))
        clauses = ["user_id = ?"]
        params: list[Any] = [user_id]
        if f.provider is not None:
            clauses.append("provider = ?")
            params.append(f.provider)
        states = _states(f.states)
        if states is not None:
            clauses.append(states)
        return await _scalar(
            db,
            f"SELECT COALESCE(SUM(n), 0) FROM timer_counts WHERE {' AND '.join(clauses)}",
            params,
        )

    async def count_entries(self, db: Executor, user_id: int, f: EntryFilter) -> int:
        narrowing = (f.context_type, f.context_id, f.date_from, f.date_to, f.text or None)
        if f.timer_id is not None or any(value is not None for value in narrowing):
            return await _count(db, self.entries(user_id, f))
        sql = "SELECT COALESCE(SUM(n), 0) FROM entry_counts WHERE user_id = ?"
        params: list[Any] = [user_id]
        if f.provider is not None:
            sql += " AND provider = ?"
            params.append(f.provider)
        return await _scalar(db, sql, params)


async def _scalar(db: Executor, sql: str, params: list[Any]) -> int:
    (row,) = await db.fetch(sql, params)
    return int(row[0])


async def _count(db: Executor, rows: Selection) -> int:
    return await _scalar(db, f"SELECT COUNT(*) FROM {rows.source} WHERE {rows.where}", rows.params)


async def _page(
    db: Executor,
    rows: Selection,
    columns: str,
    first: int,
    after: After | None,
    from_row: Callable[[Row], Item],
) -> Page[Item]:
    where: str = rows.where
    params: list[Any] = rows.params
    if after is not None:
        # Unary + keeps a column's value but not its index (in both databases).
        started, row_id = ("+started_at_us", "+id") if rows.dated else ("started_at_us", "id")
        at = to_us(after.at)
        if after.id is None:  # the last row seen was another provider's
            where += f" AND {started} {'<=' if after.inclusive else '<'} ?"
            params = [*params, at]
        else:
            native = native_key(after.id)
            if native is None:
                raise BadUserInput(
                    "after is not a cursor from this API; use pageInfo.endCursor.", field="after"
                )
            where += f" AND ({started}, {row_id}) < (?, ?)"
            params = [*params, at, native]
    found = await db.fetch(
        f"SELECT {columns} FROM {rows.source} WHERE {where} {_ORDER} LIMIT ?",
        [*params, first + 1],
    )
    return Page([from_row(row) for row in found[:first]], len(found) > first)
