"""A fake Accelo deployment: ``/api/v0`` (timers, activities, staff, the objects time is logged
against) and ``/oauth2/v0`` at the host root, as Accelo documents them.

Two staff members each hold a user token of a registered web application (with a refresh
token); a service application is registered too, for ``client_credentials``. See
``docs/vendors/accelo.md`` for what is served and where the fake decides what Accelo's docs
leave open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from timergate.fakes.accelo.account import MAIN_STAFF_ID, OTHER_STAFF_ID, Account, seed_account
from timergate.fakes.accelo.app import AcceloApp
from timergate.fakes.accelo.auth import DEFAULT_LIFETIME, Authority, Grant, RefreshGrant, Scope
from timergate.fakes.base import ControlledApp, FakeControl, FakeDescription, Now, system_now

__all__ = ["AcceloFake", "create_fake"]

DEPLOYMENT = "timergate-demo"
#: The object the description's ``context`` names: a job, which can take billable time.
CONTEXT = ("job", 31)


class AcceloFake:
    """The fake deployment and the credentials it hands out."""

    vendor = "accelo"

    def __init__(
        self,
        *,
        now: Now,
        rate_limit: bool,
        hourly_limit: int,
        token_lifetime: timedelta,
    ) -> None:
        if hourly_limit < 1:
            raise ValueError("hourly_limit must be at least 1")
        self.control = FakeControl(rate_limit=rate_limit)
        self.account: Account = seed_account(now(), DEPLOYMENT)
        self.authority = Authority(lifetime=token_lifetime)
        self.web_client = self.authority.register("web", DEPLOYMENT)
        self.service_client = self.authority.register("service", DEPLOYMENT)
        write_all = Scope(read=frozenset(), write=frozenset({"all"}))
        self._user_tokens: dict[int, tuple[Grant, RefreshGrant | None]] = {
            staff_id: self.authority.issue(self.web_client, staff_id, write_all, now())
            for staff_id in (MAIN_STAFF_ID, OTHER_STAFF_ID)
        }
        api = AcceloApp(self.account, self.authority, self.control, now, hourly_limit)
        self._app = ControlledApp(api, self.control)

    @property
    def app(self) -> ControlledApp:
        return self._app

    def token_expiry(self, staff_id: int = MAIN_STAFF_ID) -> datetime:
        """When the seeded access token of ``staff_id`` expires."""
        return self._user_tokens[staff_id][0].expires_at

    def describe(self, base_url: str) -> FakeDescription:
        against_type, against_id = CONTEXT
        title = self.account.title_of(against_type, against_id)
        return FakeDescription(
            vendor=self.vendor,
            base_url=base_url,
            credentials=self._credentials(MAIN_STAFF_ID),
            seed={
                "context": {"type": against_type, "id": str(against_id), "title": title},
                "againstType": against_type,
                "againstId": str(against_id),
                "staffId": str(MAIN_STAFF_ID),
                "otherCredentials": self._credentials(OTHER_STAFF_ID),
                "otherStaffId": str(OTHER_STAFF_ID),
                # For trying the refusal of service applications (client_credentials grant).
                "serviceApplication": {
                    "clientId": self.service_client.client_id,
                    "clientSecret": self.service_client.secret,
                },
            },
        )

    def _credentials(self, staff_id: int) -> dict[str, Any]:
        grant, refresh = self._user_tokens[staff_id]
        return {
            "token": grant.token,
            "clientId": self.web_client.client_id,
            "clientSecret": self.web_client.secret,
            "refreshToken": refresh.token if refresh else None,
        }


def create_fake(
    *,
    now: Now = system_now,
    rate_limit: bool = False,
    hourly_limit: int = 5000,
    token_lifetime: timedelta = DEFAULT_LIFETIME,
) -> AcceloFake:
    """A fresh fake deployment; ``hourly_limit`` and ``token_lifetime`` default to Accelo's."""
    return AcceloFake(
        now=now, rate_limit=rate_limit, hourly_limit=hourly_limit, token_lifetime=token_lifetime
    )
