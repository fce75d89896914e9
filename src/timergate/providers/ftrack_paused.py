"""Paused ftrack timers, kept in timergate: ftrack has no pause.

Pausing deletes the ftrack Timer (so ftrack never counts the pause as work) and keeps what
it held here, in the connection's durable notes: its id, comment, context, when it began
and the time worked so far. Resuming creates the Timer again with the same id, its start
moved back by the time already worked, so that ftrack's own clock, its web app's stop and
its Python client's ``stop_timer`` all count the whole time. Stopping a paused timer writes
one Timelog with the time worked.

A note is what was true at the pause. When a Timer with the same id exists in ftrack, the
Timer wins (a resume or a failed pause left the note behind) and the note is dropped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from timergate.domain import TimerContext, TimerDetails, TimerState
from timergate.providers.ftrack_wire import decode_datetime
from timergate.providers.registry import ConnectionState
from timergate.providers.timer_book import VendorTimer

__all__ = ["PausedTimer", "PausedTimers"]

#: The connection note holding every paused timer, by id.
_KEY = "ftrack.paused_timers"


@dataclass(frozen=True, slots=True)
class PausedTimer:
    id: str
    details: TimerDetails
    #: ftrack's ``name`` of the Timer (kept for its Timelog, as ftrack's stop_timer does).
    name: str | None
    #: When the Timer began (its start as ftrack had it at the pause).
    started_at: datetime
    #: Time worked until the pause, whole seconds.
    worked: timedelta
    paused_at: datetime
    #: The id chosen for its Timelog once a stop was tried, so a repeat cannot log twice.
    timelog_id: str | None = None

    def snapshot(self, seen_at: datetime) -> VendorTimer:
        return VendorTimer(
            id=self.id,
            state=TimerState.PAUSED,
            elapsed=self.worked,
            details=self.details,
            seen_at=seen_at,
            started_at=self.started_at,
        )

    def with_changes(self, **changes: Any) -> PausedTimer:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        context = self.details.context
        return {
            "comment": self.details.description,
            "context": None
            if context is None
            else {"type": context.type, "id": context.id, "title": context.title},
            "name": self.name,
            "started_at": self.started_at.isoformat(),
            "worked": int(self.worked.total_seconds()),
            "paused_at": self.paused_at.isoformat(),
            "timelog_id": self.timelog_id,
        }

    @classmethod
    def from_json(cls, id_: str, raw: Any) -> PausedTimer | None:
        """The note, or ``None`` when it is not one (then it is ignored, not trusted)."""
        if not isinstance(raw, dict):
            return None
        started_at = decode_datetime(raw.get("started_at"))
        paused_at = decode_datetime(raw.get("paused_at"))
        worked = raw.get("worked")
        if started_at is None or paused_at is None or not isinstance(worked, int):
            return None
        context = raw.get("context")
        return cls(
            id=id_,
            details=TimerDetails(
                description=_text(raw.get("comment")),
                context=TimerContext(str(context["type"]), str(context["id"]), context.get("title"))
                if isinstance(context, dict) and "type" in context and "id" in context
                else None,
            ),
            name=_text(raw.get("name")),
            started_at=started_at,
            worked=timedelta(seconds=max(worked, 0)),
            paused_at=paused_at,
            timelog_id=_text(raw.get("timelog_id")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class PausedTimers:
    """The paused timers of one connection, in its durable notes."""

    def __init__(self, state: ConnectionState) -> None:
        self._state = state
        # Changes are read-modify-write of one note: one at a time in this process.
        self._lock = asyncio.Lock()

    async def all(self) -> dict[str, PausedTimer]:
        raw = await self._state.get(_KEY)
        if not isinstance(raw, dict):
            return {}
        notes = (PausedTimer.from_json(str(id_), value) for id_, value in raw.items())
        return {note.id: note for note in notes if note is not None}

    async def get(self, timer_id: str) -> PausedTimer | None:
        return (await self.all()).get(timer_id)

    async def put(self, timer: PausedTimer) -> None:
        async with self._lock:
            raw = await self._state.get(_KEY)
            notes = dict(raw) if isinstance(raw, dict) else {}
            notes[timer.id] = timer.to_json()
            await self._state.put(_KEY, notes)

    async def drop(self, *timer_ids: str) -> None:
        async with self._lock:
            raw = await self._state.get(_KEY)
            notes = dict(raw) if isinstance(raw, dict) else {}
            if not any(id_ in notes for id_ in timer_ids):
                return
            for id_ in timer_ids:
                notes.pop(id_, None)
            await self._state.put(_KEY, notes or None)
