"""The benchmark's third target: ``/graphql`` served by Strawberry's own view only.

The same app as :func:`timergate.app.create_app` (same schema, context, authentication,
CORS middleware and lifespan) without :class:`timergate.graphql.http.GraphQLEndpoint`'s fast
path in front, so every POST goes through ``TimergateView``. Served by uvicorn::

    TIMERGATE_DATABASE_URL=sqlite:///bench.db \\
        python -m uvicorn --factory --app-dir bench view_app:create_app --port 8002
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from timergate.config import Settings
from timergate.gateway import Gateway
from timergate.graphql.schema import build_schema
from timergate.graphql.view import TimergateView

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    gateway = Gateway(settings)
    view = TimergateView(gateway, build_schema())

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept"],
                max_age=600,
            )
        ],
        lifespan=lifespan,
    )
