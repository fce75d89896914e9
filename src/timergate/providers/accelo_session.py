"""One Accelo connection's calls: the user's token, its refresh, pacing, and Accelo's errors.

- Requests are form-urlencoded, answers the ``{meta, response}`` envelope; ``meta.status``
  decides, whatever the HTTP status: ``invalid_request`` is the caller's mistake (or, for an
  id, a missing object), ``duplicate`` too; ``invalid_client`` a refused token;
  ``invalid_permission`` a token that may not do this; ``too_many_requests`` and
  ``too_many_failed_logins`` the rate limit and the lockout (with when to retry);
  ``server_error`` Accelo failing.
- A refused token is refreshed once, when the connection was given a refresh token with the
  application's client id and secret: the new access token and the new refresh token (Accelo
  rotates it) are saved, and the call is sent again. A token known to expire within minutes is
  refreshed before it is sent. Without a way to refresh, an expired token marks the connection
  as needing re-authorisation; any other refusal marks it as failed.
- ``X-RateLimit-*`` headers pace the requests (:class:`HeaderPacing`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from timergate.errors import (
    BadUserInput,
    NotFound,
    TimergateError,
    UpstreamAuthFailed,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from timergate.providers.accelo_wire import WireError, number, read_envelope
from timergate.providers.header_pacing import HeaderPacing
from timergate.providers.registry import ProviderSetup, connection_name
from timergate.providers.upstream import Upstream, parse_retry_after

__all__ = ["AcceloCredentials", "AcceloSession", "api_root"]

_log = logging.getLogger("timergate.providers.accelo")

#: Accelo allows 5,000 API requests an hour per deployment.
HOURLY_REQUESTS = 5000
#: HTTP statuses read here (Accelo's envelope, or a 404 that is none); the rest are mapped by
#: :class:`Upstream` (502-504 retried for reads).
_READ_HERE = frozenset({400, 401, 403, 404, 429, 500})
#: How long before its known expiry a token is refreshed.
_REFRESH_AHEAD = timedelta(minutes=5)
_CREDENTIALS = "input.credentials.accelo"


@dataclass(frozen=True, slots=True)
class AcceloCredentials:
    """A user's access token and, to refresh it, the application's id and secret with the
    user's refresh token (all three, or none)."""

    token: str
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None

    @classmethod
    def parse(cls, given: Mapping[str, Any]) -> AcceloCredentials:
        def text(name: str) -> str | None:
            value = given.get(name)
            return value if isinstance(value, str) and value else None

        token = text("token")
        if token is None:
            raise BadUserInput(
                "Give the Accelo user's access token.", field=f"{_CREDENTIALS}.token"
            )
        refresh = {name: text(name) for name in ("clientId", "clientSecret", "refreshToken")}
        missing = [name for name, value in refresh.items() if value is None]
        if 0 < len(missing) < len(refresh):
            raise BadUserInput(
                "Refreshing an Accelo token needs clientId, clientSecret and refreshToken "
                f"together; {', '.join(missing)} missing (or leave all three out).",
                field=f"{_CREDENTIALS}.{missing[0]}",
            )
        return cls(token, refresh["clientId"], refresh["clientSecret"], refresh["refreshToken"])

    @property
    def can_refresh(self) -> bool:
        return bool(self.client_id and self.client_secret and self.refresh_token)

    def as_dict(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"token": self.token}
        if self.can_refresh:
            stored |= {
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
                "refreshToken": self.refresh_token,
            }
        return stored


def api_root(base_url: str) -> str:
    """The deployment's root (``https://{deployment}.api.accelo.com``), whether ``baseUrl`` was
    given with the API's path or without."""
    return base_url.removesuffix("/api/v0")


class AcceloSession:
    """Authenticated, paced calls to one deployment as one user."""

    def __init__(
        self,
        setup: ProviderSetup,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        connection = setup.connection
        self.key = connection.key
        self.name = connection_name(connection)
        self._clock = setup.clock
        self._credentials = AcceloCredentials.parse(setup.credentials)
        self._save = setup.save_credentials
        self._on_auth_failure = setup.on_auth_failure
        self._on_reauthorization_needed = setup.on_reauthorization_needed
        root = api_root(connection.base_url)
        self._api = Upstream(
            client=setup.client,
            base_url=root + "/api/v0",
            key=self.key,
            name=self.name,
            auth=self._bearer,
            limiter=setup.limiter(HOURLY_REQUESTS, 3600.0),
            on_auth_failure=setup.on_auth_failure,
        )
        # Token requests are not counted against the hourly allowance.
        self._oauth = Upstream(
            client=setup.client,
            base_url=root + "/oauth2/v0",
            key=self.key,
            name=self.name,
            auth=self._basic,
        )
        self.pacing = HeaderPacing(setup.clock, sleep, self.name, self.key)
        self._refreshing = asyncio.Lock()
        #: When the access token expires, once Accelo said (``/tokeninfo``, a refresh).
        self.expires_at: datetime | None = None

    def _bearer(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self._credentials.token}"

    def _basic(self, request: httpx.Request) -> None:
        pair = f"{self._credentials.client_id}:{self._credentials.client_secret}"
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        missing: str | None = None,
    ) -> Any:
        """The ``response`` of one API call. With ``missing`` (a message), ``invalid_request``
        means the object the path names does not exist for this user: :class:`NotFound`."""
        for attempt in (1, 2):
            await self._refresh_if_due()
            await self.pacing.wait()
            sent_with = self._credentials.token
            response = await self._api.request(
                method, path, params=params, data=data, allow=_READ_HERE
            )
            self.pacing.note(response.headers)
            envelope = read_envelope(_json(response))
            if envelope is None:
                raise self._not_accelo(response)
            if envelope["status"] == "ok":
                return envelope["response"]
            retry = envelope["status"] == "invalid_client" and attempt == 1
            if retry and await self._recover(sent_with, envelope["message"]):
                continue
            raise self._error(envelope["status"], envelope["message"], response, missing)
        raise AssertionError("unreachable")  # pragma: no cover

    def _not_accelo(self, response: httpx.Response) -> TimergateError:
        """The error for an answer without Accelo's envelope (a proxy's page, or garbage)."""
        if response.status_code == 404:
            # Accelo answers a missing object with invalid_request, never a bare 404.
            return UpstreamUnavailable(
                f"{self.name} answered HTTP 404 without Accelo's envelope: is its baseUrl the "
                "deployment's address (https://{deployment}.api.accelo.com)?",
                provider=self.key,
            )
        if not response.is_success:
            return self._api.error_for(response)
        return UpstreamUnavailable(
            f"{self.name} answered with something that is not Accelo's envelope; try again "
            "shortly.",
            provider=self.key,
        )

    def _error(
        self, status: str, message: str, response: httpx.Response, missing: str | None
    ) -> TimergateError:
        said = f": {message}" if message else "."
        if status == "invalid_request":
            if missing is not None:
                return NotFound(missing)
            return BadUserInput(f"{self.name} refused the request{said}")
        if status == "duplicate":
            return BadUserInput(f"{self.name} refused a duplicate{said}")
        if status == "invalid_client":
            self._on_auth_failure()
            return UpstreamAuthFailed(
                f"{self.name} refused its access token; connect the account again with a "
                "current token.",
                provider=self.key,
            )
        if status == "invalid_permission":
            # A permission of the user or of the token's scope; the token itself is good.
            return UpstreamAuthFailed(
                f"{self.name} does not allow this{said} The token needs write(timers) and "
                "write(activities) (or write(all)) in its scope, and the user the right to "
                "log time there.",
                provider=self.key,
            )
        if status in ("too_many_requests", "too_many_failed_logins"):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is None and self.pacing.reset_at is not None:
                retry_after = max((self.pacing.reset_at - self._clock.now()).total_seconds(), 0)
            wait = f" Retry in {retry_after:.0f} s." if retry_after is not None else ""
            what = (
                "is rate limiting requests (5,000 an hour per deployment)."
                if status == "too_many_requests"
                else "locked this address out after too many failed sign-ins."
            )
            return UpstreamRateLimited(
                f"{self.name} {what}{wait}", retry_after=retry_after, provider=self.key
            )
        _log.warning("%s answered %s (HTTP %s)", self.name, status, response.status_code)
        return UpstreamUnavailable(
            f"{self.name} failed ({status}); try again shortly.", provider=self.key
        )

    # The token.

    def _expired(self, message: str) -> bool:
        if self.expires_at is not None and self._clock.now() >= self.expires_at:
            return True
        return "expire" in message.lower()

    async def _recover(self, sent_with: str, message: str) -> bool:
        """After ``invalid_client``: whether to send again (with a refreshed token)."""
        async with self._refreshing:
            if self._credentials.token != sent_with:
                return True  # refreshed meanwhile by another call
            if not self._credentials.can_refresh:
                if self._expired(message):
                    self._on_reauthorization_needed()
                    raise UpstreamAuthFailed(
                        f"{self.name}'s access token has expired and the connection has no "
                        "refresh token: authorise timergate again (connect the account with a "
                        "new token, or with clientId, clientSecret and refreshToken so it can "
                        "renew itself).",
                        provider=self.key,
                    )
                return False
            await self._refresh()
            return True

    async def _refresh_if_due(self) -> None:
        expires_at = self.expires_at
        if (
            expires_at is None
            or not self._credentials.can_refresh
            or self._clock.now() < expires_at - _REFRESH_AHEAD
        ):
            return
        async with self._refreshing:
            if self.expires_at == expires_at:
                await self._refresh()

    async def _refresh(self) -> None:
        """Swap the refresh token for a new pair; keep both. Caller holds the lock."""
        credentials = self._credentials
        response = await self._oauth.request(
            "POST",
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
            allow=frozenset({400, 401}),
        )
        body = _json(response)
        body = body if isinstance(body, dict) else {}
        token = body.get("access_token")
        if not response.is_success or not isinstance(token, str) or not token:
            error = str(body.get("error") or f"HTTP {response.status_code}")
            if error == "too_many_failed_logins":
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise UpstreamRateLimited(
                    f"{self.name} locked this address out after too many failed sign-ins.",
                    retry_after=retry_after,
                    provider=self.key,
                )
            self._on_reauthorization_needed()
            raise UpstreamAuthFailed(
                f"{self.name}'s access token has expired and Accelo refused to renew it "
                f"({error}): authorise timergate again (connect the account anew).",
                provider=self.key,
            )
        refresh_token = body.get("refresh_token")
        self._credentials = replace(
            credentials,
            token=token,
            refresh_token=refresh_token
            if isinstance(refresh_token, str) and refresh_token
            else credentials.refresh_token,
        )
        try:
            lifetime = number(body.get("expires_in"))
        except WireError:
            self.expires_at = None
        else:
            self.expires_at = self._clock.now() + timedelta(seconds=lifetime)
        try:
            await self._save(self._credentials.as_dict())
        except Exception:
            # The new token works in memory; Accelo already retired the old refresh token.
            _log.exception("%s: could not keep its renewed token", self.name)


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
