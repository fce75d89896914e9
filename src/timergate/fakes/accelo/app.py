"""The fake deployment's HTTP surface: ``/api/v0/…`` and ``/oauth2/v0/…`` at the host root.

An API call walks: rate limit → parameters (query and body, ``_method``) → route →
authentication (one token, header or ``_bearer_token``) → scope → the resource's handler →
the envelope, with the rate-limit headers on every answer.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from timergate.fakes.accelo import activities, directory, timers
from timergate.fakes.accelo.account import Account
from timergate.fakes.accelo.auth import Authority
from timergate.fakes.accelo.call import Call
from timergate.fakes.accelo.fields import Row, Schema
from timergate.fakes.accelo.oauth import OAuthEndpoints
from timergate.fakes.accelo.ratelimit import HourlyLimit
from timergate.fakes.accelo.wire import AcceloError, Answer, Params, envelope_response, read_params
from timergate.fakes.base import FakeControl, Now

__all__ = ["AcceloApp"]

logger = logging.getLogger(__name__)

#: A route: the resource, an id (or a named sub-resource such as "whoami"), and an action.
Route = tuple[str, str | None, str | None]
METHODS = ("GET", "PUT", "POST", "DELETE")
READ_ONLY = ("staff", "tokeninfo", *directory.RECORD_KINDS)


class AcceloApp:
    """One Accelo deployment, as an ASGI app."""

    def __init__(
        self,
        account: Account,
        authority: Authority,
        control: FakeControl,
        now: Now,
        hourly_limit: int,
    ) -> None:
        self._account = account
        self._authority = authority
        self._control = control
        self._now = now
        self._limit = HourlyLimit(hourly_limit)
        self._oauth = OAuthEndpoints(authority, account, now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path: str = scope["path"]
        response: Response
        if path.startswith("/oauth2/v0/"):
            response = await self._oauth.answer(request)
        elif path.startswith("/api/"):
            response = await self._api(request)
        else:
            response = PlainTextResponse("Not Found", status_code=404)
        await response(scope, receive, send)

    async def _api(self, request: Request) -> Response:
        now = self._now()
        params: Params | None = None
        headers: dict[str, str] = {}
        try:
            params = await read_params(request)
            allowed, headers = self._limit.take(now, enforce=self._control.rate_limit)
            if not allowed:
                host = request.headers.get("host", "this deployment")
                raise AcceloError("too_many_requests", f"Rate limit exceeded for {host}")
            route = _route(request.url.path)
            if params.method not in METHODS:
                raise AcceloError(
                    "invalid_request", f"{params.method} is not a method Accelo serves."
                )
            address = request.client.host if request.client else "unknown"
            grant = self._authority.authenticate(
                address, request.headers.get("authorization"), params.bearer_token, now
            )
            resource = route[0]
            write = params.method != "GET"
            if resource != "tokeninfo" and not grant.scope.allows(resource, write=write):
                kind = "write" if write else "read"
                raise AcceloError(
                    "invalid_permission",
                    f"The token's scope does not allow you to {kind} {resource}; ask for "
                    f"{kind}({resource}) or {kind}(all).",
                )
            call = Call(params, grant, self._account, now, self._resolve)
            answer = Answer(response=_dispatch(call, route))
        except AcceloError as exc:
            answer = Answer(status=exc.status, message=exc.message, headers=exc.headers)
        except Exception:
            # Accelo's answer to its own failures; the traceback goes to the fake's log.
            logger.exception("the fake Accelo failed on %s %s", request.method, request.url.path)
            answer = Answer(
                status="server_error",
                message="The request failed due to a server error and we were notified.",
            )
        if not headers:
            # Parameters that cannot be read still count as a request.
            _, headers = self._limit.take(now, enforce=False)
        return envelope_response(answer, params, headers)

    def _resolve(self, kind: str, value: Any) -> tuple[Schema, Row] | None:
        return directory.resolve(self._account, kind, value)


def _route(path: str) -> Route:
    segments = [segment for segment in path.removeprefix("/api/").split("/") if segment]
    if not segments or segments[0] != "v0":
        raise AcceloError("invalid_request", "Unknown API version; the API lives at /api/v0.")
    segments = segments[1:]
    if not segments:
        raise AcceloError("invalid_request", "Name a resource, e.g. /api/v0/timers.")
    last, dot, extension = segments[-1].rpartition(".")
    if dot:
        if extension != "json":
            raise AcceloError("invalid_request", "This fake answers JSON only.")
        segments[-1] = last
    resource, rest = segments[0], segments[1:]
    known = {"timers", "activities", *READ_ONLY}
    if resource not in known or len(rest) > 2:
        raise AcceloError("invalid_request", f"Unknown resource /api/v0/{'/'.join(segments)}.")
    ident = rest[0] if rest else None
    action = rest[1] if len(rest) > 1 else None
    return resource, ident, action


def _dispatch(call: Call, route: Route) -> Any:
    resource, ident, action = route
    if resource in READ_ONLY and call.method != "GET":
        raise AcceloError("invalid_request", f"This fake serves /{resource} read-only.")
    match resource, ident, action:
        case "timers", None, None:
            return timers.timers(call, None, None)
        case "timers", str(), None | "pause" | "start" | "cancel":
            return timers.timers(call, _id(ident), action)
        case "activities", None, None:
            return activities.activities(call, None, None)
        case "activities", "allocations" | "count", None:
            return activities.activities(call, None, ident)
        case "activities", str(), None:
            return activities.activities(call, _id(ident), None)
        case "staff", _, None:
            return directory.staff(call, ident)
        case "tokeninfo", None, None:
            return directory.tokeninfo(call)
        case kind, None, None if kind in directory.RECORD_KINDS:
            return directory.list_records(call, kind)
        case kind, str(), None if kind in directory.RECORD_KINDS:
            return directory.get_record(call, kind, _id(ident))
    raise AcceloError("invalid_request", f"Unknown resource /api/v0/{resource}.")


def _id(text: str | None) -> int:
    if text is None or not text.isdigit():
        raise AcceloError.missing()
    return int(text)
