"""The running gateway's services: store, broker, providers and authentication, in one place."""

from __future__ import annotations

from timergate.auth import Authenticator
from timergate.broker import Broker, open_broker
from timergate.config import Settings
from timergate.domain import Clock, SystemClock, User
from timergate.errors import BadUserInput
from timergate.live.scheduler import TickScheduler
from timergate.providers import LocalProvider, Provider
from timergate.store import TimerStore, open_store

__all__ = ["Gateway"]


class Gateway:
    """Owns the long-lived resources; :meth:`start` and :meth:`stop` bracket the app's life."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.store: TimerStore = open_store(settings.database_url)
        self.broker: Broker = open_broker(settings.broker_url)
        self.authenticator = Authenticator(self.store, ttl=settings.token_cache_seconds)
        local = LocalProvider(self.store, self.broker, self.clock)
        self.providers: dict[str, Provider] = {local.name: local}
        self.scheduler = TickScheduler()

    async def start(self) -> None:
        await self.store.connect()
        await self.broker.connect()
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.broker.disconnect()
        await self.store.disconnect()

    def provider(self, name: str, *, field: str = "input.provider") -> Provider:
        """The provider called ``name``; an unknown name is the client's mistake."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers))
            raise BadUserInput(
                f"Unknown provider {name!r}; this gateway offers: {known}.", field=field
            ) from None

    async def set_time_zone(self, user: User, time_zone: str) -> User:
        updated = await self.store.set_time_zone(user.id, time_zone)
        self.authenticator.forget(user.id)
        return updated
