"""The storage interface every timer store implements (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from timergate.domain import TimeEntry, Timer
from timergate.domain.connections import Connection, ConnectionStatus, ProviderKind
from timergate.domain.idempotency import IdempotencyRecord, KeyState
from timergate.domain.queries import After, EntryFilter, Page, TimerFilter
from timergate.domain.users import Revocation, TokenGrant, User

__all__ = ["StoreTransaction", "TimerStore"]


class StoreTransaction(Protocol):
    """Reads and writes inside one write transaction; all commit together or none do."""

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None: ...
    async def running_timers(self, user_id: int) -> list[Timer]: ...
    async def insert_timer(self, timer: Timer) -> Timer: ...
    async def update_timer(self, timer: Timer) -> None: ...
    async def delete_timer(self, user_id: int, timer_id: str) -> None: ...
    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None: ...
    async def insert_entry(self, entry: TimeEntry) -> TimeEntry: ...
    async def update_entry(self, entry: TimeEntry) -> None: ...
    async def delete_entry(self, user_id: int, entry_id: str) -> None: ...
    async def claim_idempotency(
        self, record: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Keep ``record`` (its key taken); or the live record already there, left as it is."""
        ...

    async def settle_idempotency(
        self, user_id: int, key: str, state: KeyState, result: str | None
    ) -> None: ...


class TimerStore(Protocol):
    """Durable home of users, tokens, timers and entries. Every read is scoped to a user."""

    async def connect(self) -> None:
        """Open connections and apply pending migrations."""
        ...

    async def disconnect(self) -> None: ...

    async def ping(self) -> None:
        """Return if the store answers a trivial query now; raise (any error) if not."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[StoreTransaction]:
        """One serialised write transaction, committed on success, rolled back on error."""
        ...

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None: ...
    async def running_timers(self, user_id: int) -> list[Timer]: ...
    async def list_timers(
        self, user_id: int, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        """Newest first by ``started_at``, then by id."""
        ...

    async def count_timers(self, user_id: int, filter: TimerFilter) -> int: ...
    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None: ...
    async def list_entries(
        self, user_id: int, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        """Newest first by ``started_at``, then by id."""
        ...

    async def count_entries(self, user_id: int, filter: EntryFilter) -> int: ...

    async def user_for_token(self, token_hash: bytes) -> User | None: ...
    async def grant_tokens(self, grants: Sequence[TokenGrant], now: datetime) -> list[User]:
        """Record every grant in one transaction, creating users as needed."""
        ...

    async def revoke_tokens(self, token_hashes: Sequence[bytes]) -> int:
        """Forget these tokens and log each one that existed in the revocation log; how many."""
        ...

    async def last_revocation(self) -> int:
        """The ``seq`` of the newest revocation logged (0 if none): where a watcher starts."""
        ...

    async def revocations_after(self, seq: int) -> list[Revocation]:
        """Revocations logged after ``seq``, oldest first (one cheap indexed read)."""
        ...

    async def set_time_zone(self, user_id: int, time_zone: str) -> User: ...

    # Vendor connections; credentials arrive sealed and leave as they are.
    async def add_connection(
        self,
        user_id: int,
        kind: ProviderKind,
        label: str | None,
        base_url: str,
        sealed_credentials: bytes,
        now: datetime,
    ) -> Connection: ...
    async def list_connections(self, user_id: int) -> list[Connection]: ...
    async def get_connection(
        self, user_id: int, connection_id: int
    ) -> tuple[Connection, bytes] | None:
        """The connection and its sealed credentials, if it is ``user_id``'s."""
        ...

    async def update_connection(
        self,
        user_id: int,
        connection_id: int,
        now: datetime,
        *,
        status: ConnectionStatus | None = None,
        sealed_credentials: bytes | None = None,
    ) -> Connection | None: ...
    async def remove_connection(self, user_id: int, connection_id: int) -> bool: ...
    # Idempotency keys (each of these is its own transaction).
    async def get_idempotency(
        self, user_id: int, key: str, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """The key's record, unless it was made before ``expired_before``."""
        ...

    async def claim_idempotency(
        self, record: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None: ...
    async def settle_idempotency(
        self, user_id: int, key: str, state: KeyState, result: str | None
    ) -> None: ...
    async def release_idempotency(self, user_id: int, key: str) -> None: ...

    async def get_provider_state(self, connection_id: int, key: str) -> str | None:
        """What a connection's provider kept under ``key`` (e.g. an emulated pause)."""
        ...

    async def put_provider_state(self, connection_id: int, key: str, value: str | None) -> None:
        """Keep ``value`` under ``key`` for the connection; ``None`` forgets it."""
        ...

    async def reseal_credentials(self, reseal: Callable[[bytes], bytes]) -> int:
        """Replace every connection's sealed credentials by ``reseal(old)``; how many."""
        ...

    # Leases: a job one instance at a time does (each call its own transaction).
    async def claim_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold lease ``name`` until ``until`` if it is free, expired at ``now`` or already
        ``holder``'s (renewed); whether ``holder`` holds it now."""
        ...

    async def release_lease(self, name: str, holder: str) -> None:
        """Give lease ``name`` up, if ``holder`` holds it."""
        ...
