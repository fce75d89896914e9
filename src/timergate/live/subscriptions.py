"""Live subscriptions: what one subscriber watches, kept current by the broker's events."""

from __future__ import annotations

from datetime import datetime

from timergate.broker import Listener, Unsubscribe
from timergate.domain import Timer, TimerState, User, elapsed_seconds
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.errors import BadUserInput, NotFound
from timergate.gateway import Gateway
from timergate.live.feeds import EventFeed, Tick, TickFeed
from timergate.live.scheduler import TickScheduler

__all__ = [
    "MAX_INTERVAL_SECONDS",
    "EventSubscription",
    "TickSubscription",
    "check_interval",
]

MAX_INTERVAL_SECONDS = 3600
_ENDS_TIMER = frozenset({TimerEventType.STOPPED, TimerEventType.LOGGED, TimerEventType.CANCELLED})


def check_interval(seconds: int) -> int:
    if not 1 <= seconds <= MAX_INTERVAL_SECONDS:
        raise BadUserInput(
            f"intervalSeconds must be between 1 and {MAX_INTERVAL_SECONDS} (got {seconds}).",
            field="intervalSeconds",
        )
    return seconds


class TickSubscription:
    """Ticks one timer (``timer_id``) or every running timer of the user.

    It registers with the scheduler only while it watches a running timer, so an idle
    subscriber costs nothing per tick. A timer-specific stream ends after the final tick of a
    stop, log or cancel; a paused timer's stream idles until the timer resumes.
    """

    __slots__ = (
        "_running",
        "_scheduler",
        "_unsubscribe",
        "_versions",
        "feed",
        "interval",
        "provider",
        "timer_id",
    )

    def __init__(
        self,
        scheduler: TickScheduler,
        feed: TickFeed,
        timer_id: str | None,
        interval: int,
        provider: str | None = None,
    ) -> None:
        self._scheduler = scheduler
        self.feed = feed
        self.timer_id = timer_id
        self.provider = provider
        self.interval = interval
        # Keyed by (provider, id): ids are only unique within their provider.
        self._running: dict[tuple[str, str], Timer] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._unsubscribe: Unsubscribe | None = None

    @classmethod
    async def open(
        cls,
        gateway: Gateway,
        user: User,
        feed: TickFeed,
        *,
        timer_id: str | None,
        provider: str | None = None,
        interval: int = 1,
    ) -> TickSubscription:
        """Start watching; raises :class:`NotFound` for a timer the user does not have."""
        subscription = cls(
            gateway.scheduler,
            feed,
            timer_id,
            check_interval(interval),
            provider if timer_id is not None else None,
        )
        # Listen before reading, so no change between the read and the listen is lost.
        subscription._unsubscribe = await _listen(gateway, user, subscription.on_event)
        try:
            if timer_id is None or provider is None:
                # A connection that cannot be reached now joins when it next changes.
                timers = (await gateway.reads.running(user)).value
            else:
                timer = await gateway.reads.timer(user, provider, timer_id)
                if timer is None:
                    raise NotFound("No timer with that id; it may have been cancelled.")
                timers = [timer]
        except BaseException:
            await subscription.close()
            raise
        for timer in timers:
            if subscription._versions.get(_key(timer), 0) < timer.version:
                subscription._track(timer)
        if timer_id is not None and timers[0].state is TimerState.STOPPED:
            stopped = timers[0]
            at = stopped.updated_at
            feed.put(Tick(stopped, elapsed_seconds(stopped, at), at, final=True))
            feed.end()
        return subscription

    def _track(self, timer: Timer) -> None:
        key = _key(timer)
        self._versions[key] = timer.version
        if timer.state is TimerState.RUNNING:
            if not self._running:
                self._scheduler.add(self)
            self._running[key] = timer
        elif self._running.pop(key, None) is not None and not self._running:
            self._scheduler.discard(self)

    def tick(self, at: datetime) -> None:
        put = self.feed.put
        for timer in self._running.values():
            put(Tick(timer, elapsed_seconds(timer, at), at))

    def on_event(self, event: TimerEvent) -> None:
        timer = event.timer
        if timer is None or (self.timer_id is not None and timer.id != self.timer_id):
            return
        if self.provider is not None and timer.provider != self.provider:
            return
        key = _key(timer)
        was_running = key in self._running
        if event.type is TimerEventType.CANCELLED:
            # The event carries the timer as it was; it is gone now.
            self._versions.pop(key, None)
            if self._running.pop(key, None) is not None and not self._running:
                self._scheduler.discard(self)
            still_running = False
        else:
            if self._versions.get(key, 0) >= timer.version:
                return  # already seen (read at open, or delivered twice)
            self._track(timer)
            still_running = timer.state is TimerState.RUNNING
        ends = self.timer_id is not None and event.type in _ENDS_TIMER
        if (was_running and not still_running) or ends:
            self.feed.put(Tick(timer, elapsed_seconds(timer, event.at), event.at, final=True))
        if ends:
            self.feed.end()

    async def close(self) -> None:
        self._scheduler.discard(self)
        self._running.clear()
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            await unsubscribe()


async def _listen(gateway: Gateway, user: User, listener: Listener) -> Unsubscribe:
    """Listen to the user's events, and have their connections watched for outside changes
    meanwhile; the returned callable undoes both."""
    unsubscribe = await gateway.broker.subscribe(user_channel(user.id), listener)
    unwatch = await gateway.poller.watch(user)

    async def stop() -> None:
        unwatch()
        await unsubscribe()

    return stop


def _key(timer: Timer) -> tuple[str, str]:
    return (timer.provider, timer.id)


class EventSubscription:
    """Every change to the user's timers and entries, from any instance or cause."""

    __slots__ = ("_unsubscribe", "feed")

    def __init__(self, feed: EventFeed) -> None:
        self.feed = feed
        self._unsubscribe: Unsubscribe | None = None

    @classmethod
    async def open(cls, gateway: Gateway, user: User, feed: EventFeed) -> EventSubscription:
        subscription = cls(feed)
        subscription._unsubscribe = await _listen(gateway, user, feed.put)
        return subscription

    async def close(self) -> None:
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            await unsubscribe()
