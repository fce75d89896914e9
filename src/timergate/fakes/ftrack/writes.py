"""Checking what ``create`` and ``update`` write, as ftrack's server would.

Values arrive as the clients send them: scalars, ``{"__type__": "datetime", ...}``, and related
entities as references ``{"__entity_type__": "Task", "id": ...}`` (which set the matching
``*_id`` attribute). A user may write only their own Timers and Timelogs, and holds at most
one Timer.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from timergate.fakes.ftrack.schemas import ENTITY_TYPES, Collection, EntityType, Scalar
from timergate.fakes.ftrack.selection import Record
from timergate.fakes.ftrack.wire import FtrackError, decode_datetime, encode_value

if TYPE_CHECKING:
    from timergate.fakes.ftrack.store import Batch

__all__ = ["answer", "new_record", "updated_record"]


def _invalid(content: str) -> FtrackError:
    return FtrackError("ValidationError", content)


def _scalar(entity_type: EntityType, name: str, attribute: Scalar, raw: object) -> object:
    if raw is None:
        return None
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "boolean": bool,
        "number": (int, float),
    }
    if attribute.type == "datetime":
        try:
            return decode_datetime(raw)
        except ValueError:
            raise _invalid(
                f'{entity_type.name}.{name} takes a datetime such as {{"__type__": "datetime", '
                f'"value": "2024-03-01T09:30:00Z"}}, not {raw!r}.'
            ) from None
    if not isinstance(raw, expected[attribute.type]) or (
        attribute.type == "number" and isinstance(raw, bool)
    ):
        raise _invalid(f"{entity_type.name}.{name} takes a {attribute.type}, not {raw!r}.")
    return raw


def _reference_id(entity_type: EntityType, name: str, target: str, raw: object) -> object:
    if raw is None:
        return None
    given = raw.get("__entity_type__", target) if isinstance(raw, dict) else None
    id_ = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(id_, str) or not isinstance(given, str):
        raise _invalid(
            f'{entity_type.name}.{name} takes a reference {{"__entity_type__": "{target}", '
            f'"id": "..."}} or null, not {raw!r}.'
        )
    given_type = ENTITY_TYPES.get(given)
    if given_type is None or not given_type.members <= ENTITY_TYPES[target].members:
        raise _invalid(f"{entity_type.name}.{name} refers to a {target}, not a {given}.")
    return id_


def _decode(entity_type: EntityType, data: dict[str, Any]) -> dict[str, object]:
    """Attribute values from ``entity_data``, references turned into their ``*_id``."""
    values: dict[str, object] = {}
    given = data.get("__entity_type__", entity_type.name)
    if given != entity_type.name:
        raise _invalid(f'entity_data is a "{given}" but the operation is on "{entity_type.name}".')
    for name, raw in data.items():
        if name == "__entity_type__":
            continue
        attribute = entity_type.attributes.get(name)
        if attribute is None:
            raise _invalid(f'"{entity_type.name}" has no attribute "{name}".')
        if isinstance(attribute, Collection):
            raise _invalid(f"{entity_type.name}.{name} is a collection and cannot be set.")
        if isinstance(attribute, Scalar):
            value = _scalar(entity_type, name, attribute, raw)
            key = name
        else:
            value = _reference_id(entity_type, name, attribute.target, raw)
            key = attribute.key
        if key in values and values[key] != value:
            raise _invalid(f'{entity_type.name}: "{name}" and "{key}" disagree.')
        values[key] = value
    return values


def _check(batch: Batch, entity_type: EntityType, record: Record) -> None:
    """Required values present, related entities real, the owner the caller."""
    missing = [name for name in entity_type.required if record.get(name) is None]
    if missing:
        raise _invalid(f"{entity_type.name} needs {', '.join(missing)}.")
    for name, attribute in entity_type.attributes.items():
        if not isinstance(attribute, Scalar) or attribute.foreign_key is None:
            continue
        target_name = attribute.foreign_key.split(".")[0]
        id_ = record.get(name)
        if id_ is None or target_name not in ENTITY_TYPES:
            continue
        if batch.find(ENTITY_TYPES[target_name], id_) is None:
            raise _invalid(f'{entity_type.name}.{name}: no {target_name} with id "{id_}".')
    owner = entity_type.owner_key
    if owner is not None and record.get(owner) != batch.user["id"]:
        raise FtrackError(
            "PermissionError",
            f"You do not have permission to write {entity_type.name} entities of another user.",
        )


def _check_one_timer(batch: Batch, entity_type: EntityType, record: Record) -> None:
    if entity_type.name != "Timer":
        return
    for other in batch.tables["timer"].values():
        if other["id"] != record["id"] and other["user_id"] == record["user_id"]:
            raise FtrackError(
                "DuplicateEntryError",
                f"Duplicate entry '{record['user_id']}' for key 'user_id': "
                "a user can have only one Timer; stop or delete the running one first.",
            )


def new_record(
    batch: Batch, entity_type: EntityType, entity_key: str | None, data: dict[str, Any]
) -> Record:
    """The record ``create`` adds; the id comes from the data, the key, or a new uuid."""
    if not entity_type.concrete:
        raise _invalid(f'"{entity_type.name}" is abstract; create one of its concrete types.')
    values = _decode(entity_type, data)
    record: Record = {
        name: attribute.default
        for name, attribute in entity_type.attributes.items()
        if isinstance(attribute, Scalar) and not attribute.generated
    }
    record.update(values)
    record["__entity_type__"] = entity_type.name
    record["id"] = values.get("id") or entity_key or str(uuid.uuid4())
    owner = entity_type.owner_key
    if owner is not None and owner not in entity_type.required and record[owner] is None:
        record[owner] = batch.user["id"]  # a Timelog may leave out its user: the caller's
    if entity_type.name == "Timer" and record["start"] is None:
        # ftrack starts a timer "now" when the client sends no start (start_timer sends none).
        record["start"] = batch.now().replace(microsecond=0)
    _check(batch, entity_type, record)
    if record["id"] in batch.tables[entity_type.table]:
        raise FtrackError(
            "DuplicateEntryError", f"Duplicate entry '{record['id']}' for key 'PRIMARY'."
        )
    _check_one_timer(batch, entity_type, record)
    return record


def updated_record(
    batch: Batch, entity_type: EntityType, current: Record, data: dict[str, Any]
) -> tuple[Record, list[str]]:
    """The record after ``update``, and the attributes it set."""
    values = _decode(entity_type, data)
    for name in entity_type.immutable:
        if name in values and values[name] != current.get(name):
            raise _invalid(f"{entity_type.name}.{name} cannot be changed.")
    record = {**current, **values}
    _check(batch, entity_type, record)
    _check_one_timer(batch, entity_type, record)
    return record, list(values)


def answer(entity_type: EntityType, record: Record, changed: list[str] | None = None) -> Any:
    """What create (every scalar) and update (what changed) answer about ``record``."""
    names = entity_type.scalars() if changed is None else changed
    data = {"__entity_type__": entity_type.name, "id": record["id"]}
    for name in (*entity_type.system_projections, *names):
        data[name] = encode_value(record.get(name))
    return data
