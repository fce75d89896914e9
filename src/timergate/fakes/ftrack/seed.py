"""The account a fake ftrack starts with: two users, two projects with tasks, some time logs.

Ids are fixed so that examples and tests can name them; API keys too (the fake holds nothing
worth protecting, and fixed keys make the curl examples in the docs work as printed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from timergate.fakes.ftrack.schemas import ENTITY_TYPES, TASK_OBJECT_TYPE_ID

__all__ = ["OTHER_USER", "SEED_TASK", "USER", "SeedUser", "seed_tables"]


@dataclass(frozen=True)
class SeedUser:
    id: str
    username: str
    api_key: str
    first_name: str
    last_name: str


USER = SeedUser(
    "3dbff9ab-f2a7-4e3c-964f-045e1813571c",
    "mira.kovac",
    "55fb9cb9-7a68-4c14-af1a-b61eb6f9c9e3",
    "Mira",
    "Kovac",
)
OTHER_USER = SeedUser(
    "b9174b96-7c68-4519-baf8-02a12503eaa5",
    "theo.lind",
    "5aabd79b-257e-4825-ae28-74de72ce9ca2",
    "Theo",
    "Lind",
)

NIGHTFALL = "d368b534-0b65-49e9-b9bd-ac2040b83ab1"
ORBIT = "cc907ecb-230e-4da3-a863-dd4aff91c0bf"
COMPOSITING = "60ea2084-61e7-4090-b761-fe36c3131031"
LIGHTING = "f8100c76-4c6c-4c8f-a992-1cecc55c0c88"
ANIMATION = "b16e43d2-47fe-4928-b441-216b68d8b2ac"

#: The task the description line offers as the context to time: (id, title).
SEED_TASK = (COMPOSITING, "Nightfall / Compositing")

# ftrack's built-in locations, with the ids every installation (and its Python client) uses.
_LOCATIONS = {
    "ce9b348f-8809-11e3-821c-20c9d081909b": ("ftrack.origin", "Origin"),
    "cb268ecc-8809-11e3-a7e2-20c9d081909b": ("ftrack.unmanaged", "Unmanaged"),
    "cd41be70-8809-11e3-b98a-20c9d081909b": ("ftrack.review", "Review"),
    "3a372bde-05bc-11e4-8908-20c9d081909b": ("ftrack.server", "ftrack server"),
}


def _user(user: SeedUser) -> dict[str, Any]:
    return {
        "__entity_type__": "User",
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": f"{user.username}@nightfall-studio.example",
        "is_active": True,
        "resource_type": "user",
    }


def _project(id_: str, name: str, full_name: str) -> dict[str, Any]:
    return {
        "__entity_type__": "Project",
        "id": id_,
        "name": name,
        "full_name": full_name,
        "context_type": "show",
        "status": "active",
        "parent_id": None,
        "project_id": id_,
    }


def _task(id_: str, name: str, project_id: str, description: str) -> dict[str, Any]:
    return {
        "__entity_type__": "Task",
        "id": id_,
        "name": name,
        "context_type": "task",
        "description": description,
        "object_type_id": TASK_OBJECT_TYPE_ID,
        "parent_id": project_id,
        "project_id": project_id,
    }


def _timelog(
    id_: str, user: SeedUser, context_id: str, start: datetime, hours: float, comment: str
) -> dict[str, Any]:
    return {
        "__entity_type__": "Timelog",
        "id": id_,
        "user_id": user.id,
        "context_id": context_id,
        "name": None,
        "comment": comment,
        "start": start,
        "duration": int(hours * 3600),
        "time_zone_offset": 0,
    }


def seed_tables() -> dict[str, dict[str, dict[str, Any]]]:
    """Fresh records of the seeded account, by table and id."""
    records = [
        _user(USER),
        _user(OTHER_USER),
        _project(NIGHTFALL, "nightfall", "Nightfall"),
        _project(ORBIT, "orbit_spot", "Orbit (commercial)"),
        _task(COMPOSITING, "Compositing", NIGHTFALL, "Final comp of sequence 010"),
        _task(LIGHTING, "Lighting", NIGHTFALL, "Key and fill for the night exteriors"),
        _task(ANIMATION, "Animation", ORBIT, "Hero satellite move"),
        _timelog(
            "f1930cc4-b9e9-4559-a2ca-668ea3ea96c4",
            USER,
            COMPOSITING,
            datetime(2024, 3, 4, 9, 0, tzinfo=UTC),
            3,
            "Roto cleanup, shots 010-030",
        ),
        _timelog(
            "758310f1-7086-40e9-84df-0ed43e4d8087",
            USER,
            LIGHTING,
            datetime(2024, 3, 4, 13, 30, tzinfo=UTC),
            1.5,
            "Lookdev review notes",
        ),
        _timelog(
            "45b8eb08-f701-439e-8b79-14fb3a92e469",
            OTHER_USER,
            ANIMATION,
            datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
            2,
            "Blocking pass",
        ),
    ]
    records += [
        {"__entity_type__": "Location", "id": id_, "name": name, "label": label}
        for id_, (name, label) in _LOCATIONS.items()
    ]
    tables: dict[str, dict[str, dict[str, Any]]] = {t.table: {} for t in ENTITY_TYPES.values()}
    for record in records:
        tables[ENTITY_TYPES[record["__entity_type__"]].table][record["id"]] = record
    return tables
