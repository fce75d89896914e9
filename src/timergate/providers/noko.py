"""Noko (formerly Freckle): timers per project, driven through Noko's API v2.

Every timer operation is native. Noko's own rules show through: one timer per project and
user (a start on a project whose timer is paused is refused: resume that one); a start pauses
the user's other running Noko timer (reported, not done twice); ``log`` rounds minutes up to
the project's billing increment and answers without the entry, which is then found by its
project and date; billable follows the project; ``#hashtags`` in a description are tags.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, cast

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
    local_date,
)
from timergate.domain.connections import TimerOperation, capabilities
from timergate.domain.entry import EntryChanges, edit_entry, new_entry
from timergate.domain.ids import encode_global_id
from timergate.domain.timer import UNSET, Unset
from timergate.errors import (
    BadUserInput,
    InvalidTransition,
    NotFound,
    UpstreamAuthFailed,
    UpstreamUnavailable,
)
from timergate.providers.base import Changed, LogRequest, NewEntry, StartResult, StopResult
from timergate.providers.listing import entry_matches, page_after, timer_matches
from timergate.providers.noko_wire import (
    NokoEntryJSON,
    NokoTimerJSON,
    entry_from_json,
    split_timer_id,
    timer_snapshot,
    with_tags,
)
from timergate.providers.registry import ProviderSetup, connection_name
from timergate.providers.timer_book import TimerBook
from timergate.providers.upstream import Upstream

__all__ = ["CAPABILITIES", "NokoProvider", "create_provider"]

CAPABILITIES = capabilities(
    native=tuple(TimerOperation),
    notes={
        TimerOperation.UPDATE: "description, tags (as #hashtags) and elapsed time; a timer "
        "stays on its project and billable follows the project",
        TimerOperation.LOG: "minutes are rounded up to the project's billing increment",
    },
)

#: Noko allows 2 requests a second per client address.
_REQUESTS_PER_SECOND = 2
_PER_PAGE = 1000


def create_provider(setup: ProviderSetup) -> NokoProvider:
    return NokoProvider(setup)


class NokoProvider:
    """:class:`~timergate.providers.base.Provider` for one Noko connection."""

    capabilities = CAPABILITIES

    def __init__(self, setup: ProviderSetup, *, limiter: AsyncLimiter | None = None) -> None:
        connection = setup.connection
        self.key = connection.key
        self.name = connection_name(connection)
        self._clock = setup.clock
        self._token = str(setup.credentials["token"])
        # Personal tokens go in X-NokoToken; OAuth access tokens as a bearer token. Which one
        # a token is shows at connect time, and is kept with it.
        self._bearer = setup.credentials.get("scheme") == "bearer"
        self._save_credentials = setup.save_credentials

        def authenticate(request: httpx.Request) -> None:
            if self._bearer:
                request.headers["Authorization"] = f"Bearer {self._token}"
            else:
                request.headers["X-NokoToken"] = self._token

        self._http = Upstream(
            client=setup.client,
            base_url=connection.base_url + "/v2",
            key=self.key,
            name=self.name,
            auth=authenticate,
            limiter=limiter or setup.limiter(_REQUESTS_PER_SECOND, 1.0),
            on_auth_failure=setup.on_auth_failure,
        )
        self._book = TimerBook(connection.user_id, self.key)
        self._me: int | None = None

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def verify(self) -> None:
        try:
            await self._user_id()
        except UpstreamAuthFailed:
            if self._bearer:
                raise
            self._bearer = True  # perhaps an OAuth access token rather than a personal one
            await self._user_id()
            await self._save_credentials({"token": self._token, "scheme": "bearer"})

    async def _user_id(self) -> int:
        if self._me is None:
            me = self._http.json(await self._http.request("GET", "/current_user"))
            if not isinstance(me, dict) or not isinstance(me.get("id"), int):
                raise UpstreamUnavailable(
                    f"{self.name} answered /current_user without a user.", provider=self.key
                )
            self._me = int(me["id"])
        return self._me

    # Talking to Noko.

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return self._http.json(response)

    async def _write(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """A write; Noko's validation errors become BAD_USER_INPUT with Noko's words."""
        response = await self._http.request(method, path, json=body, allow=frozenset({400, 422}))
        if response.status_code in (400, 422):
            raise self._validation(response)
        if response.status_code == 204 or not response.content:
            return None
        return self._http.json(response)

    def _validation(self, response: httpx.Response) -> BadUserInput:
        try:
            body = response.json()
        except ValueError:
            body = {}
        errors = body.get("errors") if isinstance(body, dict) else None
        details = "; ".join(
            f"{e.get('field', '?')} {e.get('code', 'invalid')}"
            for e in errors or []
            if isinstance(e, dict)
        )
        message = body.get("message", "Validation Failed") if isinstance(body, dict) else ""
        return BadUserInput(
            f"{self.name} refused the change: {message} ({details}).".replace(" ().", ".")
        )

    async def _project_timer(self, project_id: str) -> NokoTimerJSON | None:
        response = await self._http.request(
            "GET", f"/projects/{project_id}/timer", allow=frozenset({404})
        )
        if response.status_code == 404:
            return None
        raw = self._http.json(response)
        return cast(NokoTimerJSON, raw) if _is_timer(raw) else None

    async def _timers(self) -> list[NokoTimerJSON]:
        raw = await self._json("GET", "/timers", params={"per_page": _PER_PAGE})
        return [t for t in raw or [] if _is_timer(t)]

    def _observe(self, raw: NokoTimerJSON) -> Timer:
        return self._book.observe(timer_snapshot(raw, self._clock.now()))

    async def _current(self, timer_id: str, expected: int | None) -> tuple[str, Timer]:
        """The project and the timer ``timer_id`` names, as Noko has it now."""
        parts = split_timer_id(timer_id)
        if parts is None:
            raise NotFound("No timer with that id; it may have been logged or discarded.")
        project_id, noko_id = parts
        raw = await self._project_timer(project_id)
        if raw is None or int(raw["id"]) != noko_id:
            self._book.forget(timer_id)
            raise NotFound("No timer with that id; it may have been logged or discarded.")
        timer = self._observe(raw)
        check_version("timer", timer.version, expected)
        return project_id, timer

    # Timers.

    async def start(self, user: User, details: TimerDetails, now: datetime) -> StartResult:
        project_id = _project_id(details)
        existing = await self._project_timer(project_id)
        if existing is not None:
            timer = self._observe(existing)
            raise BadUserInput(
                f"Noko keeps one timer per project, and this project already has one "
                f"({timer.state.value}): resume it (startTimer with timerId), or log or "
                "cancel it first.",
                field="input.context",
            ).with_details(timerId=_gid(self.key, timer.id))
        return await self._run(user, project_id, now, details=details)

    async def resume(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> StartResult:
        project_id, timer = await self._current(timer_id, expected_version)
        if timer.state is TimerState.RUNNING:
            return StartResult(timer, changed=False)
        return await self._run(user, project_id, now)

    async def _run(
        self, user: User, project_id: str, now: datetime, *, details: TimerDetails | None = None
    ) -> StartResult:
        """Start (or resume) the project's timer; Noko pauses the other running one itself."""
        running = [self._observe(t) for t in await self._timers() if t["state"] == "running"]
        body: dict[str, Any] = {}
        if details is not None:
            body["entry_date"] = local_date(now, user.time_zone).isoformat()
            if details.description or details.tags:
                body["description"] = with_tags(details.description, details.tags)
        raw = await self._write("PUT", f"/projects/{project_id}/timer/start", body)
        if not _is_timer(raw):
            raw = await self._project_timer(project_id)
            if raw is None:
                raise UpstreamUnavailable(
                    f"{self.name} started a timer it then could not show.", provider=self.key
                )
        timer = self._observe(cast(NokoTimerJSON, raw))
        paused: list[Timer] = []
        for other in running:
            if other.id == timer.id:
                continue
            # Noko paused it by itself: read it back instead of pausing it a second time.
            other_project, _ = split_timer_id(other.id) or ("", 0)
            now_raw = await self._project_timer(other_project)
            if now_raw is not None:
                paused.append(self._observe(now_raw))
        return StartResult(timer, paused)

    async def pause(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Changed[Timer]:
        project_id, timer = await self._current(timer_id, expected_version)
        if timer.state is not TimerState.RUNNING:
            return Changed(timer, changed=False)
        raw = await self._json("PUT", f"/projects/{project_id}/timer/pause", json={})
        if not _is_timer(raw):
            raw = await self._project_timer(project_id)
        if raw is None:
            raise NotFound("No timer with that id; it may have been logged or discarded.")
        return Changed(self._observe(cast(NokoTimerJSON, raw)))

    async def stop(
        self,
        user: User,
        timer_id: str,
        now: datetime,
        *,
        description: str | Unset | None = UNSET,
        expected_version: int | None = None,
    ) -> StopResult:
        return await self.log(
            user,
            timer_id,
            LogRequest(description=description),
            now,
            expected_version=expected_version,
        )

    async def log(
        self,
        user: User,
        timer_id: str,
        request: LogRequest,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> StopResult:
        project_id, timer = await self._current(timer_id, expected_version)
        if request.billable is not None and request.billable != timer.details.billable:
            raise BadUserInput(
                "Noko takes billable from the project; leave input.billable out.",
                field="input.billable",
            )
        entry_date = request.date or local_date(timer.started_at, user.time_zone)
        body: dict[str, Any] = {"entry_date": entry_date.isoformat()}
        if request.duration is not None:
            body["minutes"] = max(1, math.ceil(request.duration.total_seconds() / 60))
        if not isinstance(request.description, Unset):
            body["description"] = with_tags(request.description, timer.details.tags)
        me = await self._user_id()
        before = await self._entry_ids(me, project_id, entry_date)
        await self._write("PUT", f"/projects/{project_id}/timer/log", body)
        stopped = self._book.stopped(timer.id, now)
        entry = await self._logged_entry(user, me, project_id, entry_date, before, now)
        if entry is not None:
            stopped = replace(stopped, entry_id=entry.id)
        return StopResult(stopped, entry)

    async def _entry_ids(self, me: int, project_id: str, day: date) -> set[int]:
        raw = await self._json("GET", "/entries", params=_day_query(me, project_id, day))
        return {int(e["id"]) for e in raw or [] if isinstance(e, dict) and "id" in e}

    async def _logged_entry(
        self, user: User, me: int, project_id: str, day: date, before: set[int], now: datetime
    ) -> TimeEntry | None:
        raw = await self._json("GET", "/entries", params=_day_query(me, project_id, day))
        new = [e for e in raw or [] if isinstance(e, dict) and int(e.get("id", 0)) not in before]
        if not new:
            return None
        newest = max(new, key=lambda e: int(e["id"]))
        return self._entry(cast(NokoEntryJSON, newest), user, now)

    async def cancel(
        self, user: User, timer_id: str, now: datetime, *, expected_version: int | None = None
    ) -> Timer:
        project_id, timer = await self._current(timer_id, expected_version)
        await self._json("DELETE", f"/projects/{project_id}/timer", json={})
        self._book.forget(timer.id)
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
        project_id, timer = await self._current(timer_id, expected_version)
        _refuse_unsupported(timer, changes)
        description = (
            timer.details.description
            if isinstance(changes.description, Unset)
            else changes.description
        )
        tags = timer.details.tags if isinstance(changes.tags, Unset) else changes.tags
        changed = False
        if not isinstance(changes.description, Unset) or not isinstance(changes.tags, Unset):
            text = _without_hashtags(description, timer.details.tags, tags)
            raw = await self._write("PUT", f"/projects/{project_id}/timer", {"description": text})
            if _is_timer(raw):
                timer = self._observe(cast(NokoTimerJSON, raw))
            changed = True
        if not isinstance(changes.elapsed, Unset):
            if timer.state is not TimerState.PAUSED:
                raise InvalidTransition(
                    "The elapsed time can only be set while the timer is PAUSED; pause it first.",
                    state=timer.state.value,
                )
            delta = int((changes.elapsed - timer.accumulated).total_seconds())
            if delta:
                raw = await self._write(
                    "PUT", f"/projects/{project_id}/timer/add_or_subtract_time", {"seconds": delta}
                )
                if _is_timer(raw):
                    timer = self._observe(cast(NokoTimerJSON, raw))
                changed = True
        if changed:
            latest = await self._project_timer(project_id)
            if latest is not None:
                timer = self._observe(latest)
        return Changed(timer, changed)

    async def get_timer(self, user: User, timer_id: str) -> Timer | None:
        try:
            _, timer = await self._current(timer_id, None)
        except NotFound:
            return None
        return timer

    async def running_timers(self, user: User) -> list[Timer]:
        return [self._observe(t) for t in await self._timers() if t["state"] == "running"]

    async def open_timers(self, user: User) -> list[Timer]:
        """Every running and paused timer (what polling compares)."""
        return [self._observe(t) for t in await self._timers()]

    async def list_timers(
        self, user: User, filter: TimerFilter, *, first: int, after: After | None
    ) -> Page[Timer]:
        timers = [t for t in await self.open_timers(user) if timer_matches(t, filter)]
        return page_after(timers, first, after)

    async def count_timers(self, user: User, filter: TimerFilter) -> int:
        return sum(1 for t in await self.open_timers(user) if timer_matches(t, filter))

    # Entries.

    def _entry(self, raw: NokoEntryJSON, user: User, now: datetime) -> TimeEntry:
        return entry_from_json(
            raw, user_id=user.id, provider=self.key, time_zone=user.time_zone, now=now
        )

    async def create_entry(self, user: User, entry: NewEntry, now: datetime) -> TimeEntry:
        project_id = _project_id(entry.details)
        draft = new_entry(
            user_id=user.id,
            provider=self.key,
            details=entry.details,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            duration_seconds=entry.duration_seconds,
            entry_date=entry.date,
            time_zone=user.time_zone,
            now=now,
        )
        raw = await self._write(
            "POST",
            "/entries",
            {
                "date": draft.date.isoformat(),
                "minutes": max(1, math.ceil(draft.duration_seconds / 60)),
                "description": with_tags(draft.details.description, draft.details.tags),
                "project_id": int(project_id),
            },
        )
        if not isinstance(raw, dict):
            raise UpstreamUnavailable(
                f"{self.name} created an entry it did not show.", provider=self.key
            )
        return self._entry(cast(NokoEntryJSON, raw), user, now)

    async def _owned_entry(self, user: User, entry_id: str, now: datetime) -> TimeEntry:
        entry = await self.get_entry(user, entry_id)
        if entry is None:
            raise NotFound("No time entry with that id; it may have been deleted.")
        return entry

    async def update_entry(
        self,
        user: User,
        entry_id: str,
        changes: EntryChanges,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> Changed[TimeEntry]:
        entry = await self._owned_entry(user, entry_id, now)
        check_version("time entry", entry.version, expected_version)
        edited = edit_entry(entry, changes, time_zone=user.time_zone, now=now)
        if edited is entry:
            return Changed(entry, changed=False)
        body: dict[str, Any] = {
            "date": edited.date.isoformat(),
            "minutes": max(1, math.ceil(edited.duration_seconds / 60)),
            "description": with_tags(edited.details.description, edited.details.tags),
        }
        if edited.details.context is not None and edited.details.context != entry.details.context:
            body["project_id"] = int(_project_id(edited.details))
        raw = await self._write("PUT", f"/entries/{entry_id}", body)
        if isinstance(raw, dict):
            return Changed(self._entry(cast(NokoEntryJSON, raw), user, now))
        return Changed(await self._owned_entry(user, entry_id, now))

    async def delete_entry(
        self, user: User, entry_id: str, now: datetime, *, expected_version: int | None = None
    ) -> TimeEntry:
        entry = await self._owned_entry(user, entry_id, now)
        check_version("time entry", entry.version, expected_version)
        await self._json("DELETE", f"/entries/{entry_id}", json={})
        return entry

    async def get_entry(self, user: User, entry_id: str) -> TimeEntry | None:
        if not entry_id.isascii() or not entry_id.isdigit():
            return None
        response = await self._http.request("GET", f"/entries/{entry_id}", allow=frozenset({404}))
        if response.status_code == 404:
            return None
        raw = self._http.json(response)
        me = await self._user_id()
        owner = raw.get("user", {}).get("id") if isinstance(raw, dict) else None
        if owner != me:
            return None  # another person's entry answers exactly like a missing one
        return self._entry(cast(NokoEntryJSON, raw), user, self._clock.now())

    async def _entries(self, user: User, filter: EntryFilter, to: date | None) -> list[TimeEntry]:
        me = await self._user_id()
        params: dict[str, Any] = {"user_ids": me, "per_page": _PER_PAGE}
        if filter.context_type not in (None, "project"):
            return []
        if filter.context_id is not None:
            if not filter.context_id.isdigit():
                return []
            params["project_ids"] = filter.context_id
        if filter.date_from is not None:
            params["from"] = filter.date_from.isoformat()
        last = (
            min(d for d in (filter.date_to, to) if d is not None) if filter.date_to or to else None
        )
        if last is not None:
            params["to"] = last.isoformat()
        now = self._clock.now()
        entries: list[TimeEntry] = []
        path: str | None = "/entries"
        while path is not None:
            response = await self._http.request("GET", path, params=params)
            raw = self._http.json(response)
            entries += [self._entry(cast(NokoEntryJSON, e), user, now) for e in raw or []]
            path, params = _next_page(response, self._http.base_url), {}
            if len(entries) > 10_000:
                break
        return [e for e in entries if entry_matches(e, filter)]

    async def list_entries(
        self, user: User, filter: EntryFilter, *, first: int, after: After | None
    ) -> Page[TimeEntry]:
        if filter.timer_id is not None:
            return Page([], False)  # Noko's entries do not say which timer made them
        # A day past the cursor's (UTC) date covers its local date in any zone; a cursor on the
        # last day there is needs no bound.
        to = None
        if after is not None and after.at.date() < date.max:
            to = after.at.date() + timedelta(days=1)
        entries = await self._entries(user, filter, to)
        return page_after(entries, first, after)

    async def count_entries(self, user: User, filter: EntryFilter) -> int:
        if filter.timer_id is not None:
            return 0
        return len(await self._entries(user, filter, None))


def _is_timer(raw: Any) -> bool:
    return isinstance(raw, dict) and "id" in raw and isinstance(raw.get("project"), dict)


def _gid(key: str, native: str) -> str:
    return encode_global_id("Timer", key, native)


def _project_id(details: TimerDetails) -> str:
    context = details.context
    if context is None or context.type != "project" or not context.id.isdigit():
        raise BadUserInput(
            'A Noko timer or entry belongs to a project: give input.context {type: "project", '
            "id: <the Noko project id>}.",
            field="input.context",
        )
    return context.id


def _refuse_unsupported(timer: Timer, changes: TimerChanges) -> None:
    if not isinstance(changes.context, Unset) and changes.context != timer.details.context:
        raise BadUserInput(
            "A Noko timer stays on its project; log or cancel it and start one on the other "
            "project.",
            field="input.context",
        )
    if not isinstance(changes.billable, Unset) and changes.billable != timer.details.billable:
        raise BadUserInput(
            "Noko takes billable from the project; leave input.billable out.",
            field="input.billable",
        )


def _without_hashtags(
    description: str | None, old_tags: Sequence[str], new_tags: Sequence[str]
) -> str:
    """The description to send: the text without dropped tags, plus the new ones."""
    text = description or ""
    for tag in old_tags:
        if tag not in new_tags:
            text = " ".join(w for w in text.split() if w.lower() != f"#{tag.lower()}")
    return with_tags(text or None, tuple(new_tags))


def _day_query(me: int, project_id: str, day: date) -> dict[str, Any]:
    iso = day.isoformat()
    return {"user_ids": me, "project_ids": project_id, "from": iso, "to": iso, "per_page": 100}


def _next_page(response: httpx.Response, base: str) -> str | None:
    link = response.links.get("next", {}).get("url")
    if not link or not link.startswith(base):
        return None  # only follow links back to the same API
    return link[len(base) :]
