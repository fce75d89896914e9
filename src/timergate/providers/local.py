"""Timers kept in timergate's own store (provider ``local``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from timergate import domain
from timergate.domain import (
    After,
    EntryFilter,
    Page,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerDetails,
    TimerFilter,
    User,
)
from timergate.domain.connections import TimerOperation, capabilities
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.domain.idempotency import IDEMPOTENCY_TTL, PENDING_KEY, KeyState, Replay
from timergate.domain.timer import UNSET, Unset
from timergate.errors import NotFound
from timergate.providers.base import Changed, LogRequest, NewEntry, StartResult, StopResult
from timergate.store import StoreTransaction, TimerStore

__all__ = ["LOCAL", "LocalProvider"]

#: The provider key of timers kept in timergate's own store.
LOCAL = "local"

R = TypeVar("R")


async def _timer(tx: StoreTransaction, user: User, timer_id: str, expected: int | None) -> Timer:
    timer = await tx.get_timer(user.id, timer_id)
    if timer is None:
        raise NotFound("No timer with that id; it may have been cancelled.")
    domain.check_version("timer", timer.version, expected)
    return timer


async def _entry(
    tx: StoreTransaction, user: User, entry_id: str, expected: int | None
) -> TimeEntry:
    entry = await tx.get_entry(user.id, entry_id)
    if entry is None:
        raise NotFound("No time entry with that id; it may have been deleted.")
    domain.check_version("time entry", entry.version, expected)
    return entry


class LocalProvider:
    """:class:`~timergate.providers.base.Provider` on a :class:`TimerStore`.

    Each operation is one store transaction; a start pauses the user's other running local
    timer in the same transaction, and the database refuses a second running one.
    """

    capabilities = capabilities(native=tuple(TimerOperation))
    name = "timergate's own store"

    def __init__(self, store: TimerStore, key: str = LOCAL) -> None:
        self._store = store
        self.key = key

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def verify(self) -> None:
        return None

    async def _write(self, work: Callable[[StoreTransaction], Awaitable[R]]) -> R:
        """``work`` in one transaction, with the request's idempotency key if it has one:
        a key that already holds a result rolls everything back and answers that result."""
        pending = PENDING_KEY.get()
        async with self._store.transaction() as tx:
            if pending is not None:
                record = pending.record
                found = await tx.claim_idempotency(record, record.created_at - IDEMPOTENCY_TTL)
                if found is not None:
                    raise Replay(found)
            result = await work(tx)
            if pending is not None:
                await tx.settle_idempotency(
                    pending.record.user_id,
                    pending.record.key,
                    KeyState.DONE,
                    pending.render(result),
                )
                pending.recorded = True
            return result

    @staticmethod
    async def _pause_running(tx: StoreTransaction, user: User, now: datetime) -> list[Timer]:
        paused = [domain.pause(t, now) for t in await tx.running_timers(user.id)]
        for timer in paused:
            await tx.update_timer(timer)
        return paused

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        async def work(tx: StoreTransaction) -> StartResult:
            paused = await self._pause_running(tx, user, now)
            timer = await tx.insert_timer(
                domain.new_timer(user_id=user.id, provider=self.key, details=details, now=now)
            )
            return StartResult(timer, paused)

        return await self._write(work)

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult:
        async def work(tx: StoreTransaction) -> StartResult:
            timer = await _timer(tx, user, timer_id, expected_version)
            resumed = domain.resume(timer, now)
            if resumed is timer:
                return StartResult(timer, changed=False)
            paused = await self._pause_running(tx, user, now)
            await tx.update_timer(resumed)
            return StartResult(resumed, paused)

        return await self._write(work)

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        async def work(tx: StoreTransaction) -> Changed[Timer]:
            timer = await _timer(tx, user, timer_id, expected_version)
            paused = domain.pause(timer, now)
            if paused is not timer:
                await tx.update_timer(paused)
            return Changed(paused, paused is not timer)

        return await self._write(work)

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        async def work(tx: StoreTransaction) -> StopResult:
            timer = await _timer(tx, user, timer_id, expected_version)
            if not isinstance(description, Unset):
                timer = replace(timer, details=replace(timer.details, description=description))
            return await self._record(tx, *domain.stop(timer, now, time_zone=user.time_zone))

        return await self._write(work)

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> StopResult:
        async def work(tx: StoreTransaction) -> StopResult:
            timer = await _timer(tx, user, timer_id, expected_version)
            closed = domain.log(
                timer,
                now,
                time_zone=user.time_zone,
                description=request.description,
                entry_date=request.date,
                duration=request.duration,
                billable=request.billable,
            )
            return await self._record(tx, *closed)

        return await self._write(work)

    @staticmethod
    async def _record(tx: StoreTransaction, stopped: Timer, draft: TimeEntry) -> StopResult:
        entry = await tx.insert_entry(draft)
        stopped = replace(stopped, entry_id=entry.id)
        await tx.update_timer(stopped)
        return StopResult(stopped, entry)

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        async def work(tx: StoreTransaction) -> Timer:
            timer = await _timer(tx, user, timer_id, expected_version)
            domain.require_open(timer, "cancel")
            await tx.delete_timer(user.id, timer.id)
            return timer

        return await self._write(work)

    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[Timer]:
        async def work(tx: StoreTransaction) -> Changed[Timer]:
            timer = await _timer(tx, user, timer_id, expected_version)
            updated = domain.update(timer, changes, now)
            if updated is not timer:
                await tx.update_timer(updated)
            return Changed(updated, updated is not timer)

        return await self._write(work)

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        return await self._store.get_timer(user.id, timer_id)

    async def running_timers(self, user: User) -> list[Timer]:
        return await self._store.running_timers(user.id)

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        return await self._store.list_timers(user.id, filter, first=first, after=after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return await self._store.count_timers(user.id, filter)

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        draft = new_entry(
            user_id=user.id,
            provider=self.key,
            details=entry.details,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            duration_seconds=entry.duration_seconds,
            entry_date=entry.date,
            time_zone=user.time_zone,
            now=now,
        )
        return await self._write(lambda tx: tx.insert_entry(draft))

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        async def work(tx: StoreTransaction) -> Changed[TimeEntry]:
            entry = await _entry(tx, user, entry_id, expected_version)
            edited = edit_entry(entry, changes, time_zone=user.time_zone, now=now)
            if edited is not entry:
                await tx.update_entry(edited)
            return Changed(edited, edited is not entry)

        return await self._write(work)

    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        async def work(tx: StoreTransaction) -> TimeEntry:
            entry = await _entry(tx, user, entry_id, expected_version)
            await tx.delete_entry(user.id, entry.id)
            return entry

        return await self._write(work)

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        return await self._store.get_entry(user.id, entry_id)

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        return await self._store.list_entries(user.id, filter, first=first, after=after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        return await self._store.count_entries(user.id, filter)
