"""A fake ftrack server: the JSON operations API at ``POST /api`` that ftrack's clients speak.

It serves what time tracking needs (Users, Projects and Tasks as Contexts, Timers, Timelogs,
Locations) with ftrack's schemas, query language, datetime encoding and error objects, so that
ftrack's official Python client works against it unchanged. See docs/vendors/ftrack.md.
"""

from __future__ import annotations

from timergate.fakes.base import ControlledApp, FakeControl, FakeDescription, Now, system_now
from timergate.fakes.ftrack.app import create_ftrack_app
from timergate.fakes.ftrack.seed import OTHER_USER, SEED_TASK, USER, SeedUser
from timergate.fakes.ftrack.store import FtrackStore

__all__ = ["FtrackFake", "create_fake"]


def _credentials(user: SeedUser) -> dict[str, str]:
    return {"apiUser": user.username, "apiKey": user.api_key}


class FtrackFake:
    """One fake ftrack server with its seeded account."""

    vendor = "ftrack"

    def __init__(self, *, now: Now = system_now, rate_limit: bool = False) -> None:
        # ftrack documents no request rate limit, so the rate_limit switch changes nothing.
        self.control = FakeControl(rate_limit=rate_limit)
        self.store = FtrackStore(now=now)
        self._app = ControlledApp(create_ftrack_app(self.store), self.control)

    @property
    def app(self) -> ControlledApp:
        return self._app

    def describe(self, base_url: str) -> FakeDescription:
        task_id, title = SEED_TASK
        return FakeDescription(
            vendor=self.vendor,
            base_url=base_url,
            credentials=_credentials(USER),
            seed={
                "context": {"type": "Task", "id": task_id, "title": title},
                "taskId": task_id,
                "otherCredentials": _credentials(OTHER_USER),
            },
        )


def create_fake(*, now: Now = system_now, rate_limit: bool = False) -> FtrackFake:
    """A fake ftrack server; ``now`` is its clock (a Timer started without ``start``)."""
    return FtrackFake(now=now, rate_limit=rate_limit)
