"""Idempotency keys: a retried mutation answers as the first did, and changes nothing more.

Phones on flaky networks retry. A mutation sent with an ``idempotencyKey`` records its result
with its effect; a retry with the same key gets that result back; the same key with a
different request is refused (CONFLICT). Keys are the client's, per user, and expire after
:data:`IDEMPOTENCY_TTL`.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from timergate.errors import BadUserInput

__all__ = [
    "IDEMPOTENCY_TTL",
    "MAX_KEY_LENGTH",
    "PENDING_KEY",
    "IdempotencyKey",
    "IdempotencyRecord",
    "KeyState",
    "PendingKey",
    "Replay",
    "fingerprint",
]

#: How long a key is remembered; a retry later than this runs again.
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyState(enum.StrEnum):
    #: The first request is under way (a vendor call outside timergate's own store).
    PENDING = "PENDING"
    #: The first request is done; its result is kept.
    DONE = "DONE"
    #: The first request reached a vendor whose answer was lost: its outcome is unknown.
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """What a mutation carries: the client's key, and what the request was."""

    key: str
    operation: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, operation: str, request: str, *, field: str) -> IdempotencyKey:
        stripped = key.strip()
        if not stripped or len(stripped) > MAX_KEY_LENGTH:
            raise BadUserInput(
                f"{field} must be 1 to {MAX_KEY_LENGTH} characters (a UUID is a good key).",
                field=field,
            )
        return cls(stripped, operation, fingerprint(operation, request))


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A key as the store keeps it."""

    user_id: int
    key: str
    operation: str
    fingerprint: str
    state: KeyState
    result: str | None
    created_at: datetime


def fingerprint(operation: str, request: str) -> str:
    """A digest of the operation and its canonical request text."""
    return hashlib.sha256(f"{operation}\n{request}".encode()).hexdigest()


@dataclass(slots=True)
class PendingKey:
    """A key to record in the same transaction as the effect, and how to record the result."""

    record: IdempotencyRecord
    #: The provider's result → the JSON text kept for replays.
    render: Callable[[Any], str]
    #: Set by the store's provider once it recorded the key with the effect.
    recorded: bool = False


#: Set by the timer service around a call whose effect lands in timergate's own store; that
#: store's provider records the key in the effect's transaction.
PENDING_KEY: ContextVar[PendingKey | None] = ContextVar("timergate_pending_key", default=None)


class Replay(Exception):
    """The key already holds a result: answer with it (raised inside a transaction, which
    then rolls back, so nothing is applied twice)."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record
