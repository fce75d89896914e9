"""Users and the tokens that name them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["TokenGrant", "User"]


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
