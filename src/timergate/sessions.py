"""The front door of every transport: who asks, whether they may, and what they hold open.

The HTTP fast path, Strawberry's view (GET, SSE and multipart streams) and both websocket
protocols all come through :class:`Sessions`. It turns a bearer token (an ``Authorization``
header, or the ``connection_init`` payload of a websocket) into the user, counts the request
against the rate limits, builds the :class:`~timergate.graphql.context.RequestContext`, and
registers long-lived connections (websockets, event streams): at most
``max_connections_per_user`` per user, and every one of a token's connections ends the
moment that token is revoked.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.types import Scope

from timergate.auth import bearer_token, hash_token
from timergate.domain import User
from timergate.errors import RateLimited, TimergateError, TooManyConnections, Unauthenticated
from timergate.gateway import Gateway
from timergate.graphql.context import RequestContext

__all__ = [
    "REVOKED_CLOSE",
    "SCOPE_CONTEXT",
    "LiveConnection",
    "Session",
    "Sessions",
    "client_address",
    "http_refusal",
    "websocket_refusal",
]

#: Where a transport leaves the request's context in the ASGI scope for the next layer.
SCOPE_CONTEXT = "timergate.context"
#: Close code and reason for a websocket whose token was revoked.
REVOKED_CLOSE = (4403, "Forbidden: the token was revoked")

#: How long a revoked token is remembered, to refuse a connection that raced its revocation.
_REVOKED_MEMORY_SECONDS = 300.0
_REVOKED_MEMORY_ENTRIES = 10_000

_Key = TypeVar("_Key", int, bytes)

_BAD_TOKEN = "The bearer token is malformed, unknown or revoked; ask for a new one."
_NO_INIT_TOKEN = 'Send a valid token in connection_init: {"Authorization": "Bearer <token>"}.'


def client_address(scope: Scope) -> str:
    """The client's IP address (uvicorn puts a trusted proxy's ``X-Forwarded-For`` here)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def http_refusal(error: TimergateError) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and headers that refuse a whole HTTP request for ``error``."""
    if isinstance(error, RateLimited):
        return 429, [(b"retry-after", str(error.retry_after).encode())]
    if isinstance(error, TooManyConnections):
        return 429, []
    return 401, [(b"www-authenticate", b"Bearer")]


def websocket_refusal(error: TimergateError) -> tuple[int, str]:
    """The close code and reason that refuse a websocket's ``connection_init`` for ``error``.

    1013 (Try Again Later) for limits, so clients such as graphql-ws retry with backoff.
    """
    if isinstance(error, RateLimited):
        return 1013, f"Rate limited: retry in {error.retry_after} s"
    if isinstance(error, TooManyConnections):
        return 1013, f"Too many open connections for this user (limit {error.limit})"
    return 4403, "Forbidden"


@dataclass(frozen=True, slots=True)
class Session:
    """An authenticated (or anonymous) caller: the user, their token's hash, their address."""

    user: User | None
    token_hash: bytes | None
    address: str


class LiveConnection:
    """One open websocket or event stream, registered under its user and token.

    ``revoked`` is set, and ``on_revoke`` called, when the token is revoked; the transport
    ends the connection and calls :meth:`release` when it is gone, whatever ended it.
    """

    __slots__ = ("_on_revoke", "_sessions", "released", "revoked", "session")

    def __init__(
        self, sessions: Sessions, session: Session, on_revoke: Callable[[], None] | None
    ) -> None:
        self._sessions = sessions
        self.session = session
        self._on_revoke = on_revoke
        self.revoked = asyncio.Event()
        self.released = False

    def revoke(self) -> None:
        if not self.revoked.is_set():
            self.revoked.set()
            if self._on_revoke is not None:
                self._on_revoke()

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._sessions._forget(self)


class Sessions:
    """Authentication, rate limits, connection caps and revocation for every transport."""

    def __init__(self, gateway: Gateway) -> None:
        settings = gateway.settings
        self.gateway = gateway
        self.limiter = gateway.limiter
        self.max_connections_per_user = settings.max_connections_per_user
        self._by_user: dict[int, set[LiveConnection]] = {}
        self._by_token: dict[bytes, set[LiveConnection]] = {}
        self._revoked: OrderedDict[bytes, float] = OrderedDict()
        gateway.revocations.subscribe(self._on_revoked)

    # Authentication, counted against the rate limits.

    async def authenticate(self, authorization: str | None, address: str) -> Session:
        """The caller of an ``Authorization`` header value; no header is an anonymous caller.

        Raises :class:`Unauthenticated` for a token that names nobody and
        :class:`~timergate.errors.RateLimited` past a limit. Requests without a valid token
        count against the address; the others against the token.
        """
        if authorization is None:
            await self.limiter.hit_address(address)
            return Session(None, None, address)
        token = bearer_token(authorization)
        token_hash = hash_token(token) if token else None
        user = None
        if token_hash is not None:
            user = await self.gateway.authenticator.user_for_hash(token_hash)
        if user is None or token_hash is None:
            await self.limiter.hit_address(address)
            raise Unauthenticated(_BAD_TOKEN)
        await self.limiter.hit_token(token_hash)
        return Session(user, token_hash, address)

    async def authenticate_init(self, payload: Mapping[str, Any] | None, address: str) -> Session:
        """The caller of a websocket, from its ``connection_init`` payload; a token is required."""
        params = payload or {}
        header = params.get("Authorization", params.get("authorization"))
        if not isinstance(header, str):
            await self.limiter.hit_address(address)
            raise Unauthenticated(_NO_INIT_TOKEN)
        try:
            return await self.authenticate(header, address)
        except Unauthenticated:
            raise Unauthenticated(_NO_INIT_TOKEN) from None

    async def count(self, session: Session) -> None:
        """Count one more request by ``session`` (an operation on an open websocket)."""
        if session.token_hash is not None:
            await self.limiter.hit_token(session.token_hash)

    def context(self, session: Session, **fields: Any) -> RequestContext:
        """The context resolvers see, for ``session``, at the gateway's clock's now."""
        gateway = self.gateway
        return RequestContext(
            gateway=gateway, user=session.user, now=gateway.clock.now(), session=session, **fields
        )

    # Long-lived connections.

    def open(
        self, session: Session, *, on_revoke: Callable[[], None] | None = None
    ) -> LiveConnection:
        """Register a websocket or event stream of an authenticated ``session``.

        Raises :class:`TooManyConnections` when the user already holds the most allowed, and
        :class:`Unauthenticated` when the token was revoked while it was being looked up.
        """
        user, token_hash = session.user, session.token_hash
        if user is None or token_hash is None:
            raise Unauthenticated(_BAD_TOKEN)
        if token_hash in self._revoked:
            raise Unauthenticated(_BAD_TOKEN)
        held = self._by_user.setdefault(user.id, set())
        if len(held) >= self.max_connections_per_user:
            if not held:
                del self._by_user[user.id]
            limit = self.max_connections_per_user
            raise TooManyConnections(
                f"This user already has {limit} open websockets and event streams, the most "
                "allowed; close one before opening another.",
                limit=limit,
            )
        connection = LiveConnection(self, session, on_revoke)
        held.add(connection)
        self._by_token.setdefault(token_hash, set()).add(connection)
        return connection

    def open_count(self, user_id: int) -> int:
        """How many websockets and event streams ``user_id`` holds open here."""
        return len(self._by_user.get(user_id, ()))

    def _forget(self, connection: LiveConnection) -> None:
        session = connection.session
        if session.user is not None and session.token_hash is not None:
            _discard(self._by_user, session.user.id, connection)
            _discard(self._by_token, session.token_hash, connection)

    def _on_revoked(self, token_hashes: Sequence[bytes]) -> None:
        now = time.monotonic()
        for token_hash in token_hashes:
            self._revoked[token_hash] = now
            self._revoked.move_to_end(token_hash)
            for connection in tuple(self._by_token.get(token_hash, ())):
                connection.revoke()
        while self._revoked and (
            len(self._revoked) > _REVOKED_MEMORY_ENTRIES
            or next(iter(self._revoked.values())) < now - _REVOKED_MEMORY_SECONDS
        ):
            self._revoked.popitem(last=False)


def _discard(index: dict[_Key, set[LiveConnection]], key: _Key, connection: LiveConnection) -> None:
    held = index.get(key)
    if held is not None:
        held.discard(connection)
        if not held:
            del index[key]
