"""``_fields``: which fields an answer carries, and linked objects expanded in place.

Each resource answers its default fields; ``_fields=a,b`` adds optional ones, ``_ALL`` adds
every optional field, and a linked field with parentheses (``staff()``, ``staff(email)``)
becomes the linked object (its defaults plus what the parentheses ask for) instead of its id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from timergate.fakes.accelo.wire import AcceloError

__all__ = ["FieldSpec", "Resolver", "Row", "Schema", "parse_fields", "render"]

#: A resource's full set of fields, numbers already strings; links hold the linked id.
Row = dict[str, Any]
#: Parsed ``_fields``: name → None (bare name) or the nested spec inside its parentheses.
FieldSpec = dict[str, "FieldSpec | None"]


@dataclass(frozen=True)
class Schema:
    """The fields of one kind of object."""

    defaults: tuple[str, ...]
    optional: tuple[str, ...]
    #: Field → kind of the object it links to ("staff", "tasks", …).
    links: Mapping[str, str] = field(default_factory=dict)
    #: Fields given only when asked for by name (``_ALL`` leaves them out), e.g. breadcrumbs.
    extras: tuple[str, ...] = ()


#: Finds a linked object: (kind, id) → its schema and row, or None when there is none.
Resolver = Callable[[str, Any], "tuple[Schema, Row] | None"]


def parse_fields(text: str | None) -> FieldSpec:
    """Parse ``website,staff(email,title),company(_ALL)`` into a :data:`FieldSpec`."""
    if not text:
        return {}
    spec, end = _parse_list(text, 0)
    if end != len(text):
        raise AcceloError("invalid_request", f"_fields has an unmatched ')': {text!r}.")
    return spec


def _parse_list(text: str, pos: int) -> tuple[FieldSpec, int]:
    spec: FieldSpec = {}
    name = ""
    while pos < len(text):
        char = text[pos]
        if char == ")":
            break
        if char == ",":
            _add(spec, name, None)
            name = ""
            pos += 1
        elif char == "(":
            inner, pos = _parse_list(text, pos + 1)
            if pos >= len(text):
                raise AcceloError("invalid_request", f"_fields has an unclosed '(': {text!r}.")
            _add(spec, name, inner)
            name = ""
            pos += 1  # past ")"
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
        else:
            name += char
            pos += 1
    _add(spec, name, None)
    return spec, pos


def _add(spec: FieldSpec, name: str, inner: FieldSpec | None) -> None:
    name = name.strip()
    if name:
        spec[name] = inner


def render(schema: Schema, row: Row, spec: FieldSpec, resolve: Resolver) -> dict[str, Any]:
    """The object as Accelo answers it: defaults, then what ``spec`` asks for."""
    out = {name: row[name] for name in schema.defaults}
    if "_ALL" in spec:
        out.update((name, row[name]) for name in schema.optional)
    known = set(schema.defaults) | set(schema.optional) | set(schema.extras)
    for name, inner in spec.items():
        # Accelo ignores fields a resource does not have.
        if name not in known:
            continue
        linked_kind = schema.links.get(name)
        if inner is None or linked_kind is None:
            out[name] = row[name]
            continue
        linked = resolve(linked_kind, row[name])
        out[name] = None if linked is None else render(*linked, inner, resolve)
    return out
