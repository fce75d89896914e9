"""What a list asks for (filters) and what it answers (pages), whoever holds the objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from timergate.domain.timer import TimerState

__all__ = ["EntryFilter", "Page", "TimerFilter"]

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
