"""Strawberry's ASGI view, given our context, authentication and connection registry."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.streaming import (
    HTTPStreamTransport,
    MultipartSubscriptionTransport,
    SSETransport,
)
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL

from timergate.errors import RateLimited, TooManyConnections, Unauthenticated
from timergate.gateway import Gateway
from timergate.graphql.context import RequestContext
from timergate.graphql.http import refuse
from timergate.graphql.schema import TimergateSchema
from timergate.sessions import SCOPE_CONTEXT, SCOPE_MEDIA, Sessions, client_address

__all__ = ["GRAPHIQL", "LineFeedSSETransport", "TimergateView"]


class LineFeedSSETransport(SSETransport):
    """Server-sent events whose lines end in LF alone.

    The SSE format allows CRLF, LF or CR, but urql's parser splits events on a blank LF line,
    which CRLF framing never makes: its subscriptions and SSE answers stayed silent.
    """

    def encode_event(self, event: str, data: str | None = None) -> str:
        return super().encode_event(event, data).replace("\r\n", "\n")

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"


class TimergateView(GraphQL[RequestContext, None]):
    """Serves GraphiQL, batches, and server-sent event and multipart streams over HTTP.

    Every caller comes through :class:`~timergate.sessions.Sessions`: a request arrives with
    its context already built by :class:`~timergate.graphql.http.GraphQLEndpoint` (or is
    authenticated here), and an event stream is registered under its user (capped, and ended
    when its token is revoked). Websockets never reach this view: the app hands them to
    :class:`~timergate.graphql.websocket.WebSocketEndpoint`.
    """

    stream_transport_classes_by_protocol: Mapping[str, type[HTTPStreamTransport]] = {
        MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptionTransport,
        GRAPHQL_SSE_PROTOCOL: LineFeedSSETransport,
    }

    def __init__(
        self, gateway: Gateway, schema: TimergateSchema, sessions: Sessions | None = None
    ) -> None:
        # Strawberry serves subscriptions over HTTP streams only for the protocols listed.
        super().__init__(
            schema, subscription_protocols=(GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL)
        )
        self.gateway = gateway
        self.sessions = sessions or Sessions(gateway)

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL on assets this gateway serves itself (no CDN): see :data:`GRAPHIQL`."""
        return _graphiql_page()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("TimergateView serves HTTP only; websockets have their endpoint")
        await self._serve_http(scope, receive, send)

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
            return await refuse(send, exc, scope.get(SCOPE_MEDIA, "application/json"))
        try:
            await super().__call__(scope, receive, send)
        finally:
            if context.live_connection is not None:
                context.live_connection.release()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        context = request.scope[SCOPE_CONTEXT]
        assert isinstance(context, RequestContext)  # set by _serve_http
        context.request, context.response = request, response
        return context

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
            transport = LineFeedSSETransport() if sse else MultipartSubscriptionTransport()
            stream = _ending_on_revocation(stream, connection.revoked, transport)
        return await super().create_streaming_response(request, stream, sub_response, headers)


#: GraphiQL's page, its starter script and the vendored assets it loads (served at
#: ``/graphiql/``; scripts/vendor-graphiql.sh says where they come from).
GRAPHIQL = Path(__file__).resolve().parent.parent / "graphiql"


@functools.cache
def _graphiql_page() -> str:
    return (GRAPHIQL / "index.html").read_text(encoding="utf-8")


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
