"""Notices every gateway instance must act on at once, besides timer events.

They travel on the broker's control channel, so a change made through one instance takes
effect in all of them: a revoked token stops working everywhere, and a connection made or
removed through one instance is not served from another instance's stale cache.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConnectionsChanged", "ControlMessage", "TokensRevoked"]


@dataclass(frozen=True, slots=True)
class TokensRevoked:
    """These tokens (their SHA-256 hashes) no longer authenticate anyone."""

    token_hashes: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConnectionsChanged:
    """A user's vendor connections changed (added, removed, or their status or credentials).

    ``connection_id`` names the connection when one did; every instance drops what it has
    cached about the user's connections, and that connection's open provider, except
    ``origin``, the instance that made the change: its own are up to date (an open provider
    that just renewed its credentials is the one to keep).
    """

    user_id: int
    connection_id: int | None = None
    origin: str | None = None


ControlMessage = TokensRevoked | ConnectionsChanged
