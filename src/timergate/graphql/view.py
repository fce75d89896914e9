"""Strawberry's ASGI view, given our context, authentication and connection registry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.streaming import (
    HTTPStreamTransport,
    MultipartSubscriptionTransport,
    SSETransport,
)
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UnsetType

from timergate.errors import RateLimited, TooManyConnections, Unauthenticated
from timergate.gateway import Gateway
from timergate.graphql.context import RequestContext
from timergate.graphql.http import refuse
from timergate.graphql.schema import TimergateSchema
from timergate.sessions import (
    REVOKED_CLOSE,
    SCOPE_CONTEXT,
    Session,
    Sessions,
    client_address,
)

__all__ = ["TimergateView"]


class TimergateView(GraphQL[RequestContext, None]):
    """Serves GET queries, GraphiQL, SSE and multipart streams, and both websocket protocols.

    Every caller comes through :class:`~timergate.sessions.Sessions`: an HTTP request arrives
    with its context already built by the fast path (or is authenticated here), an event
    stream is registered under its user (capped, and ended when its token is revoked), and a
    websocket authenticates in ``connection_init``.
    """

    def __init__(
        self, gateway: Gateway, schema: TimergateSchema, sessions: Sessions | None = None
    ) -> None:
        super().__init__(
            schema,
            allowed_origins=list(gateway.settings.allowed_origins),
            max_subscriptions_per_connection=100,
            # Strawberry serves subscriptions over HTTP streams only for the protocols listed.
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
        )
        self.gateway = gateway
        self.sessions = sessions or Sessions(gateway)
        self._closing: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            return await self._serve_http(scope, receive, send)
        try:
            await super().__call__(scope, receive, send)
        finally:
            context = scope.get(SCOPE_CONTEXT)
            if isinstance(context, RequestContext) and context.live_connection is not None:
                context.live_connection.release()

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = scope.get(SCOPE_CONTEXT)
        headers = Headers(scope=scope)
        try:
            if not isinstance(context, RequestContext):
                session = await self.sessions.authenticate(
                    headers.get("authorization"), client_address(scope)
                )
                context = scope[SCOPE_CONTEXT] = self.sessions.context(session)
            accept = headers.get("accept", "")
            if context.session is not None and context.user is not None and _wants_stream(accept):
                context.live_connection = self.sessions.open(context.session)
        except (Unauthenticated, RateLimited, TooManyConnections) as exc:
            return await refuse(send, exc)
        try:
            await super().__call__(scope, receive, send)
        finally:
            if context.live_connection is not None:
                context.live_connection.release()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        context = request.scope.get(SCOPE_CONTEXT)
        if not isinstance(context, RequestContext):
            # A websocket: anonymous until its connection_init names a user.
            anonymous = Session(None, None, client_address(request.scope))
            context = request.scope[SCOPE_CONTEXT] = self.sessions.context(anonymous)
        context.request, context.response = request, response
        return context

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, Any] | None:
        """Authenticate a websocket in ``connection_init`` (``{"Authorization": "Bearer …"}``)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        websocket = context.request
        assert isinstance(websocket, WebSocket)
        try:
            session = await self.sessions.authenticate_init(params, client_address(websocket.scope))
            connection = self.sessions.open(
                session, on_revoke=lambda: self._close_revoked(websocket)
            )
        except (Unauthenticated, RateLimited, TooManyConnections) as exc:
            raise ConnectionRejectionError(
                {"message": exc.message, "extensions": exc.extensions()}
            ) from None
        context.user, context.session, context.live_connection = session.user, session, connection
        return None

    def _close_revoked(self, websocket: WebSocket) -> None:
        task = asyncio.get_running_loop().create_task(websocket.close(*REVOKED_CLOSE))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        context = request.scope.get(SCOPE_CONTEXT)
        connection = context.live_connection if isinstance(context, RequestContext) else None
        if connection is not None:
            sse = headers.get("Content-Type", "").startswith("text/event-stream")
            transport = SSETransport() if sse else MultipartSubscriptionTransport()
            stream = _ending_on_revocation(stream, connection.revoked, transport)
        return await super().create_streaming_response(request, stream, sub_response, headers)


def _wants_stream(accept: str) -> bool:
    return "text/event-stream" in accept or "multipart/mixed" in accept


def _ending_on_revocation(
    stream: Callable[[], AsyncIterator[str]], revoked: asyncio.Event, transport: HTTPStreamTransport
) -> Callable[[], AsyncIterator[str]]:
    """``stream``, ended with an ``UNAUTHENTICATED`` error as soon as ``revoked`` is set."""

    async def guarded() -> AsyncIterator[str]:
        chunks = stream()
        waiter = asyncio.ensure_future(revoked.wait())
        try:
            while not waiter.done():
                step = asyncio.ensure_future(anext(chunks))
                await asyncio.wait((step, waiter), return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await step
                    break
                try:
                    chunk = step.result()
                except StopAsyncIteration:
                    return
                yield chunk
            error = {"message": _REVOKED_MESSAGE, "extensions": {"code": Unauthenticated.code}}
            yield transport.encode_next({"errors": [error]}, _json)
            yield transport.encode_complete()
        finally:
            waiter.cancel()
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    return guarded


_REVOKED_MESSAGE = "The token was revoked; this stream has ended. Sign in again for a new token."


def _json(data: object) -> str:
    return orjson.dumps(data).decode()
