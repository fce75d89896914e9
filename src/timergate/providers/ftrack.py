"""ftrack: a user's one Timer and their Timelogs, through ftrack's JSON operations API.

A user has at most one ftrack ``Timer`` (``start``, ``comment``, ``context``). Stopping it
writes a ``Timelog`` (``start``, ``duration`` in seconds, ``comment``, ``context``) and deletes
the Timer in one request, as ftrack's Python client's ``stop_timer`` does; starting while one
runs stops that one first, as ftrack's web app does, so its time is kept. ftrack has no pause:
see :mod:`timergate.providers.ftrack_paused` for how timergate keeps a paused timer. ``cancel``
deletes the Timer; entries are Timelogs.

Writes carry the ids of what they create, so a request whose answer is lost is settled by
reading before it is sent again: a timeout in the middle of a stop neither logs the time
twice nor loses it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, cast

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
from timergate.domain.entry import EntryChanges
from timergate.domain.timer import UNSET, Unset
from timergate.errors import BadUserInput, UpstreamUnavailable
from timergate.providers.base import Changed, LogRequest, NewEntry, StartResult, StopResult
from timergate.providers.ftrack_paused import PausedTimer, PausedTimers
from timergate.providers.ftrack_session import FtrackSession
from timergate.providers.ftrack_timelogs import Timelogs, refuse_tags_and_billable
from timergate.providers.ftrack_timers import (
    Found,
    FtrackTimers,
    Stopping,
    first_timer,
    whole,
)
from timergate.providers.ftrack_wire import (
    FtrackContextJSON,
    FtrackRefused,
    FtrackTimerJSON,
    Operation,
    context_json,
    create,
    decode_datetime,
    delete,
    encode_datetime,
    whole_seconds,
)
from timergate.providers.listing import page_after, timer_matches
from timergate.providers.registry import ProviderSetup
from timergate.providers.timer_book import TimerBook

__all__ = ["CAPABILITIES", "FtrackProvider", "create_provider"]

CAPABILITIES = capabilities(
    native=(
        TimerOperation.START,
        TimerOperation.STOP,
        TimerOperation.LOG,
        TimerOperation.CANCEL,
        TimerOperation.UPDATE,
        TimerOperation.CREATE_ENTRY,
        TimerOperation.UPDATE_ENTRY,
        TimerOperation.DELETE_ENTRY,
        TimerOperation.LIST_ENTRIES,
    ),
    emulated={
        TimerOperation.PAUSE: "ftrack has no pause: the ftrack Timer is deleted and timergate "
        "keeps the time worked so far until the timer resumes or stops, so ftrack never "
        "counts the pause",
        TimerOperation.RESUME: "a new ftrack Timer with the same id, its start moved back by "
        "the time already worked",
    },
    notes={
        TimerOperation.START: 'a timer belongs to a task (context {type: "Task", id}); '
        "your running ftrack timer is stopped first, its time kept as a time log, as "
        "ftrack's web app does",
        TimerOperation.STOP: "one Timelog with the time worked, written with the Timer's "
        "deletion in one request",
        TimerOperation.UPDATE: "comment and task, and the elapsed time while paused; ftrack "
        "keeps no tags or billable flag",
        TimerOperation.LIST_ENTRIES: "not by timerId: a Timelog does not say which timer made it",
    },
)


def create_provider(setup: ProviderSetup) -> FtrackProvider:
    return FtrackProvider(setup)


class FtrackProvider:
    """:class:`~timergate.providers.base.Provider` for one ftrack connection."""

    capabilities = CAPABILITIES

    def __init__(self, setup: ProviderSetup) -> None:
        self._api = FtrackSession(setup)
        self.key = self._api.key
        self.name = self._api.name
        self._clock = setup.clock
        self._timelogs = Timelogs(self._api, self.key)
        self._paused = PausedTimers(setup.state)
        self._timers = FtrackTimers(
            self._api,
            setup.clock,
            TimerBook(setup.connection.user_id, self.key),
            self._paused,
            self._timelogs,
        )
        # ftrack holds one Timer per user, and each change is several steps: one at a time.
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def verify(self) -> None:
        await self._api.verify()

    # Starting.

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        refuse_tags_and_billable(details)
        async with self._lock:
            expressions = [await self._timers.query()]
            context = details.context
            if context is not None:
                expressions.append(self._api.context_query(context, field="input.context"))
            results = await self._api.read(*expressions)
            task = (
                self._api.checked_context(context, results[1], field="input.context")
                if context is not None
                else None
            )
            return await self._create(
                user,
                str(uuid.uuid4()),
                now,
                start=whole_seconds(now),
                comment=details.description,
                context=task,
                other=first_timer(results[0]),
            )

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult:
        async with self._lock:
            found = await self._timers.current(timer_id, expected_version)
            note = found.paused
            if note is None:
                return StartResult(found.timer, changed=False)
            result = await self._create(
                user,
                note.id,
                now,
                # Back-dated by the time worked, so ftrack's own clock and stop count it all.
                start=whole_seconds(now) - note.worked,
                comment=note.details.description,
                context=context_json(note.details.context),
                name=note.name,
                other=found.other,
            )
            await self._paused.drop(note.id)
            return result

    async def _create(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        start: datetime,
        comment: str | None,
        context: FtrackContextJSON | None,
        other: FtrackTimerJSON | None,
        name: str | None = None,
    ) -> StartResult:
        """Create the user's Timer, stopping ``other`` (their running one) in the same request."""
        operations: list[Operation] = []
        stopping: Stopping | None = None
        if other is not None:
            found = Found(self._timers.observe(other, now), running=other)
            stopping = await self._timers.stopping(user, found, now)
            operations += stopping.operations
        data: dict[str, Any] = {
            "user_id": await self._api.me(),
            "context_id": context.get("id") if context else None,
            "comment": comment or "",
            "start": encode_datetime(start),
        }
        if name:
            data["name"] = name
        operations.append(create("Timer", timer_id, data))
        try:
            await self._api.commit(operations, landed=lambda: self._api.exists("Timer", timer_id))
        except FtrackRefused as refused:
            if refused.exception == "DuplicateEntryError":
                raise BadUserInput(
                    f"{self.name}: another timer was started meanwhile (in ftrack's own app?), "
                    "and ftrack keeps one per user, so nothing was started. Start again to "
                    "stop that one, keeping its time, and start this one."
                ) from None
            raise self._api.refusal(refused) from None
        raw = cast(FtrackTimerJSON, {"id": timer_id, **data, "context": context})
        timer = self._timers.observe(raw, now)
        stopped = [self._timers.stopped(stopping, user, now)] if stopping is not None else []
        return StartResult(timer, stopped=stopped)

    # Pausing.

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        async with self._lock:
            found = await self._timers.current(timer_id, expected_version)
            raw = found.running
            if raw is None:
                return Changed(found.timer, changed=False)
            start = decode_datetime(raw.get("start")) or whole_seconds(now)
            note = PausedTimer(
                id=raw["id"],
                details=found.timer.details,
                name=raw.get("name") or None,
                started_at=whole_seconds(found.timer.started_at),
                worked=whole(whole_seconds(now) - start),
                paused_at=now,
            )
            # The note first: once the Timer is gone, the note is where the time lives.
            await self._paused.put(note)
            try:
                await self._api.commit(
                    [delete("Timer", note.id)], landed=lambda: self._timers.gone(note.id)
                )
            except UpstreamUnavailable:
                raise  # may have happened: the note stays, and the Timer's presence decides
            except FtrackRefused as refused:
                await self._paused.drop(note.id)
                raise await self._timers.refusal(refused, note.id) from None
            except BaseException:
                await self._paused.drop(note.id)
                raise
            return Changed(self._timers.observe_paused(note))

    # Stopping.

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        return await self.log(
            user,
            timer_id,
            LogRequest(description=description),
            now,
            expected_version=expected_version,
        )

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> StopResult:
        if request.billable is False:
            raise BadUserInput(
                "ftrack time logs have no billable flag; leave input.billable out.",
                field="input.billable",
            )
        async with self._lock:
            found = await self._timers.current(timer_id, expected_version)
            stopping = await self._timers.stopping(user, found, now, request)
            try:
                await self._api.commit(
                    stopping.operations,
                    landed=lambda: self._api.exists("Timelog", stopping.timelog_id),
                )
            except FtrackRefused as refused:
                if found.paused is None:
                    raise await self._timers.refusal(refused, timer_id) from None
                # Refused, so nothing was logged: the next stop may choose its own id.
                await self._paused.put(found.paused.with_changes(timelog_id=None))
                raise self._api.refusal(refused) from None
            if found.paused is not None:
                await self._paused.drop(timer_id)
            return self._timers.stopped(stopping, user, now)

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        async with self._lock:
            found = await self._timers.current(timer_id, expected_version)
            if found.paused is not None:
                await self._paused.drop(timer_id)
            else:
                try:
                    await self._api.commit(
                        [delete("Timer", timer_id)], landed=lambda: self._timers.gone(timer_id)
                    )
                except FtrackRefused as refused:
                    raise await self._timers.refusal(refused, timer_id) from None
            self._timers.book.forget(timer_id)
            return found.timer

    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[Timer]:
        async with self._lock:
            found = await self._timers.current(timer_id, expected_version)
            return await self._timers.edit(found, changes)

    # Reading timers.

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        found = await self._timers.find(timer_id)
        return None if found is None else found.timer

    async def running_timers(self, user: User) -> list[Timer]:
        running = await self._timers.running()
        return [] if running is None else [self._timers.observe(running)]

    async def open_timers(self, user: User) -> list[Timer]:
        """Every running and paused timer (what polling compares)."""
        running, notes = await self._timers.open()
        timers = [self._timers.observe(running)] if running is not None else []
        return timers + [self._timers.observe_paused(note) for note in notes.values()]

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        timers = [t for t in await self.open_timers(user) if timer_matches(t, filter)]
        return page_after(timers, first, after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return sum(1 for t in await self.open_timers(user) if timer_matches(t, filter))

    # Entries: Timelogs.

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        return await self._timelogs.create(user, entry, now)

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        return await self._timelogs.update(
            user, entry_id, changes, now, expected_version=expected_version
        )

    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        return await self._timelogs.delete(user, entry_id, now, expected_version=expected_version)

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        return await self._timelogs.get(user, entry_id, self._clock.now())

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        return await self._timelogs.page(user, filter, self._clock.now(), first=first, after=after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        return await self._timelogs.count(user, filter, self._clock.now())
