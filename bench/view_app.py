"""The benchmark's third target: ``/graphql`` served by Strawberry's own view only.

The same app as :func:`timergate.app.create_app` (same schema, context, authentication,
CORS middleware and lifespan) without :class:`timergate.graphql.http.GraphQLEndpoint`'s fast
path in front, so every POST goes through ``TimergateView``. Served by uvicorn::

    TIMERGATE_DATABASE_URL=sqlite:///bench.db \\
        python -m uvicorn --factory --app-dir bench view_app:create_app --port 8002
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from timergate.app import cors_middleware, gateway_lifespan, healthz
from timergate.config import Settings
from timergate.gateway import Gateway
from timergate.graphql.schema import build_schema
from timergate.graphql.view import TimergateView

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    gateway = Gateway(settings)
    view = TimergateView(gateway, build_schema())

    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[cors_middleware(settings)],
        lifespan=gateway_lifespan(gateway),
    )
