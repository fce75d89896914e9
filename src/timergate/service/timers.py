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
from timergate.domain.connections import TimerOperation
from timergate.domain.entry import EntryChanges
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.domain.idempotency import IdempotencyKey
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
from timergate.service.room import Change, Room, StartOutcome, make_room

__all__ = ["StopOutcome", "TimerService"]

_log = logging.getLogger("timergate.timers")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StopOutcome:
    result: StopResult
    #: Providers that could not be asked what runs (only for a stop without an id).
    failures: list[TimergateError] = field(default_factory=list)


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

    async def _apply(
        self,
        user: User,
        provider: Provider,
        key: IdempotencyKey | None,
        kind: type[T],
        call: Callable[[datetime], Awaitable[Any]],
        event: Callable[[T], Change],
        *,
        outcome: Callable[[Any], T] | None = None,
    ) -> T:
        """One operation on one provider: ``call`` it at now, publish ``event`` of what it
        answered unless it changed nothing, once per idempotency key. ``outcome`` turns the
        provider's answer into what the caller gets (by default: the value it carries)."""
        answer_of: Callable[[Any], T] = outcome or _plain

        async def act() -> T:
            now = self._clock.now()
            answer = await call(now)
            value = answer_of(answer)
            if not isinstance(answer, Changed) or answer.changed:
                await self._publish(user, now, event(value))
            return value

        return await self._once(user, key, kind, provider, act, answer_of)

    async def _publish(self, user: User, now: datetime, *changes: Change) -> None:
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
        return await self._run(
            user,
            target,
            idempotency,
            lambda now: target.start(user, details, now),
            TimerEventType.STARTED,
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

        async def running_already() -> StartOutcome | None:
            # Resuming a running timer changes nothing, and must not pause another.
            timer = await target.get_timer(user, timer_id)
            if timer is None or timer.state is not TimerState.RUNNING:
                return None
            check_version("timer", timer.version, expected_version)
            return StartOutcome(timer)

        return await self._run(
            user,
            target,
            idempotency,
            lambda now: target.resume(user, timer_id, now, expected_version=expected_version),
            TimerEventType.RESUMED,
            unchanged=running_already,
        )

    async def _run(
        self,
        user: User,
        target: Provider,
        key: IdempotencyKey | None,
        call: Callable[[datetime], Awaitable[StartResult]],
        kind: TimerEventType,
        *,
        unchanged: Callable[[], Awaitable[StartOutcome | None]] | None = None,
    ) -> StartOutcome:
        """Make room in the other providers, then start or resume a timer in ``target``."""
        rooms: list[Room] = [Room()]

        async def act() -> StartOutcome:
            if unchanged is not None and (outcome := await unchanged()) is not None:
                return outcome
            now = self._clock.now()
            room = await make_room(self.connections, self.reads, user, target, now)
            rooms.append(room)
            try:
                result = await call(now)
            except BaseException:
                await room.undo(user, now)
                raise
            await self._publish(user, now, *room.changes(result, kind))
            return room.outcome(result)

        return await self._once(
            user, key, StartOutcome, target, act, lambda result: rooms[-1].outcome(result)
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
        return await self._apply(
            user,
            provider,
            idempotency,
            Timer,
            lambda now: provider.pause(user, timer_id, now, expected_version=expected_version),
            lambda timer: (TimerEventType.PAUSED, timer, None),
        )

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
            return await self._apply(
                user,
                provider,
                idempotency,
                StopOutcome,
                lambda now: provider.stop(
                    user, stop_id, now, description=description, expected_version=expected_version
                ),
                lambda outcome: (
                    TimerEventType.STOPPED,
                    outcome.result.timer,
                    outcome.result.entry,
                ),
                outcome=StopOutcome,
            )

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
        return await self._apply(
            user,
            provider,
            idempotency,
            StopResult,
            lambda now: provider.log(
                user, timer_id, request, now, expected_version=expected_version
            ),
            lambda result: (TimerEventType.LOGGED, result.timer, result.entry),
        )

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
        return await self._apply(
            user,
            provider,
            idempotency,
            Timer,
            lambda now: provider.cancel(user, timer_id, now, expected_version=expected_version),
            lambda timer: (TimerEventType.CANCELLED, timer, None),
        )

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
        return await self._apply(
            user,
            provider,
            idempotency,
            Timer,
            lambda now: provider.update_timer(
                user, timer_id, changes, now, expected_version=expected_version
            ),
            lambda timer: (TimerEventType.UPDATED, timer, None),
        )

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
        return await self._apply(
            user,
            provider,
            idempotency,
            TimeEntry,
            lambda now: provider.create_entry(user, entry, now),
            lambda created: (TimerEventType.ENTRY_CREATED, None, created),
        )

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
        return await self._apply(
            user,
            provider,
            idempotency,
            TimeEntry,
            lambda now: provider.update_entry(
                user, entry_id, changes, now, expected_version=expected_version
            ),
            lambda edited: (TimerEventType.ENTRY_UPDATED, None, edited),
        )

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
        return await self._apply(
            user,
            provider,
            idempotency,
            TimeEntry,
            lambda now: provider.delete_entry(
                user, entry_id, now, expected_version=expected_version
            ),
            lambda entry: (TimerEventType.ENTRY_DELETED, None, entry),
        )


def _plain(answer: Any) -> Any:
    """What a provider's answer carries: the value of a ``Changed``, else the answer itself."""
    return answer.value if isinstance(answer, Changed) else answer
