"""The timer book: vendor snapshots ("N seconds so far") become timers whose start stays put
and whose version grows only when something visible changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from timergate.domain import TimerDetails, TimerState, elapsed_seconds
from timergate.providers.timer_book import TimerBook, VendorTimer

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
DETAILS = TimerDetails(description="Report")


def seen(at: float, elapsed: float, state: TimerState = TimerState.RUNNING) -> VendorTimer:
    return VendorTimer(
        id="7",
        state=state,
        elapsed=timedelta(seconds=elapsed),
        details=DETAILS,
        seen_at=T0 + timedelta(seconds=at),
    )


def test_a_running_timers_start_stays_put_across_snapshots() -> None:
    """Whole-second elapsed values and answer latency do not move the running span."""
    book = TimerBook(user_id=1, provider="c1")
    first = book.observe(seen(at=100.0, elapsed=40))
    later = book.observe(seen(at=160.4, elapsed=100))
    assert later is first
    assert later.running_since == T0 + timedelta(seconds=60)
    assert elapsed_seconds(later, T0 + timedelta(seconds=200)) == 140


def test_the_version_grows_only_on_a_visible_change() -> None:
    """A pause bumps the version once; the same paused snapshot again changes nothing."""
    book = TimerBook(user_id=1, provider="c1")
    running = book.observe(seen(at=0, elapsed=10))
    paused = book.observe(seen(at=30, elapsed=40, state=TimerState.PAUSED))
    again = book.observe(seen(at=90, elapsed=40, state=TimerState.PAUSED))
    assert (running.version, paused.version, again.version) == (1, 2, 2)
    assert paused.accumulated == timedelta(seconds=40) and paused.running_since is None


def test_a_resumed_timer_keeps_the_time_before_its_pause() -> None:
    """After a resume the paused time is kept and only the new span runs."""
    book = TimerBook(user_id=1, provider="c1")
    book.observe(seen(at=0, elapsed=50, state=TimerState.PAUSED))
    resumed = book.observe(seen(at=100, elapsed=55))
    assert resumed.accumulated == timedelta(seconds=50)
    assert resumed.running_since == T0 + timedelta(seconds=95)
    assert resumed.version == 2


def test_time_changed_at_the_vendor_is_believed() -> None:
    """A running timer whose vendor elapsed time jumps (edited there) is rebuilt and bumped."""
    book = TimerBook(user_id=1, provider="c1")
    first = book.observe(seen(at=0, elapsed=10))
    edited = book.observe(seen(at=10, elapsed=620))
    assert edited.version == first.version + 1
    assert elapsed_seconds(edited, T0 + timedelta(seconds=10)) == 620


def test_a_stopped_timer_is_forgotten_with_its_final_time() -> None:
    """stopped() gives the timer as it ended and forgets it."""
    book = TimerBook(user_id=1, provider="c1")
    book.observe(seen(at=0, elapsed=0))
    ended = book.stopped("7", T0 + timedelta(seconds=90))
    assert ended.state is TimerState.STOPPED and ended.accumulated == timedelta(seconds=90)
    assert book.known("7") is None
