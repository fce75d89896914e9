"""The vendors timergate can connect to, and how a connection's provider is built."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from aiolimiter import AsyncLimiter

from timergate.domain import Clock
from timergate.domain.connections import Capabilities, Connection, ProviderKind
from timergate.providers.base import Provider

__all__ = [
    "VENDORS",
    "ConnectionState",
    "ProviderSetup",
    "VendorSpec",
    "capabilities_of",
    "connection_name",
    "vendor",
]


class ConnectionState(Protocol):
    """A connection's own durable notes (JSON values by key), for what its vendor cannot
    keep: say, the time of a pause the vendor has no word for. Gone with the connection."""

    async def get(self, key: str) -> Any | None: ...
    async def put(self, key: str, value: Any | None) -> None: ...


@dataclass(frozen=True, slots=True)
class ProviderSetup:
    """What a vendor adapter is built from: one connection, opened."""

    connection: Connection
    #: The connection's credentials, in the clear, in memory only.
    credentials: Mapping[str, Any]
    #: The shared client of the vendor host's pool (timeouts set, redirects not followed).
    client: httpx.AsyncClient
    clock: Clock
    #: Record that the vendor refused the credentials (the connection's status shows it).
    on_auth_failure: Callable[[], Awaitable[None]]
    #: Keep new credentials (say, a refreshed access token), sealed as before.
    save_credentials: Callable[[Mapping[str, Any]], Awaitable[None]]
    #: Record that the connection needs the user to authorise it again.
    on_reauthorization_needed: Callable[[], Awaitable[None]]
    #: A limiter pacing every connection to this vendor host at ``rate`` calls per
    #: ``period`` seconds (shared, as vendors count per client address); ``None`` when the
    #: operator switched pacing off.
    limiter: Callable[[float, float], AsyncLimiter | None]
    #: Durable notes of this connection.
    state: ConnectionState


class _Factory(Protocol):
    def __call__(self, setup: ProviderSetup) -> Provider: ...


@dataclass(frozen=True, slots=True)
class VendorSpec:
    kind: ProviderKind
    #: The vendor's name as people know it.
    name: str
    #: The public API's base URL; ``None`` when every account has its own (give ``baseUrl``).
    default_base_url: str | None
    #: URL prefixes of the vendor's public API hosts (``*.`` for any one subdomain label).
    public_hosts: tuple[str, ...]
    #: Module offering ``create_provider(setup)``, imported when first used.
    module: str
    #: What ``baseUrl`` looks like, for messages.
    base_url_hint: str

    def factory(self) -> _Factory:
        factory: _Factory = importlib.import_module(self.module).create_provider
        return factory

    @property
    def capabilities(self) -> Capabilities:
        """What this vendor's provider can do (its module's ``CAPABILITIES``)."""
        table: Capabilities = importlib.import_module(self.module).CAPABILITIES
        return table


VENDORS: dict[ProviderKind, VendorSpec] = {
    spec.kind: spec
    for spec in (
        VendorSpec(
            kind=ProviderKind.NOKO,
            name="Noko",
            default_base_url="https://api.nokotime.com",
            public_hosts=("https://api.nokotime.com",),
            module="timergate.providers.noko",
            base_url_hint="https://api.nokotime.com",
        ),
    )
}


def vendor(kind: ProviderKind) -> VendorSpec:
    return VENDORS[kind]


def connection_name(connection: Connection) -> str:
    """How messages name a connection: its vendor and label (e.g. ``Noko connection 'Work'``)."""
    spec = VENDORS[connection.kind]
    if connection.label:
        return f"{spec.name} connection {connection.label!r}"
    return f"{spec.name} connection"


def capabilities_of(kind: ProviderKind) -> Capabilities:
    return VENDORS[kind].capabilities
