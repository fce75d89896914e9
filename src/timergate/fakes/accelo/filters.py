"""``_filters``: Accelo's filter language, from a query string or a JSON body.

``_filters=id(12,13),status(running),date_created_after(1490140800),order_by_desc(id)``, with
``_not`` on any filter, range filters (``id_greater_than(17)``), object filters
(``against(company(3),job(7))``) and ``_OR(…)``/``_AND(…)``. In JSON the same reads
``{"id": [12, 13], "against": [{"company": [3]}], "order_by_desc": ["id"]}``. A resource says
which filters it takes; anything else is an ``invalid_request`` naming the filter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from timergate.fakes.accelo.fields import Row
from timergate.fakes.accelo.wire import AcceloError

__all__ = ["Filterable", "Term", "apply_filters", "parse_filters"]

RANGE_SUFFIXES = {
    "_greater_than_or_equal": lambda value, bound: value >= bound,
    "_less_than_or_equal": lambda value, bound: value <= bound,
    "_greater_than": lambda value, bound: value > bound,
    "_less_than": lambda value, bound: value < bound,
}
DATE_SUFFIXES = {
    "_before": lambda value, bound: value < bound,
    "_after": lambda value, bound: value > bound,
}


@dataclass(frozen=True)
class Term:
    """One filter: ``name(args…)``; an argument is a value or a nested filter."""

    name: str
    args: tuple[str | Term, ...]


@dataclass(frozen=True)
class Filterable:
    """The filters one resource takes, each naming the row field it reads."""

    basic: Mapping[str, str] = field(default_factory=dict)
    ranges: Mapping[str, str] = field(default_factory=dict)
    dates: Mapping[str, str] = field(default_factory=dict)
    orders: Mapping[str, str] = field(default_factory=dict)
    #: Object filter name → (type field, id field), e.g. against → (against_type, against_id).
    objects: Mapping[str, tuple[str, str]] = field(default_factory=dict)


Predicate = Callable[[Row], bool]


def parse_filters(value: Any) -> list[Term]:
    """``_filters`` as sent: a string in the filter language, or a JSON object."""
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        return _from_json(value)
    if not isinstance(value, str):
        raise AcceloError("invalid_request", "_filters must be a string or a JSON object.")
    terms, end = _parse_terms(value, 0)
    if end != len(value):
        raise AcceloError("invalid_request", f"_filters has an unmatched ')': {value!r}.")
    return [term for term in terms if isinstance(term, Term)]


def _parse_terms(text: str, pos: int) -> tuple[list[str | Term], int]:
    items: list[str | Term] = []
    name = ""
    while pos < len(text) and text[pos] != ")":
        char = text[pos]
        if char == ",":
            if name.strip():
                items.append(name.strip())
            name = ""
            pos += 1
        elif char == "(":
            args, pos = _parse_terms(text, pos + 1)
            if pos >= len(text):
                raise AcceloError("invalid_request", f"_filters has an unclosed '(': {text!r}.")
            items.append(Term(name.strip(), tuple(args)))
            name = ""
            pos += 1
            while pos < len(text) and text[pos] in " ,":
                pos += 1
        else:
            name += char
            pos += 1
    if name.strip():
        items.append(name.strip())
    return items, pos


def _from_json(document: dict[str, Any]) -> list[Term]:
    terms = []
    for name, value in document.items():
        values = value if isinstance(value, list) else [value]
        args: list[str | Term] = []
        for item in values:
            if isinstance(item, dict):
                args.extend(_from_json(item))
            else:
                args.append(str(item))
        terms.append(Term(name, tuple(args)))
    return terms


def apply_filters(rows: list[Row], terms: list[Term], filterable: Filterable) -> list[Row]:
    """Rows that pass every filter, in id order or the order an ``order_by_*`` asks."""
    # Accelo keeps only the last of a filter given twice.
    latest = {term.name: term for term in terms}
    predicates = []
    order: tuple[str, bool] | None = None
    for name, term in latest.items():
        if name in ("order_by_asc", "order_by_desc"):
            order = (_order_field(term, filterable), name == "order_by_desc")
        else:
            predicates.append(_predicate(term, filterable))
    kept = [row for row in rows if all(predicate(row) for predicate in predicates)]
    kept.sort(key=lambda row: _sort_key(row["id"]))
    if order is not None:
        key, descending = order
        kept.sort(key=lambda row: _sort_key(row[key]), reverse=descending)
    return kept


def _order_field(term: Term, filterable: Filterable) -> str:
    if len(term.args) != 1 or not isinstance(term.args[0], str):
        raise AcceloError("invalid_request", f"{term.name} takes one field name.")
    key = filterable.orders.get(term.args[0])
    if key is None:
        known = ", ".join(sorted(filterable.orders)) or "none"
        raise AcceloError(
            "invalid_request", f"Cannot order by {term.args[0]!r}; orderable fields: {known}."
        )
    return key


def _predicate(term: Term, filterable: Filterable) -> Predicate:
    if term.name in ("_OR", "_AND"):
        parts = [_predicate(arg, filterable) for arg in term.args if isinstance(arg, Term)]
        combine = any if term.name == "_OR" else all
        return lambda row: combine(part(row) for part in parts)
    predicate = _positive(term.name, term, filterable)
    if predicate is not None:
        return predicate
    if term.name.endswith("_not"):
        predicate = _positive(term.name[: -len("_not")], term, filterable)
        if predicate is not None:
            positive = predicate
            return lambda row: not positive(row)
    raise AcceloError("invalid_request", f"The filter {term.name!r} is not supported here.")


def _positive(name: str, term: Term, filterable: Filterable) -> Predicate | None:
    if name in filterable.basic:
        key, wanted = filterable.basic[name], set(_values(term))
        return lambda row: row[key] is not None and str(row[key]) in wanted
    if name in filterable.objects:
        return _object_predicate(term, *filterable.objects[name])
    if name == "empty":
        keys = [filterable.basic.get(v) or filterable.dates.get(v) for v in _values(term)]
        if None in keys:
            raise AcceloError("invalid_request", f"empty() does not take {term.args!r} here.")
        return lambda row: all(row[key] in (None, "", "0") for key in keys if key)
    for suffixes, fields in (
        (RANGE_SUFFIXES, filterable.ranges),
        (DATE_SUFFIXES, filterable.dates),
    ):
        for suffix, compare in suffixes.items():
            base = name[: -len(suffix)]
            if name.endswith(suffix) and base in fields:
                return _compare(term, fields[base], compare)
    return None


def _values(term: Term) -> list[str]:
    if any(isinstance(arg, Term) for arg in term.args):
        raise AcceloError("invalid_request", f"{term.name} takes plain values.")
    return [str(arg) for arg in term.args]


def _compare(term: Term, key: str, compare: Callable[[int, int], bool]) -> Predicate:
    values = _values(term)
    try:
        (bound,) = (int(value) for value in values)
    except ValueError:
        raise AcceloError("invalid_request", f"{term.name} takes one whole number.") from None

    def predicate(row: Row) -> bool:
        value = row[key]
        return value is not None and compare(int(value), bound)

    return predicate


def _object_predicate(term: Term, type_key: str, id_key: str) -> Predicate:
    wanted: set[tuple[str, str]] = set()
    for arg in term.args:
        if not isinstance(arg, Term):
            raise AcceloError(
                "invalid_request", f"{term.name} takes objects, e.g. {term.name}(job(7))."
            )
        wanted.update((arg.name, value) for value in _values(arg))
    return lambda row: (row[type_key], row[id_key]) in wanted


def _sort_key(value: Any) -> tuple[int, int, str]:
    if value is None:
        return (0, 0, "")
    text = str(value)
    if text.lstrip("-").isdigit():
        return (1, int(text), "")
    return (2, 0, text)
