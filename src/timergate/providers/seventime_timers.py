"""A Seven Time user's open timers: what runs at Seven Time, joined with timergate's notes.

Seven Time knows only running timers, one per user. timergate's notes (a
:class:`~timergate.providers.seventime_wire.TimerRecord` per timer, in the connection's
state) add what Seven Time has no word for: a timer paused by stopping its stretch, the
stretches that make one timer, its description and tags.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from timergate.domain import (
    Timer,
    TimerChanges,
    TimerContext,
    TimerDetails,
    TimerState,
    User,
    check_version,
)
from timergate.domain.clock import Clock
from timergate.domain.timer import Unset
from timergate.errors import BadUserInput, InvalidTransition, NotFound, TimergateError
from timergate.providers.registry import ConnectionState
from timergate.providers.seventime_api import SevenTimeAPI
from timergate.providers.seventime_objects import SevenTimeObjects
from timergate.providers.seventime_wire import (
    Segment,
    SevenTimeLogJSON,
    SevenTimeTimerJSON,
    TimerRecord,
    instant,
    objects_of,
)

__all__ = ["NO_TIMER", "OpenTimers", "Snapshot", "segment_of", "unchanged"]

_log = logging.getLogger("timergate.providers.seventime")

_STATE_KEY = "timers"
NO_TIMER = (
    "No running or paused Seven Time timer with that id; it may have been stopped already "
    "(its time is then a time entry)."
)


@dataclass(slots=True)
class Snapshot:
    """The notes and the user's active Seven Time timers, as one operation sees them."""

    records: dict[str, TimerRecord]
    active: list[SevenTimeTimerJSON]

    def claimed(self) -> dict[str, TimerRecord]:
        """Records by the Seven Time timer running their current stretch."""
        return {r.running: r for r in self.records.values() if r.running is not None}

    def find(self, timer_id: str) -> tuple[TimerRecord | None, SevenTimeTimerJSON | None]:
        """The record and running Seven Time timer of timergate's timer ``timer_id``."""
        record = self.records.get(timer_id)
        if record is not None:
            raw = next((t for t in self.active if t["_id"] == record.running), None)
            return record, raw
        if timer_id in self.claimed():
            return None, None  # a later stretch of another timer, not a timer of its own
        return None, next((t for t in self.active if t["_id"] == timer_id), None)


def segment_of(log: SevenTimeLogJSON) -> Segment:
    started = instant(log.get("timestamp"))
    assert started is not None  # SevenTimeAPI hands out only logs with a start
    return Segment(log["_id"], started, instant(log.get("endTimestamp")) or started)


def unchanged(log: SevenTimeLogJSON, segment: Segment) -> bool:
    """Whether a time log is still exactly what the stretch's stop saved (not edited, not
    invoiced): only then may a cancel delete it."""
    return (
        instant(log.get("timestamp")) == segment.started
        and instant(log.get("endTimestamp")) == segment.ended
        and not log.get("isInvoiced", False)
    )


class OpenTimers:
    """Reads and changes one connection's open timers. Callers hold the provider's lock:
    the notes are read, changed and written whole."""

    def __init__(
        self,
        api: SevenTimeAPI,
        objects: SevenTimeObjects,
        state: ConnectionState,
        *,
        provider: str,
        clock: Clock,
    ) -> None:
        self._api = api
        self._objects = objects
        self._state = state
        self._provider = provider
        self._clock = clock

    async def records(self) -> dict[str, TimerRecord]:
        raw = await self._state.get(_STATE_KEY) or {}
        return {key: TimerRecord.from_json(key, value) for key, value in raw.items()}

    async def save(self, snapshot: Snapshot) -> None:
        records = snapshot.records
        await self._state.put(_STATE_KEY, {k: r.to_json() for k, r in records.items()} or None)

    async def look(self) -> Snapshot:
        """The notes and the active timers. A timer whose stretch was stopped in Seven Time's
        own app is over there, and its notes go."""
        snapshot = Snapshot(await self.records(), await self._api.active_timers())
        running = {t["_id"] for t in snapshot.active}
        over = [k for k, r in snapshot.records.items() if r.running and r.running not in running]
        for key in over:
            del snapshot.records[key]
        if over:
            await self.save(snapshot)
        return snapshot

    def started(self, raw: SevenTimeTimerJSON) -> datetime:
        return instant(raw.get("startTimestamp")) or self._clock.now()

    async def timer(
        self, user: User, record: TimerRecord | None, raw: SevenTimeTimerJSON | None
    ) -> Timer:
        """The domain timer of a record and/or its running Seven Time timer."""
        if record is None:
            assert raw is not None
            started = self.started(raw)
            return Timer(
                id=raw["_id"],
                user_id=user.id,
                provider=self._provider,
                state=TimerState.RUNNING,
                details=TimerDetails(context=await self._objects.context(objects_of(raw))),
                accumulated=timedelta(0),
                running_since=started,
                started_at=started,
                updated_at=started,
                version=1,
            )
        return Timer(
            id=record.id,
            user_id=user.id,
            provider=self._provider,
            state=TimerState.RUNNING if raw is not None else TimerState.PAUSED,
            details=record.details(),
            accumulated=record.accumulated,
            running_since=self.started(raw) if raw is not None else None,
            started_at=record.started_at,
            updated_at=record.updated_at,
            version=record.version(running=raw is not None),
        )

    async def all(self, user: User, snapshot: Snapshot) -> list[Timer]:
        """Every open timer: the running one(s), then the paused ones."""
        claimed = snapshot.claimed()
        timers = [await self.timer(user, claimed.get(t["_id"]), t) for t in snapshot.active]
        paused = [r for r in snapshot.records.values() if r.running is None]
        return timers + [await self.timer(user, r, None) for r in paused]

    async def current(
        self, user: User, snapshot: Snapshot, timer_id: str, expected: int | None
    ) -> tuple[Timer, TimerRecord | None, SevenTimeTimerJSON | None]:
        """Timer ``timer_id`` (its version checked), its record and its running stretch."""
        record, raw = snapshot.find(timer_id)
        if record is None and raw is None:
            raise NotFound(NO_TIMER)
        timer = await self.timer(user, record, raw)
        check_version("timer", timer.version, expected)
        return timer, record, raw

    async def record_of(self, raw: SevenTimeTimerJSON) -> TimerRecord:
        """Notes for a timer started in Seven Time's own app, now that timergate changes it."""
        started = self.started(raw)
        objects = objects_of(raw)
        return TimerRecord(
            id=raw["_id"],
            objects=objects,
            context=await self._objects.context(objects),
            started_at=started,
            updated_at=started,
            running=raw["_id"],
        )

    async def begin(
        self,
        snapshot: Snapshot,
        raw: SevenTimeTimerJSON,
        objects: dict[str, str],
        context: TimerContext | None,
        details: TimerDetails,
    ) -> TimerRecord:
        """Notes for a timer timergate just started as ``raw``."""
        started = self.started(raw)
        record = TimerRecord(
            id=raw["_id"],
            objects=objects,
            context=context,
            started_at=started,
            updated_at=started,
            running=raw["_id"],
            description=details.description,
            tags=details.tags,
        )
        snapshot.records[record.id] = record
        await self.save(snapshot)
        return record

    async def edit(
        self,
        snapshot: Snapshot,
        timer: Timer,
        record: TimerRecord | None,
        raw: SevenTimeTimerJSON | None,
        changes: TimerChanges,
        at: datetime,
    ) -> TimerRecord | None:
        """Change what timergate keeps of a timer (description, tags); ``None`` when that
        changes nothing. Seven Time's part (its objects and time) cannot change."""
        _refuse_unkept(timer, changes)
        details = timer.details
        description = (
            details.description if isinstance(changes.description, Unset) else changes.description
        )
        tags = details.tags if isinstance(changes.tags, Unset) else tuple(changes.tags)
        if (description, tags) == (details.description, details.tags):
            return None
        if record is None:
            assert raw is not None
            record = await self.record_of(raw)
        record.description, record.tags = description, tags
        record.edits += 1
        record.updated_at = at
        snapshot.records[record.id] = record
        await self.save(snapshot)
        return record

    # Emulating pause and resume.

    async def pause(
        self, snapshot: Snapshot, record: TimerRecord | None, raw: SevenTimeTimerJSON
    ) -> TimerRecord:
        """Stop the stretch ``raw``; the time log it saves becomes a segment of the timer."""
        log = await self._api.stop_timer(raw["_id"])
        if log is None:
            raise NotFound(NO_TIMER)
        record = record or await self.record_of(raw)
        segment = segment_of(log)
        record.segments.append(segment)
        record.running = None
        record.updated_at = segment.ended
        snapshot.records[record.id] = record
        snapshot.active = [t for t in snapshot.active if t["_id"] != raw["_id"]]
        await self.save(snapshot)
        return record

    async def run(self, snapshot: Snapshot, record: TimerRecord) -> SevenTimeTimerJSON:
        """Start a new stretch of ``record``'s timer on the same objects."""
        raw = await self._api.start_timer(record.objects)
        record.running = raw["_id"]
        record.updated_at = self.started(raw)
        snapshot.records[record.id] = record
        snapshot.active.append(raw)
        await self.save(snapshot)
        return raw

    async def make_room(self, snapshot: Snapshot) -> list[TimerRecord]:
        """Pause what runs: Seven Time runs one timer per user and refuses a second."""
        claimed = snapshot.claimed()
        running = list(snapshot.active)
        return [await self.pause(snapshot, claimed.get(t["_id"]), t) for t in running]

    async def undo(self, snapshot: Snapshot, paused: list[TimerRecord]) -> None:
        """Resume what :meth:`make_room` paused, as far as Seven Time lets us."""
        for record in paused:
            try:
                await self.run(snapshot, record)
            except TimergateError:
                _log.warning("could not resume Seven Time timer %s after a failed start", record.id)

    # Ending a timer.

    async def stop(
        self,
        snapshot: Snapshot,
        timer: Timer,
        record: TimerRecord | None,
        raw: SevenTimeTimerJSON | None,
    ) -> tuple[list[Segment], SevenTimeLogJSON | None]:
        """Stop ``timer`` for good: its stretches, and the time log that is its entry."""
        segments = list(record.segments) if record is not None else []
        log: SevenTimeLogJSON | None
        if raw is not None:
            log = await self._api.stop_timer(raw["_id"])
            if log is None:
                raise NotFound(NO_TIMER)
            segments.append(segment_of(log))
        else:
            # Paused: its time is saved already; the last stretch's time log is the entry.
            log = await self._api.time_log(segments[-1].log_id) if segments else None
        snapshot.records.pop(timer.id, None)
        await self.save(snapshot)
        return segments, log

    async def discard(
        self,
        snapshot: Snapshot,
        timer: Timer,
        record: TimerRecord | None,
        raw: SevenTimeTimerJSON | None,
    ) -> None:
        """Stop ``timer`` and delete exactly the time logs its stops saved. Refused, with
        nothing changed, when one of them was edited or invoiced in Seven Time since."""
        doomed: list[str] = []
        for segment in record.segments if record is not None else []:
            saved = await self._api.time_log(segment.log_id)
            if saved is None:
                continue  # deleted in Seven Time already
            if not unchanged(saved, segment):
                raise InvalidTransition(
                    f"This timer cannot be cancelled: its time log {segment.log_id} was "
                    "changed in Seven Time since timergate paused the timer. Stop the timer "
                    "instead, or delete that time log first.",
                    state=timer.state.value,
                )
            doomed.append(segment.log_id)
        if raw is not None:
            log = await self._api.stop_timer(raw["_id"])
            if log is None:
                raise NotFound(NO_TIMER)
            doomed.append(log["_id"])  # exactly the time log this stop saved
        snapshot.records.pop(timer.id, None)
        await self.save(snapshot)
        for done, log_id in enumerate(doomed):
            try:
                await self._api.delete_time_log(log_id)
            except TimergateError as exc:
                kept = ", ".join(doomed[done:])
                exc.message = (
                    f"The timer was stopped, but Seven Time still keeps its time in the time "
                    f"log(s) {kept}: {exc.message} Delete them with deleteTimeEntry or in "
                    "Seven Time."
                )
                raise


def _refuse_unkept(timer: Timer, changes: TimerChanges) -> None:
    """Refuse the edits Seven Time cannot take: the objects, billable and the time."""
    if not isinstance(changes.context, Unset) and changes.context != timer.details.context:
        raise BadUserInput(
            "A Seven Time timer stays on its objects; stop it and start one on the other object.",
            field="input.context",
        )
    if not isinstance(changes.billable, Unset) and changes.billable != timer.details.billable:
        raise BadUserInput(
            "Seven Time decides what is invoiceable by the time category; leave "
            "input.billable out.",
            field="input.billable",
        )
    if not isinstance(changes.elapsed, Unset):
        raise BadUserInput(
            "Seven Time keeps a timer's time in the time logs it saves, which timergate does "
            "not edit; leave input.elapsedSeconds out (and edit the time logs in Seven Time).",
            field="input.elapsedSeconds",
        )
