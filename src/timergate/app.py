"""The ASGI application: ``/graphql``, ``/healthz``, ``/readyz``, CORS, and the gateway's
lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from timergate.config import Settings
from timergate.domain import Clock
from timergate.gateway import Gateway
from timergate.graphql.documents import DocumentCache
from timergate.graphql.http import GraphQLEndpoint
from timergate.graphql.schema import build_schema
from timergate.graphql.view import TimergateView
from timergate.graphql.websocket import WebSocketEndpoint
from timergate.health import healthz, readiness_endpoint

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
    """CORS for browsers on the allowed origins only (none by default)."""
    return Middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
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


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    """Build the app; the store and broker open when the ASGI lifespan starts."""
    settings = settings or Settings.from_env()
    gateway = Gateway(settings, clock=clock)
    schema = build_schema()
    documents = DocumentCache(schema)
    view = TimergateView(gateway, schema)
    websocket = WebSocketEndpoint(gateway, schema, documents)
    endpoint = GraphQLEndpoint(gateway, schema, documents, fallback=view)
    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness_endpoint(gateway), methods=["GET"]),
        ],
        middleware=[Middleware(_GraphQLWebSockets, endpoint=websocket), cors_middleware(settings)],
        lifespan=gateway_lifespan(gateway),
    )
    app.state.gateway = gateway
    app.state.schema = schema
    return app
