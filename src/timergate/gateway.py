"""The running gateway's services, wired in one place: store, broker, providers, timer service,
authentication, revocation, rate limits and the tick clock."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from timergate.auth import Authenticator, hash_token
from timergate.broker import Broker, BrokerUnavailable, Unsubscribe, open_broker
from timergate.config import Settings
from timergate.domain import Clock, SystemClock, User
from timergate.domain.control import ConnectionsChanged, ControlMessage, TokensRevoked
from timergate.draining import Draining
from timergate.live.polling import ConnectionPoller, PollLeases
from timergate.live.scheduler import TickScheduler
from timergate.locations import key_file_beside
from timergate.providers import LocalProvider
from timergate.providers.registry import VENDORS
from timergate.providers.upstream import UpstreamAllowList, UpstreamPools
from timergate.ratelimit import RateLimiter
from timergate.revocations import Revocations
from timergate.service import ConnectionService, Reads, TimerService
from timergate.service.idempotency import Idempotency
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
        #: This instance among those sharing the store and broker (in logs and the store's
        #: leases, so an operator can tell which process holds what).
        self.instance_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
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
            announce=self._announce_connections,
            cache_seconds=settings.connections_cache_seconds,
        )
        self.reads = Reads(self.connections, timeout=settings.upstream_timeout_seconds)
        self.keys = Idempotency(self.store, self.clock)
        self.timers = TimerService(self.connections, self.broker, self.clock, self.reads, self.keys)
        self.scheduler = TickScheduler()
        # On a shared broker every instance's subscribers hear every instance: one of them
        # polls each user's vendor connections (on memory://, each polls for its own).
        shared = urlsplit(settings.broker_url).scheme != "memory"
        self.poller = ConnectionPoller(
            self.connections,
            self.broker,
            self.clock,
            interval=settings.poll_interval_seconds,
            leases=PollLeases(self.store, self.clock, self.instance_id) if shared else None,
        )
        self.draining = Draining()
        self._stop_control: Unsubscribe | None = None

    async def start(self) -> None:
        await self.store.connect()
        try:
            await self.broker.connect()
            self._stop_control = await self.broker.subscribe_control(
                self._on_control, on_gap=self.connections.forget_all
            )
            await self.revocations.start()
        except BaseException:
            # Close what is open, or the store's threads keep a failed process alive.
            await self.broker.disconnect()
            await self.store.disconnect()
            raise
        self.scheduler.start()
        self.poller.start()

    async def drain(self) -> None:
        """Begin a graceful shutdown: end live connections so their clients reconnect
        elsewhere, while requests in flight finish (see :mod:`timergate.draining`)."""
        await self.draining.begin()

    async def stop(self) -> None:
        if self._stop_control is not None:
            await self._stop_control()
            self._stop_control = None
        await self.poller.stop()
        await self.scheduler.stop()
        await self.revocations.stop()
        await self.limiter.aclose()
        await self.connections.close()
        await self.pools.close()
        await self.broker.disconnect()
        await self.store.disconnect()

    def _on_control(self, message: ControlMessage) -> None:
        """Act on a notice from any instance (this one included)."""
        if isinstance(message, ConnectionsChanged):
            if message.origin != self.instance_id:
                self.connections.forget(message.user_id, message.connection_id)
        elif isinstance(message, TokensRevoked):
            # At once, not at the next look at the revocation log (which still catches what
            # the broker could not carry).
            self.revocations.notify(message.token_hashes)

    async def _announce_connections(self, user_id: int, connection_id: int | None) -> None:
        try:
            await self.broker.publish_control(
                ConnectionsChanged(user_id, connection_id, origin=self.instance_id)
            )
        except BrokerUnavailable:
            # Other instances keep their cached list until their broker connection is lost
            # and restored (they then drop every cached list) or they restart.
            _log.warning(
                "other instances were not told that user %s's connections changed: the "
                "broker is unreachable",
                user_id,
            )

    async def set_time_zone(self, user: User, time_zone: str) -> User:
        updated = await self.store.set_time_zone(user.id, time_zone)
        self.authenticator.forget(user.id)
        return updated

    async def revoke_tokens(self, tokens: Sequence[str]) -> int:
        """Revoke tokens; every gateway sharing the broker refuses them and cuts their
        connections at once (the others within a poll of the revocation log)."""
        hashes = [hash_token(t) for t in tokens]
        revoked = await self.revocations.revoke(hashes)
        try:
            await self.broker.publish_control(TokensRevoked(tuple(hashes)))
        except BrokerUnavailable:
            _log.warning("revoked tokens reach other instances through the revocation log only")
        return revoked


def default_key_file(settings: Settings) -> str | None:
    """The key file sealing vendor credentials: ``--secret-key-file``, else ``timergate.key``
    beside the store's SQLite file (wherever the store is, the default one included)."""
    if settings.secret_key_file:
        return settings.secret_key_file
    beside = key_file_beside(settings.database_url)
    return None if beside is None else str(beside)


def _vault(settings: Settings) -> tuple[CredentialVault | None, str | None]:
    try:
        return CredentialVault.from_settings(settings.secret_key, default_key_file(settings)), None
    except VaultError as exc:
        _log.warning("vendor connections are disabled: %s", exc)
        return None, str(exc)
