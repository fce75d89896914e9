"""Fake Worksection: the action API of ``<account>.worksection.com``, both ways in.

- A user's OAuth token at ``/api/oauth2?action=…`` (``Authorization: Bearer …`` or
  ``access_token=``): ``me``, ``get_my_timer``, ``start_my_timer``, ``stop_my_timer``,
  ``delete_my_timer`` and the shared reads. A missing, unknown or expired token answers
  HTTP 401 ``{"error", "errorDescription"}``.
- The account's admin key at ``/api/admin/v2/?action=…&hash=…``, the hash being
  ``md5(<query string without hash> + key)``, or the official client's newer
  ``Authorization: Admin {ts}_{hmac_sha256(key, "{action}:{ts}")}``: ``get_timers``,
  ``stop_timer`` and the shared reads (``get_costs``, ``get_users``, ``get_projects``,
  ``get_project``, ``get_tasks``, ``get_all_tasks``, ``get_task``).

Both paths answer with and without the trailing slash, to GET and POST; parameters come in
the query string, a JSON body or a form body. Answers are ``{"status": "ok", "data": …}``;
refusals are HTTP 200 ``{"status": "error", "status_code", "message"}``. With
``control.rate_limit`` on, more than one request a second answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from timergate.fakes.base import ControlledApp, FakeControl, FakeDescription, Now, system_now
from timergate.fakes.request_rate import RequestRate
from timergate.fakes.worksection_account import Account, ActionError, TokenExpired
from timergate.fakes.worksection_actions import Call, run_action
from timergate.fakes.worksection_seed import seed_account

__all__ = ["ADMIN_PATH", "USER_PATH", "WorksectionFake", "create_fake"]

ADMIN_PATH = "/api/admin/v2"
USER_PATH = "/api/oauth2"
REQUESTS_PER_SECOND = 1
MEDIA_TYPE = "application/json; charset=utf-8"


def create_fake(
    *,
    now: Now = system_now,
    rate_limit: bool = False,
    time_zone: str = "Europe/Kyiv",
    token_lifetime: timedelta | None = timedelta(hours=24),
) -> WorksectionFake:
    """A fake Worksection account; its OAuth tokens expire ``token_lifetime`` after creation."""
    return WorksectionFake(
        now=now, rate_limit=rate_limit, time_zone=time_zone, token_lifetime=token_lifetime
    )


class WorksectionFake:
    """One fake Worksection account, served at ``/api/oauth2`` and ``/api/admin/v2``."""

    vendor = "worksection"

    def __init__(
        self,
        *,
        now: Now = system_now,
        rate_limit: bool = False,
        time_zone: str = "Europe/Kyiv",
        token_lifetime: timedelta | None = timedelta(hours=24),
    ) -> None:
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{time_zone!r} is not an IANA time zone name") from None
        self.control = FakeControl(rate_limit=rate_limit)
        self.account = seed_account(now, zone, token_lifetime)
        api = WorksectionAPI(self.account, self.control, RequestRate(REQUESTS_PER_SECOND, now))
        self._app = ControlledApp(api, self.control)

    @property
    def app(self) -> ASGIApp:
        return self._app

    def describe(self, base_url: str) -> FakeDescription:
        account = self.account
        first, second = list(account.tokens)
        task = next(iter(account.tasks.values()))
        return FakeDescription(
            vendor=self.vendor,
            base_url=base_url,
            credentials={"accessToken": first, "adminKey": account.api_key},
            seed={
                "context": {"type": "task", "id": task["id"], "title": task["name"]},
                "taskId": task["id"],
                "timeZone": account.zone.key,
                "otherCredentials": {"accessToken": second, "adminKey": account.api_key},
            },
        )


class WorksectionAPI:
    """Routing, the two authentication schemes, the rate limit and the answer envelope."""

    def __init__(self, account: Account, control: FakeControl, rate: RequestRate) -> None:
        self._account = account
        self._control = control
        self._rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if self._control.rate_limit and not self._rate.admit():
            retry = str(self._rate.retry_after_seconds())
            body = {"status": "error", "message": "Too many requests"}
            return _json(body, 429, headers={"Retry-After": retry})
        path = request.url.path.rstrip("/")
        if path not in (ADMIN_PATH, USER_PATH):
            return _json({"status": "error", "message": "Page not found"}, 404)
        if request.method not in ("GET", "POST"):
            return _json({"status": "error", "message": "Method not allowed"}, 405)
        try:
            params = await _params(request)
        except ValueError as exc:
            return _json(ActionError(11, "Field is invalid", str(exc)).to_json())
        action = params.get("action", "")
        if path == USER_PATH:
            user = self._token_user(request, params)
            if isinstance(user, Response):
                return user
        else:
            user = None
            if not self._admin_signed(request, params, action):
                return _json(ActionError(2, "Action hash is missed or invalid").to_json())
        try:
            return _json(run_action(action, Call(self._account, params, user)))
        except ActionError as exc:
            return _json(exc.to_json())

    def _token_user(self, request: Request, params: Mapping[str, str]) -> str | Response:
        """The token's user, or the 401 answer for a missing, unknown or expired token."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" else params.get("access_token")
        if not token:
            return _unauthorized("Access token is missing")
        try:
            user = self._account.user_of_token(token)
        except TokenExpired:
            return _unauthorized("Access token is expired")
        return _unauthorized("Access token is invalid") if user is None else user

    def _admin_signed(self, request: Request, params: Mapping[str, str], action: str) -> bool:
        key = self._account.api_key
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "admin":
            stamp, _, signature = token.strip().partition("_")
            message = f"{action}:{stamp}".encode()
            expected = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
            # The stamp's age is not checked: the vendor documents no window.
            return stamp.isdigit() and hmac.compare_digest(signature, expected)
        sent = params.get("hash", "")
        if not sent:
            return False
        # The hash covers the query string as sent, in its order, without `hash`; clients
        # that hash the readable (decoded) string, or the older docs' page + action, pass too.
        raw = request.scope["query_string"].decode("latin-1")
        signed = "&".join(p for p in raw.split("&") if p and not p.startswith("hash="))
        candidates = (signed, unquote_plus(signed), params.get("page", "") + action)
        return any(
            hmac.compare_digest(sent.lower(), hashlib.md5((text + key).encode()).hexdigest())
            for text in candidates
        )


async def _params(request: Request) -> dict[str, str]:
    """Query string and body (JSON or form) parameters; the query string wins a clash."""
    body = await request.body()
    from_body: dict[str, Any] = {}
    if body.strip():
        if body.lstrip().startswith(b"{"):
            try:
                parsed = json.loads(body)
            except ValueError:
                raise ValueError("the JSON body does not parse") from None
            from_body = parsed if isinstance(parsed, dict) else {}
        else:
            from_body = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
    query = dict(parse_qsl(request.scope["query_string"].decode(), keep_blank_values=True))
    return {k: _text(v) for k, v in {**from_body, **query}.items()}


def _text(value: Any) -> str:
    """A JSON value as the string a query string would carry (ids may come as numbers)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _unauthorized(description: str) -> Response:
    return _json({"error": "invalid_request", "errorDescription": description}, 401)


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)
