"""The fake ftrack's records, who may see them, and one batch of operations as a transaction.

ftrack applies a request's operations in order, in one transaction: if one fails, none of
them happened. ``FtrackStore.batch`` gives a ``Batch`` working on a copy of the records that
replaces them only when every operation succeeded.

The seeded users are ordinary users: each sees every User, Project, Task and Location, and
only their own Timers and Timelogs. Another user's Timer or Timelog answers exactly like one
that does not exist.
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from timergate.fakes.base import Now
from timergate.fakes.ftrack import writes
from timergate.fakes.ftrack.language import QuerySyntaxError, parse_query
from timergate.fakes.ftrack.schemas import ENTITY_TYPES, Collection, EntityType, Reference
from timergate.fakes.ftrack.seed import OTHER_USER, USER, seed_tables
from timergate.fakes.ftrack.selection import Record, entity_type_named, run_query
from timergate.fakes.ftrack.wire import FtrackError

__all__ = ["Batch", "FtrackStore", "Tables"]

Tables = dict[str, dict[str, Record]]

# ftrack's own wording, as its JavaScript client's test server replays it.
_INVALID_CREDENTIALS = (
    "The supplied API key is not valid. API keys are created from Settings under the page API "
    'keys. The api key should be passed in the request header "ftrack-api-key".'
)


class FtrackStore:
    """Every record of one fake ftrack server, and the users' API keys."""

    def __init__(self, *, now: Now) -> None:
        self.now = now
        self.tables: Tables = seed_tables()
        self.api_keys = {user.username: user.api_key for user in (USER, OTHER_USER)}

    def authenticate(self, username: str | None, api_key: str | None) -> Record:
        """The user these headers name, or InvalidCredentialsError."""
        expected = self.api_keys.get(username or "")
        if expected is None or not hmac.compare_digest(expected, api_key or ""):
            raise FtrackError("InvalidCredentialsError", _INVALID_CREDENTIALS)
        return next(u for u in self.tables["user"].values() if u["username"] == username)

    @contextmanager
    def batch(self, user: Record) -> Iterator[Batch]:
        """Operations for ``user`` that take effect together, or not at all if one raises."""
        batch = Batch(copy.deepcopy(self.tables), user, self.now)
        yield batch
        self.tables = batch.tables


class Batch:
    """One user's view of the records, and the operations of one request against it."""

    def __init__(self, tables: Tables, user: Record, now: Now) -> None:
        self.tables = tables
        self.user = user
        self.now = now

    def visible(self, record: Record) -> bool:
        owner_key = ENTITY_TYPES[record["__entity_type__"]].owner_key
        return owner_key is None or record.get(owner_key) == self.user["id"]

    def find(self, entity_type: EntityType, id_: object) -> Record | None:
        """The record of ``entity_type`` (or one of its subtypes) with this id, if visible."""
        record = self.tables[entity_type.table].get(str(id_))
        if record is None or record["__entity_type__"] not in entity_type.members:
            return None
        return record if self.visible(record) else None

    # The Graph protocol that queries walk.

    def records(self, entity_type: EntityType) -> list[Record]:
        return [
            r
            for r in self.tables[entity_type.table].values()
            if r["__entity_type__"] in entity_type.members and self.visible(r)
        ]

    def referenced(self, record: Record, reference: Reference) -> Record | None:
        id_ = record.get(reference.key)
        return None if id_ is None else self.find(ENTITY_TYPES[reference.target], id_)

    def collected(self, record: Record, collection: Collection) -> list[Record]:
        related = self.records(ENTITY_TYPES[collection.target])
        return [r for r in related if r.get(collection.back_key) == record["id"]]

    # Operations, each answering its result object.

    def query(self, expression: object) -> dict[str, Any]:
        if not isinstance(expression, str):
            raise FtrackError("ValidationError", 'A query needs an "expression" string.')
        try:
            query = parse_query(expression)
        except QuerySyntaxError as exc:
            raise FtrackError("ParseError", f"Failed to parse: {expression} ({exc})") from None
        data, next_offset = run_query(self, query)
        return {"action": "query", "data": data, "metadata": {"next": {"offset": next_offset}}}

    def create(self, entity_type_name: object, entity_key: object, data: object) -> dict[str, Any]:
        entity_type = self._writable(entity_type_name, "create")
        record = writes.new_record(self, entity_type, _key(entity_key), _data(data))
        self.tables[entity_type.table][record["id"]] = record
        return {"action": "create", "data": writes.answer(entity_type, record)}

    def update(self, entity_type_name: object, entity_key: object, data: object) -> dict[str, Any]:
        entity_type = self._writable(entity_type_name, "update")
        current = self._existing(entity_type, entity_key)
        record, changed = writes.updated_record(self, entity_type, current, _data(data))
        self.tables[entity_type.table][record["id"]] = record
        return {"action": "update", "data": writes.answer(entity_type, record, changed)}

    def delete(self, entity_type_name: object, entity_key: object) -> dict[str, Any]:
        entity_type = self._writable(entity_type_name, "delete")
        record = self._existing(entity_type, entity_key)
        del self.tables[entity_type.table][record["id"]]
        return {"action": "delete", "data": True}

    def _writable(self, entity_type_name: object, verb: str) -> EntityType:
        entity_type = entity_type_named(str(entity_type_name))
        if not entity_type.writable:
            raise FtrackError(
                "PermissionError",
                f'You do not have permission to {verb} "{entity_type.name}" entities.',
            )
        return entity_type

    def _existing(self, entity_type: EntityType, entity_key: object) -> Record:
        id_ = _key(entity_key)
        record = None if id_ is None else self.find(entity_type, id_)
        if record is None:
            raise FtrackError(
                "ValidationError", f'{entity_type.name} with id "{id_}" does not exist.'
            )
        return record


def _key(entity_key: object) -> str | None:
    """The id in an ``entity_key``: ``["<id>"]`` as the clients send it, or a bare id."""
    if isinstance(entity_key, list) and len(entity_key) == 1:
        entity_key = entity_key[0]
    if entity_key is None or isinstance(entity_key, str):
        return entity_key
    raise FtrackError("ValidationError", f"Unusable entity_key {entity_key!r}: send [id].")


def _data(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise FtrackError("ValidationError", 'The operation needs an "entity_data" object.')
    return data
