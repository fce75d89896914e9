"""The running gateway's services, wired in one place: store, broker, providers, timer service,
authentication, revocation, rate limits and the tick clock."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from timergate.auth import Authenticator, hash_token
from timergate.broker import Broker, open_broker
from timergate.config import Settings
from timergate.domain import Clock, SystemClock, User
from timergate.live.polling import ConnectionPoller
from timergate.live.scheduler import TickScheduler
from timergate.providers import LocalProvider
from timergate.providers.registry import VENDORS
from timergate.providers.upstream import UpstreamAllowList, UpstreamPools
from timergate.ratelimit import RateLimiter
from timergate.revocations import Revocations
from timergate.service import ConnectionService, Reads, TimerService
from timergate.store import TimerStore, open_store
from timergate.vault import CredentialVault, VaultError

__all__ = ["Gateway"]

_log = logging.getLogger("timergate")


class Gateway:
    """Owns the long-lived resources; :meth:`start` and :meth:`stop` bracket the app's life.

    ``upstream_transport`` replaces the network under every vendor connection (tests route it
    to fake vendors in the same process).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        upstream_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.store: TimerStore = open_store(settings.database_url)
        self.broker: Broker = open_broker(settings.broker_url)
        self.authenticator = Authenticator(self.store, ttl=settings.token_cache_seconds)
        self.revocations = Revocations(self.store, poll_seconds=settings.revocation_poll_seconds)
        self.revocations.subscribe(self.authenticator.forget_tokens)
        self.limiter = RateLimiter(
            settings.rate_limit_storage,
            per_token=settings.rate_limit_per_token,
            per_address=settings.rate_limit_per_address,
        )
        self.pools = UpstreamPools(
            timeout=settings.upstream_timeout_seconds,
            transport=upstream_transport,
            pacing=settings.upstream_pacing,
        )
        vault, problem = _vault(settings)
        self.connections = ConnectionService(
            self.store,
            LocalProvider(self.store),
            clock=self.clock,
            pools=self.pools,
            allow_list=UpstreamAllowList(
                (host for spec in VENDORS.values() for host in spec.public_hosts),
                settings.allowed_upstreams,
            ),
            vault=vault,
            vault_problem=problem,
        )
        self.reads = Reads(self.connections, timeout=settings.upstream_timeout_seconds)
        self.timers = TimerService(self.connections, self.broker, self.clock, self.reads)
        self.scheduler = TickScheduler()
        self.poller = ConnectionPoller(
            self.connections, self.broker, self.clock, interval=settings.poll_interval_seconds
        )

    async def start(self) -> None:
        await self.store.connect()
        await self.broker.connect()
        await self.revocations.start()
        self.scheduler.start()
        self.poller.start()

    async def stop(self) -> None:
        await self.poller.stop()
        await self.scheduler.stop()
        await self.revocations.stop()
        await self.limiter.aclose()
        await self.connections.close()
        await self.pools.close()
        await self.broker.disconnect()
        await self.store.disconnect()

    async def set_time_zone(self, user: User, time_zone: str) -> User:
        updated = await self.store.set_time_zone(user.id, time_zone)
        self.authenticator.forget(user.id)
        return updated

    async def revoke_tokens(self, tokens: Sequence[str]) -> int:
        """Revoke tokens; this gateway refuses them and cuts their connections at once."""
        return await self.revocations.revoke([hash_token(t) for t in tokens])


def default_key_file(settings: Settings) -> str | None:
    """Where a single instance keeps its generated key: beside its SQLite file."""
    if settings.secret_key_file:
        return settings.secret_key_file
    parts = urlsplit(settings.database_url)
    if parts.scheme != "sqlite":
        return None
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return str(Path(path).with_name("timergate.key"))


def _vault(settings: Settings) -> tuple[CredentialVault | None, str | None]:
    try:
        return CredentialVault.from_settings(settings.secret_key, default_key_file(settings)), None
    except VaultError as exc:
        _log.warning("vendor connections are disabled: %s", exc)
        return None, str(exc)
