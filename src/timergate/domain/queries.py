"""What a list asks for (filters) and what it answers (pages), whoever holds the objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from timergate.domain.limits import check_date, check_instant
from timergate.domain.timer import TimerState

__all__ = ["After", "EntryFilter", "Page", "Position", "TimerFilter"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TimerFilter:
    states: tuple[TimerState, ...] = ()
    provider: str | None = None
    context_type: str | None = None
    context_id: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        # Bounds outside the accepted range are refused, not clamped: leave one out instead.
        for name, value in (("startedFrom", self.started_from), ("startedTo", self.started_to)):
            if value is not None:
                check_instant(value, field=f"filter.{name}")


@dataclass(frozen=True, slots=True)
class EntryFilter:
    provider: str | None = None
    context_type: str | None = None
    context_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    timer_id: str | None = None

    def __post_init__(self) -> None:
        for name, value in (("dateFrom", self.date_from), ("dateTo", self.date_to)):
            if value is not None:
                check_date(value, field=f"filter.{name}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, newest first; ``has_next`` says whether more follow."""

    items: list[T]
    has_next: bool


@dataclass(frozen=True, slots=True)
class After:
    """Where a page of a newest-first list starts, as one provider sees it.

    Lists sort by when the time began (``started_at``), newest first. ``id`` names the last
    item seen when it belongs to the provider asked: the page then holds what sorts after it
    (older, or as old and after it in the provider's own order). Without ``id`` the page holds
    what began before ``at``, or also at ``at`` when ``inclusive`` (the last item seen belonged
    to a provider that sorts before this one).
    """

    at: datetime
    id: str | None = None
    inclusive: bool = False


@dataclass(frozen=True, slots=True)
class Position:
    """The last item of a page of a list merged across providers: where the next page starts."""

    at: datetime
    provider: str
    id: str

    def after_for(self, provider: str) -> After:
        """Where the next page starts for ``provider`` (providers tie-break by their key)."""
        if provider == self.provider:
            return After(self.at, self.id)
        return After(self.at, inclusive=provider > self.provider)
