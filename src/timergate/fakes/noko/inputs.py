"""Reading a Noko request's parameters the lenient way Noko does, and its typed values.

Noko's clients send JSON bodies without a ``Content-Type`` (and even ``{}`` on GET and DELETE),
so a body is read as JSON whatever its declared type; a form body (curl's ``-d`` default) is
read as a form. Query parameters count as well, the body winning where both name a field.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from timergate.fakes.noko.gate import TOKEN_PARAMETERS
from timergate.fakes.noko.models import ValidationFailed

__all__ = ["BadBody", "Params", "read_params"]

_INTEGER = re.compile(r"-?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadBody(Exception):
    """A body Noko cannot read: its 400 ``{"message": …}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read_params(request: Request) -> dict[str, Any]:
    """The query parameters (tokens left out), overlaid with the body's fields."""
    params: dict[str, Any] = {
        key: value for key, value in request.query_params.items() if key not in TOKEN_PARAMETERS
    }
    if request.method in ("GET", "HEAD"):
        return params
    raw = await request.body()
    if not raw.strip():
        return params
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise BadBody("JSON Parsing Error") from None
        body = dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
    if not isinstance(body, dict):
        raise BadBody("Body should be JSON Hash")
    params.update(body)
    return params


class Params:
    """Typed reads of one resource's parameters; a malformed value is Noko's ``invalid``."""

    def __init__(self, values: dict[str, Any], resource: str) -> None:
        self.values = values
        self.resource = resource

    def _invalid(self, name: str) -> ValidationFailed:
        return ValidationFailed(self.resource, name, "invalid")

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self._invalid(name)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise self._invalid(name)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        raise self._invalid(name)

    def day(self, name: str) -> date | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self._invalid(name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self._invalid(name) from None

    def boolean(self, name: str) -> bool | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self._invalid(name)

    def ids(self, *names: str) -> set[int] | None:
        """A comma-separated list (or JSON array) of ids under the first of ``names`` given."""
        name = next((n for n in names if self.values.get(n) not in (None, "")), None)
        if name is None:
            return None
        value = self.values[name]
        items: list[Any]
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, list):
            items = value
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [value]
        else:
            raise self._invalid(name)
        texts = [str(item).strip() for item in items]
        if not all(_INTEGER.fullmatch(text) for text in texts):
            raise self._invalid(name)
        return {int(text) for text in texts}
