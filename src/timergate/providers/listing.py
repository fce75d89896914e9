"""Filtering and paging done in the gateway, for vendors whose APIs cannot do it themselves.

A vendor adapter that fetches a user's timers or entries whole can apply the gateway's filters
and its newest-first paging here, exactly as the stores do in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from timergate.domain import After, EntryFilter, Page, TimeEntry, Timer, TimerFilter

__all__ = ["entry_matches", "page_after", "timer_matches"]

_Item = TypeVar("_Item", Timer, TimeEntry)


def _text_matches(text: str | None, item: Timer | TimeEntry) -> bool:
    if not text:
        return True
    needle = text.lower()
    details = item.details
    title = details.context.title if details.context else None
    return any(needle in value.lower() for value in (details.description, title) if value)


def _context_matches(
    context_type: str | None, context_id: str | None, item: Timer | TimeEntry
) -> bool:
    context = item.details.context
    if context_type is not None and (context is None or context.type != context_type):
        return False
    return context_id is None or (context is not None and context.id == context_id)


def timer_matches(timer: Timer, f: TimerFilter) -> bool:
    """Whether ``timer`` passes ``f`` (its ``provider`` is the caller's business)."""
    if f.states and timer.state not in f.states:
        return False
    if f.started_from is not None and timer.started_at < f.started_from:
        return False
    if f.started_to is not None and timer.started_at >= f.started_to:
        return False
    return _context_matches(f.context_type, f.context_id, timer) and _text_matches(f.text, timer)


def entry_matches(entry: TimeEntry, f: EntryFilter) -> bool:
    if f.date_from is not None and entry.date < f.date_from:
        return False
    if f.date_to is not None and entry.date > f.date_to:
        return False
    if f.timer_id is not None and entry.timer_id != f.timer_id:
        return False
    return _context_matches(f.context_type, f.context_id, entry) and _text_matches(f.text, entry)


def _order_key(item: Timer | TimeEntry) -> tuple[float, int, str]:
    # Newest first; ties by id, numeric ids numerically, descending like the stores.
    native = item.id
    number = int(native) if native.isascii() and native.isdigit() else 0
    return (-item.started_at.timestamp(), -number, native)


def _after(item: Timer | TimeEntry, after: After) -> bool:
    if item.started_at != after.at:
        return item.started_at < after.at
    if after.id is None:
        return after.inclusive
    number = int(after.id) if after.id.isascii() and after.id.isdigit() else 0
    return _order_key(item) > (-after.at.timestamp(), -number, after.id)


def page_after(items: Sequence[_Item], first: int, after: After | None) -> Page[_Item]:
    """One page of ``items``, newest first, starting after ``after``."""
    ordered = sorted(items, key=_order_key)
    if after is not None:
        ordered = [item for item in ordered if _after(item, after)]
    return Page(ordered[:first], len(ordered) > first)
