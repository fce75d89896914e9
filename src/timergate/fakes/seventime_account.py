"""The Seven Time account behind the fake: seeded objects, active timers and time logs.

Everything here is plain data and rules, no HTTP: ``seventime.py`` serves it. Ids are
MongoDB ObjectIds (24 hex digits); instants are kept to the millisecond, the precision the
API shows (``2024-10-15T14:21:02.720Z``), so durations derived from the wire are exact.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from timergate.fakes.base import Now

__all__ = [
    "CONTEXT_KINDS",
    "Account",
    "AccountError",
    "TimeLog",
    "Timer",
    "iso_ms",
]

#: The objects a timer may be put on, by the JSON key naming them.
CONTEXT_KINDS = ("customer", "project", "workOrder", "timeCategory", "task")

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_POINT: dict[str, Any] = {"type": "Point", "coordinates": []}


class AccountError(Exception):
    """A refusal the API answers with ``status`` and ``{"errorMessage": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def iso_ms(instant: datetime) -> str:
    """``2024-10-15T14:21:02.720Z``: UTC with milliseconds, as Seven Time writes instants."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _to_ms(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(microsecond=instant.microsecond // 1000 * 1000)


@dataclass
class Timer:
    """An active timer: one user, optionally on the objects in ``context``."""

    id: str
    user: str
    started: datetime
    context: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "startLocation": dict(_POINT),
            "_id": self.id,
            "startTimestamp": iso_ms(self.started),
            "realStartTimestamp": iso_ms(self.started),
            "machineTimeSupplements": [],
            "machineTimePrices": [],
            "user": self.user,
            **self.context,
        }


@dataclass
class TimeLog:
    """Time saved when a timer stops: the span, who, on what, and what it is worth."""

    id: str
    user: str
    user_name: str
    started: datetime
    ended: datetime
    created: datetime
    context: dict[str, str]
    price_per_hour: float
    cost_per_hour: float
    is_invoiceable: bool
    is_work_time: bool
    is_absence: bool

    @property
    def hours(self) -> float:
        return (self.ended - self.started).total_seconds() / 3600

    def get(self, key: str) -> Any:
        """The value a filter or ``sortBy`` of that name sees."""
        return self.to_json().get(key)

    def to_json(self) -> dict[str, Any]:
        hours = self.hours
        invoiceable = hours if self.is_invoiceable else 0.0
        return {
            "startLocation": dict(_POINT),
            "stopLocation": dict(_POINT),
            "allDay": False,
            "status": 1,
            "isInvoiceable": self.is_invoiceable,
            "isInvoiced": False,
            "_id": self.id,
            "timestamp": iso_ms(self.started),
            "realTimestamp": iso_ms(self.started),
            "createDate": iso_ms(self.created),
            "unSocialHoursCosts": [],
            "customFields": [],
            "machineTimePrices": [],
            "machineTimeSupplements": [],
            "user": self.user,
            "userName": self.user_name,
            "endTimestamp": iso_ms(self.ended),
            "realEndTimestamp": iso_ms(self.ended),
            "time": hours,
            "invoiceableTime": invoiceable,
            "pricePerHour": self.price_per_hour,
            "price": round(self.price_per_hour * invoiceable, 4),
            "cost": round(self.cost_per_hour * hours, 4),
            "customer": self.context.get("customer"),
            "project": self.context.get("project"),
            "timeCategory": self.context.get("timeCategory"),
            "description": "",
            "isWorkTime": self.is_work_time,
            "isAbsence": self.is_absence,
            **{k: v for k, v in self.context.items() if k in ("workOrder", "task")},
        }


@dataclass
class Account:
    """One Seven Time company: its API key, objects, active timers and time logs."""

    client_secret: str
    now: Now
    #: Seeded objects by collection name (``users``, ``projects``, …), each by ``_id``.
    objects: dict[str, dict[str, dict[str, Any]]]
    timers: dict[str, Timer] = field(default_factory=dict)
    time_logs: dict[str, TimeLog] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _process_part: str = field(default_factory=lambda: secrets.token_hex(5))

    def new_id(self) -> str:
        """A fresh ObjectId: creation second, a per-process part, a counter."""
        seconds = int(self.now().timestamp())
        return f"{seconds:08x}{self._process_part}{next(self._counter) % 0xFFFFFF:06x}"

    def find(self, collection: str, object_id: Any) -> dict[str, Any]:
        """The seeded object, or the API's 400 (malformed id) / 404 (no such object)."""
        kind = _KIND_NAMES[collection]
        if not isinstance(object_id, str) or not _OBJECT_ID.fullmatch(object_id):
            raise AccountError(400, f"Invalid {kind} id: {object_id!r}")
        found = self.objects[collection].get(object_id)
        if found is None:
            raise AccountError(404, f"The {kind} {object_id} could not be found")
        return found

    def start_timer(self, body: dict[str, Any]) -> Timer:
        """A new active timer for ``body["user"]``; one active timer per user."""
        user_id = body.get("user")
        if not user_id:
            raise AccountError(400, "The field 'user' is required")
        self.find("users", user_id)
        context: dict[str, str] = {}
        for kind in CONTEXT_KINDS:
            value = body.get(kind)
            if value not in (None, ""):
                self.find(_collection(kind), value)
                context[kind] = value
        # One timer per user: stopTimer accepts a user id alone, so a second timer would
        # make that call ambiguous. Refusing keeps the running time intact.
        if any(t.user == user_id for t in self.timers.values()):
            raise AccountError(400, "The user already has an active timer")
        timer = Timer(self.new_id(), user_id, _to_ms(self.now()), context)
        self.timers[timer.id] = timer
        return timer

    def stop_timer(self, body: dict[str, Any]) -> TimeLog:
        """Stop the timer named by ``_id`` (or the user's one) and save its time log."""
        timer_id, user_id = body.get("_id"), body.get("user")
        if not timer_id and not user_id:
            raise AccountError(400, "Either '_id' or 'user' is required")
        if timer_id:
            timer = self.timers.get(timer_id)
            if timer is None or (user_id and timer.user != user_id):
                raise AccountError(404, f"No active timer with _id {timer_id}")
        else:
            self.find("users", str(user_id))
            timer = next((t for t in self.timers.values() if t.user == user_id), None)
            if timer is None:
                raise AccountError(404, f"The user {user_id} has no active timer")
        del self.timers[timer.id]
        log = self._time_log(timer, _to_ms(self.now()))
        self.time_logs[log.id] = log
        return log

    def delete_time_log(self, log_id: str) -> None:
        if not log_id:
            raise AccountError(400, "The field '_id' is required")
        if self.time_logs.pop(log_id, None) is None:
            raise AccountError(404, f"The time log {log_id} could not be found")

    def _time_log(self, timer: Timer, ended: datetime) -> TimeLog:
        user = self.objects["users"][timer.user]
        category = self.objects["timeCategories"].get(timer.context.get("timeCategory", ""), {})
        return TimeLog(
            id=self.new_id(),
            user=timer.user,
            user_name=f"{user['firstName']} {user['lastName']}",
            started=timer.started,
            ended=ended,
            created=ended,
            context=dict(timer.context),
            price_per_hour=self._price_per_hour(timer),
            cost_per_hour=user["costPerHour"],
            is_invoiceable=bool(category.get("isInvoiceable", True)),
            is_work_time=bool(category.get("isWorkTime", True)),
            is_absence=bool(category.get("isAbsenceType", False)),
        )

    def _price_per_hour(self, timer: Timer) -> float:
        # The docs name the sources (user, customer, project, time category, work order)
        # but not their order; the most specific one with a price wins here.
        for kind in ("timeCategory", "workOrder", "project", "customer"):
            obj = self.objects[_collection(kind)].get(timer.context.get(kind, ""), {})
            if obj.get("pricePerHour"):
                price: float = obj["pricePerHour"]
                return price
        user_price: float = self.objects["users"][timer.user]["pricePerHour"]
        return user_price


_KIND_NAMES = {
    "users": "user",
    "customers": "customer",
    "projects": "project",
    "workOrders": "work order",
    "tasks": "task",
    "timeCategories": "time category",
}


def _collection(kind: str) -> str:
    return "timeCategories" if kind == "timeCategory" else f"{kind}s"
