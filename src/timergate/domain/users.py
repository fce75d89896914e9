"""Users and the tokens that name them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Revocation", "TokenGrant", "User"]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    time_zone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A token to record for a user (created if missing); only the hash is stored."""

    user_name: str
    token_hash: bytes
    token_prefix: str


@dataclass(frozen=True, slots=True)
class Revocation:
    """One entry of the store's revocation log: a token that stopped naming anyone.

    ``seq`` grows with every revocation, so a gateway asks for those after the last it saw.
    """

    seq: int
    token_hash: bytes
    revoked_at: datetime
