"""Render ``timerTicks`` results without executing the selection set for every tick.

Strawberry (like graphql-core) executes a subscription's selection set again for each event
of each subscriber. Ticks are the hot path (every running subscriber, every second), and their
selections are nearly always plain fields, so such a selection is compiled once per
subscription into a list of getters. Anything else (fragments on other types, directives,
resolver fields such as ``timer.entry``) returns ``None`` and runs the ordinary way.
The output equals what execution would produce; a test holds the two side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from timergate.domain import elapsed_seconds, encode_global_id
from timergate.live.feeds import Tick

__all__ = ["TickRenderer", "compile_tick_renderer"]

#: Renders one tick as the ``data`` object of a response.
TickRenderer = Callable[[Tick], dict[str, Any]]
_Getter = Callable[[Any, datetime], Any]


# Each tick of each subscriber formats the same few instants and ids again; remember them.
@lru_cache(maxsize=1 << 16)
def _iso_of(value: datetime) -> str:
    return value.isoformat()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _iso_of(value)


@lru_cache(maxsize=1 << 16)
def _timer_id(provider: str, native_id: str) -> str:
    return encode_global_id("Timer", provider, native_id)


_CONTEXT_FIELDS: dict[str, _Getter] = {
    "type": lambda c, at: c.type,
    "id": lambda c, at: c.id,
    "title": lambda c, at: c.title,
    "__typename": lambda c, at: "TimerContext",
}

_TIMER_FIELDS: dict[str, _Getter] = {
    "id": lambda t, at: _timer_id(t.provider, t.id),
    "provider": lambda t, at: t.provider,
    "state": lambda t, at: t.state.value,
    "description": lambda t, at: t.details.description,
    "tags": lambda t, at: list(t.details.tags),
    "billable": lambda t, at: t.details.billable,
    "elapsedSeconds": lambda t, at: elapsed_seconds(t, at),
    "startedAt": lambda t, at: _iso_of(t.started_at),
    "runningSince": lambda t, at: _iso(t.running_since),
    "updatedAt": lambda t, at: _iso_of(t.updated_at),
    "version": lambda t, at: t.version,
    "__typename": lambda t, at: "Timer",
}

_TICK_FIELDS: dict[str, _Getter] = {
    "elapsedSeconds": lambda k, at: k.elapsed_seconds,
    "at": lambda k, at: _iso_of(k.at),
    "final": lambda k, at: k.final,
    "__typename": lambda k, at: "TimerTick",
}


class _NotPlain(Exception):
    """The selection needs real execution."""


def _fields(
    selection_set: SelectionSetNode | None,
    type_name: str,
    fragments: dict[str, FragmentDefinitionNode],
) -> list[FieldNode]:
    """The fields of ``selection_set``, fragments on ``type_name`` inlined."""
    if selection_set is None:
        raise _NotPlain
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if selection.directives:
            raise _NotPlain
        if isinstance(selection, FieldNode):
            fields.append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None:
                raise _NotPlain
            condition: NamedTypeNode | None = fragment.type_condition
            inner = fragment.selection_set
        elif isinstance(selection, InlineFragmentNode):
            condition, inner = selection.type_condition, selection.selection_set
        else:  # pragma: no cover - no other selection kinds exist
            raise _NotPlain
        if condition is not None and condition.name.value != type_name:
            raise _NotPlain
        fields.extend(_fields(inner, type_name, fragments))
    return fields


_TYPES: dict[str, tuple[dict[str, _Getter], dict[str, tuple[str, Callable[[Any], Any]]]]] = {
    "TimerTick": (_TICK_FIELDS, {"timer": ("Timer", lambda tick: tick.timer)}),
    "Timer": (_TIMER_FIELDS, {"context": ("TimerContext", lambda t: t.details.context)}),
    "TimerContext": (_CONTEXT_FIELDS, {}),
}


def _object(
    selection_set: SelectionSetNode | None,
    type_name: str,
    fragments: dict[str, FragmentDefinitionNode],
) -> Callable[[Any, datetime], dict[str, Any]]:
    getters, nested = _TYPES[type_name]
    plan: list[tuple[str, _Getter]] = []
    for field in _fields(selection_set, type_name, fragments):
        if field.arguments:
            raise _NotPlain
        name = field.name.value
        key = field.alias.value if field.alias else name
        if any(k == key for k, _ in plan):
            raise _NotPlain  # merging repeated keys is execution's job
        if name in nested:
            child_type, pick = nested[name]
            plan.append((key, _nested(_object(field.selection_set, child_type, fragments), pick)))
        elif name in getters and field.selection_set is None:
            plan.append((key, getters[name]))
        else:
            raise _NotPlain

    def render(source: Any, at: datetime) -> dict[str, Any]:
        return {key: get(source, at) for key, get in plan}

    return render


def _nested(
    child: Callable[[Any, datetime], dict[str, Any]], pick: Callable[[Any], Any]
) -> _Getter:
    def get(source: Any, at: datetime) -> Any:
        value = pick(source)
        return None if value is None else child(value, at)

    return get


def compile_tick_renderer(
    document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[str, FieldNode, TickRenderer] | None:
    """``(response key, root field, renderer)`` for a plain ``timerTicks`` selection."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        (root,) = _fields(operation.selection_set, "Subscription", fragments)
    except (_NotPlain, ValueError):
        return None
    if root.name.value != "timerTicks":
        return None
    try:
        render_tick = _object(root.selection_set, "TimerTick", fragments)
    except _NotPlain:
        return None
    key = root.alias.value if root.alias else root.name.value

    def render(tick: Tick) -> dict[str, Any]:
        return {key: render_tick(tick, tick.at)}

    return key, root, render
