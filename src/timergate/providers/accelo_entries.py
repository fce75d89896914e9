"""Accelo's logged time: activities, read and written as the user's time entries.

An entry is an activity owned by the user that logs time (``billable`` plus ``nonbillable``
seconds). New time is a note visible to all (Accelo drops the seconds of a private one),
against the object the time was for (the user's own staff record when there is none; a task's
time goes against the task's parent with the task linked, as Accelo wants), billable only
where Accelo allows it. Lists are filtered and ordered by Accelo (owner, object, dates; newest
first) and paged with ``_page``/``_limit``; text is matched here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from timergate.domain import (
    After,
    Clock,
    EntryFilter,
    Page,
    TimeEntry,
    TimerContext,
    User,
    check_version,
    local_date,
)
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.errors import BadUserInput, NotFound, UpstreamUnavailable
from timergate.providers.accelo_rules import (
    LoggedTime,
    activity_filters,
    against,
    billable_object,
    no_tags,
    not_billable,
    on_day,
    subject_of,
)
from timergate.providers.accelo_session import AcceloSession
from timergate.providers.accelo_wire import (
    ACTIVITY_FIELDS,
    BILLABLE_AGAINST,
    AcceloActivityJSON,
    WireError,
    entry_from_activity,
    logged_seconds,
    number,
    unix,
)
from timergate.providers.base import Changed, NewEntry
from timergate.providers.listing import entry_matches, page_after

__all__ = ["AcceloEntries"]

_NO_ENTRY = "No time entry with that id; it may have been deleted."
_PAGE = 100
#: At most this many activities are read for one answer (the hourly allowance is shared).
_MAX_PAGES = 50


class AcceloEntries:
    """The user's activities with logged time, for one connection."""

    def __init__(self, session: AcceloSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._me: int | None = None

    async def staff_id(self) -> int:
        """The signed-in staff member (``/tokeninfo``), which also says when the token
        expires; a service application's token has none and is refused."""
        if self._me is None:
            info = await self._session.call("GET", "/tokeninfo")
            info = info if isinstance(info, dict) else {}
            staff = info.get("staff_id")
            if staff in (None, "", "0", 0):
                raise BadUserInput(
                    "This token is not a user's: Accelo offers timers only to users (they act "
                    "as the signed-in staff member), not to service applications. Connect "
                    "with a user's access token from a web or installed application.",
                    field="input.credentials.accelo.token",
                )
            try:
                self._me = number(staff)
                expiry = number(info.get("expiry_date"), default=0)
            except WireError:
                raise UpstreamUnavailable(
                    f"{self._session.name} answered /tokeninfo without a staff id.",
                    provider=self._session.key,
                ) from None
            if expiry:
                self._session.expires_at = datetime.fromtimestamp(expiry, UTC)
        return self._me

    def _entry(self, raw: Any, user: User) -> TimeEntry:
        try:
            if not isinstance(raw, dict):
                raise WireError("an activity that is not an object")
            return entry_from_activity(
                cast(AcceloActivityJSON, raw),
                user_id=user.id,
                provider=self._session.key,
                time_zone=user.time_zone,
                now=self._clock.now(),
            )
        except WireError as exc:
            raise UpstreamUnavailable(
                f"{self._session.name} answered an activity timergate cannot read ({exc}).",
                provider=self._session.key,
            ) from None

    # Writing.

    async def _object(self, context: TimerContext | None) -> dict[str, str]:
        """``against_type``/``against_id`` (and ``task_id``) for time on ``context``."""
        if context is None:
            return {"against_type": "staff", "against_id": str(await self.staff_id())}
        object_type, object_id = against(context)
        if object_type != "task":
            return {"against_type": object_type, "against_id": object_id}
        try:
            task = await self._session.call(
                "GET",
                f"/tasks/{object_id}",
                params={"_fields": "against_type,against_id"},
                missing="No such task.",
            )
        except NotFound:
            task = None
        if isinstance(task, dict) and task.get("against_type") and task.get("against_id"):
            parent = {"against_type": str(task["against_type"])}
            return parent | {"against_id": str(task["against_id"]), "task_id": object_id}
        return {"against_type": object_type, "against_id": object_id}

    async def log_time(self, user: User, logged: LoggedTime, now: datetime) -> TimeEntry:
        """Write ``logged`` as a new activity; raise unless Accelo kept every second."""
        me = await self.staff_id()
        target = await self._object(logged.context)
        billable = logged.billable and target["against_type"] in BILLABLE_AGAINST
        if logged.billable and logged.billable_given and not billable:
            raise not_billable("input.billable")
        body: dict[str, Any] = {
            **target,
            "subject": logged.subject,
            "medium": "note",
            # Accelo logs the seconds of an activity only when it is visible to all.
            "visibility": "all",
            "owner_type": "staff",
            "owner_id": str(me),
            "billable" if billable else "nonbillable": str(logged.seconds),
            "date_started": str(unix(logged.started_at)),
            "date_ended": str(unix(logged.ended_at)),
            "_fields": ACTIVITY_FIELDS,
        }
        raw = await self._session.call("POST", "/activities", data=body)
        entry = self._entry(raw, user)
        if entry.duration_seconds != logged.seconds:
            await self._discard(entry.id)
            raise UpstreamUnavailable(
                f"{self._session.name} did not keep the logged time ({entry.duration_seconds} "
                f"of {logged.seconds} s); nothing was changed, try again.",
                provider=self._session.key,
            )
        return entry

    async def _discard(self, activity_id: str) -> None:
        try:
            await self._session.call("DELETE", f"/activities/{activity_id}", missing=_NO_ENTRY)
        except Exception:  # the time was not logged; an empty note left behind harms nothing
            return

    async def create(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        draft = new_entry(
            user_id=user.id,
            provider=self._session.key,
            details=entry.details,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            duration_seconds=entry.duration_seconds,
            entry_date=entry.date,
            time_zone=user.time_zone,
            now=now,
        )
        if draft.details.tags:
            raise no_tags("input.tags")
        if draft.duration_seconds <= 0:
            raise BadUserInput(
                "Accelo logs no empty time: give a duration of at least a second.",
                field="input.durationSeconds",
            )
        started, ended = draft.started_at, draft.ended_at
        if draft.date != local_date(started, user.time_zone):
            started = on_day(started, draft.date, user.time_zone)
            ended = started + (draft.ended_at - draft.started_at)
        logged = LoggedTime(
            subject=subject_of(
                draft.details.description, draft.details.context, field="input.description"
            ),
            context=draft.details.context,
            seconds=draft.duration_seconds,
            # Unset billable reads as true: it follows the object, as a timer's does.
            billable=draft.details.billable,
            billable_given=False,
            started_at=started,
            ended_at=ended,
        )
        return await self.log_time(user, logged, now)

    async def update(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None,
    ) -> Changed[TimeEntry]:
        entry = await self._owned(user, entry_id)
        check_version("time entry", entry.version, expected_version)
        edited = edit_entry(entry, changes, time_zone=user.time_zone, now=now)
        if edited is entry:
            return Changed(entry, changed=False)
        old, new = entry.details, edited.details
        if _object_key(new.context) != _object_key(old.context):
            raise BadUserInput(
                "Accelo cannot move logged time to another object; delete this entry and "
                "log the time there.",
                field="input.context",
            )
        if new.tags:
            raise no_tags("input.tags")
        body: dict[str, Any] = {}
        if new.description != old.description:
            body["subject"] = subject_of(new.description, None, field="input.description")
        started, ended = edited.started_at, edited.ended_at
        if edited.date != local_date(started, user.time_zone):
            started = on_day(started, edited.date, user.time_zone)
            ended = started + (edited.ended_at - edited.started_at)
        if started != entry.started_at:
            body["date_started"] = str(unix(started))
        if ended != entry.ended_at:
            body["date_ended"] = str(unix(ended))
        if edited.duration_seconds != entry.duration_seconds or new.billable != old.billable:
            if edited.duration_seconds <= 0:
                raise BadUserInput(
                    "Accelo logs no empty time; delete the entry instead.",
                    field="input.durationSeconds",
                )
            billable = new.billable and billable_object(old.context)
            if new.billable and not billable and changes.billable is True:
                raise not_billable("input.billable")
            seconds = str(edited.duration_seconds)
            body["billable"] = seconds if billable else "0"
            body["nonbillable"] = "0" if billable else seconds
        if not body:
            return Changed(entry, changed=False)
        raw = await self._session.call(
            "PUT",
            f"/activities/{entry_id}",
            data={**body, "_fields": ACTIVITY_FIELDS},
            missing=_NO_ENTRY,
        )
        return Changed(self._entry(raw, user))

    async def delete(self, user: User, entry_id: str, *, expected_version: int | None) -> TimeEntry:
        entry = await self._owned(user, entry_id)
        check_version("time entry", entry.version, expected_version)
        await self._session.call("DELETE", f"/activities/{entry_id}", missing=_NO_ENTRY)
        return entry

    # Reading.

    async def get(self, user: User, entry_id: str) -> TimeEntry | None:
        if not entry_id.isascii() or not entry_id.isdigit():
            return None
        try:
            raw = await self._session.call(
                "GET",
                f"/activities/{entry_id}",
                params={"_fields": ACTIVITY_FIELDS},
                missing=_NO_ENTRY,
            )
        except NotFound:
            return None
        me = await self.staff_id()
        if not isinstance(raw, dict) or not _logs_time_of(cast(AcceloActivityJSON, raw), me):
            return None  # another person's activity answers exactly like a missing one
        return self._entry(raw, user)

    async def _owned(self, user: User, entry_id: str) -> TimeEntry:
        entry = await self.get(user, entry_id)
        if entry is None:
            raise NotFound(_NO_ENTRY)
        return entry

    async def _filters(
        self, user: User, filter: EntryFilter, before: datetime | None
    ) -> str | None:
        return activity_filters(await self.staff_id(), filter, user.time_zone, before)

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        if filter.timer_id is not None:
            return Page([], False)  # activities do not name the timer they came from
        filters = await self._filters(user, filter, after.at if after is not None else None)
        if filters is None:
            return Page([], False)
        found: list[TimeEntry] = []
        for page in range(_MAX_PAGES):
            rows = await self._page(filters, page)
            entries = [self._entry(row, user) for row in rows]
            found += [e for e in entries if entry_matches(e, filter)]
            if len(rows) < _PAGE:
                break
            window = page_after(found, first, after)
            # Accelo sends the newest first: once a fetched entry is older than the last one
            # this page holds, nothing later can enter it.
            if window.has_next and entries[-1].started_at < window.items[-1].started_at:
                break
        return page_after(found, first, after)

    async def _page(self, filters: str, page: int) -> list[Any]:
        raw = await self._session.call(
            "GET",
            "/activities",
            params={
                "_filters": filters + ",order_by_desc(date_started)",
                "_fields": ACTIVITY_FIELDS,
                "_limit": _PAGE,
                "_page": page,
            },
        )
        return raw if isinstance(raw, list) else []

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        if filter.timer_id is not None:
            return 0
        filters = await self._filters(user, filter, None)
        if filters is None:
            return 0
        if filter.text:
            # Accelo cannot search subjects and titles as the gateway does: count here.
            total = 0
            for page in range(_MAX_PAGES):
                rows = await self._page(filters, page)
                total += sum(entry_matches(self._entry(r, user), filter) for r in rows)
                if len(rows) < _PAGE:
                    break
            return total
        raw = await self._session.call("GET", "/activities/count", params={"_filters": filters})
        try:
            return number(raw.get("count") if isinstance(raw, dict) else None)
        except WireError:
            raise UpstreamUnavailable(
                f"{self._session.name} answered a count timergate cannot read.",
                provider=self._session.key,
            ) from None


def _object_key(context: TimerContext | None) -> tuple[str, str] | None:
    return None if context is None else (context.type.lower(), context.id)


def _logs_time_of(raw: AcceloActivityJSON, me: int) -> bool:
    """Whether the activity is the user's own and logs time."""
    owner = raw.get("owner_id")
    try:
        return (
            raw.get("owner_type", "staff") == "staff"
            and owner is not None
            and number(owner) == me
            and logged_seconds(raw) > 0
        )
    except WireError:
        return False
