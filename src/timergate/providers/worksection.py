"""Worksection: task timers through the account's action API, both ways in.

The person's OAuth token says who they are (``me``) and starts, stops and discards their own
timer (``start_my_timer``, ``stop_my_timer&comment=``, ``delete_my_timer``). The account's
admin key reads the running timers (``get_timers``, which names each timer, where
``get_my_timer`` does not, so a timergate id keeps naming one Worksection timer) and the saved
time (``get_costs``); both are account-wide, so only the person's own (``user_from.id``) count.

Worksection runs one timer per person and has no pause:

- starting while a timer runs stops and saves the running one first (``stoppedTimers``),
  after checking that the new task can take a timer;
- pausing and resuming are unsupported: a start elsewhere stops and saves a Worksection timer;
- a stop saves the time as a cost in whole minutes on the account's local day and answers only
  "ok": timergate notes the exact span it stopped (connection notes) and reports it for that
  cost for as long as Worksection's minutes agree;
- a description is timergate's until the stop, when it becomes the cost's comment;
- a cancel discards the timer (``delete_my_timer``, the official client's discard).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

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
    User,
    check_version,
    local_date,
)
from timergate.domain.connections import TimerOperation, capabilities
from timergate.domain.entry import EntryChanges
from timergate.domain.limits import check_time_zone
from timergate.domain.timer import UNSET, Unset
from timergate.errors import (
    BadUserInput,
    InvalidTransition,
    NotFound,
    UnsupportedByProvider,
    UpstreamError,
    UpstreamUnavailable,
)
from timergate.providers.base import Changed, LogRequest, NewEntry, StartResult, StopResult
from timergate.providers.listing import page_after, timer_matches
from timergate.providers.registry import ProviderSetup, connection_name
from timergate.providers.timer_book import TimerBook
from timergate.providers.worksection_api import NO_TIMER, TimerAlreadyStarted, WorksectionAPI
from timergate.providers.worksection_costs import CostLedger
from timergate.providers.worksection_wire import (
    TimerJSON,
    refuse_unkept,
    task_id_of,
    task_of,
    timer_snapshot,
)

__all__ = ["CAPABILITIES", "WorksectionProvider", "create_provider"]

_NO_PAUSE = "Worksection timers cannot pause; starting another timer stops and saves them"
CAPABILITIES = capabilities(
    native=(
        TimerOperation.START,
        TimerOperation.STOP,
        TimerOperation.CANCEL,
        TimerOperation.LIST_ENTRIES,
    ),
    emulated={
        TimerOperation.UPDATE: "the description is kept by timergate and saved as the "
        "cost's comment when the timer is stopped through timergate; a timer stays on its task",
    },
    notes={
        TimerOperation.START: 'on a task (context {type: "task", id}); Worksection runs one '
        "timer per person, so a running one is stopped and saved first (stoppedTimers)",
        TimerOperation.STOP: "saves the time as a cost in whole minutes; the entry shows the "
        "exact time timergate stopped",
        TimerOperation.CANCEL: "discards the timer; nothing is saved",
        TimerOperation.LIST_ENTRIES: "the person's costs, dated on the account's local day",
        TimerOperation.PAUSE: _NO_PAUSE,
        TimerOperation.RESUME: "Worksection timers cannot pause, so none waits to resume; "
        "start a new timer on the task",
        TimerOperation.LOG: "Worksection saves a timer's own time on the day it started; "
        "stopTimer takes a description",
        TimerOperation.CREATE_ENTRY: "timergate reads Worksection's costs but does not write them",
        TimerOperation.UPDATE_ENTRY: "timergate reads Worksection's costs but does not write them",
        TimerOperation.DELETE_ENTRY: "timergate reads Worksection's costs but does not write them",
    },
)

#: Worksection answers one request a second; one every 1.2 s leaves room for the calls'
#: varying time in flight, which would otherwise land two in one second now and then.
_PACING = (1, 1.2)
_ZONE_FIELD = "input.credentials.worksection.timeZone"


def create_provider(setup: ProviderSetup) -> WorksectionProvider:
    return WorksectionProvider(setup)


def _timer_key(timer_id: str) -> str:
    return f"timer:{timer_id}"


class WorksectionProvider:
    """:class:`~timergate.providers.base.Provider` for one Worksection connection."""

    capabilities = CAPABILITIES
    #: One call per look: most of the 1 request/second stays with the person's own actions.
    min_poll_seconds = 10.0

    def __init__(self, setup: ProviderSetup, *, limiter: AsyncLimiter | None = None) -> None:
        connection = setup.connection
        self.key = connection.key
        self.name = connection_name(connection)
        self._clock = setup.clock
        self._state = setup.state
        zone = setup.credentials.get("timeZone")
        self._api = WorksectionAPI(
            setup,
            key=self.key,
            name=self.name,
            limiter=limiter or setup.limiter(*_PACING),
        )
        self._costs = CostLedger(
            self._api,
            setup.state,
            key=self.key,
            name=self.name,
            zone=None if zone is None else check_time_zone(str(zone), field=_ZONE_FIELD),
        )
        self._book = TimerBook(connection.user_id, self.key)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def verify(self) -> None:
        """Both ways in must work: the person's token and the account's admin key."""
        await self._api.me()
        await self._api.admin("get_timers")

    def _unsupported(self, operation: TimerOperation) -> UnsupportedByProvider:
        note = self.capabilities[operation].note
        return UnsupportedByProvider(
            f"{self.name} cannot do {operation.value} ({note}).",
            provider=self.key,
            operation=operation.value,
        )

    # Timers as Worksection has them.

    async def _observe(self, raw: TimerJSON, seen_at: datetime) -> Timer:
        note = await self._state.get(_timer_key(str(raw["id"])))
        description = note.get("description") if isinstance(note, dict) else None
        return self._book.observe(timer_snapshot(raw, description, seen_at))

    async def _gone(self, timer_id: str) -> None:
        """Forget a timer that no longer runs (stopped or discarded, maybe in Worksection)."""
        self._book.forget(timer_id)
        await self._state.put(_timer_key(timer_id), None)

    async def _current(self, timer_id: str, expected: int | None) -> tuple[TimerJSON, Timer]:
        """The person's running timer ``timer_id`` as Worksection has it now."""
        if not timer_id.isascii() or not timer_id.isdigit():
            raise NotFound(NO_TIMER)
        raws = await self._api.my_timers()
        raw = next((r for r in raws if str(r["id"]) == timer_id), None)
        if raw is None:
            await self._gone(timer_id)
            raise NotFound(NO_TIMER)
        timer = await self._observe(raw, self._clock.now())
        check_version("timer", timer.version, expected)
        return raw, timer

    # Timers.

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        task_id = task_id_of(details)
        refuse_unkept(details.tags, details.billable)
        stopped: list[StopResult] = []
        await self._api.me()  # known before anything changes
        try:
            await self._api.user("start_my_timer", write=True, id_task=task_id)
        except TimerAlreadyStarted:
            # One timer per person: stop and save the running one, but only once the new
            # task is known to take a timer, so a bad task id leaves it running.
            await self._check_task(task_id)
            for raw in await self._api.my_timers():
                timer = await self._observe(raw, self._clock.now())
                stopped.append(await self._stop(user, raw, timer, now, UNSET))
            await self._api.user("start_my_timer", write=True, id_task=task_id)
        try:
            raws = await self._api.read_back(self._api.my_timers)
        except UpstreamError as exc:
            exc.message = (
                f"The timer started in Worksection (it shows once Worksection answers "
                f"again), but reading it back failed: {exc.message}"
            )
            raise
        seen_at = self._clock.now()
        started = next((r for r in raws if task_of(r) == task_id), None)
        if started is None:
            raise UpstreamUnavailable(
                f"{self.name} started a timer it then did not show; look in Worksection.",
                provider=self.key,
            )
        if details.description:
            note = {"description": details.description}
            await self._state.put(_timer_key(str(started["id"])), note)
        return StartResult(await self._observe(started, seen_at), stopped=stopped)

    async def _check_task(self, task_id: str) -> None:
        task = (await self._api.admin("get_task", id_task=task_id)).get("data")
        if isinstance(task, dict) and task.get("status", "active") != "active":
            raise BadUserInput(
                f"That task is closed ({self.name}); reopen it in Worksection or pick an open "
                "task. Your running timer goes on.",
                field="input.context",
            )

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult:
        raise self._unsupported(TimerOperation.RESUME)

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        raise self._unsupported(TimerOperation.PAUSE)

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        raw, timer = await self._current(timer_id, expected_version)
        return await self._stop(user, raw, timer, now, description)

    async def _stop(
        self,
        user: User,
        raw: TimerJSON,
        timer: Timer,
        now: datetime,
        description: str | Unset | None,
    ) -> StopResult:
        """Stop and save the person's running timer; note the exact span for its cost."""
        comment = timer.details.description if isinstance(description, Unset) else description
        await self._api.user(
            "stop_my_timer", write=True, **({"comment": comment} if comment else {})
        )
        stopped = self._book.stopped(timer.id, now)
        if not isinstance(description, Unset):
            stopped = replace(stopped, details=replace(stopped.details, description=description))
        await self._state.put(_timer_key(timer.id), None)
        entry = await self._costs.saved(user, task_of(raw), stopped, now)
        if entry is not None:
            stopped = replace(stopped, entry_id=entry.id)
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
        raise self._unsupported(TimerOperation.LOG)

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        _, timer = await self._current(timer_id, expected_version)
        await self._api.user("delete_my_timer", write=True)
        await self._gone(timer.id)
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
        raw, timer = await self._current(timer_id, expected_version)
        context = timer.details.context
        wanted = changes.context
        if not isinstance(wanted, Unset) and (
            wanted is None
            or context is None
            or (wanted.type, wanted.id) != (context.type, context.id)
        ):
            raise BadUserInput(
                "A Worksection timer stays on its task; stop it and start one on the other task.",
                field="input.context",
            )
        refuse_unkept(
            () if isinstance(changes.tags, Unset) else changes.tags,
            True if isinstance(changes.billable, Unset) else changes.billable,
        )
        if not isinstance(changes.elapsed, Unset):
            raise InvalidTransition(
                "A Worksection timer always runs (it cannot pause), so its elapsed time cannot "
                "be set.",
                state=timer.state.value,
            )
        description = changes.description
        if isinstance(description, Unset) or description == timer.details.description:
            return Changed(timer, changed=False)
        note = {"description": description} if description else None
        await self._state.put(_timer_key(timer.id), note)
        return Changed(await self._observe(raw, self._clock.now()))

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        try:
            _, timer = await self._current(timer_id, None)
        except NotFound:
            return None
        return timer

    async def running_timers(self, user: User) -> list[Timer]:
        return await self.open_timers(user)

    async def open_timers(self, user: User) -> list[Timer]:
        """The person's running timer, if any (Worksection has no paused ones)."""
        raws = await self._api.my_timers()
        seen_at = self._clock.now()
        timers = [await self._observe(raw, seen_at) for raw in raws]
        for gone in self._book.ids() - {t.id for t in timers}:
            await self._gone(gone)
        return timers

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        timers = [t for t in await self.open_timers(user) if timer_matches(t, filter)]
        return page_after(timers, first, after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return sum(1 for t in await self.open_timers(user) if timer_matches(t, filter))

    # Entries: the person's costs.

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        # Entries older than ``after`` are dated no later than the day after its start.
        zone = self._costs.zone_of(user)
        to = local_date(after.at, zone) + timedelta(days=1) if after is not None else None
        return page_after(await self._costs.entries(user, filter, to), first, after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        return len(await self._costs.entries(user, filter, None))

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        return await self._costs.entry(user, entry_id)

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        raise self._unsupported(TimerOperation.CREATE_ENTRY)

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        raise self._unsupported(TimerOperation.UPDATE_ENTRY)

    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        raise self._unsupported(TimerOperation.DELETE_ENTRY)
