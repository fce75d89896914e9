"""Accelo in the provider contract suite: its fake, a user's tokens, and two seeded objects."""

from __future__ import annotations

from harness import Harness

from timergate.fakes.accelo import create_fake

#: The fake's seeded issue (docs/vendors/accelo.md), the second object timers start on.
_ISSUE = {"type": "issue", "id": "41", "title": "Checkout page times out"}

HARNESS = Harness(
    name="accelo",
    fake=lambda now: create_fake(now=now),
    credentials=lambda d: {"accelo": dict(d.credentials)},
    other_credentials=lambda d: {"accelo": dict(d.seed["otherCredentials"])},
    contexts=lambda d: (d.seed["context"] if d else {}, _ISSUE),
)
