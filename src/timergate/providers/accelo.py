"""Accelo: the signed-in user's timers, driven through Accelo's API v0, and their logged time.

Accelo's timers belong strictly to the user whose token the connection holds (service
applications cannot use them). Two statuses map honestly: ``running`` is RUNNING, and a
``stopped`` timer, which keeps its seconds and can be started again, is PAUSED. Starting a
timer (``auto_start``, ``/start``) stops the user's other running Accelo timers: they are
reported as paused. Accelo has no call that turns a timer into logged time, so ``stop`` and
``log`` do what Accelo's own app does: log the time as an activity (a note visible to all,
owned by the user, against the timer's object; billable only where Accelo allows it), then
delete the timer. If the activity cannot be written, the timer stays. ``timeEntries`` reads
those activities back (see :mod:`timergate.providers.accelo_entries`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from timergate.domain import (
    After,
    EntryFilter,
    Page,
    TimeEntry,
    Timer,
    TimerChanges,
    TimerDetails,
    TimerFilter,
    TimerState,
    User,
    check_version,
)
from timergate.domain.connections import TimerOperation, capabilities
from timergate.domain.entry import EntryChanges
from timergate.domain.timer import UNSET, Unset
from timergate.errors import NotFound, TimergateError, UpstreamUnavailable
from timergate.providers.accelo_entries import AcceloEntries
from timergate.providers.accelo_rules import (
    LoggedTime,
    against,
    billable_object,
    no_tags,
    subject_of,
    timer_edit,
)
from timergate.providers.accelo_session import AcceloSession
from timergate.providers.accelo_wire import (
    TIMER_FIELDS,
    AcceloTimerJSON,
    WireError,
    timer_snapshot,
)
from timergate.providers.base import Changed, LogRequest, NewEntry, StartResult, StopResult
from timergate.providers.listing import page_after, timer_matches
from timergate.providers.registry import ConnectionState, ProviderSetup
from timergate.providers.timer_book import TimerBook

__all__ = ["CAPABILITIES", "AcceloProvider", "create_provider"]

CAPABILITIES = capabilities(
    native=(
        TimerOperation.START,
        TimerOperation.RESUME,
        TimerOperation.PAUSE,
        TimerOperation.CANCEL,
        TimerOperation.UPDATE,
        TimerOperation.CREATE_ENTRY,
        TimerOperation.UPDATE_ENTRY,
        TimerOperation.DELETE_ENTRY,
        TimerOperation.LIST_ENTRIES,
    ),
    emulated={
        TimerOperation.STOP: "the time is logged as an activity against the timer's object "
        "(a note visible to all, owned by you), then the timer is deleted",
        TimerOperation.LOG: "as stop, with the activity's subject, date, seconds and "
        "billable chosen",
    },
    notes={
        TimerOperation.START: "a timer needs a subject (the description, or else the "
        "context's title); context is any Accelo object {type, id}; starting stops your "
        "other running Accelo timers",
        TimerOperation.UPDATE: "subject, object and billable; elapsed time while paused; "
        "Accelo has no tags",
        TimerOperation.CREATE_ENTRY: "an activity with logged time; billable only against "
        "an issue, job, milestone, contract or contract period",
        TimerOperation.UPDATE_ENTRY: "subject, times, duration and billable; not the object",
        TimerOperation.LIST_ENTRIES: "your activities with logged time (not by timerId: "
        "activities do not name their timer)",
    },
)

_NO_TIMER = "No timer with that id; it may have been logged or discarded."
#: The key of the connection's note of timers the user wants logged as non-billable.
_NONBILLABLE = "nonbillable_timers"
_PAGE = 100
_MAX_PAGES = 20


def create_provider(setup: ProviderSetup) -> AcceloProvider:
    return AcceloProvider(setup)


class AcceloProvider:
    """:class:`~timergate.providers.base.Provider` for one Accelo connection."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        setup: ProviderSetup,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session = AcceloSession(setup, sleep=sleep)
        self.key = self._session.key
        self.name = self._session.name
        self._clock = setup.clock
        self._state: ConnectionState = setup.state
        self._book = TimerBook(setup.connection.user_id, self.key)
        self._entries = AcceloEntries(self._session, setup.clock)
        #: Timers on billable objects whose time the user wants logged as non-billable
        #: (Accelo's timers have no such flag; kept in the connection's notes).
        self._nonbillable: set[str] = set()
        self._ending = asyncio.Lock()

    async def open(self) -> None:
        noted = await self._state.get(_NONBILLABLE)
        self._nonbillable = {str(i) for i in noted} if isinstance(noted, list) else set()

    async def close(self) -> None:
        return None

    async def verify(self) -> None:
        """The token is a user's (not a service application's), and may read timers."""
        await self._entries.staff_id()
        await self._session.call("GET", "/timers", params={"_limit": 1, "_fields": "status"})

    # Reading timers.

    def _observe(self, raw: Any) -> Timer:
        try:
            if not isinstance(raw, dict):
                raise WireError("a timer that is not an object")
            timer = cast(AcceloTimerJSON, raw)
            nonbillable = str(timer.get("id")) in self._nonbillable
            seen = timer_snapshot(timer, self._clock.now(), nonbillable=nonbillable)
        except WireError as exc:
            raise UpstreamUnavailable(
                f"{self.name} answered a timer timergate cannot read ({exc}).", provider=self.key
            ) from None
        return self._book.observe(seen)

    async def _raw_timer(self, timer_id: str) -> Any | None:
        if not timer_id.isascii() or not timer_id.isdigit():
            return None
        try:
            return await self._session.call(
                "GET", f"/timers/{timer_id}", params={"_fields": TIMER_FIELDS}, missing=_NO_TIMER
            )
        except NotFound:
            return None

    async def _current(self, timer_id: str, expected: int | None) -> Timer:
        raw = await self._raw_timer(timer_id)
        if raw is None:
            self._book.forget(timer_id)
            raise NotFound(_NO_TIMER)
        timer = self._observe(raw)
        check_version("timer", timer.version, expected)
        return timer

    async def _timers(self, filters: str | None = None) -> list[Timer]:
        params: dict[str, Any] = {"_fields": TIMER_FIELDS, "_limit": _PAGE}
        if filters:
            params["_filters"] = filters
        timers: list[Timer] = []
        for page in range(_MAX_PAGES):
            raw = await self._session.call("GET", "/timers", params={**params, "_page": page})
            rows = raw if isinstance(raw, list) else []
            timers += [self._observe(row) for row in rows]
            if len(rows) < _PAGE:
                break
        return timers

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        raw = await self._raw_timer(timer_id)
        if raw is None:
            self._book.forget(timer_id)
            return None
        return self._observe(raw)

    async def running_timers(self, user: User) -> list[Timer]:
        return await self._timers("status(running)")

    async def open_timers(self, user: User) -> list[Timer]:
        """Every timer of the user: running, and stopped (PAUSED) ones."""
        return await self._timers()

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        timers = [t for t in await self.open_timers(user) if timer_matches(t, filter)]
        return page_after(timers, first, after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return sum(1 for t in await self.open_timers(user) if timer_matches(t, filter))

    # Running and pausing.

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        body: dict[str, Any] = {
            "subject": subject_of(details.description, details.context, field="input.description"),
            "auto_start": "1",
            "_fields": TIMER_FIELDS,
        }
        if details.tags:
            raise no_tags("input.tags")
        if details.context is not None:
            against_type, against_id = against(details.context)
            body |= {"against_type": against_type, "against_id": against_id}
        running = await self.running_timers(user)
        raw = await self._session.call("POST", "/timers", data=body)
        if not isinstance(raw, dict) or "id" not in raw:
            raise UpstreamUnavailable(
                f"{self.name} started a timer it did not show.", provider=self.key
            )
        if not details.billable and billable_object(details.context):
            await self._note_nonbillable(str(raw["id"]), True)
        timer = self._observe(raw)
        return StartResult(timer, await self._now_paused(running, timer.id))

    async def _now_paused(self, running: Sequence[Timer], started: str) -> list[Timer]:
        """The timers that ran before a start, as Accelo has them now (it stopped them)."""
        ids = [t.id for t in running if t.id != started]
        if not ids:
            return []
        return await self._timers(f"id({','.join(ids)})")

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult:
        timer = await self._current(timer_id, expected_version)
        if timer.state is TimerState.RUNNING:
            return StartResult(timer, changed=False)
        running = await self.running_timers(user)
        raw = await self._session.call(
            "PUT", f"/timers/{timer_id}/start", data={"_fields": TIMER_FIELDS}, missing=_NO_TIMER
        )
        timer = self._observe(raw)
        return StartResult(timer, await self._now_paused(running, timer.id))

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        timer = await self._current(timer_id, expected_version)
        if timer.state is not TimerState.RUNNING:
            return Changed(timer, changed=False)
        raw = await self._session.call(
            "PUT", f"/timers/{timer_id}/pause", data={"_fields": TIMER_FIELDS}, missing=_NO_TIMER
        )
        return Changed(self._observe(raw))

    # Ending.

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        request = LogRequest(description=description)
        return await self.log(user, timer_id, request, now, expected_version=expected_version)

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> StopResult:
        # One ending at a time: two stops of one timer must not log its time twice.
        async with self._ending:
            return await self._log(user, timer_id, request, now, expected_version)

    async def _log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        expected_version: int | None,
    ) -> StopResult:
        timer = await self._current(timer_id, expected_version)
        logged = LoggedTime.of_timer(timer, request, now, user.time_zone)
        seconds = logged.seconds
        # The time is written first: if Accelo refuses it, the timer stays as it was.
        entry = await self._entries.log_time(user, logged, now) if seconds > 0 else None
        try:
            await self._session.call("DELETE", f"/timers/{timer_id}", missing=_NO_TIMER)
        except NotFound:
            pass  # removed meanwhile (say, in Accelo's app): the time is logged all the same
        except TimergateError as exc:
            if entry is None:
                raise
            raise UpstreamUnavailable(
                f"{self.name} logged the time (entry {entry.id}) but could not remove the "
                f"timer ({exc.message}); cancel the timer so its time is not logged twice.",
                provider=self.key,
            ).with_details(entryId=entry.id) from None
        stopped = self._book.stopped(timer.id, now)
        await self._note_nonbillable(timer.id, False)
        if entry is not None:
            stopped = replace(stopped, entry_id=entry.id)
        return StopResult(stopped, entry)

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        async with self._ending:
            timer = await self._current(timer_id, expected_version)
            await self._session.call("PUT", f"/timers/{timer_id}/cancel", missing=_NO_TIMER)
        self._book.forget(timer.id)
        await self._note_nonbillable(timer.id, False)
        return timer

    # Editing.

    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[Timer]:
        timer = await self._current(timer_id, expected_version)
        edit = timer_edit(timer, changes, now, nonbillable=timer.id in self._nonbillable)
        body = edit.body
        if body:
            raw = await self._session.call(
                "PUT",
                f"/timers/{timer_id}",
                data={**body, "_fields": TIMER_FIELDS},
                missing=_NO_TIMER,
            )
        else:
            raw = None
        await self._note_nonbillable(timer.id, edit.nonbillable)
        updated = self._observe(raw) if raw is not None else await self._current(timer_id, None)
        return Changed(updated, updated.version != timer.version)

    async def _note_nonbillable(self, timer_id: str, nonbillable: bool) -> None:
        if (timer_id in self._nonbillable) == nonbillable:
            return
        if nonbillable:
            self._nonbillable.add(timer_id)
        else:
            self._nonbillable.discard(timer_id)
        await self._state.put(_NONBILLABLE, sorted(self._nonbillable, key=int) or None)

    # Entries: activities with logged time.

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        return await self._entries.create(user, entry, now)

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        return await self._entries.update(
            user, entry_id, changes, now, expected_version=expected_version
        )

    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        return await self._entries.delete(user, entry_id, expected_version=expected_version)

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        return await self._entries.get(user, entry_id)

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        return await self._entries.list_entries(user, filter, first=first, after=after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        return await self._entries.count_entries(user, filter)
