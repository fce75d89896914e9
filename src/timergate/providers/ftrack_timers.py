"""A connection's ftrack timers as they stand: the one running in ftrack, and those paused in
timergate's notes; what a stop of one writes, and edits of one.

ftrack allows a user one Timer, so reading "the running timer" and reading a timer by id are
the same query. Versions come from a :class:`~timergate.providers.timer_book.TimerBook`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from timergate.domain import (
    Clock,
    Timer,
    TimerChanges,
    TimerDetails,
    TimerState,
    User,
    changed_details,
    check_version,
)
from timergate.domain.timer import Unset
from timergate.errors import InvalidTransition, NotFound, TimergateError
from timergate.providers.base import Changed, LogRequest, StopResult
from timergate.providers.ftrack_paused import PausedTimer, PausedTimers
from timergate.providers.ftrack_session import FtrackSession
from timergate.providers.ftrack_timelogs import Timelogs, refuse_tags_and_billable
from timergate.providers.ftrack_wire import (
    TIMER_FIELDS,
    FtrackContextJSON,
    FtrackRefused,
    FtrackTimerJSON,
    Operation,
    context_json,
    context_key,
    context_of,
    decode_datetime,
    delete,
    is_ftrack_id,
    on_day,
    quoted,
    timer_snapshot,
    update,
    whole_seconds,
)
from timergate.providers.timer_book import TimerBook

__all__ = ["GONE", "MISSING", "Found", "FtrackTimers", "Stopping", "first_timer", "whole"]

MISSING = "No timer with that id; it may have been stopped or discarded."
GONE = "No timer with that id any more: it was stopped or deleted in ftrack meanwhile."


def whole(span: timedelta) -> timedelta:
    """``span`` in whole seconds, never negative (ftrack counts whole seconds)."""
    return timedelta(seconds=max(int(span.total_seconds()), 0))


@dataclass(frozen=True, slots=True)
class Found:
    """A timer as it stands: running in ftrack (``running``) or paused here (``paused``)."""

    timer: Timer
    running: FtrackTimerJSON | None = None
    paused: PausedTimer | None = None
    #: The user's running ftrack Timer when it is another one.
    other: FtrackTimerJSON | None = None


@dataclass(frozen=True, slots=True)
class Stopping:
    """A stop about to be sent: the Timelog it writes and the operations writing it."""

    timer: Timer
    timelog_id: str
    start: datetime
    duration: int
    worked: timedelta
    comment: str | None
    context: FtrackContextJSON | None
    name: str | None
    operations: list[Operation] = field(default_factory=list)


class FtrackTimers:
    """The timers of one ftrack connection."""

    def __init__(
        self,
        api: FtrackSession,
        clock: Clock,
        book: TimerBook,
        paused: PausedTimers,
        timelogs: Timelogs,
    ) -> None:
        self._api = api
        self._clock = clock
        self.book = book
        self.paused = paused
        self._timelogs = timelogs

    # Reading.

    async def query(self) -> str:
        """The query of the user's ftrack Timer."""
        me = await self._api.me()
        return f"select {TIMER_FIELDS} from Timer where user_id is {quoted(me)}"

    async def running(self) -> FtrackTimerJSON | None:
        """The user's ftrack Timer, if one runs (ftrack allows one)."""
        (found,) = await self._api.read(await self.query())
        return first_timer(found)

    async def open(self) -> tuple[FtrackTimerJSON | None, dict[str, PausedTimer]]:
        """The running Timer and the paused timers, with notes settled by what ftrack holds."""
        running = await self.running()
        notes = await self.paused.all()
        settled = [n.id for n in notes.values() if running is not None and n.id == running["id"]]
        for note in notes.values():
            # A stop whose answer was lost and never confirmed: its Timelog tells.
            if note.timelog_id is not None and await self._api.exists("Timelog", note.timelog_id):
                settled.append(note.id)
        if settled:
            await self.paused.drop(*settled)
            for id_ in settled:
                notes.pop(id_, None)
        return running, notes

    async def find(self, timer_id: str) -> Found | None:
        if not is_ftrack_id(timer_id):
            return None
        running, notes = await self.open()
        if running is not None and running["id"] == timer_id:
            return Found(self.observe(running), running=running)
        note = notes.get(timer_id)
        if note is not None:
            return Found(self.observe_paused(note), paused=note, other=running)
        self.book.forget(timer_id)
        return None

    async def current(self, timer_id: str, expected_version: int | None) -> Found:
        found = await self.find(timer_id)
        if found is None:
            raise NotFound(MISSING)
        check_version("timer", found.timer.version, expected_version)
        return found

    def observe(self, raw: FtrackTimerJSON, seen_at: datetime | None = None) -> Timer:
        return self.book.observe(timer_snapshot(raw, seen_at or self._clock.now()))

    def observe_paused(self, note: PausedTimer) -> Timer:
        return self.book.observe(note.snapshot(self._clock.now()))

    async def gone(self, timer_id: str) -> bool:
        return not await self._api.exists("Timer", timer_id)

    async def refusal(self, refused: FtrackRefused, timer_id: str) -> TimergateError:
        """The error for ftrack refusing a change of a Timer, which may have gone meanwhile
        (stopped or deleted in ftrack's own app)."""
        if refused.exception == "ValidationError" and await self.gone(timer_id):
            self.book.forget(timer_id)
            return NotFound(GONE)
        return self._api.refusal(refused)

    # Stopping.

    async def stopping(
        self, user: User, found: Found, now: datetime, request: LogRequest | None = None
    ) -> Stopping:
        """The Timelog a stop writes: the time worked, from when the timer began."""
        request = request or LogRequest()
        timer = found.timer
        if found.running is not None:
            running = found.running
            ftrack_start = decode_datetime(running.get("start")) or whole_seconds(now)
            worked = whole(whole_seconds(now) - ftrack_start)
            timelog_id = str(uuid.uuid4())
            context = running.get("context")
            name = running.get("name") or None
            deletes = [delete("Timer", running["id"])]
        else:
            note = found.paused
            assert note is not None, "a timer is running or paused"
            worked = note.worked
            if note.timelog_id is None:
                # Chosen once and kept: a repeated stop cannot write a second Timelog.
                note = note.with_changes(timelog_id=str(uuid.uuid4()))
                await self.paused.put(note)
            timelog_id = note.timelog_id or ""
            context = context_json(note.details.context)
            name = note.name
            deletes = []
        start = whole_seconds(timer.started_at)
        if request.date is not None:
            start = on_day(start, request.date, user.time_zone)
        duration = int(
            (request.duration if request.duration is not None else worked).total_seconds()
        )
        comment = (
            timer.details.description
            if isinstance(request.description, Unset)
            else request.description
        )
        creation = await self._timelogs.creation(
            id_=timelog_id,
            start=start,
            duration=duration,
            comment=comment,
            context_id=context.get("id") if context else None,
            name=name,
        )
        return Stopping(
            timer=timer,
            timelog_id=timelog_id,
            start=start,
            duration=duration,
            worked=worked,
            comment=comment,
            context=context,
            name=name,
            operations=[creation, *deletes],
        )

    def stopped(self, stopping: Stopping, user: User, now: datetime) -> StopResult:
        """The timer ended and the entry of its Timelog, once the stop landed."""
        timer = stopping.timer
        try:
            stopped = self.book.stopped(timer.id, now, stopping.worked)
        except KeyError:  # forgotten meanwhile: end it from what was read
            stopped = replace(
                timer,
                state=TimerState.STOPPED,
                accumulated=stopping.worked,
                running_since=None,
                updated_at=now,
                version=timer.version + 1,
            )
        entry = self._timelogs.written(
            user,
            now,
            id_=stopping.timelog_id,
            start=stopping.start,
            duration=stopping.duration,
            comment=stopping.comment,
            context=stopping.context,
            name=stopping.name,
        )
        return StopResult(replace(stopped, entry_id=entry.id), entry)

    # Editing.

    async def edit(self, found: Found, changes: TimerChanges) -> Changed[Timer]:
        """Comment, task, and (while paused) the time worked."""
        timer = found.timer
        details = changed_details(timer.details, changes)
        refuse_tags_and_billable(details)
        if not isinstance(changes.elapsed, Unset) and found.paused is None:
            raise InvalidTransition(
                "The elapsed time can only be set while the timer is PAUSED; pause it first.",
                state=timer.state.value,
            )
        task: FtrackContextJSON | None = None
        context_changed = context_key(details.context) != context_key(timer.details.context)
        if context_changed and details.context is not None:
            task = await self._api.context(details.context, field="input.context")
        if found.running is not None:
            return await self._edit_running(found.running, details, task, context_changed)
        note = found.paused
        assert note is not None, "a timer is running or paused"
        edited = note.with_changes(
            details=TimerDetails(
                description=details.description,
                context=context_of(task) if context_changed else note.details.context,
            ),
            worked=note.worked if isinstance(changes.elapsed, Unset) else whole(changes.elapsed),
        )
        if edited == note:
            return Changed(timer, changed=False)
        await self.paused.put(edited)
        return Changed(self.observe_paused(edited))

    async def _edit_running(
        self,
        raw: FtrackTimerJSON,
        details: TimerDetails,
        task: FtrackContextJSON | None,
        context_changed: bool,
    ) -> Changed[Timer]:
        data: dict[str, Any] = {}
        if details.description != (raw.get("comment") or None):
            data["comment"] = details.description or ""
        if context_changed:
            data["context_id"] = task.get("id") if task else None
        if not data:
            return Changed(self.observe(raw), changed=False)
        try:
            # Absolute values: sending them twice is harmless.
            await self._api.call([update("Timer", raw["id"], data)], retry=True)
        except FtrackRefused as refused:
            raise await self.refusal(refused, raw["id"]) from None
        edited = cast(FtrackTimerJSON, {**raw, **data})
        if context_changed:
            edited["context"] = task
        return Changed(self.observe(edited))


def first_timer(records: list[dict[str, Any]]) -> FtrackTimerJSON | None:
    timers = [t for t in records if isinstance(t.get("id"), str)]
    return cast(FtrackTimerJSON, timers[0]) if timers else None
