"""Bearer tokens: made with 256 random bits, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable

from timergate.domain import User
from timergate.store import TimerStore

__all__ = ["TOKEN_PREFIX", "Authenticator", "bearer_token", "hash_token", "new_token"]

#: A readable prefix lets secret scanners spot a leaked token.
TOKEN_PREFIX = "tg_"
_MAX_TOKEN_LENGTH = 200


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; ``None`` if absent or malformed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


class Authenticator:
    """Finds the user of a token, remembering answers for ``ttl`` seconds.

    The cache spares a store round trip on every request. A revoked token is dropped from it
    the moment the revocation is seen (:meth:`forget_tokens`), not when its entry expires; a
    changed time zone is dropped at once in this process, and at most ``ttl`` seconds late in
    other instances.
    """

    def __init__(self, store: TimerStore, *, ttl: float = 30.0, max_entries: int = 100_000) -> None:
        self._store = store
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: OrderedDict[bytes, tuple[float, User | None]] = OrderedDict()
        # Bumped by every forget, so a lookup that raced a revocation is not cached.
        self._generation = 0

    async def authenticate(self, token: str) -> User | None:
        return await self.user_for_hash(hash_token(token))

    async def user_for_hash(self, key: bytes) -> User | None:
        """The user of the token whose SHA-256 hash is ``key``."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        user = await self._store.user_for_token(key)
        if generation == self._generation:
            self._cache[key] = (now + self._ttl, user)
            self._cache.move_to_end(key)
            if len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return user

    async def authenticate_header(self, header: str) -> User | None:
        """The user of an ``Authorization: Bearer …`` value; ``None`` if it names nobody."""
        token = bearer_token(header)
        return await self.authenticate(token) if token else None

    def forget(self, user_id: int) -> None:
        """Drop cached answers for ``user_id`` (after its details change)."""
        self._generation += 1
        stale = [k for k, (_, u) in self._cache.items() if u is not None and u.id == user_id]
        for key in stale:
            del self._cache[key]

    def forget_tokens(self, token_hashes: Iterable[bytes]) -> None:
        """Drop cached answers for these token hashes (after they are revoked)."""
        self._generation += 1
        for key in token_hashes:
            self._cache.pop(key, None)
