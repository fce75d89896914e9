"""ftrack's wire format: tagged datetimes and the error object.

ftrack encodes a datetime as ``{"__type__": "datetime", "value": "2024-03-01T09:30:00"}``. With
timezone support enabled (as this fake reports) every value means UTC: the server writes naive
values, which both official clients read as UTC. Clients send values with an offset (the
Python client), with ``.000Z`` (the JavaScript client), or naive; all are accepted. ftrack keeps
whole seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = [
    "FtrackError",
    "decode_datetime",
    "encode_datetime",
    "encode_value",
    "parse_datetime",
]

#: HTTP status in strict mode (``ftrack-strict-api: true``); otherwise errors answer 200.
_STRICT_STATUS = {"InvalidCredentialsError": 401, "PermissionError": 403}


class FtrackError(Exception):
    """A failure ftrack reports as ``{"exception", "content", "error_code"}``."""

    def __init__(self, exception: str, content: str) -> None:
        super().__init__(f"{exception}: {content}")
        self.exception = exception
        self.content = content

    @property
    def strict_status(self) -> int:
        return _STRICT_STATUS.get(self.exception, 400)

    def body(self) -> dict[str, Any]:
        return {"exception": self.exception, "content": self.content, "error_code": None}


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date or datetime; naive means UTC. Raises ValueError if it is neither."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def decode_datetime(raw: object) -> datetime:
    """A datetime from ``{"__type__": "datetime"|"date", "value": ...}`` or a plain ISO string.

    Raises ValueError for anything else.
    """
    if isinstance(raw, dict) and raw.get("__type__") in ("datetime", "date"):
        raw = raw.get("value")
    if isinstance(raw, str):
        return parse_datetime(raw)
    raise ValueError(f"expected a datetime, got {raw!r}")


def encode_datetime(value: datetime) -> dict[str, str]:
    naive_utc = value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    return {"__type__": "datetime", "value": naive_utc.isoformat()}


def encode_value(value: Any) -> Any:
    """An attribute's value as JSON: datetimes tagged, the rest as they are."""
    return encode_datetime(value) if isinstance(value, datetime) else value
