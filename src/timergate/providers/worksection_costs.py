"""A Worksection person's saved time: the account's costs, with timergate's notes.

``get_costs`` lists the whole account's costs (every person's): only the connection's
person's are entries. A stop saves a cost in whole minutes on the account's local day and
answers only "ok", so right after a stop timergate finds that cost and notes the exact span it
stopped (:class:`~timergate.providers.worksection_wire.CostNote`, in the connection's notes);
entries show that span for as long as Worksection's minutes still agree.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, cast

from timergate.domain import EntryFilter, TimeEntry, Timer, User, local_date
from timergate.errors import BadUserInput, UpstreamError
from timergate.providers.listing import entry_matches
from timergate.providers.registry import ConnectionState
from timergate.providers.worksection_api import WorksectionAPI
from timergate.providers.worksection_wire import (
    CostJSON,
    CostNote,
    day_param,
    entry_from_cost,
    minutes_of,
)

__all__ = ["CostLedger"]


_log = logging.getLogger("timergate.worksection")
_DAY = timedelta(days=1)


def _cost_key(cost_id: str) -> str:
    return f"cost:{cost_id}"


class CostLedger:
    """The connection's person's costs as time entries."""

    def __init__(
        self, api: WorksectionAPI, state: ConnectionState, *, key: str, name: str, zone: str | None
    ) -> None:
        self._api = api
        self._state = state
        self._key = key
        self._name = name
        self._zone = zone

    def zone_of(self, user: User) -> str:
        """The account's time zone, which dates costs; else the viewer's own."""
        return self._zone or user.time_zone

    async def saved(
        self, user: User, task_id: str, stopped: Timer, now: datetime
    ) -> TimeEntry | None:
        """The cost a stop just saved, noted with the exact span; ``None`` if none shows.

        It is the person's newest timer cost on the task, about as long as the timer ran,
        that no earlier stop noted (a person runs one timer at a time).
        """
        zone = self.zone_of(user)
        seconds = int(stopped.accumulated.total_seconds())
        # A day either side: the cost is found even if the account's zone was set wrong.
        window = {
            "id_task": task_id,
            "datestart": day_param(local_date(stopped.started_at, zone) - _DAY),
            "dateend": day_param(local_date(now, zone) + _DAY),
            "is_timer": "1",
        }
        try:
            costs = await self._api.read_back(lambda: self._api.my_costs(**window))
        except UpstreamError as exc:
            # The stop is done and its time saved: say so, without the entry.
            _log.warning("%s: the cost a stop saved could not be read: %s", self._name, exc)
            return None
        for cost in sorted(costs, key=lambda c: int(c["id"]), reverse=True):
            minutes = minutes_of(cost["time"])
            if not cost.get("is_timer", True) or abs(minutes - seconds / 60) > 1:
                continue
            if await self._state.get(_cost_key(str(cost["id"]))) is not None:
                break  # another stop's: nothing newer was saved
            note = CostNote(
                timer=stopped.id,
                task=task_id,
                startedAt=stopped.started_at.isoformat(),
                endedAt=now.isoformat(),
                seconds=seconds,
                minutes=minutes,
            )
            await self._state.put(_cost_key(str(cost["id"])), note)
            return self._entry(cost, note, user)
        return None

    async def entries(self, user: User, filter: EntryFilter, to: date | None) -> list[TimeEntry]:
        """The person's entries passing ``filter``, dated no later than ``to``."""
        params: dict[str, Any] = {}
        if filter.context_type not in (None, "task"):
            return []
        if filter.context_id is not None:
            if not filter.context_id.isascii() or not filter.context_id.isdigit():
                return []
            params["id_task"] = filter.context_id
        if filter.date_from is not None:
            params["datestart"] = day_param(filter.date_from)
        last = min((d for d in (filter.date_to, to) if d is not None), default=None)
        if last is not None:
            params["dateend"] = day_param(last)
        try:
            costs = await self._api.my_costs(**params)
        except BadUserInput:
            if "id_task" in params:
                return []  # a task this account does not have holds no entries
            raise
        entries = [self._entry(c, await self._note(c), user) for c in costs]
        return [e for e in entries if entry_matches(e, filter)]

    async def entry(self, user: User, entry_id: str) -> TimeEntry | None:
        """One entry; ``None`` when missing or another person's."""
        if not entry_id.isascii() or not entry_id.isdigit():
            return None
        note = await self._state.get(_cost_key(entry_id))
        params = {"id_task": str(note["task"])} if isinstance(note, dict) else {}
        for cost in await self._api.my_costs(**params):
            if str(cost["id"]) == entry_id:
                return self._entry(cost, await self._note(cost), user)
        return None

    async def _note(self, raw: CostJSON) -> CostNote | None:
        if not raw.get("is_timer", True):
            return None  # entered by hand: timergate never noted it
        note = await self._state.get(_cost_key(str(raw["id"])))
        return cast(CostNote, note) if isinstance(note, dict) else None

    def _entry(self, raw: CostJSON, note: CostNote | None, user: User) -> TimeEntry:
        return entry_from_cost(
            raw, note, user_id=user.id, provider=self._key, time_zone=self.zone_of(user)
        )
