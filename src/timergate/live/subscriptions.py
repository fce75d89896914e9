"""Live subscriptions: what one subscriber watches, kept current by the broker's events.

When the broker's connection was lost for a while, events may have been missed. A tick
subscription then re-reads the timers it watches (one cheap read) and carries on as if it had
seen every change; an event subscription cannot know what it missed, so it tells its
subscriber to re-read and subscribe again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from timergate.broker import Gap, Listener, Unsubscribe
from timergate.domain import Timer, TimerState, User, elapsed_seconds
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.errors import BadUserInput, NotFound, ShuttingDown
from timergate.gateway import Gateway
from timergate.live.feeds import EventFeed, Tick, TickFeed
from timergate.live.scheduler import TickScheduler

__all__ = [
    "MAX_INTERVAL_SECONDS",
    "EventSubscription",
    "TickSubscription",
    "check_interval",
]

_log = logging.getLogger("timergate.live")

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
        "_catching_up",
        "_gateway",
        "_running",
        "_scheduler",
        "_unsubscribe",
        "_user",
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
        *,
        gateway: Gateway | None = None,
        user: User | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._gateway = gateway
        self._user = user
        self._catching_up: asyncio.Task[None] | None = None
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
        if gateway.draining.started:
            raise ShuttingDown()
        subscription = cls(
            gateway.scheduler,
            feed,
            timer_id,
            check_interval(interval),
            provider if timer_id is not None else None,
            gateway=gateway,
            user=user,
        )
        # Listen before reading, so no change between the read and the listen is lost.
        subscription._unsubscribe = await _listen(
            gateway, user, subscription.on_event, on_gap=subscription.on_gap
        )
        try:
            timers = await subscription._read()
            if timer_id is not None and not timers:
                raise NotFound("No timer with that id; it may have been cancelled.")
        except BaseException:
            await subscription.close()
            raise
        for timer in timers:
            subscription._update(timer, timer.updated_at, ends=timer.state is TimerState.STOPPED)
        return subscription

    async def _read(self) -> list[Timer]:
        """What this subscription watches, as the store or vendor has it now."""
        assert self._gateway is not None and self._user is not None
        reads = self._gateway.reads
        if self.timer_id is None or self.provider is None:
            # A connection that cannot be reached now joins when it next changes.
            return (await reads.running(self._user)).value
        timer = await reads.timer(self._user, self.provider, self.timer_id)
        return [] if timer is None else [timer]

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
        if event.type is TimerEventType.CANCELLED:
            # The event carries the timer as it was; it is gone now.
            self._vanish(timer, event.at)
        else:
            self._update(timer, event.at, ends=event.type in _ENDS_TIMER)

    def _update(self, timer: Timer, at: datetime, *, ends: bool) -> None:
        """Take in ``timer`` as it is at ``at``; ``ends`` when it was stopped or logged."""
        key = _key(timer)
        if self._versions.get(key, 0) >= timer.version:
            return  # already seen (read at open, or delivered twice)
        was_running = key in self._running
        self._track(timer)
        ends = ends and self.timer_id is not None
        if (was_running and timer.state is not TimerState.RUNNING) or ends:
            self.feed.put(Tick(timer, elapsed_seconds(timer, at), at, final=True))
        if ends:
            self.feed.end()

    def _vanish(self, timer: Timer, at: datetime) -> None:
        """``timer`` was cancelled: a final tick if it ran (or is the one watched), then gone."""
        key = _key(timer)
        self._versions.pop(key, None)
        was_running = self._running.pop(key, None) is not None
        if was_running and not self._running:
            self._scheduler.discard(self)
        if was_running or self.timer_id is not None:
            self.feed.put(Tick(timer, elapsed_seconds(timer, at), at, final=True))
        if self.timer_id is not None:
            self.feed.end()

    def on_gap(self) -> None:
        """The broker was away and events may be lost: re-read what is watched."""
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.get_running_loop().create_task(self._catch_up())

    async def _catch_up(self) -> None:
        assert self._gateway is not None and self._user is not None
        try:
            timers = await self._read()
            found = {_key(t) for t in timers}
            # Timers that stopped running meanwhile: read each to learn how it ended.
            gone = [
                (timer, await self._gateway.reads.timer(self._user, *key))
                for key, timer in list(self._running.items())
                if key not in found
            ]
        except Exception:
            _log.warning("could not re-read timers after a broker outage", exc_info=True)
            return
        now = self._gateway.clock.now()
        for last_seen, current in gone:
            if current is None:
                self._vanish(last_seen, now)
            else:
                self._update(current, current.updated_at, ends=current.state is TimerState.STOPPED)
        if self.timer_id is not None and not timers and not gone:
            self.feed.end()  # cancelled meanwhile, while it was paused
        for timer in timers:
            self._update(timer, timer.updated_at, ends=timer.state is TimerState.STOPPED)

    async def close(self) -> None:
        if self._catching_up is not None:
            self._catching_up.cancel()
        self._scheduler.discard(self)
        self._running.clear()
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            await unsubscribe()


async def _listen(gateway: Gateway, user: User, listener: Listener, *, on_gap: Gap) -> Unsubscribe:
    """Listen to the user's events, and have their connections watched for outside changes
    meanwhile; the returned callable undoes both."""
    unsubscribe = await gateway.broker.subscribe(user_channel(user.id), listener, on_gap=on_gap)
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
        if gateway.draining.started:
            raise ShuttingDown()
        subscription = cls(feed)
        # Missed events cannot be replayed: the feed tells the subscriber to re-read instead.
        subscription._unsubscribe = await _listen(gateway, user, feed.put, on_gap=feed.miss)
        return subscription

    async def close(self) -> None:
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            await unsubscribe()
