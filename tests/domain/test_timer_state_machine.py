"""The timer state machine against a reference model, under a clock the test moves.

The model counts elapsed time the naive way (every RUNNING timer gains each clock step). The
domain's functions change one timer each; the one-running-timer rule, which spans a user's
timers, belongs to the provider and the store (tests/providers/test_local_one_running.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from timergate.domain import (
    UNSET,
    ManualClock,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerContext,
    TimerDetails,
    TimerState,
    Unset,
    elapsed,
    elapsed_seconds,
    local_date,
    log,
    new_timer,
    pause,
    resume,
    stop,
    update,
)
from timergate.errors import InvalidTransition

#: Users and their time zones; entries are dated in these.
USERS = {1: "UTC", 2: "Europe/Berlin", 3: "America/Los_Angeles"}
#: Just before the spring-forward night in Europe, so runs cross a DST change.
START = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
MAX_TIMERS = 6

STEPS = st.one_of(
    st.just(timedelta(0)),
    st.integers(1, 999_999).map(lambda us: timedelta(microseconds=us)),  # sub-second
    st.integers(1, 4 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 3 * 24 * 3600 * 10**6).map(lambda us: timedelta(microseconds=us)),
)
#: A small pool, so edits often repeat what a timer already has (a no-op).
DETAILS = st.sampled_from(
    [
        TimerDetails(),
        TimerDetails(description="Write the report", tags=("writing",)),
        TimerDetails(description="Fix login", context=TimerContext("issue", "GH-12", "Login")),
        TimerDetails(description="Standup", tags=("meeting", "team"), billable=False),
    ]
)


@dataclass
class Model:
    """What a timer should be, computed without the domain's arithmetic."""

    user_id: int
    state: TimerState
    elapsed: timedelta
    version: int
    #: The least elapsed time the timer may show from now on.
    floor: timedelta


class TimerMachine(RuleBasedStateMachine):
    timers = Bundle("timers")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.real: dict[str, Timer] = {}
        self.model: dict[str, Model] = {}
        self.entries: dict[str, TimeEntry] = {}
        self.next_id = 1

    # Helpers.

    def _check_stopped(self, key: str, before: Timer, after: Timer, entry: TimeEntry) -> None:
        now = self.clock.now()
        m = self.model[key]
        assert after.state is TimerState.STOPPED
        assert after.version == before.version + 1
        assert elapsed(after, now) == m.elapsed
        assert elapsed(after, now + timedelta(days=1)) == m.elapsed, "a stopped timer stays put"
        assert entry.timer_id == key
        assert entry.user_id == before.user_id
        assert entry.started_at == before.started_at
        assert entry.ended_at == now
        assert entry.ended_at >= entry.started_at
        assert entry.version == 1
        assert key not in self.entries, "a timer yields one entry"
        self.entries[key] = entry
        m.state = TimerState.STOPPED
        m.version += 1

    # Rules.

    @initialize()
    def nothing_yet(self) -> None:
        assert not self.real

    @rule(step=STEPS)
    def time_passes(self, step: timedelta) -> None:
        self.clock.advance(microseconds=step / timedelta(microseconds=1))
        for m in self.model.values():
            if m.state is TimerState.RUNNING:
                m.elapsed += step

    @precondition(lambda self: len(self.real) < MAX_TIMERS)
    @rule(target=timers, user_id=st.sampled_from(sorted(USERS)), details=DETAILS)
    def start(self, user_id: int, details: TimerDetails) -> str:
        key = str(self.next_id)
        self.next_id += 1
        timer = new_timer(
            user_id=user_id, provider="local", details=details, now=self.clock.now(), timer_id=key
        )
        assert (timer.state, timer.version, timer.id) == (TimerState.RUNNING, 1, key)
        assert elapsed(timer, self.clock.now()) == timedelta(0)
        self.real[key] = timer
        self.model[key] = Model(user_id, TimerState.RUNNING, timedelta(0), 1, timedelta(0))
        return key

    @rule(key=timers)
    def pause_timer(self, key: str) -> None:
        before, m = self.real[key], self.model[key]
        if m.state is TimerState.STOPPED:
            with pytest.raises(InvalidTransition):
                pause(before, self.clock.now())
            return
        after = pause(before, self.clock.now())
        assert after.state is TimerState.PAUSED
        if m.state is TimerState.PAUSED:
            assert after is before, "pausing a PAUSED timer is no change"
        else:
            m.state = TimerState.PAUSED
            m.version += 1
        self.real[key] = after

    @rule(key=timers)
    def resume_timer(self, key: str) -> None:
        before, m = self.real[key], self.model[key]
        if m.state is TimerState.STOPPED:
            with pytest.raises(InvalidTransition):
                resume(before, self.clock.now())
            return
        after = resume(before, self.clock.now())
        assert after.state is TimerState.RUNNING
        if m.state is TimerState.RUNNING:
            assert after is before, "resuming a RUNNING timer is no change"
            return
        m.state = TimerState.RUNNING
        m.version += 1
        self.real[key] = after

    @rule(key=timers)
    def stop_timer(self, key: str) -> None:
        before, m = self.real[key], self.model[key]
        now = self.clock.now()
        if m.state is TimerState.STOPPED:
            with pytest.raises(InvalidTransition):
                stop(before, now, time_zone=USERS[m.user_id])
            return
        after, entry = stop(before, now, time_zone=USERS[m.user_id])
        self._check_stopped(key, before, after, entry)
        assert entry.duration_seconds == int(m.elapsed.total_seconds())
        assert entry.details == before.details
        assert entry.date == local_date(before.started_at, USERS[m.user_id])
        self.real[key] = after

    @rule(
        key=timers,
        override=st.none() | st.integers(0, 10**6).map(lambda s: timedelta(seconds=s)),
        description=st.just(UNSET) | st.none() | st.text(max_size=5),
        billable=st.none() | st.booleans(),
    )
    def log_timer(
        self,
        key: str,
        override: timedelta | None,
        description: str | Unset | None,
        billable: bool | None,
    ) -> None:
        before, m = self.real[key], self.model[key]
        now = self.clock.now()
        zone = USERS[m.user_id]
        if m.state is TimerState.STOPPED:
            with pytest.raises(InvalidTransition):
                log(before, now, time_zone=zone, duration=override)
            return
        after, entry = log(
            before,
            now,
            time_zone=zone,
            description=description,
            duration=override,
            billable=billable,
        )
        self._check_stopped(key, before, after, entry)
        expected = override if override is not None else m.elapsed
        assert entry.duration_seconds == int(expected.total_seconds())
        assert entry.details.description == (
            before.details.description if isinstance(description, Unset) else description
        )
        assert entry.details.billable == (before.details.billable if billable is None else billable)
        assert entry.details.tags == before.details.tags
        self.real[key] = after

    @rule(key=timers, details=DETAILS)
    def edit_details(self, key: str, details: TimerDetails) -> None:
        before, m = self.real[key], self.model[key]
        changes = TimerChanges(
            description=details.description,
            context=details.context,
            tags=details.tags,
            billable=details.billable,
        )
        now = self.clock.now()
        if m.state is TimerState.STOPPED:
            with pytest.raises(InvalidTransition):
                update(before, changes, now)
            return
        after = update(before, changes, now)
        assert after.details == details
        assert after.state is before.state
        if details == before.details:
            assert after is before, "an edit to the same values is no change"
        else:
            m.version += 1
        self.real[key] = after

    @rule(key=timers, seconds=st.integers(0, 10**6))
    def set_elapsed(self, key: str, seconds: int) -> None:
        before, m = self.real[key], self.model[key]
        changes = TimerChanges(elapsed=timedelta(seconds=seconds))
        now = self.clock.now()
        if m.state is not TimerState.PAUSED:
            with pytest.raises(InvalidTransition):
                update(before, changes, now)
            return
        after = update(before, changes, now)
        assert elapsed(after, now) == timedelta(seconds=seconds)
        if after is not before:
            m.version += 1
        else:
            assert m.elapsed == timedelta(seconds=seconds)
        # The one way a user may take time away: an explicit edit.
        m.elapsed = m.floor = timedelta(seconds=seconds)
        self.real[key] = after

    # Invariants.

    @invariant()
    def timers_match_the_model(self) -> None:
        now = self.clock.now()
        for key, timer in self.real.items():
            m = self.model[key]
            assert timer.state is m.state, key
            assert timer.version == m.version, key
            assert elapsed(timer, now) == m.elapsed, key
            assert elapsed_seconds(timer, now) == int(m.elapsed.total_seconds())
            assert (timer.running_since is not None) == (timer.state is TimerState.RUNNING)
            assert (key in self.entries) == (timer.state is TimerState.STOPPED)

    @invariant()
    def elapsed_never_decreases(self) -> None:
        now = self.clock.now()
        for key, timer in self.real.items():
            shown = elapsed(timer, now)
            m = self.model[key]
            assert shown >= m.floor, f"timer {key} went back from {m.floor} to {shown}"
            m.floor = shown


TimerMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_timer_state_machine = TimerMachine.TestCase
