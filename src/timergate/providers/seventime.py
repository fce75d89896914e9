"""Seven Time: timers on customers, projects, work orders, tasks and time categories, driven
through Seven Time's API v2 as one Seven Time user (the key acts for the whole company).

Start and stop are native; a stop saves a priced time log, which is the entry. Seven Time has
no pause and no cancel; timergate emulates them without losing or inventing time:

- pause stops the Seven Time timer (the stretch so far is saved as a time log) and keeps the
  timer PAUSED in the connection's notes; resume starts a new Seven Time timer on the same
  objects. A paused and resumed timer thus leaves one time log per running stretch, and its
  stop answers with the last one.
- cancel stops the timer and deletes exactly the time logs its own stops saved; it is refused
  when one of them was changed in Seven Time since.

Seven Time refuses a second timer for a user, so a start pauses the running one first.
Description and tags stay with the timer in timergate: Seven Time's timers have neither.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
from aiolimiter import AsyncLimiter

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
from timergate.domain.ids import encode_global_id
from timergate.domain.timer import UNSET, Unset
from timergate.errors import (
    BadUserInput,
    NotFound,
    TimergateError,
    UnsupportedByProvider,
)
from timergate.providers.base import Changed, LogRequest, NewEntry, StartResult, StopResult
from timergate.providers.listing import page_after, timer_matches
from timergate.providers.registry import ProviderSetup, connection_name
from timergate.providers.seventime_api import SevenTimeAPI
from timergate.providers.seventime_entries import TimeLogEntries
from timergate.providers.seventime_objects import SevenTimeObjects
from timergate.providers.seventime_timers import OpenTimers
from timergate.providers.seventime_wire import safe_id
from timergate.providers.upstream import Upstream

__all__ = ["CAPABILITIES", "SevenTimeProvider", "create_provider"]

_NOT_WRITTEN = "timergate reads and deletes Seven Time's time logs but does not write them"
CAPABILITIES = capabilities(
    native=(
        TimerOperation.START,
        TimerOperation.STOP,
        TimerOperation.DELETE_ENTRY,
        TimerOperation.LIST_ENTRIES,
    ),
    emulated={
        TimerOperation.PAUSE: "stops the Seven Time timer, which saves the time so far as a "
        "time log; timergate keeps the timer paused",
        TimerOperation.RESUME: "starts a new Seven Time timer on the same objects; each "
        "running stretch is a time log of its own",
        TimerOperation.CANCEL: "stops the Seven Time timer and deletes exactly the time logs "
        "its stops saved",
        TimerOperation.UPDATE: "description and tags, which timergate keeps (Seven Time "
        "timers have none); not the objects or the time",
    },
    notes={
        TimerOperation.START: "on a customer, project, workOrder, task or timeCategory (the "
        "context type); a task or work order brings its project and customer; description "
        "and tags stay in timergate",
        TimerOperation.STOP: "saves a time log; after a pause, the entry is the last running "
        "stretch's time log",
        TimerOperation.LOG: "Seven Time saves a timer's time log as it ran; stop it instead",
        TimerOperation.CREATE_ENTRY: _NOT_WRITTEN,
        TimerOperation.UPDATE_ENTRY: _NOT_WRITTEN,
        TimerOperation.LIST_ENTRIES: "time logs; not by timerId (a time log does not name "
        "its timer)",
    },
)

#: Seven Time allows 4 requests a second. One call every 0.3 s keeps any second under 4
#: even when answers arrive unevenly (a burst of 4 would let a fifth in within the second).
_CALLS, _PERIOD = 1, 0.3
_USER_FIELD = "input.credentials.sevenTime.userId"


def create_provider(setup: ProviderSetup) -> SevenTimeProvider:
    return SevenTimeProvider(setup)


def _api_base(base_url: str) -> str:
    return base_url if base_url.endswith("/api/2") else base_url + "/api/2"


class SevenTimeProvider:
    """:class:`~timergate.providers.base.Provider` for one Seven Time connection."""

    capabilities = CAPABILITIES

    def __init__(self, setup: ProviderSetup, *, limiter: AsyncLimiter | None = None) -> None:
        connection = setup.connection
        self.key = connection.key
        self.name = connection_name(connection)
        self._clock = setup.clock
        secret = str(setup.credentials.get("clientSecret", ""))
        self._user_id = str(setup.credentials.get("userId", ""))

        def authenticate(request: httpx.Request) -> None:
            request.headers["Client-Secret"] = secret

        upstream = Upstream(
            client=setup.client,
            base_url=_api_base(connection.base_url),
            key=self.key,
            name=self.name,
            auth=authenticate,
            limiter=limiter or setup.limiter(_CALLS, _PERIOD),
            on_auth_failure=setup.on_auth_failure,
            default_headers={"Accept": "application/json"},
        )
        self._api = SevenTimeAPI(upstream, user_id=self._user_id, secret=secret)
        self._objects = SevenTimeObjects(self._api)
        self._open = OpenTimers(
            self._api, self._objects, setup.state, provider=self.key, clock=self._clock
        )
        self._entries = TimeLogEntries(
            self._api, self._objects, provider=self.key, clock=self._clock
        )
        # Operations read, change and write the notes whole: one at a time.
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def verify(self) -> None:
        """The key works, and its company has the connection's user."""
        if not safe_id(self._user_id):
            raise BadUserInput(
                f"{_USER_FIELD} must be the _id of a Seven Time user (letters and digits, such "
                "as 65f1a2b3c4d5e6f708192a01): the key acts for every user of the company, so "
                "a connection acts as one of them.",
                field=_USER_FIELD,
            )
        if not await self._api.user_exists():
            raise BadUserInput(
                f"{self.name} accepts the key, but its company has no user "
                f"{self._user_id!r}: {_USER_FIELD} must be the _id of the Seven Time user "
                "this connection acts as.",
                field=_USER_FIELD,
            )

    # Timers.

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        if not details.billable:
            raise BadUserInput(
                "Seven Time decides what is invoiceable by the time category: leave "
                "input.billable out, or start on a time category that is not invoiceable.",
                field="input.billable",
            )
        open_timers = self._open
        async with self._lock:
            objects, context = await self._objects.for_start(details.context)
            snapshot = await open_timers.look()
            paused = await open_timers.make_room(snapshot)
            try:
                raw = await self._api.start_timer(objects)
            except TimergateError:
                await open_timers.undo(snapshot, paused)
                raise
            record = await open_timers.begin(snapshot, raw, objects, context, details)
            return StartResult(
                await open_timers.timer(user, record, raw),
                [await open_timers.timer(user, r, None) for r in paused],
            )

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult:
        open_timers = self._open
        async with self._lock:
            snapshot = await open_timers.look()
            timer, record, raw = await open_timers.current(
                user, snapshot, timer_id, expected_version
            )
            if raw is not None or record is None:
                return StartResult(timer, changed=False)
            paused = await open_timers.make_room(snapshot)
            try:
                raw = await open_timers.run(snapshot, record)
            except TimergateError:
                await open_timers.undo(snapshot, paused)
                raise
            return StartResult(
                await open_timers.timer(user, record, raw),
                [await open_timers.timer(user, r, None) for r in paused],
            )

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        open_timers = self._open
        async with self._lock:
            snapshot = await open_timers.look()
            timer, record, raw = await open_timers.current(
                user, snapshot, timer_id, expected_version
            )
            if raw is None:
                return Changed(timer, changed=False)
            record = await open_timers.pause(snapshot, record, raw)
            return Changed(await open_timers.timer(user, record, None))

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        if isinstance(description, str):
            raise BadUserInput(
                "Seven Time saves a stopped timer's time log without a description; leave "
                "input.description out (and describe the time log in Seven Time).",
                field="input.description",
            )
        open_timers = self._open
        async with self._lock:
            snapshot = await open_timers.look()
            timer, record, raw = await open_timers.current(
                user, snapshot, timer_id, expected_version
            )
            segments, log = await open_timers.stop(snapshot, timer, record, raw)
        entry = await self._entries.entry(user, log) if log is not None else None
        stopped = replace(
            timer,
            state=TimerState.STOPPED,
            accumulated=sum((s.span for s in segments), timedelta(0)),
            running_since=None,
            updated_at=segments[-1].ended if segments else now,
            version=timer.version + 1,
            entry_id=entry.id if entry is not None else None,
        )
        return StopResult(stopped, entry)

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> StopResult:
        raise self._unsupported(TimerOperation.LOG, "log timers")

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        open_timers = self._open
        async with self._lock:
            snapshot = await open_timers.look()
            timer, record, raw = await open_timers.current(
                user, snapshot, timer_id, expected_version
            )
            await open_timers.discard(snapshot, timer, record, raw)
        return timer

    async def update_timer(
        self,
        user: User,
        timer_id: str,
        changes: TimerChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[Timer]:
        open_timers = self._open
        async with self._lock:
            snapshot = await open_timers.look()
            timer, record, raw = await open_timers.current(
                user, snapshot, timer_id, expected_version
            )
            edited = await open_timers.edit(snapshot, timer, record, raw, changes, now)
            if edited is None:
                return Changed(timer, changed=False)
            return Changed(await open_timers.timer(user, edited, raw))

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        async with self._lock:
            snapshot = await self._open.look()
            record, raw = snapshot.find(timer_id)
            if record is None and raw is None:
                return None
            return await self._open.timer(user, record, raw)

    async def open_timers(self, user: User) -> list[Timer]:
        """Every running and paused timer (what polling compares)."""
        async with self._lock:
            return await self._open.all(user, await self._open.look())

    async def running_timers(self, user: User) -> list[Timer]:
        return [t for t in await self.open_timers(user) if t.state is TimerState.RUNNING]

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        timers = [t for t in await self.open_timers(user) if timer_matches(t, filter)]
        return page_after(timers, first, after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return sum(1 for t in await self.open_timers(user) if timer_matches(t, filter))

    # Entries: Seven Time's time logs.

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        raise self._unsupported(TimerOperation.CREATE_ENTRY, "record time entries by hand")

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        raise self._unsupported(TimerOperation.UPDATE_ENTRY, "edit time entries")

    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        entry = await self._entries.get(user, entry_id)
        if entry is None:
            raise NotFound("No time entry with that id; it may have been deleted.")
        check_version("time entry", entry.version, expected_version)
        async with self._lock:
            records = await self._open.records()
            for record in records.values():
                if any(s.log_id == entry_id for s in record.segments):
                    timer_id = encode_global_id("Timer", self.key, record.id)
                    raise BadUserInput(
                        "This time log holds part of a paused timer's time; stop or cancel "
                        "that timer instead.",
                        field="input.id",
                    ).with_details(timerId=timer_id)
            if not await self._api.delete_time_log(entry_id):
                raise NotFound("No time entry with that id; it may have been deleted.")
        return entry

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        return await self._entries.get(user, entry_id)

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        return await self._entries.list(user, filter, first=first, after=after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        return await self._entries.count(user, filter)

    def _unsupported(self, operation: TimerOperation, verb: str) -> UnsupportedByProvider:
        note = CAPABILITIES[operation].note
        return UnsupportedByProvider(
            f"{self.name} cannot {verb} ({note}).", provider=self.key, operation=operation.value
        )
