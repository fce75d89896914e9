"""What a list asks for (filters) and what it answers (pages), whoever holds the objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar

from timergate.domain.timer import TimerState

__all__ = ["EntryFilter", "Page", "TimerFilter"]


class Identified(Protocol):
    """Anything a list holds: it has an id."""

    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=Identified)


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
    """One page of a list, newest first; ``has_next`` says whether more follow.

    ``cursors`` holds one position per item, to pass back as ``after`` to go on after that item.
    Positions are opaque to callers (the local store's carry the sort key, so a page stays put
    whatever is added or edited before it); a provider that gives none pages by item id.
    """

    items: list[T]
    has_next: bool
    cursors: list[str] = field(default_factory=list)

    def cursor(self, index: int) -> str:
        """The position to pass as ``after`` to go on after ``items[index]``."""
        return self.cursors[index] if self.cursors else self.items[index].id
