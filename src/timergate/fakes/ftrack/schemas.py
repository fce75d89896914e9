"""The entity types the fake ftrack serves, and the ``query_schemas`` documents describing them.

Each type lists only the attributes the fake keeps; names, flags and projections are ftrack's.
Projects and Tasks are both Contexts (one table, told apart by ``__entity_type__``), so a
``Context`` reference or query yields the concrete type, as ftrack does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "ENTITY_TYPES",
    "Attribute",
    "Collection",
    "EntityType",
    "Reference",
    "Scalar",
    "schema_documents",
    "schema_hash",
]

ScalarType = Literal["string", "number", "boolean", "datetime"]

#: ftrack's object type id of Task (a fixed id in every ftrack installation).
TASK_OBJECT_TYPE_ID = "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c"


@dataclass(frozen=True)
class Scalar:
    """A plain value; ``foreign_key`` names what an id points at (``"User.id"``)."""

    type: ScalarType
    default: Any = None
    generated: bool = False  # ftrack's "{uid}" default: a new uuid when none is given
    foreign_key: str | None = None


@dataclass(frozen=True)
class Reference:
    """One related entity, found by the id held in this entity's ``key`` attribute."""

    target: str
    key: str


@dataclass(frozen=True)
class Collection:
    """Related entities of ``target`` whose ``back_key`` holds this entity's id."""

    target: str
    back_key: str


Attribute = Scalar | Reference | Collection


@dataclass(frozen=True)
class EntityType:
    """One ftrack entity type as the fake serves it.

    ``members`` are the concrete types a query or reference of this type yields (a Context
    is a Project or a Task). ``owner_key`` makes records private to the user it names;
    ``writable`` types accept create, update and delete from any API user.
    """

    name: str
    table: str
    attributes: Mapping[str, Attribute]
    required: tuple[str, ...]
    immutable: tuple[str, ...] = ("id",)
    default_projections: tuple[str, ...] = ("id",)
    system_projections: tuple[str, ...] = ()
    members: frozenset[str] = field(default_factory=frozenset)
    mixin: str | None = None
    owner_key: str | None = None
    writable: bool = False

    @property
    def concrete(self) -> bool:
        return self.members == frozenset({self.name})

    def scalars(self) -> list[str]:
        return [name for name, a in self.attributes.items() if isinstance(a, Scalar)]


ID = Scalar("string", generated=True)


def _fk(target: str) -> Scalar:
    return Scalar("string", foreign_key=target)


_CONTEXT_ATTRIBUTES: dict[str, Attribute] = {
    "id": ID,
    "name": Scalar("string", default=""),
    "context_type": Scalar("string"),
    "parent_id": _fk("Context.id"),
    "parent": Reference("Context", "parent_id"),
    "children": Collection("Context", "parent_id"),
    "project_id": _fk("Project.id"),
    "timelogs": Collection("Timelog", "context_id"),
}
_TYPED_CONTEXT_ATTRIBUTES: dict[str, Attribute] = {
    **_CONTEXT_ATTRIBUTES,
    "description": Scalar("string"),
    "object_type_id": _fk("ObjectType.id"),
    "project": Reference("Project", "project_id"),
}
_CONTEXT_FLAGS: dict[str, Any] = {
    "table": "context",
    "required": ("context_type", "id", "name"),
    "default_projections": ("context_type", "id", "name"),
}


def _types() -> dict[str, EntityType]:
    types = [
        EntityType(
            name="User",
            table="user",
            attributes={
                "id": ID,
                "username": Scalar("string"),
                "first_name": Scalar("string"),
                "last_name": Scalar("string"),
                "email": Scalar("string"),
                "is_active": Scalar("boolean"),
                "resource_type": Scalar("string", default="user"),
                "timelogs": Collection("Timelog", "user_id"),
            },
            required=("username", "is_active", "resource_type", "id"),
            immutable=("resource_type", "id"),
            system_projections=("resource_type",),
        ),
        EntityType(
            name="Context",
            attributes=_CONTEXT_ATTRIBUTES,
            system_projections=("context_type",),
            members=frozenset({"Project", "Task"}),
            **_CONTEXT_FLAGS,
        ),
        EntityType(
            name="TypedContext",
            attributes=_TYPED_CONTEXT_ATTRIBUTES,
            system_projections=("project_id", "context_type"),
            members=frozenset({"Task"}),
            mixin="Context",
            **_CONTEXT_FLAGS,
        ),
        EntityType(
            name="Project",
            attributes={
                **_CONTEXT_ATTRIBUTES,
                "context_type": Scalar("string", default="show"),
                "full_name": Scalar("string"),
                "status": Scalar("string", default="active"),
            },
            system_projections=("context_type",),
            mixin="Context",
            **_CONTEXT_FLAGS,
        ),
        EntityType(
            name="Task",
            attributes={
                **_TYPED_CONTEXT_ATTRIBUTES,
                "context_type": Scalar("string", default="task"),
                "object_type_id": Scalar(
                    "string", default=TASK_OBJECT_TYPE_ID, foreign_key="ObjectType.id"
                ),
            },
            system_projections=("project_id", "context_type", "object_type_id"),
            mixin="TypedContext",
            **_CONTEXT_FLAGS,
        ),
        EntityType(
            name="Timer",
            table="timer",
            attributes={
                "id": ID,
                "name": Scalar("string"),
                "comment": Scalar("string", default=""),
                "start": Scalar("datetime"),
                "context_id": _fk("Context.id"),
                "user_id": _fk("User.id"),
                "context": Reference("Context", "context_id"),
                "user": Reference("User", "user_id"),
            },
            required=("comment", "start", "user_id", "id"),
            owner_key="user_id",
            writable=True,
        ),
        EntityType(
            name="Timelog",
            table="timelog",
            attributes={
                "id": ID,
                "name": Scalar("string"),
                "comment": Scalar("string", default=""),
                "start": Scalar("datetime"),
                "duration": Scalar("number"),
                "time_zone_offset": Scalar("number"),
                "user_id": _fk("User.id"),
                "context_id": _fk("Context.id"),
                "user": Reference("User", "user_id"),
                "context": Reference("Context", "context_id"),
            },
            required=("comment", "start", "duration", "id"),
            system_projections=("user_id", "context_id"),
            owner_key="user_id",
            writable=True,
        ),
        EntityType(
            name="Location",
            table="location",
            attributes={
                "id": ID,
                "name": Scalar("string"),
                "label": Scalar("string"),
                "description": Scalar("string"),
            },
            required=("name", "id"),
        ),
    ]
    return {t.name: t if t.members else replace(t, members=frozenset({t.name})) for t in types}


#: Every entity type the fake serves, by name.
ENTITY_TYPES: Mapping[str, EntityType] = _types()


def _property(attribute: Attribute) -> dict[str, Any]:
    if isinstance(attribute, Reference):
        return {"$ref": attribute.target}
    if isinstance(attribute, Collection):
        return {"type": "array", "items": {"$ref": attribute.target}}
    document: dict[str, Any] = {"type": attribute.type}
    if attribute.type == "datetime":
        document = {"type": "string", "format": "date-time"}
    if attribute.foreign_key:
        document["format"] = "foreign_key"
        document["description"] = f"Foreign key(s): {attribute.foreign_key}"
    if attribute.generated:
        document["default"] = "{uid}"
    elif attribute.default is not None:
        document["default"] = attribute.default
    return document


def _document(entity_type: EntityType) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": entity_type.name,
        "type": "object",
        "properties": {n: _property(a) for n, a in entity_type.attributes.items()},
        "primary_key": ["id"],
        "required": list(entity_type.required),
        "immutable": list(entity_type.immutable),
        "default_projections": list(entity_type.default_projections),
    }
    if entity_type.system_projections:
        document["system_projections"] = list(entity_type.system_projections)
    if entity_type.mixin:
        document["$mixin"] = {"$ref": entity_type.mixin}
    return document


def schema_documents() -> list[dict[str, Any]]:
    """What ``query_schemas`` answers: one JSON schema per entity type."""
    return [_document(t) for t in ENTITY_TYPES.values()]


def schema_hash(documents: list[dict[str, Any]]) -> str:
    """The hash of ``documents`` as ftrack's Python client computes it for its schema cache.

    Serving the same figure lets the client reuse its cached schemas instead of asking again.
    """
    encoded = json.dumps(documents, sort_keys=True).encode("utf-8")
    return hashlib.md5(encoded, usedforsecurity=False).hexdigest()
