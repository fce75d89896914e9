"""A fake Noko (formerly Freckle): its ``/v2`` timer, entry and project API at the host root.

``timergate fake noko`` serves it; docs/vendors/noko.md says what it does and how to try it.
"""

from __future__ import annotations

import asyncio

from timergate.fakes.base import ControlledApp, FakeControl, FakeDescription, Now, system_now
from timergate.fakes.noko.account import NokoAccount
from timergate.fakes.noko.api import NokoApi, Sleep
from timergate.fakes.noko.render import timestamp
from timergate.fakes.noko.seed import SeededAccount, seed_account

__all__ = ["NokoFake", "create_fake"]


class NokoFake:
    """A seeded Noko account behind Noko's API, wrapped in the ``/_fake/`` control surface."""

    vendor = "noko"

    def __init__(self, seeded: SeededAccount, *, now: Now, sleep: Sleep) -> None:
        self.seeded = seeded
        self.control = FakeControl()
        self.api = NokoApi(seeded.account, self.control, now=now, sleep=sleep)
        self.app = ControlledApp(self.api, self.control)

    @property
    def account(self) -> NokoAccount:
        return self.seeded.account

    def describe(self, base_url: str) -> FakeDescription:
        seeded = self.seeded
        first = seeded.projects[0]
        return FakeDescription(
            vendor=self.vendor,
            base_url=base_url,
            credentials={"token": seeded.token},
            seed={
                "context": {"type": "project", "id": str(first.id), "title": first.name},
                "projectIds": [str(p.id) for p in seeded.projects],
                "archivedProjectId": str(seeded.archived_project.id),
                "otherCredentials": {"token": seeded.other_token},
                # The same user through an OAuth access token, which expires.
                "oauthCredentials": {"token": seeded.oauth_token},
                "oauthExpiresAt": timestamp(seeded.oauth_expires_at),
            },
        )


def create_fake(
    *, now: Now = system_now, rate_limit: bool = False, sleep: Sleep = asyncio.sleep
) -> NokoFake:
    """A fake Noko with its seed; ``sleep`` is how rate-limited requests are slowed."""
    fake = NokoFake(seed_account(now), now=now, sleep=sleep)
    fake.control.rate_limit = rate_limit
    return fake
