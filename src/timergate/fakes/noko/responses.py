"""The shapes of Noko's answers: JSON, its bare error page, and empty ones."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["bare_page", "json_response", "no_content", "validation_failed"]


def json_response(
    data: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(data),
        status_code=status_code,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def bare_page(status_code: int) -> Response:
    """Noko's body-less errors, as recorded for its 404: a single space of HTML."""
    return Response(" ", status_code=status_code, media_type="text/html; charset=utf-8")


def no_content() -> Response:
    return Response(status_code=204)


def validation_failed(resource: str, field: str, code: str) -> Response:
    errors = [{"resource": resource, "field": field, "code": code}]
    return json_response({"message": "Validation Failed", "errors": errors}, 400)
