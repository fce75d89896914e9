"""The fake's ASGI app: every request walks Noko's order of checks, then its route.

1. the rate limit (when switched on): Noko's front servers slow or refuse before anything else;
2. a ``User-Agent`` is required;
3. the route: an unknown path or method gets Noko's bare 404 page;
4. the token: unknown or expired is a 401;
5. the body: unreadable JSON is a 400 with Noko's message;
6. the handler; a missing object is the bare 404, bad input a ``Validation Failed`` 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from timergate.fakes.base import FakeControl, Now
from timergate.fakes.noko.account import NokoAccount
from timergate.fakes.noko.gate import RateLimiter, presented_token
from timergate.fakes.noko.inputs import BadBody, read_params
from timergate.fakes.noko.models import NotFound, ValidationFailed
from timergate.fakes.noko.responses import bare_page, json_response, validation_failed
from timergate.fakes.noko.routes import ROUTES, Call, Route

__all__ = ["NokoApi", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


class NokoApi:
    """Noko's ``/v2`` API over one :class:`NokoAccount`."""

    def __init__(
        self,
        account: NokoAccount,
        control: FakeControl,
        *,
        now: Now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.account = account
        self.control = control
        self.rate_limiter = RateLimiter()
        self._now = now
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if self.control.rate_limit:
            client = request.client.host if request.client else "unknown"
            delay = self.rate_limiter.admit(client, self._now())
            if delay is None:
                return Response(status_code=429)
            if delay:
                await self._sleep(delay)
        if not request.headers.get("user-agent", "").strip():
            # Noko documents only that such requests are rejected.
            return bare_page(403)
        found = _route(request)
        if found is None:
            return bare_page(404)
        route, ids = found
        token = presented_token(request)
        user = self.account.user_for_token(token) if token else None
        if user is None:
            return bare_page(401)
        try:
            params = await read_params(request)
        except BadBody as exc:
            return json_response({"message": exc.message}, 400)
        api = f"{str(request.base_url).rstrip('/')}/v2"
        call = Call(self.account, user, request, params, ids, api)
        try:
            return route.handler(call)
        except NotFound:
            return bare_page(404)
        except ValidationFailed as exc:
            return validation_failed(exc.resource, exc.field, exc.code)


def _route(request: Request) -> tuple[Route, dict[str, int]] | None:
    method = "GET" if request.method == "HEAD" else request.method
    path = request.url.path
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match and method in route.methods:
            return route, {name: int(value) for name, value in match.groupdict().items()}
    return None
