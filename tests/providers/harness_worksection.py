"""Worksection in the provider contract suite: its fake, both ways in, and two open tasks."""

from __future__ import annotations

from typing import Any

from harness import Harness

from timergate.fakes.base import FakeDescription
from timergate.fakes.worksection import create_fake


def _credentials(described: FakeDescription, given: dict[str, Any]) -> dict[str, Any]:
    return {"worksection": {**given, "timeZone": described.seed["timeZone"]}}


def _task(described: FakeDescription, task_id: str) -> dict[str, Any]:
    return {"type": "task", "id": task_id, "title": None}


HARNESS = Harness(
    name="worksection",
    fake=lambda now: create_fake(now=now),
    credentials=lambda d: _credentials(d, d.credentials),
    other_credentials=lambda d: _credentials(d, d.seed["otherCredentials"]),
    contexts=lambda d: (d.seed["context"], _task(d, d.seed["taskIds"][1])) if d else ({}, {}),
    # timergate notes the exact time it stopped (Worksection itself keeps whole minutes).
    entry_seconds=lambda elapsed, _index: elapsed,
)
