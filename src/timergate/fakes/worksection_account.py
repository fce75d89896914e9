"""The Worksection account behind the fake: people, projects, tasks, timers and costs.

Plain data and rules, no HTTP: ``worksection.py`` serves it. Ids are numeric strings, as the
API writes them. Instants are kept in UTC and shown in the account's time zone with minute
precision (``date_started``), as Worksection shows them; a running timer's value is whole
seconds since its start.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from timergate.fakes.base import Now

__all__ = ["Account", "ActionError", "Cost", "Timer", "Token", "TokenExpired", "hours_minutes"]


class ActionError(Exception):
    """A refusal answered as HTTP 200 ``{"status": "error", "status_code", "message"}``."""

    def __init__(self, code: int, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "status_code": self.code,
            "message": self.message,
        }
        if self.details is not None:
            body["message_details"] = self.details
        return body


@dataclass(frozen=True)
class Token:
    """A user's OAuth access token and when it stops working."""

    user_id: str
    expires: datetime | None


@dataclass
class Timer:
    id: str
    user_id: str
    task_id: str
    started: datetime


@dataclass
class Cost:
    """Time (and money) entered on a task; a stopped timer saves one with ``is_timer``."""

    id: str
    user_id: str
    task_id: str
    minutes: int
    day: date
    comment: str
    is_timer: bool


@dataclass
class Account:
    """One Worksection account: its admin key, time zone, people, work and running timers."""

    api_key: str
    now: Now
    zone: ZoneInfo
    users: dict[str, dict[str, Any]]
    projects: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    tokens: dict[str, Token]
    costs: dict[str, Cost] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    _timer_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(2918))
    _cost_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(3610))

    # -- timers --------------------------------------------------------------------------

    def running_timer(self, user_id: str) -> Timer | None:
        return next((t for t in self.timers.values() if t.user_id == user_id), None)

    def start_timer(self, user_id: str, task_id: str) -> Timer:
        """Start ``user_id``'s timer on a task; refused while one runs (code 6)."""
        task = self.task(task_id)
        if task["status"] != "active":
            raise ActionError(8, "Task is closed")
        if self.running_timer(user_id) is not None:
            raise ActionError(6, "Timer is already started")
        timer = Timer(str(next(self._timer_ids)), user_id, task["id"], self.now())
        self.timers[timer.id] = timer
        return timer

    def stop_timer(self, timer: Timer, comment: str = "") -> Cost:
        """Stop a timer and save its time as a cost entry, as Worksection does."""
        del self.timers[timer.id]
        seconds = (self.now() - timer.started).total_seconds()
        cost = Cost(
            id=str(next(self._cost_ids)),
            user_id=timer.user_id,
            task_id=timer.task_id,
            minutes=int(seconds / 60 + 0.5),
            day=timer.started.astimezone(self.zone).date(),
            comment=comment,
            is_timer=True,
        )
        self.costs[cost.id] = cost
        return cost

    def discard_timer(self, timer: Timer) -> None:
        del self.timers[timer.id]

    def elapsed_seconds(self, timer: Timer) -> int:
        return max(0, int((self.now() - timer.started).total_seconds()))

    # -- lookups ---------------------------------------------------------------------------

    def task(self, task_id: str) -> dict[str, Any]:
        if not task_id:
            raise ActionError(10, "Field is required", "id_task")
        found = self.tasks.get(task_id)
        if found is None:
            raise ActionError(5, "Task is invalid")
        return found

    def project(self, project_id: str) -> dict[str, Any]:
        if not project_id:
            raise ActionError(10, "Field is required", "id_project")
        found = self.projects.get(project_id)
        if found is None:
            raise ActionError(4, "Project is invalid")
        return found

    def user_of_token(self, token: str) -> str | None:
        """The user a valid token belongs to; ``None`` if unknown; raises if expired."""
        grant = self.tokens.get(token)
        if grant is None:
            return None
        if grant.expires is not None and self.now() >= grant.expires:
            raise TokenExpired
        return grant.user_id

    # -- wire shapes -----------------------------------------------------------------------

    def local_minute(self, instant: datetime) -> str:
        """``YYYY-MM-DD HH:MM`` in the account's time zone."""
        return instant.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def person(self, user_id: str) -> dict[str, str]:
        user = self.users[user_id]
        return {"id": user["id"], "email": user["email"], "name": user["name"]}

    def task_json(self, task_id: str) -> dict[str, Any]:
        task = self.tasks[task_id]
        project = self.projects[task["project"]]
        shown = {k: v for k, v in task.items() if k not in ("project", "user_from", "user_to")}
        return {
            **shown,
            "user_from": self.person(task["user_from"]),
            "user_to": self.person(task["user_to"]),
            "project": {"id": project["id"], "name": project["name"], "page": project["page"]},
        }

    def timer_json(self, timer: Timer) -> dict[str, Any]:
        """One entry of ``get_timers``: the value as ``HH:MM:SS``."""
        seconds = self.elapsed_seconds(timer)
        hours, rest = divmod(seconds, 3600)
        return {
            "id": timer.id,
            "time": f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}",
            "date_started": self.local_minute(timer.started),
            "user_from": self.person(timer.user_id),
            "task": self.task_json(timer.task_id),
        }

    def my_timer_json(self, timer: Timer) -> dict[str, Any]:
        """``get_my_timer``'s data: the value as whole seconds, no id, no ``user_from``."""
        return {
            "time": self.elapsed_seconds(timer),
            "date_started": self.local_minute(timer.started),
            "task": self.task_json(timer.task_id),
        }

    def cost_json(self, cost: Cost) -> dict[str, Any]:
        return {
            "id": cost.id,
            "comment": cost.comment,
            "time": hours_minutes(cost.minutes),
            "money": f"{self.money(cost):.2f}",
            "date": cost.day.isoformat(),
            "is_timer": cost.is_timer,
            "user_from": self.person(cost.user_id),
            "task": self.task_json(cost.task_id),
        }

    def money(self, cost: Cost) -> float:
        rate: float = self.users[cost.user_id]["rate"]
        return rate * cost.minutes / 60


class TokenExpired(Exception):
    """The access token was valid once; its lifetime is over."""


def hours_minutes(minutes: int) -> str:
    """``H:MM``, how Worksection writes an amount of time."""
    return f"{minutes // 60}:{minutes % 60:02d}"
