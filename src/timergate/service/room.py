"""One running timer per user, across providers: making room for a timer about to run.

Before a timer starts or resumes, the user's running timers in every other provider are
paused, or stopped (their time kept as an entry) where a provider cannot pause. A start that
cannot make room fails before it changes anything; a start that fails after making room
resumes what it paused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from timergate.domain import TimeEntry, Timer, User
from timergate.domain.connections import Support, TimerOperation
from timergate.domain.events import TimerEventType
from timergate.domain.ids import encode_global_id
from timergate.errors import TimergateError
from timergate.providers.base import Provider, StartResult, StopResult
from timergate.service.capabilities import require
from timergate.service.connections import ConnectionService
from timergate.service.reads import Reads

__all__ = ["Change", "Room", "StartOutcome", "make_room"]

_log = logging.getLogger("timergate.timers")

#: An event to publish: what happened, to which timer, with which entry.
Change = tuple[TimerEventType, Timer | None, TimeEntry | None]


@dataclass(frozen=True, slots=True)
class StartOutcome:
    timer: Timer
    #: Timers paused to keep one running per user, wherever they live.
    paused: list[Timer] = field(default_factory=list)
    #: Timers stopped instead (their provider cannot pause), with the entries keeping their time.
    stopped: list[StopResult] = field(default_factory=list)


@dataclass(slots=True)
class Room:
    """What was done to make room for a starting timer (undone if the start fails)."""

    paused: list[tuple[Provider, Timer]] = field(default_factory=list)
    stopped: list[StopResult] = field(default_factory=list)

    def outcome(self, result: StartResult) -> StartOutcome:
        """The start's outcome: its timer, and everything paused or stopped for it."""
        return StartOutcome(
            result.timer,
            [t for _, t in self.paused] + result.paused,
            self.stopped + result.stopped,
        )

    def changes(self, result: StartResult, kind: TimerEventType) -> list[Change]:
        """The events of the start: what made room, then the timer (if it changed)."""
        changes: list[Change] = [(TimerEventType.PAUSED, t, None) for _, t in self.paused]
        changes += [(TimerEventType.STOPPED, s.timer, s.entry) for s in self.stopped]
        changes += [(TimerEventType.PAUSED, t, None) for t in result.paused]
        changes += [(TimerEventType.STOPPED, s.timer, s.entry) for s in result.stopped]
        if result.changed:
            changes.append((kind, result.timer, None))
        return changes

    async def undo(self, user: User, now: datetime) -> None:
        """Resume what was paused (a stopped timer's entry stays: its time is kept)."""
        for provider, timer in self.paused:
            try:
                await provider.resume(user, timer.id, now)
            except Exception:
                _log.exception(
                    "could not resume timer %s of user %s in %s after a failed start",
                    timer.id,
                    user.id,
                    provider.key,
                )


async def make_room(
    connections: ConnectionService, reads: Reads, user: User, target: Provider, now: datetime
) -> Room:
    """Pause (or stop, where pausing is impossible) the user's running timers outside
    ``target``; raise, having changed nothing, when one of them cannot be."""
    providers, failures = await connections.providers(user)
    if failures:
        raise failures[0]
    others = [p for p in providers if p.key != target.key]
    running = await reads.running_in(user, others, strict=True)
    room = Room()
    for provider, timers in running:
        for timer in timers:
            try:
                if provider.capabilities[TimerOperation.PAUSE].support is not Support.UNSUPPORTED:
                    paused = await provider.pause(user, timer.id, now)
                    room.paused.append((provider, paused.value))
                else:
                    require(provider, TimerOperation.STOP)
                    room.stopped.append(await provider.stop(user, timer.id, now))
            except TimergateError as exc:
                await room.undo(user, now)
                name = timer.details.description or "without a description"
                exc.message = (
                    f"Your running timer ({name}) in {provider.name} could not be paused, "
                    f"so nothing was started: {exc.message}"
                )
                timer_gid = encode_global_id("Timer", provider.key, timer.id)
                raise exc.with_details(timerId=timer_gid) from None
    return room
