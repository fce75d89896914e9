"""The two ways into one Worksection account, and how its refusals become gateway errors.

- As the person: ``/api/oauth2?action=…`` with ``Authorization: Bearer <accessToken>``. A
  missing, wrong or expired token answers HTTP 401 ``{"error", "errorDescription"}``; an
  expired one ("…token is expired") needs the person to authorise again (these credentials
  carry no refresh token), any other refusal means the token is wrong.
- As the account: ``/api/admin/v2/?action=…&hash=<md5(query string + admin key)>``, the hash
  taken over exactly the query string sent.

Refusals otherwise arrive as HTTP 200 ``{"status": "error", "status_code", "message"}`` and
are mapped here: 2 (bad hash) → UPSTREAM_AUTH_FAILED; 4/5 (unknown project/task), 8 (closed
task), 10/11 (missing/invalid field) → BAD_USER_INPUT with Worksection's message; 6 (a timer
already runs) → :class:`TimerAlreadyStarted`; 7 (no timer running / not found) → NOT_FOUND.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import httpx
from aiolimiter import AsyncLimiter

from timergate.errors import (
    BadUserInput,
    InvalidTransition,
    NotFound,
    TimergateError,
    UpstreamAuthFailed,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from timergate.providers.registry import ProviderSetup
from timergate.providers.upstream import Upstream
from timergate.providers.worksection_wire import CostJSON, TimerJSON, is_cost, is_timer, owner_of

__all__ = ["ADMIN_PATH", "NO_TIMER", "USER_PATH", "TimerAlreadyStarted", "WorksectionAPI"]

_log = logging.getLogger("timergate.worksection")
T = TypeVar("T")
#: The longest wait for a read that must follow an accepted write.
_MAX_READ_BACK_WAIT = 2.0

USER_PATH = "/api/oauth2"
ADMIN_PATH = "/api/admin/v2/"

#: The one answer for a timer that is not (or no longer) running, and for another person's.
NO_TIMER = (
    "No running Worksection timer with that id; it may have been stopped or discarded "
    "(in Worksection too)."
)


class TimerAlreadyStarted(InvalidTransition):
    """Worksection refused to start a timer because the person's timer runs (code 6)."""


class WorksectionAPI:
    """One connection's calls, as the person (``user``) or as the account (``admin``)."""

    def __init__(
        self, setup: ProviderSetup, *, key: str, name: str, limiter: AsyncLimiter | None
    ) -> None:
        self._key = key
        self._name = name
        self._on_auth_failure = setup.on_auth_failure
        self._on_reauthorization_needed = setup.on_reauthorization_needed
        access_token = str(setup.credentials["accessToken"])
        secret = str(setup.credentials["adminKey"]).encode()

        def bearer(request: httpx.Request) -> None:
            request.headers["Authorization"] = f"Bearer {access_token}"

        def sign(request: httpx.Request) -> None:
            # Hash the query string exactly as it goes out, then append the hash.
            query = request.url.query
            digest = hashlib.md5(query + secret, usedforsecurity=False).hexdigest()
            request.url = request.url.copy_with(query=query + b"&hash=" + digest.encode())

        base_url = setup.connection.base_url
        common: dict[str, Any] = {
            "client": setup.client,
            "key": key,
            "name": name,
            "limiter": limiter,
            "on_auth_failure": setup.on_auth_failure,
        }
        self._user = Upstream(base_url=base_url + USER_PATH, auth=bearer, **common)
        self._admin = Upstream(base_url=base_url + ADMIN_PATH, auth=sign, **common)
        self._me: str | None = None

    async def me(self) -> str:
        """The id of the token's person (``user_from.id`` of their timers and costs)."""
        if self._me is None:
            data = (await self.user("me")).get("data")
            if not isinstance(data, dict) or not isinstance(data.get("id"), str | int):
                raise self._unavailable("answered 'me' without a person")
            self._me = str(data["id"])
        return self._me

    async def my_timers(self) -> list[TimerJSON]:
        """The person's running timers (``get_timers`` lists the whole account's)."""
        me = await self.me()
        data = self._list(await self.admin("get_timers"), is_timer, "timers")
        return [t for t in cast(list[TimerJSON], data) if owner_of(t) == me]

    async def my_costs(self, **params: str) -> list[CostJSON]:
        """The person's costs among what ``get_costs`` answers for ``params``."""
        me = await self.me()
        data = self._list(await self.admin("get_costs", **params), is_cost, "costs")
        return [c for c in cast(list[CostJSON], data) if owner_of(c) == me]

    def _list(self, body: dict[str, Any], valid: Callable[[Any], bool], what: str) -> list[Any]:
        data = body.get("data")
        if data is None or data == {}:
            data = []  # PHP writes an empty array either way
        if not isinstance(data, list) or not all(valid(item) for item in data):
            raise self._unavailable(f"answered with {what} it could not read")
        return data

    async def read_back(self, read: Callable[[], Awaitable[T]]) -> T:
        """A read right after a write Worksection accepted: a rate limit gets one more try
        after its wait, since the write cannot be taken back."""
        try:
            return await read()
        except UpstreamRateLimited as exc:
            await asyncio.sleep(min(exc.retry_after or 1.0, _MAX_READ_BACK_WAIT))
        return await read()

    async def user(self, action: str, *, write: bool = False, **params: str) -> dict[str, Any]:
        """A call as the person; ``write`` calls are POSTed and never repeated."""
        response = await self._user.request(
            "POST" if write else "GET",
            "",
            params={"action": action, **params},
            allow=frozenset({401}),
        )
        if response.status_code == 401:
            raise self._token_refused(response)
        return self._answer(self._user, response)

    async def admin(self, action: str, **params: str) -> dict[str, Any]:
        """A read as the account (the admin key signs it)."""
        response = await self._admin.request("GET", "", params={"action": action, **params})
        return self._answer(self._admin, response)

    def _answer(self, upstream: Upstream, response: httpx.Response) -> dict[str, Any]:
        body = upstream.json(response)
        status = body.get("status") if isinstance(body, dict) else None
        if status == "ok":
            answer: dict[str, Any] = body
            return answer
        if status == "error":
            raise self._refusal(body)
        raise self._unavailable("answered without Worksection's status envelope")

    def _token_refused(self, response: httpx.Response) -> UpstreamAuthFailed:
        try:
            body = response.json()
        except ValueError:
            body = {}
        described = body.get("errorDescription") if isinstance(body, dict) else None
        if isinstance(described, str) and "expired" in described.lower():
            self._on_reauthorization_needed()
            return UpstreamAuthFailed(
                f"{self._name}: the access token has expired (Worksection's last 24 hours); "
                "connect it again with a new access token.",
                provider=self._key,
            )
        self._on_auth_failure()
        return UpstreamAuthFailed(
            f"{self._name} refused its access token (HTTP 401); connect it again with the "
            "person's current OAuth access token.",
            provider=self._key,
        )

    def _refusal(self, body: dict[str, Any]) -> TimergateError:
        code = body.get("status_code")
        said = str(body.get("message") or "refused")
        details = body.get("message_details")
        vendor = f"Worksection: {said}" + (f", {details}" if details else "")
        if code == 2:
            self._on_auth_failure()
            return UpstreamAuthFailed(
                f"{self._name} refused its admin key ({vendor}); connect it again with the "
                "account's current API key.",
                provider=self._key,
            )
        if code in (4, 5):
            what = "project" if code == 4 else "task"
            return BadUserInput(
                f"{self._name} has no such {what} ({vendor}); give input.context "
                '{type: "task", id: <a task id of this account>}.',
                field="input.context",
            )
        if code == 8:
            return BadUserInput(
                f"That task is closed ({vendor}); reopen it in Worksection or pick an open task.",
                field="input.context",
            )
        if code == 6:
            return TimerAlreadyStarted(
                f"{self._name} already runs a timer for you ({vendor}).", state="RUNNING"
            )
        if code == 7:
            return NotFound(NO_TIMER)
        if code in (10, 11):
            return BadUserInput(f"{self._name} refused the request ({vendor}).")
        return self._unavailable(f"refused the call ({vendor})")

    def _unavailable(self, what: str) -> UpstreamUnavailable:
        _log.warning("%s %s", self._name, what)
        return UpstreamUnavailable(f"{self._name} {what}.", provider=self._key)
