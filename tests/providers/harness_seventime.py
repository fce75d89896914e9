"""Seven Time in the provider contract suite: its fake, a user of its company, and objects."""

from __future__ import annotations

from harness import Harness

from timergate.fakes.seventime import create_fake

HARNESS = Harness(
    name="seventime",
    fake=lambda now: create_fake(now=now),
    credentials=lambda d: {"sevenTime": dict(d.credentials)},
    other_credentials=lambda d: {"sevenTime": dict(d.seed["otherCredentials"])},
    contexts=lambda d: (
        d.seed["context"] if d else {},
        {"type": "customer", "id": d.seed["customerId"], "title": None} if d else {},
    ),
)
