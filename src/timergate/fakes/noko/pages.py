"""Noko's paging: ``page`` (from 1) and ``per_page`` (30 by default, at most 1000), and a
``Link`` header with ``first``, ``last``, ``next`` and ``prev`` where they apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from starlette.requests import Request

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "paginate"]

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000

T = TypeVar("T")


def _positive(text: str | None, default: int) -> int:
    # Noko's docs say nothing of malformed paging; the fake falls back to the default.
    try:
        value = int(text or "")
    except ValueError:
        return default
    return value if value >= 1 else default


def paginate(items: Sequence[T], request: Request) -> tuple[Sequence[T], str | None]:
    """The requested page of ``items`` and its ``Link`` header (None when all fit on one page)."""
    page = _positive(request.query_params.get("page"), 1)
    per_page = min(_positive(request.query_params.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    last = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1 and page == 1:
        return chunk, None
    links: list[tuple[str, int]] = []
    # Real responses list the relations in this order.
    if page > 1:
        links.append(("first", 1))
    if page < last:
        links.append(("last", last))
        links.append(("next", page + 1))
    if page > 1:
        links.append(("prev", min(page - 1, last)))
    header = ", ".join(
        f'<{request.url.include_query_params(page=number)}>; rel="{rel}"' for rel, number in links
    )
    return chunk, header or None
