"""Seven Time's time logs as timergate's time entries: read one, list, count.

Seven Time filters time logs by object and by start, and sorts them; it cannot say "started
before" or search text. Lists therefore read pages newest first until the page asked for is
settled (nothing unread can still belong to it), and filter the rest in the gateway.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from timergate.domain import After, EntryFilter, Page, TimeEntry, User
from timergate.domain.clock import Clock
from timergate.providers.listing import entry_matches, page_after
from timergate.providers.seventime_api import MAX_PAGE_SIZE, SevenTimeAPI
from timergate.providers.seventime_objects import SevenTimeObjects
from timergate.providers.seventime_wire import (
    SevenTimeLogJSON,
    entry_from_log,
    filter_instant,
    instant,
    objects_of,
)

__all__ = ["TimeLogEntries"]

#: How time-log filters name each kind of object.
_LOG_FILTERS = {
    "customer": "customer",
    "project": "project",
    "task": "task",
    "workOrder": "workOrder",
    "timeCategory": "category",
}
#: A list never reads more than this many time logs.
_MAX_SCANNED = 10_000


class TimeLogEntries:
    """The time logs of one connection's Seven Time user."""

    #: Time logs per page read (Seven Time serves up to 500).
    page_size = MAX_PAGE_SIZE

    def __init__(
        self, api: SevenTimeAPI, objects: SevenTimeObjects, *, provider: str, clock: Clock
    ) -> None:
        self._api = api
        self._objects = objects
        self._provider = provider
        self._clock = clock

    async def entry(self, user: User, raw: SevenTimeLogJSON) -> TimeEntry:
        return entry_from_log(
            raw,
            user_id=user.id,
            provider=self._provider,
            time_zone=user.time_zone,
            context=await self._objects.context(objects_of(raw)),
            seen_at=self._clock.now(),
        )

    async def get(self, user: User, entry_id: str) -> TimeEntry | None:
        raw = await self._api.time_log(entry_id)
        return None if raw is None else await self.entry(user, raw)

    async def list(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        filters = self._filters(user, filter)
        if filters is None:
            return Page([], False)
        collected: list[TimeEntry] = []
        page, scanned = 1, 0
        while True:
            found = await self._api.time_logs(filters, page=page, limit=self.page_size)
            scanned += len(found.logs)
            collected += [
                entry
                for entry in [await self.entry(user, raw) for raw in found.logs]
                if entry_matches(entry, filter)
            ]
            if page >= found.pages or not found.logs or scanned >= _MAX_SCANNED:
                break
            # Unread logs began no later than the oldest read: once more than a page of
            # matches began after it, nothing unread can be on this page.
            oldest = instant(found.logs[-1].get("timestamp"))
            settled = [
                e
                for e in collected
                if oldest is not None and e.started_at > oldest and _after(e, after)
            ]
            if len(settled) > first:
                break
            page += 1
        return page_after(collected, first, after)

    async def count(self, user: User, filter: EntryFilter) -> int:
        filters = self._filters(user, filter)
        if filters is None:
            return 0
        if _counted_by_seven_time(filter):
            return (await self._api.time_logs(filters, page=1, limit=1)).total
        count, page, scanned = 0, 1, 0
        while True:
            found = await self._api.time_logs(filters, page=page, limit=MAX_PAGE_SIZE)
            scanned += len(found.logs)
            for raw in found.logs:
                count += entry_matches(await self.entry(user, raw), filter)
            if page >= found.pages or not found.logs or scanned >= _MAX_SCANNED:
                return count
            page += 1

    def _filters(self, user: User, filter: EntryFilter) -> dict[str, str] | None:
        """Seven Time's filters for ``filter``; ``None`` when nothing can match."""
        if filter.timer_id is not None:
            return None  # time logs do not name the timer that saved them
        filters: dict[str, str] = {}
        if filter.context_type is not None:
            name = _LOG_FILTERS.get(filter.context_type)
            if name is None:
                return None
            if filter.context_id is not None:
                filters[name] = filter.context_id
        elif filter.context_id is not None:
            return None  # an id without its type names no Seven Time object
        if filter.date_from is not None:
            zone = ZoneInfo(user.time_zone)
            day_start = datetime.combine(filter.date_from, time(0), zone)
            # An entry's date is its start's day where the user lives.
            filters["timestamp"] = filter_instant(day_start)
        return filters


def _after(entry: TimeEntry, after: After | None) -> bool:
    return after is None or entry.started_at < after.at


def _counted_by_seven_time(filter: EntryFilter) -> bool:
    """Whether Seven Time's own total answers the count (no filter it cannot apply)."""
    return (
        filter.context_type is None
        and filter.text is None
        and filter.date_to is None
        and filter.timer_id is None
    )
