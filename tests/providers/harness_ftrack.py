"""ftrack in the provider contract suite: its fake, its two users and two seeded tasks."""

from __future__ import annotations

from harness import Harness

from timergate.fakes.ftrack import create_fake
from timergate.fakes.ftrack.seed import LIGHTING

HARNESS = Harness(
    name="ftrack",
    fake=lambda now: create_fake(now=now),
    credentials=lambda d: {"ftrack": dict(d.credentials)},
    other_credentials=lambda d: {"ftrack": dict(d.seed["otherCredentials"])},
    contexts=lambda d: (
        d.seed["context"] if d else {},
        {"type": "Task", "id": LIGHTING, "title": None},
    ),
    # ftrack logs whole seconds, as they ran.
    entry_seconds=lambda elapsed, _index: elapsed,
)
