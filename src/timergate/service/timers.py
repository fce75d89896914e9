"""The timer service: one way in for every transport, whichever provider holds the timer.

It routes each operation to the provider its id (or ``provider`` input) names, refuses an
operation the provider cannot do before anything is sent upstream, keeps one running timer
per user across all providers, and publishes an event after each change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from timergate.broker import Broker
from timergate.domain import (
    Clock,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerDetails,
    User,
    check_version,
)
from timergate.domain.connections import Support, TimerOperation
from timergate.domain.entry import EntryChanges
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.domain.idempotency import IdempotencyKey
from timergate.domain.ids import encode_global_id
from timergate.domain.timer import UNSET, TimerState, Unset
from timergate.errors import BrokerUnavailable, InvalidTransition, NotFound, TimergateError
from timergate.providers.base import (
    Changed,
    LogRequest,
    NewEntry,
    Provider,
    StartResult,
    StopResult,
)
from timergate.service.capabilities import require
from timergate.service.connections import ConnectionService
from timergate.service.idempotency import Idempotency
from timergate.service.reads import Reads

__all__ = ["StartOutcome", "StopOutcome", "TimerService"]

_log = logging.getLogger("timergate.timers")

T = TypeVar("T")

_Change = tuple[TimerEventType, Timer | None, TimeEntry | None]


@dataclass(frozen=True, slots=True)
class StartOutcome:
    timer: Timer
    #: Timers paused to keep one running per user, wherever they live.
    paused: list[Timer] = field(default_factory=list)
    #: Timers stopped instead (their provider cannot pause), with the entries keeping their time.
    stopped: list[StopResult] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StopOutcome:
    result: StopResult
    #: Providers that could not be asked what runs (only for a stop without an id).
    failures: list[TimergateError] = field(default_factory=list)


@dataclass(slots=True)
class _Room:
    """What was done to make room for a starting timer (undone if the start fails)."""

    paused: list[tuple[Provider, Timer]] = field(default_factory=list)
    stopped: list[StopResult] = field(default_factory=list)


class TimerService:
    """Every operation on a user's timers and entries, across their providers."""

    def __init__(
        self,
        connections: ConnectionService,
        broker: Broker,
        clock: Clock,
        reads: Reads,
        keys: Idempotency,
    ) -> None:
        self.connections = connections
        self._broker = broker
        self._clock = clock
        self.reads = reads
        self._keys = keys

    async def _once(
        self,
        user: User,
        key: IdempotencyKey | None,
        kind: type[T],
        target: Provider | None,
        act: Callable[[], Awaitable[T]],
        outcome_of: Callable[[Any], T],
    ) -> T:
        """``act`` once per idempotency key. ``target``: where the effect lands (``None``:
        not known yet); ``outcome_of`` turns the store's result into what is kept."""
        in_store = target is None or target is self.connections.local
        return await self._keys.run(user, key, kind, act, in_store=outcome_of if in_store else None)

    async def _provider(
        self,
        user: User,
        key: str | None,
        operation: TimerOperation,
        *,
        field: str | None = None,
    ) -> Provider:
        if key is None:
            provider = self.connections.local
        else:
            provider = await self.connections.provider(user, key, field=field)
        require(provider, operation)
        return provider

    async def _publish(self, user: User, now: datetime, *changes: _Change) -> None:
        channel = user_channel(user.id)
        for done, (kind, timer, entry) in enumerate(changes):
            try:
                await self._broker.publish(channel, TimerEvent(kind, user.id, now, timer, entry))
            except BrokerUnavailable:
                # The change is made and its answer must say so; only its notice is lost
                # (subscribers see the change when they next read it). /readyz takes this
                # instance out of rotation until the broker answers again.
                _log.warning(
                    "%d events of user %s were not published: the broker is unreachable",
                    len(changes) - done,
                    user.id,
                )
                return

    # One running timer per user.

    async def _make_room(self, user: User, target: Provider, now: datetime) -> _Room:
        """Pause (or stop, where pausing is impossible) the user's running timers outside
        ``target``; a start that cannot do so fails before it changes anything."""
        providers, failures = await self.connections.providers(user)
        if failures:
            raise failures[0]
        others = [p for p in providers if p.key != target.key]
        running = await self.reads.running_in(user, others, strict=True)
        room = _Room()
        for provider, timers in running:
            for timer in timers:
                try:
                    if (
                        provider.capabilities[TimerOperation.PAUSE].support
                        is not Support.UNSUPPORTED
                    ):
                        paused = await provider.pause(user, timer.id, now)
                        room.paused.append((provider, paused.value))
                    else:
                        require(provider, TimerOperation.STOP)
                        room.stopped.append(await provider.stop(user, timer.id, now))
                except TimergateError as exc:
                    await self._undo(user, room, now)
                    name = timer.details.description or "without a description"
                    exc.message = (
                        f"Your running timer ({name}) in {provider.name} could not be paused, "
                        f"so nothing was started: {exc.message}"
                    )
                    timer_gid = encode_global_id("Timer", provider.key, timer.id)
                    raise exc.with_details(timerId=timer_gid) from None
        return room

    async def _undo(self, user: User, room: _Room, now: datetime) -> None:
        for provider, timer in room.paused:
            try:
                await provider.resume(user, timer.id, now)
            except Exception:
                _log.exception(
                    "could not resume timer %s of user %s in %s after a failed start",
                    timer.id,
                    user.id,
                    provider.key,
                )

    def _room_changes(self, room: _Room) -> list[_Change]:
        changes: list[_Change] = [(TimerEventType.PAUSED, t, None) for _, t in room.paused]
        changes += [(TimerEventType.STOPPED, s.timer, s.entry) for s in room.stopped]
        return changes

    # Timers.

    async def start(
        self,
        user: User,
        provider_key: str | None,
        details: TimerDetails,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> StartOutcome:
        target = await self._provider(
            user, provider_key, TimerOperation.START, field="input.provider"
        )
        rooms: list[_Room] = []

        async def act() -> StartOutcome:
            now = self._clock.now()
            room = await self._make_room(user, target, now)
            rooms.append(room)
            try:
                result = await target.start(user, details, now)
            except BaseException:
                await self._undo(user, room, now)
                raise
            await self._publish(
                user,
                now,
                *self._room_changes(room),
                *((TimerEventType.PAUSED, t, None) for t in result.paused),
                *((TimerEventType.STOPPED, s.timer, s.entry) for s in result.stopped),
                (TimerEventType.STARTED, result.timer, None),
            )
            return _outcome(room, result)

        return await self._once(
            user, idempotency, StartOutcome, target, act, lambda r: _outcome(rooms[-1], r)
        )

    async def resume(
        self,
        user: User,
        key: str,
        timer_id: str,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> StartOutcome:
        target = await self._provider(user, key, TimerOperation.RESUME)
        rooms: list[_Room] = []

        async def act() -> StartOutcome:
            timer = await target.get_timer(user, timer_id)
            if timer is not None and timer.state is TimerState.RUNNING:
                check_version("timer", timer.version, expected_version)
                rooms.append(_Room())
                return StartOutcome(timer)
            now = self._clock.now()
            room = await self._make_room(user, target, now)
            rooms.append(room)
            try:
                result = await target.resume(user, timer_id, now, expected_version=expected_version)
            except BaseException:
                await self._undo(user, room, now)
                raise
            changes = [
                *self._room_changes(room),
                *((TimerEventType.PAUSED, t, None) for t in result.paused),
                *((TimerEventType.STOPPED, s.timer, s.entry) for s in result.stopped),
            ]
            if result.changed:
                changes.append((TimerEventType.RESUMED, result.timer, None))
            await self._publish(user, now, *changes)
            return _outcome(room, result)

        return await self._once(
            user, idempotency, StartOutcome, target, act, lambda r: _outcome(rooms[-1], r)
        )

    async def pause(
        self,
        user: User,
        key: str,
        timer_id: str,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Timer:
        provider = await self._provider(user, key, TimerOperation.PAUSE)

        async def act() -> Timer:
            now = self._clock.now()
            paused = await provider.pause(user, timer_id, now, expected_version=expected_version)
            if paused.changed:
                await self._publish(user, now, (TimerEventType.PAUSED, paused.value, None))
            return paused.value

        return await self._once(user, idempotency, Timer, provider, act, _value)

    async def stop(
        self,
        user: User,
        key: str | None,
        timer_id: str | None,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> StopOutcome:
        """Stop one timer, or (without an id) whatever runs; nothing running is no error."""
        if timer_id is not None and key is not None:
            provider = await self._provider(user, key, TimerOperation.STOP)
            stop_id = timer_id

            async def stop_one() -> StopOutcome:
                now = self._clock.now()
                result = await provider.stop(
                    user, stop_id, now, description=description, expected_version=expected_version
                )
                await self._publish(user, now, (TimerEventType.STOPPED, result.timer, result.entry))
                return StopOutcome(result)

            return await self._once(user, idempotency, StopOutcome, provider, stop_one, StopOutcome)

        async def stop_running() -> StopOutcome:
            now = self._clock.now()
            running = await self.reads.running(user)
            if not running.value and running.failures:
                raise running.failures[0]
            for timer in running.value:
                provider = await self._provider(user, timer.provider, TimerOperation.STOP)
                try:
                    result = await provider.stop(
                        user,
                        timer.id,
                        now,
                        description=description,
                        expected_version=expected_version,
                    )
                except (InvalidTransition, NotFound):
                    continue  # stopped or cancelled meanwhile by another request
                await self._publish(user, now, (TimerEventType.STOPPED, result.timer, result.entry))
                return StopOutcome(result, running.failures)
            return StopOutcome(StopResult(None, None), running.failures)

        return await self._once(user, idempotency, StopOutcome, None, stop_running, StopOutcome)

    async def log(
        self,
        user: User,
        key: str,
        timer_id: str,
        request: LogRequest,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> StopResult:
        provider = await self._provider(user, key, TimerOperation.LOG)

        async def act() -> StopResult:
            now = self._clock.now()
            result = await provider.log(
                user, timer_id, request, now, expected_version=expected_version
            )
            await self._publish(user, now, (TimerEventType.LOGGED, result.timer, result.entry))
            return result

        return await self._once(user, idempotency, StopResult, provider, act, _same)

    async def cancel(
        self,
        user: User,
        key: str,
        timer_id: str,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Timer:
        provider = await self._provider(user, key, TimerOperation.CANCEL)

        async def act() -> Timer:
            now = self._clock.now()
            timer = await provider.cancel(user, timer_id, now, expected_version=expected_version)
            await self._publish(user, now, (TimerEventType.CANCELLED, timer, None))
            return timer

        return await self._once(user, idempotency, Timer, provider, act, _same)

    async def update_timer(
        self,
        user: User,
        key: str,
        timer_id: str,
        changes: TimerChanges,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Timer:
        provider = await self._provider(user, key, TimerOperation.UPDATE)

        async def act() -> Timer:
            now = self._clock.now()
            updated = await provider.update_timer(
                user, timer_id, changes, now, expected_version=expected_version
            )
            if updated.changed:
                await self._publish(user, now, (TimerEventType.UPDATED, updated.value, None))
            return updated.value

        return await self._once(user, idempotency, Timer, provider, act, _value)

    # Entries.

    async def create_entry(
        self,
        user: User,
        key: str | None,
        entry: NewEntry,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> TimeEntry:
        provider = await self._provider(
            user, key, TimerOperation.CREATE_ENTRY, field="input.provider"
        )

        async def act() -> TimeEntry:
            now = self._clock.now()
            created = await provider.create_entry(user, entry, now)
            await self._publish(user, now, (TimerEventType.ENTRY_CREATED, None, created))
            return created

        return await self._once(user, idempotency, TimeEntry, provider, act, _same)

    async def update_entry(
        self,
        user: User,
        key: str,
        entry_id: str,
        changes: EntryChanges,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> TimeEntry:
        provider = await self._provider(user, key, TimerOperation.UPDATE_ENTRY)

        async def act() -> TimeEntry:
            now = self._clock.now()
            edited = await provider.update_entry(
                user, entry_id, changes, now, expected_version=expected_version
            )
            if edited.changed:
                await self._publish(user, now, (TimerEventType.ENTRY_UPDATED, None, edited.value))
            return edited.value

        return await self._once(user, idempotency, TimeEntry, provider, act, _value)

    async def delete_entry(
        self,
        user: User,
        key: str,
        entry_id: str,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> TimeEntry:
        provider = await self._provider(user, key, TimerOperation.DELETE_ENTRY)

        async def act() -> TimeEntry:
            now = self._clock.now()
            entry = await provider.delete_entry(
                user, entry_id, now, expected_version=expected_version
            )
            await self._publish(user, now, (TimerEventType.ENTRY_DELETED, None, entry))
            return entry

        return await self._once(user, idempotency, TimeEntry, provider, act, _same)


def _outcome(room: _Room, result: StartResult) -> StartOutcome:
    return StartOutcome(
        result.timer,
        [t for _, t in room.paused] + result.paused,
        room.stopped + result.stopped,
    )


def _value(changed: Changed[T]) -> T:
    return changed.value


def _same(result: T) -> T:
    return result
