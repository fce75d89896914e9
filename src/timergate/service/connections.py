"""A user's providers: the local store and each vendor connection, opened when first used."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from timergate.domain import Clock, User
from timergate.domain.connections import (
    Connection,
    ConnectionStatus,
    ProviderKind,
    connection_id,
)
from timergate.errors import BadUserInput, NotFound, TimergateError, UpstreamError
from timergate.providers.base import Provider
from timergate.providers.registry import VENDORS, ProviderSetup, VendorSpec, connection_name
from timergate.providers.upstream import UpstreamAllowList, UpstreamPools
from timergate.store import TimerStore
from timergate.vault import CredentialVault, VaultError

__all__ = ["NO_SUCH_CONNECTION", "Announce", "ConnectionService"]

_log = logging.getLogger("timergate.connections")

#: The one answer for a connection that does not exist and for another user's connection.
NO_SUCH_CONNECTION = (
    "No connection with that id; it may have been disconnected (see viewer.connections)."
)

#: Tells every other instance that a user's connections changed (user id, and the connection
#: whose open provider they must drop, if any).
Announce = Callable[[int, int | None], Awaitable[None]]


class ConnectionService:
    """Finds, opens, connects and disconnects the providers of each user.

    What it caches about a user's connections is dropped by :meth:`forget`; every change made
    here (a connection made or removed, a status, renewed credentials) is passed to
    ``announce``, so other instances drop theirs too. A user's list is also read again once it
    is ``cache_seconds`` old, in case such a notice was lost: a connection changed since then
    (removed, or its status or credentials updated) has its open provider closed, to be
    opened again from what the store now holds.
    """

    def __init__(
        self,
        store: TimerStore,
        local: Provider,
        *,
        clock: Clock,
        pools: UpstreamPools,
        allow_list: UpstreamAllowList,
        vault: CredentialVault | None,
        vault_problem: str | None = None,
        announce: Announce | None = None,
        cache_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._announce = announce
        self._cache_for = timedelta(seconds=cache_seconds)
        self.local = local
        self._clock = clock
        self._pools = pools
        self._allow_list = allow_list
        self._vault = vault
        self._vault_problem = vault_problem
        #: Each user's connections, and when they were read.
        self._connections: dict[int, tuple[datetime, list[Connection]]] = {}
        self._providers: dict[int, Provider] = {}
        self._opening: dict[int, asyncio.Future[Provider]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # Reading.

    async def of(self, user: User) -> list[Connection]:
        """The user's connections, oldest first."""
        now = self._clock.now()
        cached = self._connections.get(user.id)
        if cached is not None and now - cached[0] < self._cache_for:
            return list(cached[1])
        fresh = await self._store.list_connections(user.id)
        if cached is not None:
            self._close_changed(cached[1], fresh)
        self._connections[user.id] = (now, fresh)
        return list(fresh)

    def _close_changed(self, before: list[Connection], after: list[Connection]) -> None:
        """Close the open providers of connections removed or updated since ``before``."""
        updated_at = {c.id: c.updated_at for c in after}
        for connection in before:
            if updated_at.get(connection.id) != connection.updated_at:
                provider = self._providers.pop(connection.id, None)
                if provider is not None:
                    self._spawn(provider.close())

    async def providers(self, user: User) -> tuple[list[Provider], list[TimergateError]]:
        """Every provider of the user (the local store first, then each connection), and the
        errors of connections that could not be opened."""
        connections = await self.of(user)
        opened = await asyncio.gather(
            *(self._provider_for(user, c) for c in connections), return_exceptions=True
        )
        providers: list[Provider] = [self.local]
        failures: list[TimergateError] = []
        for result in opened:
            if isinstance(result, TimergateError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                providers.append(result)
        return providers, failures

    async def provider(self, user: User, key: str, *, field: str | None = None) -> Provider:
        """The provider ``key`` names for this user; :class:`NotFound` when there is none.

        With ``field`` (the key came as an input of its own, not inside an id), a key that
        cannot name any provider is the client's mistake: :class:`BadUserInput`.
        """
        if key == self.local.key:
            return self.local
        if field is not None and connection_id(key) is None:
            raise BadUserInput(
                f"{field} must be {self.local.key!r} or the id of one of your connections "
                "(see viewer.connections).",
                field=field,
            )
        connection = await self.get(user, key)
        if connection is None:
            raise NotFound(NO_SUCH_CONNECTION)
        return await self._provider_for(user, connection)

    async def get(self, user: User, key: str) -> Connection | None:
        wanted = connection_id(key)
        if wanted is None:
            return None
        return next((c for c in await self.of(user) if c.id == wanted), None)

    # Changing.

    async def connect(
        self,
        user: User,
        kind: ProviderKind,
        credentials: Mapping[str, Any],
        *,
        label: str | None,
        base_url: str | None,
    ) -> Connection:
        """Check ``credentials`` with a cheap call, then keep them sealed. Nothing is stored
        when the vendor refuses them or cannot be reached."""
        spec = VENDORS[kind]
        vault = self._require_vault()
        url = self._base_url(spec, base_url)
        now = self._clock.now()
        draft = Connection(
            id=0,
            user_id=user.id,
            kind=kind,
            label=label,
            base_url=url,
            status=ConnectionStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        # The check may renew the credentials (a refreshed token): keep what it ended with.
        checked = dict(credentials)
        probe = self._build(spec, draft, credentials, persist=False, renewed=checked)
        await probe.open()
        try:
            await probe.verify()
        finally:
            await probe.close()
        sealed = vault.seal(_owner(user.id, kind), checked)
        connection = await self._store.add_connection(user.id, kind, label, url, sealed, now)
        self._connections.pop(user.id, None)
        await self._changed(user.id, connection.id)
        return connection

    async def disconnect(self, user: User, key: str) -> Connection:
        """Forget the connection (nothing is deleted at the vendor)."""
        connection = await self.get(user, key)
        if connection is None or not await self._store.remove_connection(user.id, connection.id):
            raise NotFound(NO_SUCH_CONNECTION)
        self.forget(user.id, connection.id)
        provider = self._providers.pop(connection.id, None)
        if provider is not None:
            await provider.close()
        await self._changed(user.id, connection.id)
        return connection

    def forget(self, user_id: int, connection_id: int | None = None) -> None:
        """Drop what is cached about a user's connections (another instance changed them)."""
        self._connections.pop(user_id, None)
        if connection_id is not None:
            provider = self._providers.pop(connection_id, None)
            if provider is not None:
                self._spawn(provider.close())

    def forget_all(self) -> None:
        """Drop every cached list of connections (changes may have been missed)."""
        self._connections.clear()

    def _remember(self, connection: Connection) -> None:
        """Put a connection this instance just updated in the store into the cached list."""
        cached = self._connections.get(connection.user_id)
        if cached is not None:
            read_at, connections = cached
            updated = [connection if c.id == connection.id else c for c in connections]
            self._connections[connection.user_id] = (read_at, updated)

    async def _changed(self, user_id: int, connection_id: int | None) -> None:
        if self._announce is not None:
            await self._announce(user_id, connection_id)

    async def close(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.close()
        for task in list(self._background):
            task.cancel()
        self._connections.clear()

    # Internals.

    def _require_vault(self) -> CredentialVault:
        if self._vault is None:
            _log.error("cannot keep vendor credentials: %s", self._vault_problem)
            raise TimergateError(
                "This gateway cannot keep vendor credentials yet: its operator must set "
                "TIMERGATE_SECRET_KEY."
            )
        return self._vault

    def _base_url(self, spec: VendorSpec, base_url: str | None) -> str:
        if base_url is None:
            if spec.default_base_url is None:
                raise BadUserInput(
                    f"{spec.name} accounts each have their own address: give input.baseUrl, "
                    f"e.g. {spec.base_url_hint}.",
                    field="input.baseUrl",
                )
            base_url = spec.default_base_url
        return self._allow_list.check(base_url)

    async def _provider_for(self, user: User, connection: Connection) -> Provider:
        provider = self._providers.get(connection.id)
        if provider is not None:
            return provider
        pending = self._opening.get(connection.id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Provider] = asyncio.get_running_loop().create_future()
        self._opening[connection.id] = future
        try:
            provider = await self._open(user, connection)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must log it
            raise
        else:
            future.set_result(provider)
            self._providers[connection.id] = provider
            return provider
        finally:
            del self._opening[connection.id]

    async def _open(self, user: User, connection: Connection) -> Provider:
        found = await self._store.get_connection(user.id, connection.id)
        if found is None:
            raise NotFound(NO_SUCH_CONNECTION)
        connection, sealed = found
        try:
            credentials = self._require_vault().open(_owner(user.id, connection.kind), sealed)
        except VaultError as exc:
            _log.error("connection %s of user %s: %s", connection.id, user.id, exc)
            raise UpstreamError(
                f"{connection_name(connection)} cannot be used: its stored credentials do not open "
                "with this gateway's key; connect it again.",
                provider=connection.key,
            ) from None
        provider = self._build(VENDORS[connection.kind], connection, credentials, persist=True)
        await provider.open()
        return provider

    def _build(
        self,
        spec: VendorSpec,
        connection: Connection,
        credentials: Mapping[str, Any],
        *,
        persist: bool,
        renewed: dict[str, Any] | None = None,
    ) -> Provider:
        def mark(status: ConnectionStatus) -> None:
            if persist:
                self._mark(connection, status)

        async def save_credentials(new: Mapping[str, Any]) -> None:
            if not persist:
                if renewed is not None:
                    renewed.clear()
                    renewed.update(new)
                return
            sealed = self._require_vault().seal(_owner(connection.user_id, spec.kind), new)
            updated = await self._store.update_connection(
                connection.user_id, connection.id, self._clock.now(), sealed_credentials=sealed
            )
            if updated is not None:
                self._remember(updated)
                # Other instances' open providers hold the old credentials (a refresh token
                # that the vendor may have retired): they open theirs again from the store.
                await self._changed(connection.user_id, connection.id)

        setup = ProviderSetup(
            connection=connection,
            credentials=dict(credentials),
            client=self._pools.client(connection.base_url),
            clock=self._clock,
            on_auth_failure=lambda: mark(ConnectionStatus.AUTH_FAILED),
            save_credentials=save_credentials,
            on_reauthorization_needed=lambda: mark(ConnectionStatus.NEEDS_REAUTHORIZATION),
            limiter=lambda rate, period: self._pools.limiter(connection.base_url, rate, period),
            state=_StoredState(self._store, connection.id) if persist else _ScratchState(),
        )
        return spec.factory()(setup)

    def _mark(self, connection: Connection, status: ConnectionStatus) -> None:
        """Show ``status`` at once (the cached list) and keep it (the store, just after)."""
        cached = self._connections.get(connection.user_id)
        if cached is not None:
            shown = next((c for c in cached[1] if c.id == connection.id), None)
            if shown is not None:
                self._remember(replace(shown, status=status))
        self._spawn(self._keep_status(connection, status))

    async def _keep_status(self, connection: Connection, status: ConnectionStatus) -> None:
        updated = await self._store.update_connection(
            connection.user_id, connection.id, self._clock.now(), status=status
        )
        if updated is not None:
            self._remember(updated)
        # Other instances re-read the user's connections; their providers stay open.
        await self._changed(connection.user_id, None)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class _StoredState:
    """A connection's notes, kept in the store as JSON."""

    def __init__(self, store: TimerStore, connection_id: int) -> None:
        self._store = store
        self._id = connection_id

    async def get(self, key: str) -> Any | None:
        raw = await self._store.get_provider_state(self._id, key)
        return None if raw is None else json.loads(raw)

    async def put(self, key: str, value: Any | None) -> None:
        raw = None if value is None else json.dumps(value, separators=(",", ":"))
        await self._store.put_provider_state(self._id, key, raw)


class _ScratchState:
    """Notes of a connection not kept yet (while its credentials are being checked)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    async def get(self, key: str) -> Any | None:
        return self._values.get(key)

    async def put(self, key: str, value: Any | None) -> None:
        if value is None:
            self._values.pop(key, None)
        else:
            self._values[key] = value


def _owner(user_id: int, kind: ProviderKind) -> dict[str, Any]:
    return {"user": user_id, "kind": kind.value}
