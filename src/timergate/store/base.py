"""The storage interface every timer store implements (SQLite now, PostgreSQL next)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar

from timergate.domain import TimeEntry, Timer, TimerState

__all__ = [
    "EntryFilter",
    "Page",
    "StoreTransaction",
    "TimerFilter",
    "TimerStore",
    "TokenGrant",
    "User",
]

T = TypeVar("T")


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
class TimerFilter:
    states: tuple[TimerState, ...] = ()
    provider: str | None = None
    context_type: str | None = None
    context_id: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    provider: str | None = None
    context_type: str | None = None
    context_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    timer_id: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, newest first; ``has_next`` says whether more follow."""

    items: list[T]
    has_next: bool


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


class TimerStore(Protocol):
    """Durable home of users, tokens, timers and entries. Every read is scoped to a user."""

    async def connect(self) -> None:
        """Open connections and apply pending migrations."""
        ...

    async def disconnect(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[StoreTransaction]:
        """One serialised write transaction, committed on success, rolled back on error."""
        ...

    async def get_timer(self, user_id: int, timer_id: str) -> Timer | None: ...
    async def running_timers(self, user_id: int) -> list[Timer]: ...
    async def list_timers(
        self, user_id: int, filter: TimerFilter, *, first: int, after: str | None
    ) -> Page[Timer]: ...
    async def count_timers(self, user_id: int, filter: TimerFilter) -> int: ...
    async def get_entry(self, user_id: int, entry_id: str) -> TimeEntry | None: ...
    async def list_entries(
        self, user_id: int, filter: EntryFilter, *, first: int, after: str | None
    ) -> Page[TimeEntry]: ...
    async def count_entries(self, user_id: int, filter: EntryFilter) -> int: ...

    async def user_for_token(self, token_hash: bytes) -> User | None: ...
    async def get_user(self, user_id: int) -> User | None: ...
    async def grant_tokens(self, grants: Sequence[TokenGrant], now: datetime) -> list[User]:
        """Record every grant in one transaction, creating users as needed."""
        ...

    async def revoke_tokens(self, token_hashes: Sequence[bytes]) -> int:
        """Forget these tokens; how many existed."""
        ...

    async def set_time_zone(self, user_id: int, time_zone: str) -> User: ...
