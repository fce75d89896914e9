"""Noko's JSON for users, projects, tags, timers and entries.

Field sets follow Noko's API documentation and recorded real responses; blank fields are
``null``; dates are ``YYYY-MM-DD`` and timestamps ``YYYY-MM-DDTHH:MM:SSZ`` in UTC. Every
``*_url`` points back at the fake itself (``api`` is its ``…/v2`` base), so clients that follow
hypermedia links stay on the fake.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from timergate.fakes.noko.account import NokoAccount
from timergate.fakes.noko.models import (
    NokoEntry,
    NokoProject,
    NokoTag,
    NokoTimer,
    NokoUser,
)

__all__ = [
    "current_user_json",
    "entry_json",
    "project_json",
    "simple_project_json",
    "timer_json",
    "timestamp",
]

JSON = dict[str, Any]


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def formatted_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def simple_user_json(user: NokoUser, api: str) -> JSON:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "profile_image_url": f"{api}/users/{user.id}/avatar.png",
        "url": f"{api}/users/{user.id}",
    }


def current_user_json(user: NokoUser, account: NokoAccount, api: str) -> JSON:
    return {
        **simple_user_json(user, api),
        "state": "active",
        "role": user.role,
        "entries": len(account.entries_of(user)),
        "entries_url": f"{api}/current_user/entries",
        "expenses": 0,
        "expenses_url": f"{api}/current_user/expenses",
        "time_format": "hours_minutes",
        "week_start": "monday",
        "utc_offset": 0,
        "send_personal_weekly_report_email": False,
        "send_team_weekly_report_email": False,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.created_at),
    }


def simple_project_json(project: NokoProject, api: str) -> JSON:
    return {
        "id": project.id,
        "name": project.name,
        "billing_increment": project.billing_increment,
        "enabled": project.enabled,
        "billable": project.billable,
        "color": project.color,
        "url": f"{api}/projects/{project.id}",
    }


def project_json(project: NokoProject, account: NokoAccount, api: str) -> JSON:
    entries = [e for e in account.entries.values() if e.project_id == project.id]
    billable = sum(e.minutes for e in entries if e.billable)
    unbillable = sum(e.minutes for e in entries if not e.billable)
    url = f"{api}/projects/{project.id}"
    group = project.group
    return {
        **simple_project_json(project, api),
        "group": None
        if group is None
        else {"id": group.id, "name": group.name, "url": f"{api}/project_groups/{group.id}"},
        "minutes": billable + unbillable,
        "billable_minutes": billable,
        "unbillable_minutes": unbillable,
        "invoiced_minutes": 0,
        "remaining_minutes": None,
        "budgeted_minutes": None,
        "import": None,
        "invoices": [],
        "participants": [simple_user_json(u, api) for u in account.users.values()],
        "entries": len(entries),
        "entries_url": f"{url}/entries",
        "expenses": 0,
        "expenses_url": f"{url}/expenses",
        "created_at": timestamp(project.created_at),
        "updated_at": timestamp(project.created_at),
        "merge_url": f"{url}/merge",
        "archive_url": f"{url}/archive",
        "unarchive_url": f"{url}/unarchive",
    }


def tag_json(tag: NokoTag, api: str) -> JSON:
    return {
        "id": tag.id,
        "name": tag.name,
        "billable": tag.billable,
        "formatted_name": f"#{tag.name}",
        "url": f"{api}/tags/{tag.id}",
    }


def timer_json(timer: NokoTimer, account: NokoAccount, api: str) -> JSON:
    seconds = timer.seconds(account.now())
    url = f"{api}/projects/{timer.project_id}/timer"
    return {
        "id": timer.id,
        "state": timer.state,
        "date": timer.date.isoformat(),
        "seconds": seconds,
        "formatted_time": formatted_time(seconds),
        "description": timer.description,
        "user": simple_user_json(account.users[timer.user_id], api),
        "project": simple_project_json(account.projects[timer.project_id], api),
        "url": url,
        "start_url": f"{url}/start",
        "pause_url": f"{url}/pause",
        "add_or_subtract_time_url": f"{url}/add_or_subtract_time",
        "log_url": f"{url}/log",
        "log_inbox_entry_url": f"{url}/log_inbox_entry",
    }


def entry_json(entry: NokoEntry, account: NokoAccount, api: str) -> JSON:
    project = account.projects.get(entry.project_id) if entry.project_id else None
    url = f"{api}/entries/{entry.id}"
    return {
        "id": entry.id,
        "date": entry.date.isoformat(),
        "user": simple_user_json(account.users[entry.user_id], api),
        "billable": entry.billable,
        "minutes": entry.minutes,
        "description": entry.description,
        "project": None if project is None else simple_project_json(project, api),
        "tags": [tag_json(account.tags[t], api) for t in entry.tag_ids],
        "source_url": entry.source_url,
        "invoiced_at": None,
        "invoice": None,
        "import": None,
        "approved_at": None,
        "approved_by": None,
        "url": url,
        "invoiced_outside_of_noko_url": f"{url}/marked_as_invoiced",
        # Real responses still carry the link under Noko's former name.
        "invoiced_outside_of_freckle_url": f"{url}/invoiced_outside_of_freckle",
        "approved_url": f"{url}/approved",
        "unapproved_url": f"{url}/unapproved",
        "created_at": timestamp(entry.created_at),
        "updated_at": timestamp(entry.updated_at),
    }
