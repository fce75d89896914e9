"""Finding changes made in a vendor's own app, while someone listens.

A vendor does not tell timergate when its user starts or stops a timer in the vendor's own
app. While a user has at least one live subscriber, each of their connections is looked at
every interval (never faster than the provider allows) and what changed since the last look
is published as events, exactly as if the change had been made through the gateway. Changes
made through the gateway are already known from the broker, so they are not published twice.
Nobody listening, no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from timergate.broker import Broker, Unsubscribe
from timergate.domain import Clock, Timer, TimerState, User, ended
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.errors import TimergateError
from timergate.service.connections import ConnectionService

__all__ = ["ConnectionPoller"]

_log = logging.getLogger("timergate.polling")
_ENDS = frozenset({TimerEventType.STOPPED, TimerEventType.LOGGED, TimerEventType.CANCELLED})


class _Watched:
    """One user being watched: how many subscribers, and the timers last seen per provider."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.subscribers = 0
        self.seen: dict[str, dict[str, Timer]] = {}
        self.next_look: dict[str, float] = {}
        self.unsubscribe: Unsubscribe | None = None

    def on_event(self, event: TimerEvent) -> None:
        timer = event.timer
        if timer is None:
            return
        known = self.seen.get(timer.provider)
        if known is None:
            return
        if event.type in _ENDS:
            known.pop(timer.id, None)
        else:
            known[timer.id] = timer


class ConnectionPoller:
    """Polls the vendor connections of watched users and publishes what changed."""

    def __init__(
        self,
        connections: ConnectionService,
        broker: Broker,
        clock: Clock,
        *,
        interval: float,
    ) -> None:
        self._connections = connections
        self._broker = broker
        self._clock = clock
        self._interval = interval
        self._watched: dict[int, _Watched] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._ending: set[asyncio.Future[None]] = set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for watched in list(self._watched.values()):
            if watched.unsubscribe is not None:
                await watched.unsubscribe()
        self._watched.clear()

    async def watch(self, user: User) -> Callable[[], None]:
        """Look at ``user``'s connections until the returned callable is called."""
        watched = self._watched.get(user.id)
        if watched is None:
            watched = self._watched[user.id] = _Watched(user)
            watched.unsubscribe = await self._broker.subscribe(
                user_channel(user.id), watched.on_event
            )
            self._wake.set()
        watched.subscribers += 1
        done = False

        def unwatch() -> None:
            nonlocal done
            if done:
                return
            done = True
            watched.subscribers -= 1
            if watched.subscribers == 0 and self._watched.get(user.id) is watched:
                del self._watched[user.id]
                if watched.unsubscribe is not None:
                    # unwatch() runs where nothing can await; finish in the background.
                    ending = asyncio.ensure_future(watched.unsubscribe())
                    self._ending.add(ending)
                    ending.add_done_callback(self._ending.discard)

        return unwatch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._watched:
                self._wake.clear()
                await self._wake.wait()
            started = loop.time()
            await asyncio.gather(
                *(self._look(w) for w in list(self._watched.values())), return_exceptions=True
            )
            await asyncio.sleep(max(1.0, self._interval - (loop.time() - started)) / 4)

    async def _look(self, watched: _Watched) -> None:
        loop = asyncio.get_running_loop()
        try:
            providers, _ = await self._connections.providers(watched.user)
        except TimergateError:
            return
        for provider in providers:
            open_timers = getattr(provider, "open_timers", None)
            if open_timers is None:
                continue  # timergate's own store needs no polling
            interval = max(self._interval, getattr(provider, "min_poll_seconds", 0.0))
            if loop.time() < watched.next_look.get(provider.key, 0.0):
                continue
            watched.next_look[provider.key] = loop.time() + interval
            try:
                timers: list[Timer] = await open_timers(watched.user)
            except TimergateError as exc:
                _log.info("could not poll %s for user %s: %s", provider.key, watched.user.id, exc)
                continue
            except Exception:
                _log.exception("polling %s for user %s failed", provider.key, watched.user.id)
                continue
            if watched.user.id not in self._watched:
                return
            await self._publish_changes(watched, provider.key, timers)

    async def _publish_changes(self, watched: _Watched, key: str, timers: list[Timer]) -> None:
        now = self._clock.now()
        current = {t.id: t for t in timers}
        before = watched.seen.get(key)
        watched.seen[key] = dict(current)
        if before is None:
            return  # the first look only learns what is there
        changes: list[tuple[TimerEventType, Timer]] = []
        for timer_id, timer in current.items():
            old = before.get(timer_id)
            if old is None:
                kind = (
                    TimerEventType.STARTED
                    if timer.state is TimerState.RUNNING
                    else TimerEventType.UPDATED
                )
                changes.append((kind, timer))
            elif timer.version > old.version:
                changes.append((_change(old, timer), timer))
        for timer_id, old in before.items():
            if timer_id not in current:
                changes.append((TimerEventType.STOPPED, ended(old, now)))
        for kind, timer in changes:
            event = TimerEvent(kind, watched.user.id, now, timer, None)
            await self._broker.publish(user_channel(watched.user.id), event)


def _change(old: Timer, new: Timer) -> TimerEventType:
    if old.state is TimerState.RUNNING and new.state is TimerState.PAUSED:
        return TimerEventType.PAUSED
    if old.state is not TimerState.RUNNING and new.state is TimerState.RUNNING:
        return TimerEventType.RESUMED
    return TimerEventType.UPDATED
