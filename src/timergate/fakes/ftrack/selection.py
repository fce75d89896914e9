"""Running a parsed query over records: criteria, ordering, paging and projections.

A record is a dict of an entity's scalar attributes plus ``__entity_type__`` (its concrete
type). Relationships are followed through a ``Graph``, which also decides what the calling
user may see.
"""

from __future__ import annotations

import operator as operators
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from timergate.fakes.ftrack.language import (
    AllOf,
    AnyOf,
    Comparison,
    Criteria,
    Not,
    Ordering,
    Path,
    Query,
    Related,
    Value,
)
from timergate.fakes.ftrack.schemas import (
    ENTITY_TYPES,
    Attribute,
    Collection,
    EntityType,
    Reference,
    Scalar,
)
from timergate.fakes.ftrack.wire import FtrackError, encode_value, parse_datetime

__all__ = ["Graph", "Record", "entity_type_named", "project", "run_query"]

Record = dict[str, Any]


class Graph(Protocol):
    """The records one user can see, and the way from a record to its relatives."""

    def records(self, entity_type: EntityType) -> list[Record]: ...

    def referenced(self, record: Record, reference: Reference) -> Record | None: ...

    def collected(self, record: Record, collection: Collection) -> list[Record]: ...


def entity_type_named(name: str) -> EntityType:
    try:
        return ENTITY_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITY_TYPES))
        raise FtrackError(
            "ValidationError", f'Unknown entity type "{name}". Entity types: {known}.'
        ) from None


def _step(entity_type: EntityType, name: str) -> Attribute:
    try:
        return entity_type.attributes[name]
    except KeyError:
        raise FtrackError(
            "ValidationError", f'"{entity_type.name}" has no attribute "{name}".'
        ) from None


def _check_path(entity_type: EntityType, path: Path) -> Attribute:
    """The attribute at the end of ``path``; a ValidationError if the path leads nowhere."""
    attribute = _step(entity_type, path[0])
    for position, name in enumerate(path[1:], start=1):
        if isinstance(attribute, Scalar):
            walked = ".".join(path[:position])
            raise FtrackError("ValidationError", f'"{walked}" has no attribute "{name}".')
        entity_type = ENTITY_TYPES[attribute.target]
        attribute = _step(entity_type, name)
    return attribute


def _values_at(graph: Graph, entity_type: EntityType, record: Record, path: Path) -> list[Any]:
    """Every value ``path`` reaches from ``record`` (several through a collection)."""
    attribute = entity_type.attributes[path[0]]
    rest = path[1:]
    if isinstance(attribute, Scalar):
        return [record.get(path[0])]
    target_type = ENTITY_TYPES[attribute.target]
    if isinstance(attribute, Reference):
        target = graph.referenced(record, attribute)
        if target is None or not rest:
            return [None if target is None else target["id"]]
        return _values_at(graph, target_type, target, rest)
    items = graph.collected(record, attribute)
    if not rest:
        return [item["id"] for item in items]
    return [v for item in items for v in _values_at(graph, target_type, item, rest)]


def _related_at(
    graph: Graph, entity_type: EntityType, record: Record, path: Path
) -> tuple[EntityType, list[Record]]:
    records = [record]
    for name in path:
        attribute = entity_type.attributes[name]
        assert not isinstance(attribute, Scalar), "checked by _check_criteria"
        entity_type = ENTITY_TYPES[attribute.target]
        if isinstance(attribute, Reference):
            found = (graph.referenced(r, attribute) for r in records)
            records = [r for r in found if r is not None]
        else:
            records = [item for r in records for item in graph.collected(r, attribute)]
    return entity_type, records


def _coerce(attribute: Attribute, value: Value) -> Any:
    """The query's text ``value`` as the attribute's type."""
    if value is None or not isinstance(attribute, Scalar) or attribute.type == "string":
        return value
    try:
        if attribute.type == "datetime":
            return parse_datetime(value)
        if attribute.type == "number":
            return float(value)
        if value.lower() in ("true", "1", "false", "0"):
            return value.lower() in ("true", "1")
        raise ValueError(value)
    except ValueError:
        raise FtrackError(
            "ValidationError", f'"{value}" is not a valid {attribute.type} value.'
        ) from None


def _target(attribute: Attribute, comparison: Comparison) -> Any:
    if isinstance(comparison.value, tuple):
        return {_coerce(attribute, v) for v in comparison.value}
    return _coerce(attribute, comparison.value)


def _like(pattern: str) -> re.Pattern[str]:
    """SQL's LIKE as a regular expression: ``%`` any run, ``_`` any one character."""
    wildcards = {"%": ".*", "_": "."}
    parts = (wildcards.get(c) or re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operators.gt,
    "lt": operators.lt,
    "ge": operators.ge,
    "le": operators.le,
}


def _compare(candidate: Any, operator: str, target: Any) -> bool:
    if operator == "eq":
        return bool(candidate == target)
    if operator == "ne":
        # As in SQL, an empty value matches no comparison but "is none" / "is_not none".
        return candidate is not None if target is None else candidate not in (None, target)
    if candidate is None or target is None:
        return False
    if operator in ("in", "not_in"):
        return (candidate in target) == (operator == "in")
    if operator in ("like", "not_like"):
        return bool(_like(str(target)).fullmatch(str(candidate))) == (operator == "like")
    try:
        return bool(_ORDERINGS[operator](candidate, target))
    except TypeError:  # say a number against a string: no match, as no row would
        return False


def _matches(graph: Graph, entity_type: EntityType, record: Record, criteria: Criteria) -> bool:
    if isinstance(criteria, AllOf):
        return all(_matches(graph, entity_type, record, c) for c in criteria.operands)
    if isinstance(criteria, AnyOf):
        return any(_matches(graph, entity_type, record, c) for c in criteria.operands)
    if isinstance(criteria, Not):
        return not _matches(graph, entity_type, record, criteria.operand)
    if isinstance(criteria, Related):
        related_type, related = _related_at(graph, entity_type, record, criteria.path)
        inner = criteria.criteria
        return any(inner is None or _matches(graph, related_type, r, inner) for r in related)
    target = _target(_check_path(entity_type, criteria.path), criteria)
    candidates = _values_at(graph, entity_type, record, criteria.path)
    return any(_compare(c, criteria.operator, target) for c in candidates)


def _check_criteria(entity_type: EntityType, criteria: Criteria) -> None:
    """Validate every path up front, so a query over no records still reports a bad one."""
    if isinstance(criteria, AllOf | AnyOf):
        for operand in criteria.operands:
            _check_criteria(entity_type, operand)
    elif isinstance(criteria, Not):
        _check_criteria(entity_type, criteria.operand)
    elif isinstance(criteria, Related):
        attribute = _check_path(entity_type, criteria.path)
        if isinstance(attribute, Scalar):
            raise FtrackError(
                "ValidationError", f'"{".".join(criteria.path)}" is not a relationship.'
            )
        if criteria.criteria is not None:
            _check_criteria(ENTITY_TYPES[attribute.target], criteria.criteria)
    else:
        _target(_check_path(entity_type, criteria.path), criteria)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Empty values first when ascending, as in SQL; datetimes and numbers compare as themselves.
    if value is None:
        return (0, 0)
    if isinstance(value, datetime):
        return (1, value.timestamp())
    return (1, value)


def _ordered(
    graph: Graph, entity_type: EntityType, records: list[Record], order_by: Sequence[Ordering]
) -> list[Record]:
    for ordering in order_by:
        _check_sortable(entity_type, ordering.path)

    def key(path: Path) -> Callable[[Record], tuple[int, Any]]:
        return lambda record: _sort_key(_values_at(graph, entity_type, record, path)[0])

    for ordering in reversed(order_by):  # stable sorts, last key first
        records = sorted(records, key=key(ordering.path), reverse=ordering.descending)
    return records


def _check_sortable(entity_type: EntityType, path: Path) -> None:
    """Sorting follows single values only: scalars, through references."""
    for position in range(1, len(path) + 1):
        attribute = _check_path(entity_type, path[:position])
        if isinstance(attribute, Collection):
            walked = ".".join(path[:position])
            raise FtrackError("ValidationError", f'Cannot order by the collection "{walked}".')


def project(
    graph: Graph, entity_type: EntityType, record: Record, projections: Sequence[Path]
) -> dict[str, Any]:
    """``record`` as ftrack answers it: type, key, system projections and ``projections``.

    A related entity comes as its concrete type (a Context as its Task), with the attributes
    asked of it, or its default projections.
    """
    concrete = ENTITY_TYPES[record["__entity_type__"]]
    answer: dict[str, Any] = {"__entity_type__": concrete.name, "id": record["id"]}
    for name in concrete.system_projections:
        answer[name] = encode_value(record.get(name))
    nested: dict[str, list[Path]] = {}
    for path in projections:
        nested.setdefault(path[0], [])
        if path[1:]:
            nested[path[0]].append(path[1:])
    for name, subpaths in nested.items():
        attribute = entity_type.attributes[name]
        if isinstance(attribute, Scalar):
            answer[name] = encode_value(record.get(name))
            continue
        target_type = ENTITY_TYPES[attribute.target]
        wanted = subpaths or [(p,) for p in target_type.default_projections]
        if isinstance(attribute, Reference):
            target = graph.referenced(record, attribute)
            answer[name] = None if target is None else project(graph, target_type, target, wanted)
        else:
            items = graph.collected(record, attribute)
            answer[name] = [project(graph, target_type, item, wanted) for item in items]
    return answer


def run_query(graph: Graph, query: Query) -> tuple[list[dict[str, Any]], int | None]:
    """One page of results, and the offset of the next page (None after the last)."""
    entity_type = entity_type_named(query.entity_type)
    projections = query.projections or tuple((p,) for p in entity_type.default_projections)
    for path in projections:
        _check_path(entity_type, path)
    if query.criteria is not None:
        _check_criteria(entity_type, query.criteria)
    records = graph.records(entity_type)
    if query.criteria is not None:
        criteria = query.criteria
        records = [r for r in records if _matches(graph, entity_type, r, criteria)]
    records = _ordered(graph, entity_type, records, query.order_by)
    end = len(records) if query.limit is None else query.offset + query.limit
    page = records[query.offset : end]
    next_offset = end if end < len(records) else None
    data = [project(graph, entity_type, record, projections) for record in page]
    return data, next_offset
