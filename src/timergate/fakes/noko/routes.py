"""Noko's ``/v2`` endpoints the fake serves: the current user, projects, timers and entries.

Each handler gets one authenticated :class:`Call` and returns a response; Noko's 404 page and
validation errors are raised as :class:`NotFound` and :class:`ValidationFailed`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from timergate.fakes.noko.account import NokoAccount
from timergate.fakes.noko.inputs import Params
from timergate.fakes.noko.models import (
    EntryFields,
    NokoEntry,
    NokoTimer,
    NokoUser,
    NotFound,
    ValidationFailed,
)
from timergate.fakes.noko.pages import paginate
from timergate.fakes.noko.render import (
    current_user_json,
    entry_json,
    project_json,
    timer_json,
)
from timergate.fakes.noko.responses import json_response, no_content

__all__ = ["ROUTES", "Call", "Route"]


@dataclass(frozen=True)
class Call:
    """One authenticated request: who asks, with which parameters, about which ids."""

    account: NokoAccount
    user: NokoUser
    request: Request
    params: dict[str, Any]
    ids: dict[str, int]
    #: The fake's own ``…/v2`` URL, for the ``*_url`` fields and headers.
    api: str

    def inputs(self, resource: str) -> Params:
        return Params(self.params, resource)


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler


ROUTES: list[Route] = []


def route(*methods: str, path: str) -> Callable[[Handler], Handler]:
    """Register a handler; ``:name`` in ``path`` matches a numeric id."""
    pattern = re.compile(re.sub(r":(\w+)", r"(?P<\1>\\d+)", path) + "/?")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(frozenset(methods), pattern, handler))
        return handler

    return register


def _listing(call: Call, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
    chunk, link = paginate(items, call.request)
    return json_response([render(item) for item in chunk], headers={"Link": link} if link else None)


# -- the current user and projects ---------------------------------------------------------


@route("GET", path="/v2/current_user")
def current_user(call: Call) -> Response:
    return json_response(current_user_json(call.user, call.account, call.api))


@route("GET", path="/v2/projects")
def list_projects(call: Call) -> Response:
    inputs = call.inputs("Project")
    name = (inputs.text("name") or "").lower()
    increment = inputs.integer("billing_increment")
    enabled, billable = inputs.boolean("enabled"), inputs.boolean("billable")
    groups = inputs.ids("project_group_ids")
    projects = [
        p
        for p in sorted(call.account.projects.values(), key=lambda p: p.name.lower())
        if name in p.name.lower()
        and (increment is None or p.billing_increment == increment)
        and (enabled is None or p.enabled == enabled)
        and (billable is None or p.billable == billable)
        and (groups is None or (p.group is not None and p.group.id in groups))
    ]
    return _listing(call, projects, lambda p: project_json(p, call.account, call.api))


@route("GET", path="/v2/projects/:project_id")
def get_project(call: Call) -> Response:
    project = call.account.project(call.ids["project_id"])
    return json_response(project_json(project, call.account, call.api))


# -- timers ---------------------------------------------------------------------------------


@route("GET", path="/v2/timers")
def list_timers(call: Call) -> Response:
    inputs = call.inputs("Timer")
    text = (inputs.text("description") or "").lower()
    projects = inputs.ids("projects", "project_ids")
    billable = inputs.boolean("billable")
    account = call.account
    timers = [
        t
        for t in account.timers_of(call.user)
        if text in (t.description or "").lower()
        and (projects is None or t.project_id in projects)
        and (billable is None or account.projects[t.project_id].billable == billable)
    ]
    return _listing(call, timers, lambda t: timer_json(t, account, call.api))


def _timer(call: Call, timer: NokoTimer) -> Response:
    return json_response(timer_json(timer, call.account, call.api))


@route("GET", path="/v2/projects/:project_id/timer")
def get_timer(call: Call) -> Response:
    return _timer(call, call.account.timer(call.user, call.ids["project_id"]))


# Noko documents PUT; the seed page (and older docs) say PATCH: both edit.
@route("PUT", "PATCH", path="/v2/projects/:project_id/timer")
def edit_timer(call: Call) -> Response:
    description = call.inputs("Timer").text("description")
    return _timer(call, call.account.edit_timer(call.user, call.ids["project_id"], description))


@route("DELETE", path="/v2/projects/:project_id/timer")
def discard_timer(call: Call) -> Response:
    call.account.discard_timer(call.user, call.ids["project_id"])
    return no_content()


@route("PUT", path="/v2/projects/:project_id/timer/start")
def start_timer(call: Call) -> Response:
    inputs = call.inputs("Timer")
    entry_date, description = inputs.day("entry_date"), inputs.text("description")
    project_id = call.ids["project_id"]
    timer = call.account.start_timer(
        call.user, project_id, entry_date=entry_date, description=description
    )
    return json_response(
        timer_json(timer, call.account, call.api),
        headers={"Location": f"{call.api}/projects/{project_id}/timer"},
    )


@route("PUT", path="/v2/projects/:project_id/timer/pause")
def pause_timer(call: Call) -> Response:
    return _timer(call, call.account.pause_timer(call.user, call.ids["project_id"]))


@route("PUT", path="/v2/projects/:project_id/timer/add_or_subtract_time")
def add_or_subtract_time(call: Call) -> Response:
    inputs = call.inputs("Timer")
    minutes, seconds = inputs.integer("minutes"), inputs.integer("seconds")
    if minutes is None and seconds is None:
        raise ValidationFailed("Timer", "minutes", "missing_field")
    change = (minutes or 0) * 60 + (seconds or 0)
    return _timer(call, call.account.adjust_timer(call.user, call.ids["project_id"], change))


@route("PUT", path="/v2/projects/:project_id/timer/log")
def log_timer(call: Call) -> Response:
    inputs = call.inputs("Entry")
    call.account.log_timer(
        call.user,
        call.ids["project_id"],
        minutes=inputs.integer("minutes"),
        entry_date=inputs.day("entry_date"),
        description=inputs.text("description"),
    )
    return no_content()


@route("PUT", path="/v2/projects/:project_id/timer/log_inbox_entry")
def log_inbox_entry(call: Call) -> Response:
    # Documented by Noko as "not implemented yet": it answers 404.
    raise NotFound


# -- entries --------------------------------------------------------------------------------


def _entry_filter(call: Call) -> Callable[[NokoEntry], bool]:
    """The list's filters, read once (a malformed one fails even when nothing would match)."""
    inputs = call.inputs("Entry")
    text = (inputs.text("description") or "").lower()
    ids, users = inputs.ids("ids"), inputs.ids("user_ids", "users")
    projects, tags = inputs.ids("project_ids", "projects"), inputs.ids("tag_ids", "tags")
    since, until = inputs.day("from"), inputs.day("to")
    billable = inputs.boolean("billable")

    def matches(entry: NokoEntry) -> bool:
        return (
            text in (entry.description or "").lower()
            and (ids is None or entry.id in ids)
            and (users is None or entry.user_id in users)
            and (projects is None or entry.project_id in projects)
            and (tags is None or tags <= set(entry.tag_ids))
            and (since is None or entry.date >= since)
            and (until is None or entry.date <= until)
            and (billable is None or entry.billable == billable)
        )

    return matches


@route("GET", path="/v2/entries")
def list_entries(call: Call) -> Response:
    account = call.account
    matches = _entry_filter(call)
    entries = [e for e in account.entries_of(call.user) if matches(e)]
    return _listing(call, entries, lambda e: entry_json(e, account, call.api))


@route("GET", path="/v2/entries/:entry_id")
def get_entry(call: Call) -> Response:
    entry = call.account.entry(call.user, call.ids["entry_id"])
    return json_response(entry_json(entry, call.account, call.api))


def _entry_fields(call: Call) -> EntryFields:
    inputs = call.inputs("Entry")
    return EntryFields(
        date=inputs.day("date"),
        minutes=inputs.integer("minutes"),
        description=inputs.text("description"),
        project_id=inputs.integer("project_id"),
        project_name=inputs.text("project_name"),
        source_url=inputs.text("source_url"),
        user_id=inputs.integer("user_id"),
    )


@route("POST", path="/v2/entries")
def create_entry(call: Call) -> Response:
    entry = call.account.create_entry(call.user, _entry_fields(call))
    return json_response(
        entry_json(entry, call.account, call.api),
        status_code=201,
        headers={"Location": f"{call.api}/entries/{entry.id}"},
    )


@route("PUT", "PATCH", path="/v2/entries/:entry_id")
def update_entry(call: Call) -> Response:
    entry = call.account.update_entry(call.user, call.ids["entry_id"], _entry_fields(call))
    return json_response(entry_json(entry, call.account, call.api))


@route("DELETE", path="/v2/entries/:entry_id")
def delete_entry(call: Call) -> Response:
    call.account.delete_entry(call.user, call.ids["entry_id"])
    return no_content()
