"""Finding changes made in a vendor's own app, while someone listens.

A vendor does not tell timergate when its user starts or stops a timer in the vendor's own
app. While a user has at least one live subscriber, each of their connections is looked at
every interval (never faster than the provider allows) and what changed since the last look
is published as events, exactly as if the change had been made through the gateway. Changes
made through the gateway are already known from the broker, so they are not published twice.
Nobody listening, no polling.

With several instances on one broker, each change must be published once, not once per
instance that has subscribers of the user: the instances elect one poller per user with a
lease in the shared store (:class:`PollLeases`). Whichever instance is due to look first takes
the lease and renews it at each look; the others skip the user, and hear its changes from the
broker. An instance that stops watching the user, or shuts down, gives the lease up, and
another takes it at its next look; one that dies keeps it until it expires, three poll
intervals after its last look. An instance that takes over looks once to learn what is there
(a change made in the vendor's app during the handover is not published; reads show it). On a
``memory://`` broker each instance's subscribers hear only that instance, so it polls for
them itself, without a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from timergate.broker import Broker, Unsubscribe
from timergate.domain import Clock, Timer, TimerState, User, ended
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.errors import TimergateError
from timergate.service.connections import ConnectionService
from timergate.store import TimerStore

__all__ = ["ConnectionPoller", "PollLeases"]

_log = logging.getLogger("timergate.polling")
_ENDS = frozenset({TimerEventType.STOPPED, TimerEventType.LOGGED, TimerEventType.CANCELLED})
#: A poll lease lasts this many of the user's poll intervals (of a second at least, as
#: looks come in rounds a quarter of a second apart at the fastest): its holder renews it at
#: every look, and a look can be late by a slow vendor's answer.
_LEASE_INTERVALS = 3


class PollLeases:
    """Which instance polls each user's connections: a lease per user in the shared store,
    held under this instance's name."""

    def __init__(self, store: TimerStore, clock: Clock, holder: str) -> None:
        self._store = store
        self._clock = clock
        self.holder = holder

    async def claim(self, user_id: int, seconds: float) -> bool:
        """Take or renew the user's lease for ``seconds``; whether this instance holds it."""
        now = self._clock.now()
        until = now + timedelta(seconds=seconds)
        return await self._store.claim_lease(_lease_name(user_id), self.holder, now, until)

    async def release(self, user_id: int) -> None:
        await self._store.release_lease(_lease_name(user_id), self.holder)


def _lease_name(user_id: int) -> str:
    return f"poll:{user_id}"


class _Watched:
    """One user being watched: how many subscribers, and the timers last seen per provider."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.subscribers = 0
        self.seen: dict[str, dict[str, Timer]] = {}
        self.next_look: dict[str, float] = {}
        self.unsubscribe: Unsubscribe | None = None
        #: Whether this instance (last) held the user's poll lease.
        self.holding = False
        #: Timers changed through a gateway since the last look, per provider: their next look
        #: only learns them again. (A vendor timer's version is counted by each instance's own
        #: book, so a version heard from another instance cannot be compared with one seen here.)
        self.relearn: dict[str, set[str]] = {}

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
            self.relearn.setdefault(timer.provider, set()).add(timer.id)


class ConnectionPoller:
    """Polls the vendor connections of watched users and publishes what changed."""

    def __init__(
        self,
        connections: ConnectionService,
        broker: Broker,
        clock: Clock,
        *,
        interval: float,
        leases: PollLeases | None = None,
    ) -> None:
        self._connections = connections
        self._broker = broker
        self._clock = clock
        self._interval = interval
        self._leases = leases
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
        watched_users, self._watched = list(self._watched.values()), {}
        for watched in watched_users:
            await self._forget(watched)

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
                # unwatch() runs where nothing can await; finish in the background.
                ending = asyncio.ensure_future(self._forget(watched))
                self._ending.add(ending)
                ending.add_done_callback(self._ending.discard)

        return unwatch

    async def _forget(self, watched: _Watched) -> None:
        """Stop hearing the user's events, and give up their lease so another instance that
        has subscribers for them takes over at once."""
        if watched.unsubscribe is not None:
            await watched.unsubscribe()
        if watched.holding:
            await self._release(watched)

    async def _release(self, watched: _Watched) -> None:
        assert self._leases is not None
        watched.holding = False
        try:
            await self._leases.release(watched.user.id)
        except Exception:
            # It expires by itself; another instance waits for that.
            _log.warning("could not give up the poll lease of user %s", watched.user.id)

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
        now = loop.time()
        due: list[tuple[str, Callable[[User], Awaitable[list[Timer]]], float]] = []
        for provider in providers:
            open_timers = getattr(provider, "open_timers", None)
            if open_timers is None:
                continue  # timergate's own store needs no polling
            interval = max(self._interval, getattr(provider, "min_poll_seconds", 0.0))
            if now < watched.next_look.get(provider.key, 0.0):
                continue
            watched.next_look[provider.key] = now + interval
            due.append((provider.key, open_timers, interval))
        if not due or not await self._hold(watched, max(interval for *_, interval in due)):
            return
        for key, open_timers, _ in due:
            try:
                timers: list[Timer] = await open_timers(watched.user)
            except TimergateError as exc:
                _log.info("could not poll %s for user %s: %s", key, watched.user.id, exc)
                continue
            except Exception:
                _log.exception("polling %s for user %s failed", key, watched.user.id)
                continue
            if self._watched.get(watched.user.id) is not watched:
                return
            await self._publish_changes(watched, key, timers)

    async def _hold(self, watched: _Watched, interval: float) -> bool:
        """Whether this instance is the one to poll the user now (taking or renewing the
        lease); without leases, always."""
        if self._leases is None:
            return True
        try:
            held = await self._leases.claim(watched.user.id, _LEASE_INTERVALS * max(interval, 1.0))
        except Exception:
            # Better a change published twice than not at all.
            _log.warning(
                "could not claim the poll lease of user %s; polling anyway", watched.user.id
            )
            held = True
        if self._watched.get(watched.user.id) is not watched:
            # Unwatched while claiming: give the lease straight back.
            if held:
                await self._release(watched)
            return False
        if not held:
            # Another instance polls the user. If this one takes over later, its first look
            # learns afresh: what it saw before, and versions it heard since, are stale.
            watched.seen.clear()
        watched.holding = held
        return held

    async def _publish_changes(self, watched: _Watched, key: str, timers: list[Timer]) -> None:
        now = self._clock.now()
        current = {t.id: t for t in timers}
        before = watched.seen.get(key)
        watched.seen[key] = dict(current)
        relearn = watched.relearn.pop(key, set())
        if before is None:
            return  # the first look only learns what is there
        changes: list[tuple[TimerEventType, Timer]] = []
        for timer_id, timer in current.items():
            if timer_id in relearn:
                continue  # its change was published by the gateway that made it
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
