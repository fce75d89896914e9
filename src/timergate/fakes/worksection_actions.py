"""Worksection's API actions: what each ``?action=…`` does and answers.

Every action takes the request's parameters (strings) and the calling user (``None`` for the
admin key) and returns the success body; refusals raise ``ActionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from timergate.fakes.worksection_account import Account, ActionError, hours_minutes

__all__ = ["ADMIN_ONLY", "USER_ONLY", "Call", "run_action"]


@dataclass(frozen=True)
class Call:
    """One authenticated action call."""

    account: Account
    params: Mapping[str, str]
    #: The OAuth token's user; ``None`` when the admin key signed the call.
    user_id: str | None

    @property
    def me(self) -> str:
        assert self.user_id is not None  # USER_ONLY actions run with a token only
        return self.user_id


Action = Callable[[Call], dict[str, Any]]
OK: dict[str, Any] = {"status": "ok"}

#: Documented as available "only for access token".
USER_ONLY = frozenset({"me", "get_my_timer", "start_my_timer", "stop_my_timer", "delete_my_timer"})
#: The account-wide timer calls; the official client sends them with the admin key only.
ADMIN_ONLY = frozenset({"get_timers", "stop_timer"})


def run_action(name: str, call: Call) -> dict[str, Any]:
    action = _ACTIONS.get(name)
    if action is None:
        raise ActionError(1, "Action is invalid", name or None)
    if name in USER_ONLY and call.user_id is None:
        raise ActionError(1, "Action is invalid", f"{name} is available only for access token")
    if name in ADMIN_ONLY and call.user_id is not None:
        raise ActionError(1, "Action is invalid", f"{name} is available only for the admin API")
    return action(call)


def _me(call: Call) -> dict[str, Any]:
    profile = {k: v for k, v in call.account.users[call.me].items() if k != "rate"}
    return {"status": "ok", "data": profile}


def _get_my_timer(call: Call) -> dict[str, Any]:
    timer = call.account.running_timer(call.me)
    # No timer is an empty list, as Worksection's PHP encodes an empty array.
    data: Any = [] if timer is None else call.account.my_timer_json(timer)
    return {"status": "ok", "data": data}


def _start_my_timer(call: Call) -> dict[str, Any]:
    call.account.start_timer(call.me, call.params.get("id_task", ""))
    return OK


def _stop_my_timer(call: Call) -> dict[str, Any]:
    timer = call.account.running_timer(call.me)
    if timer is None:
        raise ActionError(7, "Timer is not started")
    call.account.stop_timer(timer, call.params.get("comment", ""))
    return OK


def _delete_my_timer(call: Call) -> dict[str, Any]:
    timer = call.account.running_timer(call.me)
    if timer is None:
        raise ActionError(7, "Timer is not started")
    call.account.discard_timer(timer)
    return OK


def _get_timers(call: Call) -> dict[str, Any]:
    account = call.account
    return {"status": "ok", "data": [account.timer_json(t) for t in account.timers.values()]}


def _stop_timer(call: Call) -> dict[str, Any]:
    timer_id = call.params.get("timer", "")
    if not timer_id:
        raise ActionError(10, "Field is required", "timer")
    timer = call.account.timers.get(timer_id)
    if timer is None:
        raise ActionError(7, "Timer not found")
    call.account.stop_timer(timer)
    return OK


def _get_costs(call: Call) -> dict[str, Any]:
    account, params = call.account, call.params
    costs = list(account.costs.values())
    if params.get("id_project"):
        project = account.project(params["id_project"])["id"]
        costs = [c for c in costs if account.tasks[c.task_id]["project"] == project]
    if params.get("id_task"):
        task = account.task(params["id_task"])["id"]
        costs = [c for c in costs if c.task_id == task]
    if params.get("datestart"):
        start = _day(params, "datestart")
        costs = [c for c in costs if c.day >= start]
    if params.get("dateend"):
        end = _day(params, "dateend")
        costs = [c for c in costs if c.day <= end]
    if params.get("is_timer", "") != "":
        wanted = params["is_timer"].lower() in ("1", "true")
        costs = [c for c in costs if c.is_timer == wanted]
    total_minutes = sum(c.minutes for c in costs)
    total_money = sum(account.money(c) for c in costs)
    return {
        "status": "ok",
        "data": [account.cost_json(c) for c in costs],
        "total": {"time": hours_minutes(total_minutes), "money": f"{total_money:.2f}"},
    }


def _day(params: Mapping[str, str], name: str) -> date:
    """``DD.MM.YYYY`` as the docs write dates (``YYYY-MM-DD`` is read too)."""
    for form in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(params[name], form).date()
        except ValueError:
            continue
    raise ActionError(11, "Field is invalid", name)


def _get_users(call: Call) -> dict[str, Any]:
    people = [u for u in call.account.users.values() if u["email"] != "ANY"]
    return {"status": "ok", "data": people}


def _get_projects(call: Call) -> dict[str, Any]:
    account, wanted = call.account, call.params.get("filter", "")
    projects = [p for p in account.projects.values() if wanted in ("", p["status"])]
    return {"status": "ok", "data": [_project_json(account, p["id"]) for p in projects]}


def _get_project(call: Call) -> dict[str, Any]:
    project = call.account.project(call.params.get("id_project", ""))
    return {"status": "ok", "data": _project_json(call.account, project["id"])}


def _project_json(account: Account, project_id: str) -> dict[str, Any]:
    project = account.projects[project_id]
    return {
        **project,
        "user_from": account.person(project["user_from"]),
        "user_to": account.person(project["user_to"]),
    }


def _get_tasks(call: Call) -> dict[str, Any]:
    project = call.account.project(call.params.get("id_project", ""))
    return _tasks(call, [t for t in call.account.tasks.values() if t["project"] == project["id"]])


def _get_all_tasks(call: Call) -> dict[str, Any]:
    return _tasks(call, list(call.account.tasks.values()))


def _tasks(call: Call, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    if call.params.get("filter") == "active":
        tasks = [t for t in tasks if t["status"] == "active"]
    return {"status": "ok", "data": [call.account.task_json(t["id"]) for t in tasks]}


def _get_task(call: Call) -> dict[str, Any]:
    task = call.account.task(call.params.get("id_task", ""))
    return {"status": "ok", "data": call.account.task_json(task["id"])}


_ACTIONS: dict[str, Action] = {
    "me": _me,
    "get_my_timer": _get_my_timer,
    "start_my_timer": _start_my_timer,
    "stop_my_timer": _stop_my_timer,
    "delete_my_timer": _delete_my_timer,
    "get_timers": _get_timers,
    "stop_timer": _stop_timer,
    "get_costs": _get_costs,
    "get_users": _get_users,
    "get_projects": _get_projects,
    "get_project": _get_project,
    "get_tasks": _get_tasks,
    "get_all_tasks": _get_all_tasks,
    "get_task": _get_task,
}
