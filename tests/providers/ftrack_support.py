"""What the ftrack adapter tests share: the fake's records, ftrack's own app acting beside
timergate, and the faults a network makes (answers lost before or after ftrack acted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import httpx
from harness import HARNESSES, Forward

from timergate.domain import decode_global_id, encode_global_id
from timergate.domain.ids import Kind
from timergate.fakes.base import Fake
from timergate.fakes.ftrack import FtrackFake
from timergate.fakes.ftrack.seed import COMPOSITING, LIGHTING, USER, SeedUser

__all__ = [
    "COMPOSITING",
    "FTRACK",
    "LIGHTING",
    "START",
    "answer_lost",
    "ftrack_app",
    "ftrack_of",
    "global_id",
    "native_id",
    "never_arrives",
    "timelogs",
    "timers",
    "writes",
]

FTRACK = HARNESSES["ftrack"]

START = """
mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) {
    timer { id state elapsedSeconds description context { type id title } version }
    pausedTimers { id state }
    stoppedTimers { timer { id state } entry { id durationSeconds description } }
  }
}
"""


def ftrack_of(fakes: dict[str, Fake]) -> FtrackFake:
    return cast(FtrackFake, fakes["ftrack"])


def timers(fakes: dict[str, Fake], user: SeedUser = USER) -> list[dict[str, Any]]:
    """The user's Timers as the fake ftrack holds them."""
    table = ftrack_of(fakes).store.tables["timer"]
    return [r for r in table.values() if r["user_id"] == user.id]


def timelogs(fakes: dict[str, Fake], user: SeedUser = USER) -> list[dict[str, Any]]:
    """The user's Timelogs as the fake ftrack holds them, oldest first."""
    table = ftrack_of(fakes).store.tables["timelog"]
    return sorted((r for r in table.values() if r["user_id"] == user.id), key=lambda r: r["start"])


def native_id(gid: str, kind: Kind = "Timer") -> str:
    """The ftrack id inside a timergate id."""
    return decode_global_id(gid, expected=kind).native_id


def global_id(kind: Kind, connection: str, native: str) -> str:
    """The timergate id of the ftrack object ``native`` of ``connection``."""
    return encode_global_id(kind, connection, native)


async def ftrack_app(
    fakes: dict[str, Fake], *operations: dict[str, Any], user: SeedUser = USER
) -> list[Any]:
    """A batch sent by ftrack's own app (or its Python client) as ``user``, beside timergate."""
    transport = httpx.ASGITransport(app=ftrack_of(fakes).app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ftrack.app") as client:
        response = await client.post(
            "/api",
            json=list(operations),
            headers={"ftrack-user": user.username, "ftrack-api-key": user.api_key},
        )
    results = response.json()
    assert isinstance(results, list), results
    return results


def _operations(request: httpx.Request) -> list[dict[str, Any]]:
    try:
        body = json.loads(request.content)
    except ValueError:
        return []
    return [op for op in body if isinstance(op, dict)] if isinstance(body, list) else []


def writes(action: str, entity_type: str) -> Callable[[httpx.Request], bool]:
    """Matches a batch holding ``action`` on ``entity_type`` (say, a stop's Timelog)."""

    def matches(request: httpx.Request) -> bool:
        return any(
            op.get("action") == action and op.get("entity_type") == entity_type
            for op in _operations(request)
        )

    return matches


async def answer_lost(request: httpx.Request, forward: Forward) -> httpx.Response:
    """ftrack acts on the request, but its answer never comes back."""
    await forward(request)
    raise httpx.ReadTimeout("the answer was lost", request=request)


async def never_arrives(request: httpx.Request, forward: Forward) -> httpx.Response:
    """The request is lost on its way: ftrack never sees it."""
    raise httpx.ReadTimeout("the request was lost", request=request)
