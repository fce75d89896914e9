"""Time entries as ftrack Timelogs: a start, a duration in seconds, a comment, a context.

A Timelog is dated by its start (in the user's time zone), so a new date moves the start to
that day at the same time of day. ftrack keeps no tags, no billable flag, no version and no
change time: tags and non-billable time are refused, and versions are counted here, growing
whenever a Timelog reads differently (they count again from 1 after a restart).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from timergate.domain import (
    After,
    EntryFilter,
    Page,
    TimeEntry,
    TimerDetails,
    User,
    check_version,
    local_date,
)
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.domain.timer import Unset
from timergate.errors import BadUserInput, NotFound
from timergate.providers.base import Changed, NewEntry
from timergate.providers.ftrack_session import FtrackSession
from timergate.providers.ftrack_wire import (
    TIMELOG_FIELDS,
    FtrackContextJSON,
    FtrackRefused,
    FtrackTimelogJSON,
    Operation,
    context_key,
    create,
    delete,
    encode_datetime,
    entry_from_json,
    is_ftrack_id,
    naive_utc,
    on_day,
    quoted,
    update,
)
from timergate.providers.listing import entry_matches, page_after

__all__ = ["Timelogs", "refuse_tags_and_billable"]

_MISSING = "No time entry with that id; it may have been deleted."


def refuse_tags_and_billable(details: TimerDetails, prefix: str = "input") -> None:
    """ftrack's timers and time logs have neither tags nor a billable flag."""
    if details.tags:
        raise BadUserInput(
            f"ftrack keeps no tags on timers or time logs; leave {prefix}.tags out.",
            field=f"{prefix}.tags",
        )
    if not details.billable:
        raise BadUserInput(
            f"ftrack time logs have no billable flag; leave {prefix}.billable out.",
            field=f"{prefix}.billable",
        )


@dataclass(frozen=True, slots=True)
class _Seen:
    entry: TimeEntry
    version: int
    updated_at: datetime


class Timelogs:
    """The time entries of one ftrack connection."""

    def __init__(self, api: FtrackSession, provider: str) -> None:
        self._api = api
        self._provider = provider
        self._seen: dict[str, _Seen] = {}

    def entry(self, raw: FtrackTimelogJSON, user: User, now: datetime) -> TimeEntry:
        """The Timelog as an entry, versioned by what this process saw of it."""
        entry = entry_from_json(
            raw, user_id=user.id, provider=self._provider, time_zone=user.time_zone, now=now
        )
        seen = self._seen.get(entry.id)
        if seen is None:
            seen = _Seen(entry, 1, entry.updated_at)
        elif seen.entry != entry:
            seen = _Seen(entry, seen.version + 1, max(now, entry.created_at))
        self._seen[entry.id] = seen
        return replace(entry, version=seen.version, updated_at=seen.updated_at)

    def forget(self, entry_id: str) -> None:
        self._seen.pop(entry_id, None)

    def written(
        self,
        user: User,
        now: datetime,
        *,
        id_: str,
        start: datetime,
        duration: int,
        comment: str | None,
        context: FtrackContextJSON | None,
        name: str | None = None,
    ) -> TimeEntry:
        """The entry of a Timelog just written (its answer may have been lost)."""
        raw = {
            "id": id_,
            "user_id": None,
            "start": encode_datetime(start),
            "duration": duration,
            "comment": comment,
            "name": name,
            "context_id": context.get("id") if context else None,
            "context": context,
        }
        return self.entry(cast(FtrackTimelogJSON, raw), user, now)

    # Writing.

    async def creation(
        self,
        *,
        id_: str,
        start: datetime,
        duration: int,
        comment: str | None,
        context_id: str | None,
        name: str | None = None,
    ) -> Operation:
        """The operation creating this Timelog for the connection's user."""
        data: dict[str, Any] = {
            "user_id": await self._api.me(),
            "start": encode_datetime(start),
            "duration": duration,
            "comment": comment or "",
            "context_id": context_id,
        }
        if name:
            data["name"] = name
        return create("Timelog", id_, data)

    async def create(self, user: User, new: NewEntry, now: datetime) -> TimeEntry:
        refuse_tags_and_billable(new.details)
        draft = new_entry(
            user_id=user.id,
            provider=self._provider,
            details=new.details,
            started_at=new.started_at,
            ended_at=new.ended_at,
            duration_seconds=new.duration_seconds,
            entry_date=None,
            time_zone=user.time_zone,
            now=now,
        )
        start = draft.started_at
        if new.date is not None and new.date != draft.date:
            raise BadUserInput(
                "ftrack dates a time log by when it starts: give input.startedAt on "
                f"{new.date.isoformat()}, or leave input.date out.",
                field="input.date",
            )
        context = draft.details.context
        found = (
            await self._api.context(context, field="input.context") if context is not None else None
        )
        id_ = str(uuid.uuid4())
        operation = await self.creation(
            id_=id_,
            start=start,
            duration=draft.duration_seconds,
            comment=draft.details.description,
            context_id=context.id if context is not None else None,
        )
        try:
            await self._api.commit([operation], landed=lambda: self._api.exists("Timelog", id_))
        except FtrackRefused as refused:
            raise self._api.refusal(refused) from None
        return self.written(
            user,
            now,
            id_=id_,
            start=start,
            duration=draft.duration_seconds,
            comment=draft.details.description,
            context=found,
        )

    async def update(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        entry = await self._owned(user, entry_id, now)
        check_version("time entry", entry.version, expected_version)
        if not isinstance(changes.date, Unset) and isinstance(changes.started_at, Unset):
            # A Timelog's day is its start's: a new day moves the start, keeping the time.
            changes = replace(
                changes,
                started_at=on_day(entry.started_at, changes.date, user.time_zone),
                duration_seconds=entry.duration_seconds
                if isinstance(changes.duration_seconds, Unset)
                else changes.duration_seconds,
            )
        edited = edit_entry(entry, changes, time_zone=user.time_zone, now=now)
        if edited is entry:
            return Changed(entry, changed=False)
        refuse_tags_and_billable(edited.details)
        if edited.date != local_date(edited.started_at, user.time_zone):
            raise BadUserInput(
                "ftrack dates a time log by when it starts: give an input.startedAt on "
                f"{edited.date.isoformat()}, or leave input.date out.",
                field="input.date",
            )
        data: dict[str, Any] = {}
        if edited.details.description != entry.details.description:
            data["comment"] = edited.details.description or ""
        context = edited.details.context
        if context_key(context) != context_key(entry.details.context):
            if context is not None:
                await self._api.context(context, field="input.context")
            data["context_id"] = context.id if context is not None else None
        if edited.started_at != entry.started_at:
            data["start"] = encode_datetime(edited.started_at)
        if edited.duration_seconds != entry.duration_seconds:
            data["duration"] = edited.duration_seconds
        if not data:
            return Changed(entry, changed=False)
        # Absolute values: sending them twice is harmless.
        await self._api.run([update("Timelog", entry_id, data)], retry=True)
        return Changed(await self._owned(user, entry_id, now))

    async def delete(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        entry = await self._owned(user, entry_id, now)
        check_version("time entry", entry.version, expected_version)
        try:
            await self._api.commit(
                [delete("Timelog", entry_id)],
                landed=lambda: self._gone(entry_id),
            )
        except FtrackRefused as refused:
            if refused.exception == "ValidationError" and await self._gone(entry_id):
                raise NotFound(_MISSING) from None
            raise self._api.refusal(refused) from None
        self.forget(entry_id)
        return entry

    async def _gone(self, entry_id: str) -> bool:
        return not await self._api.exists("Timelog", entry_id)

    # Reading.

    async def get(self, user: User, entry_id: str, now: datetime) -> TimeEntry | None:
        if not is_ftrack_id(entry_id):
            return None
        me = await self._api.me()
        (found,) = await self._api.read(
            f"select {TIMELOG_FIELDS} from Timelog where id is {quoted(entry_id)} "
            f"and user_id is {quoted(me)}"
        )
        if not found:
            self.forget(entry_id)
            return None
        return self.entry(cast(FtrackTimelogJSON, found[0]), user, now)

    async def _owned(self, user: User, entry_id: str, now: datetime) -> TimeEntry:
        entry = await self.get(user, entry_id, now)
        if entry is None:
            raise NotFound(_MISSING)
        return entry

    async def page(
        self, user: User, filter: EntryFilter, now: datetime, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        if filter.timer_id is not None:
            return Page([], False)  # a Timelog does not say which timer made it

        def enough(records: list[dict[str, Any]]) -> bool:
            # Newest first: once `first` entries pass and the last one read began strictly
            # before the last of them, no later page can come before them.
            entries = self._matching(records, user, filter, now)
            candidates = page_after(entries, first + 1, after).items
            if len(candidates) <= first or not records:
                return False
            last = self.entry(cast(FtrackTimelogJSON, records[-1]), user, now)
            return last.started_at < candidates[first - 1].started_at

        expression = await self._expression(user, filter, after)
        if expression is None:
            return Page([], False)
        records = await self._api.read_all(expression, enough=enough)
        return page_after(self._matching(records, user, filter, now), first, after)

    async def count(self, user: User, filter: EntryFilter, now: datetime) -> int:
        if filter.timer_id is not None:
            return 0
        expression = await self._expression(user, filter, None)
        if expression is None:
            return 0
        records = await self._api.read_all(expression)
        return len(self._matching(records, user, filter, now))

    def _matching(
        self, records: list[dict[str, Any]], user: User, filter: EntryFilter, now: datetime
    ) -> list[TimeEntry]:
        entries = (self.entry(cast(FtrackTimelogJSON, r), user, now) for r in records)
        return [e for e in entries if entry_matches(e, filter)]

    async def _expression(self, user: User, filter: EntryFilter, after: After | None) -> str | None:
        """The Timelog query for ``filter``, newest first (``None``: nothing can match)."""
        criteria = [f"user_id is {quoted(await self._api.me())}"]
        if filter.context_id is not None:
            if not is_ftrack_id(filter.context_id):
                return None
            criteria.append(f"context_id is {quoted(filter.context_id)}")
        zone = ZoneInfo(user.time_zone)
        if filter.date_from is not None:
            since = datetime.combine(filter.date_from, time(0), zone)
            criteria.append(f"start >= {quoted(naive_utc(since))}")
        if filter.date_to is not None:
            until = datetime.combine(filter.date_to + timedelta(days=1), time(0), zone)
            criteria.append(f"start < {quoted(naive_utc(until))}")
        if after is not None:
            criteria.append(f"start <= {quoted(naive_utc(after.at + timedelta(seconds=1)))}")
        return (
            f"select {TIMELOG_FIELDS} from Timelog where {' and '.join(criteria)} "
            "order by start descending, id"
        )
