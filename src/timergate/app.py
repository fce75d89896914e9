"""The ASGI application: ``/graphql``, ``/healthz``, ``/readyz``, CORS, and the gateway's
lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from timergate.config import Settings
from timergate.domain import Clock
from timergate.gateway import Gateway
from timergate.graphql.http import GraphQLEndpoint
from timergate.graphql.limits import DocumentLimits
from timergate.graphql.schema import build_schema
from timergate.graphql.view import GRAPHIQL, TimergateView
from timergate.graphql.websocket import WebSocketEndpoint
from timergate.health import healthz, readiness_endpoint
from timergate.sessions import Sessions
from timergate.transport.body_limit import BodyLimit
from timergate.transport.origins import allowed_browser_origins

__all__ = ["cors_middleware", "create_app", "gateway_lifespan", "healthz"]


class _GraphQLWebSockets:
    """Takes websockets at ``/graphql`` straight to their endpoint.

    No HTTP middleware applies to a websocket (its ``Origin`` is checked by the endpoint), and
    every layer skipped is a frame that each open connection would hold for its whole life.
    """

    def __init__(self, app: ASGIApp, endpoint: ASGIApp) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/graphql":
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def cors_middleware(settings: Settings) -> Middleware:
    """CORS for the allowed browser origins only (the same list as the websocket check's)."""
    return Middleware(
        CORSMiddleware,
        allow_origins=list(
            allowed_browser_origins(settings.allowed_origins, settings.host, settings.port)
        ),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "Accept"],
        max_age=600,
    )


def gateway_lifespan(gateway: Gateway) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """An ASGI lifespan that opens ``gateway`` at start-up and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the app; the store and broker open when the ASGI lifespan starts.

    ``upstream_transport`` replaces the network under vendor connections (for tests).
    """
    settings = settings or Settings.from_env()
    gateway = Gateway(settings, clock=clock, upstream_transport=upstream_transport)
    schema = build_schema(
        DocumentLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_selections=settings.max_query_selections,
            max_tokens=settings.max_query_tokens,
        )
    )
    documents = schema.documents
    sessions = Sessions(gateway)
    view = TimergateView(gateway, schema, sessions)
    websocket = WebSocketEndpoint(gateway, schema, documents, sessions=sessions)
    endpoint = GraphQLEndpoint(sessions, schema, documents, fallback=view)
    app = Starlette(
        routes=[
            # Every method reaches the endpoint, which answers the others 405 in GraphQL's form.
            Route("/graphql", endpoint),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness_endpoint(gateway), methods=["GET"]),
            Mount("/graphiql", StaticFiles(directory=GRAPHIQL), name="graphiql"),
        ],
        middleware=[
            Middleware(_GraphQLWebSockets, endpoint=websocket),
            cors_middleware(settings),
            # Inside CORS, so a browser can read the 413.
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=gateway_lifespan(gateway),
    )
    app.state.gateway = gateway
    app.state.sessions = sessions
    app.state.schema = schema
    return app
