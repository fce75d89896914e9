"""How events and control messages cross between instances: versioned JSON (via orjson).

Every message is one JSON object with a format version ``v`` and a ``kind``::

    {"v": 1, "kind": "event", "event": {"type": "STARTED", "user_id": 7, "at": "…", …}}
    {"v": 1, "kind": "tokens_revoked", "token_hashes": ["<64 hex digits>", …]}
    {"v": 1, "kind": "connections_changed", "user_id": 7, "connection_id": 3, "origin": "…"}

Instants are ISO 8601 with their UTC offset and all six microsecond digits, dates are ISO
dates, and a ``timedelta`` is ``[days, seconds, microseconds]``, so every value decodes to
exactly what was encoded. Decoders ignore keys they do not know, so a later release may add
fields under the same ``v``; anything a reader cannot interpret the same way bumps ``v``, and
a reader refuses versions newer than its own (the broker logs and drops such a message, which
is what happens to the few messages in flight during a rolling upgrade across versions).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import orjson

from timergate.domain import TimeEntry, Timer, TimerContext, TimerDetails, TimerState
from timergate.domain.control import ConnectionsChanged, ControlMessage, TokensRevoked
from timergate.domain.events import TimerEvent, TimerEventType

__all__ = ["WIRE_VERSION", "Message", "WireFormatError", "decode", "encode"]

#: The format version this release writes and the newest it reads.
WIRE_VERSION = 1

Message = TimerEvent | ControlMessage

_T = TypeVar("_T")


class WireFormatError(ValueError):
    """A message that this release cannot encode or read."""


# Encoding.


def encode(message: Message) -> bytes:
    """``message`` as one JSON document (UTF-8)."""
    body: dict[str, Any]
    if isinstance(message, TimerEvent):
        body = {"kind": "event", "event": _event(message)}
    elif isinstance(message, TokensRevoked):
        body = {"kind": "tokens_revoked", "token_hashes": [h.hex() for h in message.token_hashes]}
    elif isinstance(message, ConnectionsChanged):
        body = {
            "kind": "connections_changed",
            "user_id": message.user_id,
            "connection_id": message.connection_id,
            "origin": message.origin,
        }
    else:
        raise WireFormatError(f"cannot encode {type(message).__name__}")
    try:
        return orjson.dumps({"v": WIRE_VERSION, **body})
    except orjson.JSONEncodeError as exc:
        raise WireFormatError(f"cannot encode {type(message).__name__}: {exc}") from exc


def _instant(value: datetime) -> str:
    if value.utcoffset() is None:
        raise WireFormatError(f"instant {value.isoformat()} has no UTC offset")
    return value.isoformat(timespec="microseconds")


def _maybe_instant(value: datetime | None) -> str | None:
    return None if value is None else _instant(value)


def _duration(value: timedelta) -> list[int]:
    return [value.days, value.seconds, value.microseconds]


def _details(details: TimerDetails) -> dict[str, Any]:
    context = details.context
    return {
        "description": details.description,
        "context": None
        if context is None
        else {"type": context.type, "id": context.id, "title": context.title},
        "tags": list(details.tags),
        "billable": details.billable,
    }


def _timer(timer: Timer) -> dict[str, Any]:
    return {
        "id": timer.id,
        "user_id": timer.user_id,
        "provider": timer.provider,
        "state": timer.state.value,
        "details": _details(timer.details),
        "accumulated": _duration(timer.accumulated),
        "running_since": _maybe_instant(timer.running_since),
        "started_at": _instant(timer.started_at),
        "updated_at": _instant(timer.updated_at),
        "version": timer.version,
        "entry_id": timer.entry_id,
    }


def _entry(entry: TimeEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "user_id": entry.user_id,
        "provider": entry.provider,
        "timer_id": entry.timer_id,
        "details": _details(entry.details),
        "started_at": _instant(entry.started_at),
        "ended_at": _instant(entry.ended_at),
        "duration_seconds": entry.duration_seconds,
        "date": entry.date.isoformat(),
        "created_at": _instant(entry.created_at),
        "updated_at": _instant(entry.updated_at),
        "version": entry.version,
    }


def _event(event: TimerEvent) -> dict[str, Any]:
    return {
        "type": event.type.value,
        "user_id": event.user_id,
        "at": _instant(event.at),
        "timer": None if event.timer is None else _timer(event.timer),
        "entry": None if event.entry is None else _entry(event.entry),
    }


# Decoding: every value is checked for its type, so a malformed message fails here, whole,
# instead of as a wrong object somewhere downstream.


def decode(data: bytes | str) -> Message:
    """The message encoded in ``data``; :class:`WireFormatError` if it is not one."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise WireFormatError(f"not JSON: {exc}") from exc
    obj = _object(body, "message")
    version = _int(obj, "v")
    if not 1 <= version <= WIRE_VERSION:
        raise WireFormatError(
            f"wire format version {version} is not one this release reads (1 to {WIRE_VERSION})"
        )
    kind = _str(obj, "kind")
    if kind == "event":
        return _read_event(_object(obj.get("event"), "event"))
    if kind == "tokens_revoked":
        hashes = _list(obj, "token_hashes", _hex)
        return TokensRevoked(tuple(hashes))
    if kind == "connections_changed":
        return ConnectionsChanged(
            _int(obj, "user_id"),
            _optional(obj, "connection_id", _int),
            _optional(obj, "origin", _str),
        )
    raise WireFormatError(f"unknown message kind {kind!r}")


def _read_event(obj: dict[str, Any]) -> TimerEvent:
    timer = obj.get("timer")
    entry = obj.get("entry")
    return TimerEvent(
        type=_enum(TimerEventType, _str(obj, "type")),
        user_id=_int(obj, "user_id"),
        at=_read_instant(obj, "at"),
        timer=None if timer is None else _read_timer(_object(timer, "timer")),
        entry=None if entry is None else _read_entry(_object(entry, "entry")),
    )


def _read_timer(obj: dict[str, Any]) -> Timer:
    return Timer(
        id=_str(obj, "id"),
        user_id=_int(obj, "user_id"),
        provider=_str(obj, "provider"),
        state=_enum(TimerState, _str(obj, "state")),
        details=_read_details(_object(obj.get("details"), "details")),
        accumulated=_read_duration(obj, "accumulated"),
        running_since=_optional(obj, "running_since", _read_instant),
        started_at=_read_instant(obj, "started_at"),
        updated_at=_read_instant(obj, "updated_at"),
        version=_int(obj, "version"),
        entry_id=_optional(obj, "entry_id", _str),
    )


def _read_entry(obj: dict[str, Any]) -> TimeEntry:
    return TimeEntry(
        id=_str(obj, "id"),
        user_id=_int(obj, "user_id"),
        provider=_str(obj, "provider"),
        timer_id=_optional(obj, "timer_id", _str),
        details=_read_details(_object(obj.get("details"), "details")),
        started_at=_read_instant(obj, "started_at"),
        ended_at=_read_instant(obj, "ended_at"),
        duration_seconds=_int(obj, "duration_seconds"),
        date=_read_date(obj, "date"),
        created_at=_read_instant(obj, "created_at"),
        updated_at=_read_instant(obj, "updated_at"),
        version=_int(obj, "version"),
    )


def _read_details(obj: dict[str, Any]) -> TimerDetails:
    context = obj.get("context")
    if context is not None:
        fields = _object(context, "context")
        context = TimerContext(
            type=_str(fields, "type"), id=_str(fields, "id"), title=_optional(fields, "title", _str)
        )
    billable = obj.get("billable")
    if not isinstance(billable, bool):
        raise WireFormatError(f"billable must be true or false, not {billable!r}")
    return TimerDetails(
        description=_optional(obj, "description", _str),
        context=context,
        tags=tuple(_list(obj, "tags", _str)),
        billable=billable,
    )


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireFormatError(f"{name} must be an object, not {type(value).__name__}")
    return value


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    # bool is an int to Python, never to us.
    if not isinstance(value, int) or isinstance(value, bool):
        raise WireFormatError(f"{key} must be an integer, not {value!r}")
    return value


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise WireFormatError(f"{key} must be a string, not {value!r}")
    return value


def _optional(
    obj: dict[str, Any], key: str, read: Callable[[dict[str, Any], str], _T]
) -> _T | None:
    return None if obj.get(key) is None else read(obj, key)


def _list(obj: dict[str, Any], key: str, read: Callable[[dict[str, Any], str], _T]) -> list[_T]:
    values = obj.get(key)
    if not isinstance(values, list):
        raise WireFormatError(f"{key} must be a list, not {values!r}")
    return [read({key: value}, key) for value in values]


def _hex(obj: dict[str, Any], key: str) -> bytes:
    try:
        return bytes.fromhex(_str(obj, key))
    except ValueError as exc:
        raise WireFormatError(f"{key} must be hexadecimal") from exc


def _enum(kind: type[_T], value: str) -> _T:
    try:
        return kind(value)  # type: ignore[call-arg]
    except ValueError as exc:
        raise WireFormatError(f"{value!r} is not a {kind.__name__}") from exc


def _read_instant(obj: dict[str, Any], key: str) -> datetime:
    text = _str(obj, key)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise WireFormatError(f"{key} is not an ISO 8601 instant: {text!r}") from exc
    if value.utcoffset() is None:
        raise WireFormatError(f"{key} has no UTC offset: {text!r}")
    return value


def _read_date(obj: dict[str, Any], key: str) -> date:
    text = _str(obj, key)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise WireFormatError(f"{key} is not an ISO 8601 date: {text!r}") from exc


def _read_duration(obj: dict[str, Any], key: str) -> timedelta:
    parts = _list(obj, key, _int)
    if len(parts) != 3:
        raise WireFormatError(f"{key} must be [days, seconds, microseconds]")
    try:
        return timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])
    except OverflowError as exc:
        raise WireFormatError(f"{key} is out of range") from exc
