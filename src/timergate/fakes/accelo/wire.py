"""Accelo's wire format: the ``{meta, response}`` envelope, its errors, and request parameters.

Accelo reads parameters from the query string and the body alike (form-urlencoded by default,
JSON when the body says so), lets ``_method`` override the HTTP method, and answers every API
call (DELETE included) with ``{"meta": {"status", "message", "more_info"}, "response": …}``,
numbers as JSON strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = [
    "HTTP_STATUS",
    "MISSING_MESSAGE",
    "AcceloError",
    "Answer",
    "Page",
    "Params",
    "envelope_response",
    "read_params",
]

#: ``meta.status`` → HTTP status, from Accelo's status code reference.
HTTP_STATUS: dict[str, int] = {
    "ok": 200,
    "invalid_request": 400,
    "duplicate": 400,
    "invalid_client": 401,
    "too_many_failed_logins": 401,
    "invalid_permission": 403,
    "too_many_requests": 429,
    "server_error": 500,
}

OK_MESSAGE = "Everything executed as expected."
#: Accelo's words for a resource that does not exist (and for one the caller may not see).
MISSING_MESSAGE = (
    "The request could not be interpreted. This can be caused by missing or invalid data. "
    "Please ensure that the resource you are requesting actually exists."
)
DOCS = "https://api.accelo.com/docs/"
MORE_INFO = {
    "too_many_requests": DOCS + "#rate-limiting",
    "too_many_failed_logins": DOCS + "#lockout",
}
FLAG_VALUES = {"1", "yes", "true"}


class AcceloError(Exception):
    """An answer other than ``ok``; ``status`` is Accelo's ``meta.status``."""

    def __init__(
        self,
        status: str,
        message: str = MISSING_MESSAGE,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def missing(cls) -> AcceloError:
        """What Accelo answers for an id that does not exist, or that the caller may not see."""
        return cls("invalid_request")


@dataclass
class Params:
    """A request's parameters (query and body merged) and how the answer should look."""

    values: dict[str, Any]
    method: str
    suppress_http_status: bool = False
    suppress_message: bool = False
    suppress_meta: bool = False
    bearer_token: str | None = None

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        """``name`` as a string (JSON numbers included), or None when absent."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise AcceloError("invalid_request", f"{name} must be a single value.")

    def unsigned(self, name: str) -> int | None:
        """``name`` as a non-negative integer ("3600" or 3600), or None when absent."""
        text = self.text(name)
        if text is None or text == "":
            return None
        try:
            number = int(text)
        except ValueError:
            raise AcceloError(
                "invalid_request", f"{name} must be a whole number, not {text!r}."
            ) from None
        if number < 0:
            raise AcceloError("invalid_request", f"{name} must not be negative.")
        return number

    def page(self) -> Page:
        """The ``_page``/``_limit``/``_offset`` window: limit 10 by default, at most 100."""
        limit = self.unsigned("_limit")
        limit = 10 if limit is None else min(limit, 100)
        if limit == 0:
            raise AcceloError("invalid_request", "_limit must be between 1 and 100.")
        page = self.unsigned("_page")
        offset = page * limit if page is not None else (self.unsigned("_offset") or 0)
        return Page(offset=offset, limit=limit)


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def window(self, rows: list[Any]) -> list[Any]:
        return rows[self.offset : self.offset + self.limit]


async def read_params(request: Request) -> Params:
    """Merge the query string and the body; a parameter given twice is Accelo's error."""
    pairs: list[tuple[str, Any]] = list(request.query_params.multi_items())
    body = await request.body()
    if body.strip():
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "application/json":
            try:
                document = json.loads(body)
            except ValueError:
                raise AcceloError("invalid_request", "The JSON body could not be parsed.") from None
            if not isinstance(document, dict):
                raise AcceloError("invalid_request", "A JSON body must be an object.")
            pairs.extend(document.items())
        elif media_type in ("", "application/x-www-form-urlencoded"):
            pairs.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        else:
            raise AcceloError(
                "invalid_request",
                f"Content-Type {media_type} is not understood; send form-urlencoded or JSON.",
            )
    values: dict[str, Any] = {}
    for name, value in pairs:
        if name in values:
            raise AcceloError("invalid_request", f"The parameter {name} was given more than once.")
        values[name] = value
    params = Params(values=values, method=request.method.upper())
    override = params.text("_method")
    if override is not None:
        if override.lower() not in ("get", "put", "post", "delete"):
            raise AcceloError("invalid_request", "_method must be get, put, post or delete.")
        params.method = override.upper()
    params.suppress_http_status = _flag(params, "_suppress_http_status")
    params.suppress_message = _flag(params, "_suppress_message")
    params.suppress_meta = _flag(params, "_suppress_meta")
    params.bearer_token = params.text("_bearer_token")
    return params


def _flag(params: Params, name: str) -> bool:
    return (params.text(name) or "").lower() in FLAG_VALUES


@dataclass
class Answer:
    """What a handler answers: the ``response`` member, or an error."""

    status: str = "ok"
    message: str = OK_MESSAGE
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def envelope_response(
    answer: Answer, params: Params | None, headers: Mapping[str, str]
) -> JSONResponse:
    """The HTTP answer: the envelope, shaped by the ``_suppress_*`` flags."""
    code = HTTP_STATUS[answer.status]
    meta: dict[str, Any] = {"status": answer.status}
    if params is None or not params.suppress_message:
        meta["message"] = answer.message
        meta["more_info"] = MORE_INFO.get(answer.status, DOCS + "#status-codes")
    if params is not None and params.suppress_http_status:
        meta["response_code"] = code
        code = 200
    body: dict[str, Any] = {"response": answer.response}
    if params is None or not params.suppress_meta:
        body = {"meta": meta, **body}
    return JSONResponse(body, status_code=code, headers={**headers, **answer.headers})
