"""Domain values as JSON and back, exactly: for what must outlive a request (a replayed result).

Frozen dataclasses are objects of their fields; instants are ISO 8601 with their offset and
six microsecond digits; dates are ISO dates; a ``timedelta`` is ``[days, seconds,
microseconds]``; enums are their values; tuples and lists are arrays. Decoding follows the
dataclass's type hints, so a value comes back as the type it went in as.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

__all__ = ["from_jsonable", "to_jsonable"]

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dicts, lists, strings, numbers, booleans, null)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return [value.days, value.seconds, value.microseconds]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    raise TypeError(f"cannot encode {type(value).__name__}")


def from_jsonable(kind: type[T], data: Any) -> T:
    """What :func:`to_jsonable` made of a ``kind``, as a ``kind`` again."""
    decoded: T = _decode(kind, data)
    return decoded


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _decode(kind: Any, data: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if data is None:
            return None
        for option in options:
            try:
                return _decode(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"{data!r} fits none of {options}")
    if origin in (list, tuple):
        (item, *_) = typing.get_args(kind) or (Any,)
        items = [_decode(item, value) for value in data]
        return items if origin is list else tuple(items)
    if kind is Any:
        return data
    if isinstance(kind, type):
        if issubclass(kind, enum.Enum):
            return kind(data)
        if kind is datetime:
            return datetime.fromisoformat(data)
        if kind is date:
            return date.fromisoformat(data)
        if kind is timedelta:
            days, seconds, microseconds = data
            return timedelta(days=days, seconds=seconds, microseconds=microseconds)
        if dataclasses.is_dataclass(kind):
            if not isinstance(data, dict):
                raise TypeError(f"a {kind.__name__} is an object")
            hints = _hints(kind)
            return kind(
                **{
                    f.name: _decode(hints[f.name], data[f.name])
                    for f in dataclasses.fields(kind)
                    if f.name in data
                }
            )
        if kind in (bool, int, float, str):
            if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
                raise TypeError(f"{data!r} is not a {kind.__name__}")
            return data
    raise TypeError(f"cannot decode a {kind!r}")
