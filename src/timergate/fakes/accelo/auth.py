"""Who may call: registered applications, the tokens they hold, scopes, and the lockout.

- A **web application** holds a user's access token and refresh token; the refresh grant
  swaps the refresh token for a new pair (the old refresh token stops working).
- A **service application** gets a token of its own through ``client_credentials``; it is
  no staff member, so Accelo's timers refuse it.
- Access tokens expire (30 days unless the token request asks for ``expires_in``); an expired,
  unknown or revoked token answers ``invalid_client`` (401).
- More than 100 failed authentications from one address within 5 minutes lock that address
  out (``too_many_failed_logins`` with ``Retry-After``); every attempt while locked out
  restarts the 5 minutes.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from timergate.fakes.accelo.filters import Term, parse_filters
from timergate.fakes.accelo.wire import AcceloError

__all__ = ["Authority", "Client", "Grant", "Lockout", "Scope"]

DEFAULT_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class Scope:
    """``read(all),write(timers,activities)``: what a token may read and write."""

    read: frozenset[str]
    write: frozenset[str]

    @classmethod
    def parse(cls, text: str | None) -> Scope:
        """Accelo's scope syntax; the default is ``read(all)``. Raises ValueError."""
        if not text:
            return cls(read=frozenset({"all"}), write=frozenset())
        try:
            terms = parse_filters(text)
        except AcceloError as exc:
            raise ValueError(exc.message) from None
        granted: dict[str, set[str]] = {"read": set(), "write": set()}
        for term in terms:
            if term.name not in granted or not term.args:
                raise ValueError(f"{term.name!r} is not read(…) or write(…)")
            granted[term.name].update(str(arg) for arg in term.args if not isinstance(arg, Term))
        return cls(read=frozenset(granted["read"]), write=frozenset(granted["write"]))

    def allows(self, resource: str, *, write: bool) -> bool:
        writable = "all" in self.write or resource in self.write
        if write:
            return writable
        return writable or "all" in self.read or resource in self.read

    def text(self) -> str:
        granted = (("read", self.read), ("write", self.write))
        return ",".join(f"{name}({','.join(sorted(items))})" for name, items in granted if items)


@dataclass(frozen=True)
class Client:
    """A registered application; an application has exactly one kind."""

    client_id: str
    secret: str
    kind: Literal["web", "service"]


@dataclass
class Grant:
    """An access token and what it stands for; ``staff_id`` is None for a service app."""

    token: str
    client_id: str
    staff_id: int | None
    scope: Scope
    expires_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class RefreshGrant:
    token: str
    client_id: str
    staff_id: int
    scope: Scope


@dataclass
class Lockout:
    """Failed authentications per address, and the addresses locked out."""

    limit: int = 100
    window: timedelta = timedelta(minutes=5)
    failures: dict[str, deque[datetime]] = field(default_factory=dict)
    locked_until: dict[str, datetime] = field(default_factory=dict)

    def check(self, address: str, now: datetime) -> None:
        """Refuse an address that is locked out; trying again restarts its lockout."""
        until = self.locked_until.get(address)
        if until is not None and now < until:
            raise self._locked(address, now)

    def fail(self, address: str, now: datetime) -> None:
        """Count a failed authentication; the one past the limit locks the address out."""
        failures = self.failures.setdefault(address, deque())
        failures.append(now)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) > self.limit:
            failures.clear()
            raise self._locked(address, now)

    def _locked(self, address: str, now: datetime) -> AcceloError:
        self.locked_until[address] = now + self.window
        return AcceloError(
            "too_many_failed_logins",
            "User is locked out by their IP due to too many failed authentication attempts. "
            "Please use the 'Retry-After' header for accessing the locked delay in seconds.",
            headers={"Retry-After": str(int(self.window.total_seconds()))},
        )


@dataclass
class Authority:
    """The deployment's applications and tokens."""

    lifetime: timedelta = DEFAULT_LIFETIME
    clients: dict[str, Client] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    lockout: Lockout = field(default_factory=Lockout)

    def register(self, kind: Literal["web", "service"], deployment: str) -> Client:
        client = Client(
            client_id=f"{secrets.token_hex(5)}@{deployment}.accelo.com",
            secret=secrets.token_urlsafe(24),
            kind=kind,
        )
        self.clients[client.client_id] = client
        return client

    def issue(
        self,
        client: Client,
        staff_id: int | None,
        scope: Scope,
        now: datetime,
        lifetime: timedelta | None = None,
    ) -> tuple[Grant, RefreshGrant | None]:
        """A new access token (and, for a user, a refresh token)."""
        grant = Grant(
            token=secrets.token_urlsafe(24),
            client_id=client.client_id,
            staff_id=staff_id,
            scope=scope,
            expires_at=now + (lifetime or self.lifetime),
        )
        self.grants[grant.token] = grant
        if staff_id is None:
            return grant, None
        refresh = RefreshGrant(secrets.token_urlsafe(24), client.client_id, staff_id, scope)
        self.refresh_grants[refresh.token] = refresh
        return grant, refresh

    def authenticate(
        self, address: str, header: str | None, parameter: str | None, now: datetime
    ) -> Grant:
        """The grant behind the request's token, from the header or ``_bearer_token``."""
        self.lockout.check(address, now)
        if header is not None and parameter is not None:
            raise AcceloError(
                "invalid_request",
                "The request includes multiple credentials: send the token either in the "
                "Authorization header or as _bearer_token, not both.",
            )
        token = parameter
        if header is not None:
            scheme, _, value = header.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else ""
        grant = self.grants.get(token) if token else None
        if token is None:
            problem = "No access token was provided."
        elif grant is None or grant.revoked:
            problem = "The access token is invalid."
        elif now >= grant.expires_at:
            problem = "The access token has expired."
        else:
            return grant
        self.lockout.fail(address, now)
        raise AcceloError("invalid_client", problem)

    def client_from_basic(self, client_id: str, secret: str) -> Client | None:
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return None
        return client
