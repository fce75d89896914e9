"""Reads across providers: asked concurrently, each with its own deadline, merged in order.

A slow or failing vendor neither blocks nor fails the others: the answer holds what the others
had, and the failure travels beside it (the GraphQL layer reports it as an error with its path
and code). Lists are merged newest first by when the time began, ties broken by provider key,
so a page's last item is a stable place to continue from (:class:`~timergate.domain.Position`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from timergate.domain import After, EntryFilter, Page, Position, TimeEntry, Timer, TimerFilter, User
from timergate.domain.connections import Support, TimerOperation
from timergate.errors import TimergateError, UpstreamUnavailable
from timergate.providers.base import Provider
from timergate.service.capabilities import require
from timergate.service.connections import ConnectionService

__all__ = ["Partial", "Reads"]

T = TypeVar("T")
_Item = TypeVar("_Item", Timer, TimeEntry)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Partial(Generic[T]):
    """What the reachable providers answered, and what the others failed with."""

    value: T
    failures: list[TimergateError] = field(default_factory=list)


class Reads:
    def __init__(self, connections: ConnectionService, *, timeout: float) -> None:
        self._connections = connections
        self._timeout = timeout

    async def _ask(self, provider_name: str, key: str, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except TimeoutError:
            raise UpstreamUnavailable(
                f"{provider_name} did not answer within {self._timeout:g} s; its timers are "
                "missing from this answer.",
                provider=key,
            ) from None

    async def _sources(
        self, user: User, provider: str | None, operation: TimerOperation | None = None
    ) -> tuple[list[Provider], list[TimergateError]]:
        if provider is not None:
            source = await self._connections.provider(user, provider, field="filter.provider")
            if operation is not None:
                require(source, operation)
            return [source], []
        providers, failures = await self._connections.providers(user)
        if operation is not None:
            providers = [
                p for p in providers if p.capabilities[operation].support is not Support.UNSUPPORTED
            ]
        return providers, failures

    async def _gather(
        self, sources: Sequence[Provider], call: Callable[[Provider], Awaitable[T]]
    ) -> tuple[list[tuple[Provider, T]], list[TimergateError]]:
        results = await asyncio.gather(
            *(self._ask(p.name, p.key, call(p)) for p in sources), return_exceptions=True
        )
        answers: list[tuple[Provider, T]] = []
        failures: list[TimergateError] = []
        for source, result in zip(sources, results, strict=True):
            if isinstance(result, TimergateError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                answers.append((source, result))
        return answers, failures

    # Running timers.

    async def running_in(
        self, user: User, providers: Sequence[Provider], *, strict: bool
    ) -> list[tuple[Provider, list[Timer]]]:
        """Each provider's running timers; with ``strict`` the first failure is raised."""
        answers, failures = await self._gather(providers, lambda p: p.running_timers(user))
        if strict and failures:
            failure = failures[0]
            failure.message = (
                f"Could not check for a running timer, so nothing was started: {failure.message}"
            )
            raise failure
        return answers

    async def running(self, user: User) -> Partial[list[Timer]]:
        """Every running timer of the user, newest first."""
        providers, failures = await self._connections.providers(user)
        answers, more = await self._gather(providers, lambda p: p.running_timers(user))
        timers = [t for _, found in answers for t in found]
        timers.sort(key=lambda t: t.started_at, reverse=True)
        return Partial(timers, failures + more)

    # Single objects.

    async def timer(self, user: User, key: str, timer_id: str) -> Timer | None:
        """The timer, or ``None`` when it (or its connection) does not exist."""
        try:
            provider = await self._connections.provider(user, key)
        except TimergateError as exc:
            if exc.code == "NOT_FOUND":
                return None
            raise
        return await self._ask(provider.name, provider.key, provider.get_timer(user, timer_id))

    async def entry(self, user: User, key: str, entry_id: str) -> TimeEntry | None:
        try:
            provider = await self._connections.provider(user, key)
        except TimergateError as exc:
            if exc.code == "NOT_FOUND":
                return None
            raise
        return await self._ask(provider.name, provider.key, provider.get_entry(user, entry_id))

    # Lists.

    async def timers(
        self, user: User, filter: TimerFilter, *, first: int, after: Position | None
    ) -> Partial[Page[Timer]]:
        sources, failures = await self._sources(user, filter.provider)
        return await self._page(
            sources,
            failures,
            first,
            after,
            lambda p, a: p.list_timers(user, filter, first=first, after=a),
        )

    async def count_timers(self, user: User, filter: TimerFilter) -> Partial[int]:
        sources, failures = await self._sources(user, filter.provider)
        answers, more = await self._gather(sources, lambda p: p.count_timers(user, filter))
        return Partial(sum(n for _, n in answers), failures + more)

    async def entries(
        self, user: User, filter: EntryFilter, *, first: int, after: Position | None
    ) -> Partial[Page[TimeEntry]]:
        sources, failures = await self._sources(user, filter.provider, TimerOperation.LIST_ENTRIES)
        return await self._page(
            sources,
            failures,
            first,
            after,
            lambda p, a: p.list_entries(user, filter, first=first, after=a),
        )

    async def count_entries(self, user: User, filter: EntryFilter) -> Partial[int]:
        sources, failures = await self._sources(user, filter.provider, TimerOperation.LIST_ENTRIES)
        answers, more = await self._gather(sources, lambda p: p.count_entries(user, filter))
        return Partial(sum(n for _, n in answers), failures + more)

    async def _page(
        self,
        sources: Sequence[Provider],
        failures: list[TimergateError],
        first: int,
        after: Position | None,
        fetch: Callable[[Provider, After | None], Awaitable[Page[_Item]]],
    ) -> Partial[Page[_Item]]:
        answers, more = await self._gather(
            sources, lambda p: fetch(p, after.after_for(p.key) if after else None)
        )
        merged: list[tuple[int, str, int, _Item]] = []
        has_next = False
        for source, page in answers:
            has_next = has_next or page.has_next
            key = source.key
            for index, item in enumerate(page.items):
                # Newest first; ties by provider key, then in the provider's own order.
                merged.append((-_us(item.started_at), key, index, item))
        merged.sort(key=lambda row: row[:3])
        items = [row[3] for row in merged[:first]]
        return Partial(Page(items, has_next or len(merged) > first), failures + more)


def _us(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
