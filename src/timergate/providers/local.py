"""Timers kept in timergate's own store (provider ``local``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from timergate import domain
from timergate.broker import Broker
from timergate.domain import (
    Clock,
    EntryFilter,
    Page,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerDetails,
    TimerFilter,
    User,
)
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.domain.timer import UNSET, Unset
from timergate.errors import NotFound
from timergate.providers.base import LogRequest, NewEntry, StartResult, StopResult
from timergate.store import StoreTransaction, TimerStore

__all__ = ["LocalProvider"]

_Change = tuple[TimerEventType, Timer | None, TimeEntry | None]


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

    Each operation is one store transaction; events are published after it commits.
    """

    name = "local"

    def __init__(self, store: TimerStore, broker: Broker, clock: Clock) -> None:
        self._store = store
        self._broker = broker
        self._clock = clock

    async def _publish(self, user: User, now: datetime, *events: _Change) -> None:
        """Publish committed changes (never from inside a transaction)."""
        channel = user_channel(user.id)
        for kind, timer, entry in events:
            await self._broker.publish(channel, TimerEvent(kind, user.id, now, timer, entry))

    @staticmethod
    async def _pause_running(tx: StoreTransaction, user: User, now: datetime) -> list[Timer]:
        paused = [domain.pause(t, now) for t in await tx.running_timers(user.id)]
        for timer in paused:
            await tx.update_timer(timer)
        return paused

    async def start(self, user: User, details: TimerDetails) -> StartResult:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            paused = await self._pause_running(tx, user, now)
            timer = await tx.insert_timer(
                domain.new_timer(user_id=user.id, provider=self.name, details=details, now=now)
            )
        await self._publish(
            user,
            now,
            *((TimerEventType.PAUSED, p, None) for p in paused),
            (TimerEventType.STARTED, timer, None),
        )
        return StartResult(timer, paused)

    async def resume(
        self, user: User, timer_id: str, *, expected_version: int | None = None
    ) -> StartResult:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            timer = await _timer(tx, user, timer_id, expected_version)
            resumed = domain.resume(timer, now)
            if resumed is timer:
                return StartResult(timer, [])
            paused = await self._pause_running(tx, user, now)
            await tx.update_timer(resumed)
        await self._publish(
            user,
            now,
            *((TimerEventType.PAUSED, p, None) for p in paused),
            (TimerEventType.RESUMED, resumed, None),
        )
        return StartResult(resumed, paused)

    async def pause(
        self, user: User, timer_id: str, *, expected_version: int | None = None
    ) -> Timer:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            timer = await _timer(tx, user, timer_id, expected_version)
            paused = domain.pause(timer, now)
            if paused is timer:
                return timer
            await tx.update_timer(paused)
        await self._publish(user, now, (TimerEventType.PAUSED, paused, None))
        return paused

    async def stop(
        self,
        user: User,
        timer_id: str | None,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            if timer_id is None:
                running = await tx.running_timers(user.id)
                if not running:
                    return StopResult(None, None)
                timer = running[0]
                domain.check_version("timer", timer.version, expected_version)
            else:
                timer = await _timer(tx, user, timer_id, expected_version)
            if not isinstance(description, Unset):
                timer = replace(timer, details=replace(timer.details, description=description))
            result = await self._record(tx, *domain.stop(timer, now, time_zone=user.time_zone))
        await self._publish(user, now, (TimerEventType.STOPPED, result.timer, result.entry))
        return result

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        *,
        expected_version: int | None = None,
    ) -> StopResult:
        now = self._clock.now()
        async with self._store.transaction() as tx:
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
            result = await self._record(tx, *closed)
        await self._publish(user, now, (TimerEventType.LOGGED, result.timer, result.entry))
        return result

    @staticmethod
    async def _record(tx: StoreTransaction, stopped: Timer, draft: TimeEntry) -> StopResult:
        entry = await tx.insert_entry(draft)
        stopped = replace(stopped, entry_id=entry.id)
        await tx.update_timer(stopped)
        return StopResult(stopped, entry)

    async def cancel(
        self, user: User, timer_id: str, *, expected_version: int | None = None
    ) -> Timer:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            timer = await _timer(tx, user, timer_id, expected_version)
            domain.require_open(timer, "cancel")
            await tx.delete_timer(user.id, timer.id)
        await self._publish(user, now, (TimerEventType.CANCELLED, timer, None))
        return timer

    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        *,
        expected_version: int | None = None,
    ) -> Timer:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            timer = await _timer(tx, user, timer_id, expected_version)
            updated = domain.update(timer, changes, now)
            if updated is timer:
                return timer
            await tx.update_timer(updated)
        await self._publish(user, now, (TimerEventType.UPDATED, updated, None))
        return updated

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        return await self._store.get_timer(user.id, timer_id)

    async def running_timers(self, user: User) -> list[Timer]:
        return await self._store.running_timers(user.id)

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: str | None
    ) -> Page[Timer]:
        return await self._store.list_timers(user.id, filter, first=first, after=after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return await self._store.count_timers(user.id, filter)

    async def create_entry(self, user: User, entry: NewEntry) -> TimeEntry:
        now = self._clock.now()
        draft = new_entry(
            user_id=user.id,
            provider=self.name,
            details=entry.details,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            duration_seconds=entry.duration_seconds,
            entry_date=entry.date,
            time_zone=user.time_zone,
            now=now,
        )
        async with self._store.transaction() as tx:
            created = await tx.insert_entry(draft)
        await self._publish(user, now, (TimerEventType.ENTRY_CREATED, None, created))
        return created

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        *,
        expected_version: int | None = None,
    ) -> TimeEntry:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            entry = await _entry(tx, user, entry_id, expected_version)
            edited = edit_entry(entry, changes, time_zone=user.time_zone, now=now)
            if edited is entry:
                return entry
            await tx.update_entry(edited)
        await self._publish(user, now, (TimerEventType.ENTRY_UPDATED, None, edited))
        return edited

    async def delete_entry(
        self, user: User, entry_id: str, *, expected_version: int | None = None
    ) -> TimeEntry:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            entry = await _entry(tx, user, entry_id, expected_version)
            await tx.delete_entry(user.id, entry.id)
        await self._publish(user, now, (TimerEventType.ENTRY_DELETED, None, entry))
        return entry

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        return await self._store.get_entry(user.id, entry_id)

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: str | None
    ) -> Page[TimeEntry]:
        return await self._store.list_entries(user.id, filter, first=first, after=after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        return await self._store.count_entries(user.id, filter)
