"""Noko in the provider contract suite: its fake, credentials and projects."""

from __future__ import annotations

import math

from harness import Harness

from timergate.fakes.noko import create_fake

#: The seeded projects the suite starts timers on, and their billing increments (minutes).
_INCREMENTS = (15, 1)


def _entry_seconds(elapsed: int, index: int) -> int:
    # Noko logs started minutes, rounded up to the project's billing increment.
    minutes = max(1, math.ceil(elapsed / 60))
    increment = _INCREMENTS[index]
    return math.ceil(minutes / increment) * increment * 60


HARNESS = Harness(
    name="noko",
    fake=lambda now: create_fake(now=now),
    credentials=lambda d: {"noko": dict(d.credentials)},
    other_credentials=lambda d: {"noko": dict(d.seed["otherCredentials"])},
    contexts=lambda d: (
        d.seed["context"] if d else {},
        {"type": "project", "id": d.seed["projectIds"][1], "title": None} if d else {},
    ),
    entry_seconds=_entry_seconds,
)
