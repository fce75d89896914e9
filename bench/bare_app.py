"""The benchmark's baseline: the same store writes as ``startTimer``/``stopTimer``, no GraphQL.

A plain Starlette app with two JSON endpoints, built on the gateway's own services
(:class:`timergate.gateway.Gateway` from :class:`timergate.config.Settings`), authenticating
the bearer token exactly as ``/graphql`` does. Served by uvicorn like the real server::

    TIMERGATE_DATABASE_URL=sqlite:///bench.db \\
        python -m uvicorn --factory --app-dir bench bare_app:create_app --port 8001

``POST /start`` takes ``{"description": ...}`` and answers
``{"timer": {"id", "state", "version"}, "pausedTimers": [{"id"}]}``; ``POST /stop`` takes
``{"id": <Timer global id>}`` and answers ``{"timer": {"id", "state"}, "entry": {"id",
"durationSeconds"}}``: the fields the benchmark's GraphQL operations select.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timergate.app import cors_middleware, gateway_lifespan, healthz
from timergate.auth import bearer_token
from timergate.config import Settings
from timergate.domain import InvalidGlobalId, TimerDetails, User, decode_global_id, encode_global_id
from timergate.domain.limits import check_description
from timergate.errors import TimergateError
from timergate.gateway import Gateway

__all__ = ["create_app"]


class _Unauthorized(Exception):
    pass


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    gateway = Gateway(settings)

    async def authenticate(request: Request) -> User:
        header = request.headers.get("authorization")
        token = bearer_token(header) if header is not None else None
        user = await gateway.authenticator.authenticate(token) if token else None
        if user is None:
            raise _Unauthorized
        return user

    async def start(request: Request) -> JSONResponse:
        try:
            user = await authenticate(request)
            body = await request.json()
            details = TimerDetails(
                description=check_description(body.get("description"), field="description")
            )
            result = await gateway.provider("local").start(user, details)
        except _Unauthorized:
            return _error(401, "UNAUTHENTICATED", "bad token")
        except TimergateError as exc:
            return _error(400, "BAD_USER_INPUT", str(exc))
        timer = result.timer
        return JSONResponse(
            {
                "timer": {
                    "id": encode_global_id("Timer", timer.provider, timer.id),
                    "state": timer.state.value,
                    "version": timer.version,
                },
                "pausedTimers": [
                    {"id": encode_global_id("Timer", p.provider, p.id)} for p in result.paused
                ],
            }
        )

    async def stop(request: Request) -> JSONResponse:
        try:
            user = await authenticate(request)
            body = await request.json()
            gid = decode_global_id(body["id"], expected="Timer")
            result = await gateway.provider(gid.provider).stop(user, gid.native_id)
        except _Unauthorized:
            return _error(401, "UNAUTHENTICATED", "bad token")
        except (TimergateError, InvalidGlobalId, KeyError) as exc:
            return _error(400, "BAD_USER_INPUT", str(exc))
        timer, entry = result.timer, result.entry
        payload: dict[str, Any] = {"timer": None, "entry": None}
        if timer is not None:
            payload["timer"] = {
                "id": encode_global_id("Timer", timer.provider, timer.id),
                "state": timer.state.value,
            }
        if entry is not None:
            payload["entry"] = {
                "id": encode_global_id("TimeEntry", entry.provider, entry.id),
                "durationSeconds": entry.duration_seconds,
            }
        return JSONResponse(payload)

    # The same health route, middleware and lifespan as timergate.app.create_app, so only the
    # endpoints differ.
    return Starlette(
        routes=[
            Route("/start", start, methods=["POST"]),
            Route("/stop", stop, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[cors_middleware(settings)],
        lifespan=gateway_lifespan(gateway),
    )


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
