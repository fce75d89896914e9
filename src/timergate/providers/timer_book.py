"""A connection's memory of its vendor timers: stable times and versions from vendor snapshots.

Vendors report a timer as "this many seconds so far" at the moment they answer; most keep no
start instant and no version. The book turns a stream of such snapshots into domain
:class:`~timergate.domain.Timer` values whose ``running_since`` stays put while the timer runs
(so every tick agrees), and whose ``version`` grows exactly when something a user can see
changed (so subscribers drop duplicates and ``expectedVersion`` works).

What the book remembers lives in this process: after a restart, a running timer's start is
estimated again from its elapsed time and versions count again from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from timergate.domain import Timer, TimerDetails, TimerState

__all__ = ["TimerBook", "VendorTimer"]

#: How far a vendor's elapsed time may drift from what the book expects before the book
#: believes the vendor (its seconds are whole, and its answer took time to arrive).
_TOLERANCE = timedelta(seconds=2)
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class VendorTimer:
    """One timer as the vendor reported it at ``seen_at``."""

    id: str
    state: TimerState
    elapsed: timedelta
    details: TimerDetails
    seen_at: datetime
    #: When the vendor says it began, if it says.
    started_at: datetime | None = None


class TimerBook:
    """Per connection: native id → the last domain timer built for it."""

    def __init__(self, user_id: int, provider: str) -> None:
        self._user_id = user_id
        self._provider = provider
        self._timers: dict[str, Timer] = {}

    def known(self, timer_id: str) -> Timer | None:
        return self._timers.get(timer_id)

    def observe(self, seen: VendorTimer) -> Timer:
        """The domain timer for this snapshot, its version bumped if anything changed."""
        previous = self._timers.get(seen.id)
        timer = self._build(seen, previous)
        if previous is not None and _same(previous, timer):
            return previous
        if previous is not None:
            timer = replace(timer, version=previous.version + 1, updated_at=seen.seen_at)
        self._timers[seen.id] = timer
        return timer

    def stopped(self, timer_id: str, at: datetime, elapsed: timedelta | None = None) -> Timer:
        """The timer as it ends (logged, stopped or discarded); the book forgets it."""
        previous = self._timers.pop(timer_id, None)
        if previous is None:
            raise KeyError(timer_id)
        accumulated = elapsed if elapsed is not None else _elapsed(previous, at)
        return replace(
            previous,
            state=TimerState.STOPPED,
            accumulated=accumulated,
            running_since=None,
            updated_at=at,
            version=previous.version + 1,
        )

    def forget(self, timer_id: str) -> Timer | None:
        return self._timers.pop(timer_id, None)

    def ids(self) -> set[str]:
        return set(self._timers)

    def _build(self, seen: VendorTimer, previous: Timer | None) -> Timer:
        elapsed = max(seen.elapsed, _ZERO)
        if seen.state is TimerState.RUNNING:
            accumulated = _ZERO
            running_since = seen.seen_at - elapsed
            if previous is not None:
                if previous.state is TimerState.RUNNING and previous.running_since is not None:
                    expected = _elapsed(previous, seen.seen_at)
                    if abs(expected - elapsed) <= _TOLERANCE:
                        accumulated, running_since = (
                            previous.accumulated,
                            previous.running_since,
                        )
                    else:
                        accumulated = previous.accumulated
                        running_since = seen.seen_at - (elapsed - accumulated)
                elif previous.accumulated <= elapsed:
                    # Resumed since: the paused time so far, plus a new running span.
                    accumulated = previous.accumulated
                    running_since = seen.seen_at - (elapsed - accumulated)
            if running_since > seen.seen_at:
                accumulated, running_since = _ZERO, seen.seen_at - elapsed
        else:
            accumulated, running_since = elapsed, None
        if seen.started_at is not None:
            started_at = seen.started_at
        elif previous is not None:
            started_at = previous.started_at
        else:
            started_at = (running_since or seen.seen_at - elapsed) - accumulated
        return Timer(
            id=seen.id,
            user_id=self._user_id,
            provider=self._provider,
            state=seen.state,
            details=seen.details,
            accumulated=accumulated,
            running_since=running_since,
            started_at=started_at,
            updated_at=previous.updated_at if previous is not None else seen.seen_at,
            version=previous.version if previous is not None else 1,
        )


def _elapsed(timer: Timer, at: datetime) -> timedelta:
    if timer.running_since is None:
        return timer.accumulated
    return timer.accumulated + max(at - timer.running_since, _ZERO)


def _same(a: Timer, b: Timer) -> bool:
    return (
        a.state is b.state
        and a.details == b.details
        and a.accumulated == b.accumulated
        and a.running_since == b.running_since
        and a.started_at == b.started_at
    )
