"""The seeded Worksection account: a small product studio in Kyiv."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from timergate.fakes.base import Now
from timergate.fakes.worksection_account import Account, Cost, Token

__all__ = ["ANYONE", "seed_account"]

#: Worksection's placeholder assignee of unassigned tasks.
ANYONE = "2"


def seed_account(now: Now, zone: ZoneInfo, token_lifetime: timedelta | None) -> Account:
    """Two people, two projects, three tasks (one closed) and one cost entered by hand."""
    users = [
        _user("3993", "Olena", "Marchenko", "Owner", "Product", 25),
        _user("5514", "Taras", "Bondar", "User", "Development", 11),
        {"id": ANYONE, "name": "Anyone", "email": "ANY", "first_name": "", "last_name": ""},
    ]
    projects = [
        _project("6622", "Mobile app redesign", "active", "2025-10-01 09:00"),
        _project("6630", "Website support", "active", "2025-10-06 10:30"),
    ]
    tasks = [
        _task("330090", "Onboarding screens", "6622", "3993", "3993", "active", "2025-10-02 11:00"),
        _task("330142", "Push notifications", "6622", "3993", "5514", "active", "2025-10-02 11:20"),
        _task("330201", "Hosting renewal", "6630", "3993", ANYONE, "done", "2025-10-06 10:45"),
    ]
    tasks[0]["tags"] = {"41": "Design"}
    tasks[2]["date_closed"] = "2025-10-07 16:10"
    issued = now()
    expires = None if token_lifetime is None else issued + token_lifetime
    tokens = {f"wsat_{secrets.token_hex(16)}": Token(user["id"], expires) for user in users[:2]}
    account = Account(
        api_key=f"wsk_{secrets.token_hex(16)}",
        now=now,
        zone=zone,
        users={u["id"]: u for u in users},
        projects={p["id"]: p for p in projects},
        tasks={t["id"]: t for t in tasks},
        tokens=tokens,
    )
    manual = Cost("3609", "5514", "330142", 150, date(2025, 11, 20), "API spike", is_timer=False)
    account.costs[manual.id] = manual
    return account


def _user(user_id: str, first: str, last: str, role: str, group: str, rate: int) -> dict[str, Any]:
    return {
        "id": user_id,
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "title": "",
        "rate": rate,
        "avatar": "",
        "group": group,
        "department": "",
        "role": role,
        "email": f"{first.lower()}.{last.lower()}@studio.example",
    }


def _project(project_id: str, name: str, status: str, added: str) -> dict[str, Any]:
    return {
        "id": project_id,
        "name": name,
        "page": f"/project/{project_id}/",
        "status": status,
        "company": "Studio",
        "user_from": "3993",
        "user_to": "3993",
        "date_added": added,
    }


def _task(
    task_id: str,
    name: str,
    project: str,
    author: str,
    assignee: str,
    status: str,
    added: str,
) -> dict[str, Any]:
    return {
        "id": task_id,
        "name": name,
        "page": f"/project/{project}/{task_id}/",
        "status": status,
        "priority": "1",
        "user_from": author,
        "user_to": assignee,
        "project": project,
        "text": "",
        "date_added": added,
        # PHP encodes an empty map as a list.
        "tags": [],
    }
