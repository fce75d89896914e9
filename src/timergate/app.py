"""The ASGI application: ``/graphql``, ``/healthz``, CORS, and the gateway's lifespan."""

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
from timergate.domain import Clock
from timergate.gateway import Gateway
from timergate.graphql.documents import DocumentCache
from timergate.graphql.http import GraphQLEndpoint
from timergate.graphql.schema import build_schema
from timergate.graphql.view import TimergateView
from timergate.graphql.websocket import WebSocketEndpoint

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    """Build the app; the store and broker open when the ASGI lifespan starts."""
    settings = settings or Settings.from_env()
    gateway = Gateway(settings, clock=clock)
    schema = build_schema()
    documents = DocumentCache(schema)
    view = TimergateView(gateway, schema)
    websocket = WebSocketEndpoint(gateway, schema, documents)
    endpoint = GraphQLEndpoint(gateway, schema, documents, fallback=view, websocket=websocket)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", endpoint),
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
    app.state.gateway = gateway
    app.state.schema = schema
    return app
