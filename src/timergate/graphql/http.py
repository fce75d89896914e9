"""``/graphql`` over HTTP: a lean path for JSON POSTs, Strawberry's view for the rest.

Most traffic is the same few operations posted as JSON. For those the endpoint parses and
validates each distinct query text once (an LRU of prepared documents), then runs graphql-core
directly on Strawberry's schema: no per-request extension machinery, one JSON encode with
orjson. GET queries, GraphiQL, batches, multipart and SSE streams go to Strawberry's own
view, which follows the GraphQL-over-HTTP spec for them. (Websockets have their own endpoint,
:mod:`timergate.graphql.websocket`.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any
from urllib.parse import parse_qs

import orjson
from graphql import ExecutionResult, OperationType, execute
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from timergate.errors import RateLimited, TimergateError, Unauthenticated
from timergate.graphql.context import RequestContext
from timergate.graphql.documents import DocumentCache
from timergate.graphql.errors import coded_error
from timergate.graphql.schema import TimergateSchema
from timergate.sessions import SCOPE_CONTEXT, Sessions, client_address, http_refusal

__all__ = ["GraphQLEndpoint", "refuse"]

_log = logging.getLogger("timergate.http")

_RESPONSE_MEDIA = "application/graphql-response+json"
_STREAM_MEDIA = ("text/event-stream", "multipart/mixed")
_ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: The answer to a subscription sent where no stream can carry its events.
_NEEDS_STREAM: dict[str, Any] = {
    "errors": [
        {
            "message": "Subscriptions need a streaming transport: a websocket to /graphql "
            "(subprotocol graphql-transport-ws or graphql-ws), or a POST to /graphql with "
            "'Accept: text/event-stream' (server-sent events) or 'Accept: multipart/mixed'.",
            "extensions": {"code": "BAD_REQUEST"},
        }
    ]
}


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class GraphQLEndpoint:
    """The ASGI app mounted at ``/graphql``."""

    def __init__(
        self,
        sessions: Sessions,
        schema: TimergateSchema,
        documents: DocumentCache,
        fallback: _ASGIApp,
    ) -> None:
        self._sessions = sessions
        self._schema = schema._schema
        self._documents = documents
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._fallback(scope, receive, send)
        headers = Headers(scope=scope)
        accept = headers.get("accept", "")
        streams = any(m in accept for m in _STREAM_MEDIA)
        media = _RESPONSE_MEDIA if _RESPONSE_MEDIA in accept else "application/json"
        if scope["method"] == "GET":
            operation = self._operation_via_get(scope)
            if operation is OperationType.MUTATION:
                body = _error_body(
                    "Mutations are not allowed over GET; send them as a POST.",
                    "METHOD_NOT_ALLOWED",
                )
                return await _respond(send, 405, "application/json", body, [(b"allow", b"POST")])
            if operation is OperationType.SUBSCRIPTION and not streams:
                status = 400 if media == _RESPONSE_MEDIA else 200
                return await _respond(send, status, media, orjson.dumps(_NEEDS_STREAM))
        content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        fast = content_type == "application/json" and not streams
        if scope["method"] != "POST" or not fast:
            return await self._to_view(scope, receive, send, headers)
        try:
            body = await _read_body(receive)
        except _BadRequest as exc:
            return await _respond(send, exc.status, media, _error_body(exc.message, exc.code))
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return await _respond(
                send, 400, media, _error_body("The request body is not valid JSON.", "BAD_REQUEST")
            )
        if isinstance(payload, list):
            return await self._to_view(scope, _replay(body), send, headers)
        try:
            context = await self._context(headers, scope)
        except (Unauthenticated, RateLimited) as exc:
            return await refuse(send, exc, media)
        try:
            status, result = await self._run(payload, context)
        except _BadRequest as exc:
            return await _respond(send, exc.status, media, _error_body(exc.message, exc.code))
        if media != _RESPONSE_MEDIA and status == 400:
            status = 200  # application/json clients expect 200 for any GraphQL response
        await _respond(send, status, media, orjson.dumps(result))

    async def _to_view(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: Headers,
        context: RequestContext | None = None,
    ) -> None:
        """Hand the request to Strawberry's view (which authenticates it if ``context`` is None)."""
        if context is not None:
            scope[SCOPE_CONTEXT] = context
        await self._fallback(scope, receive, send)

    def _operation_via_get(self, scope: Scope) -> OperationType | None:
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query = params.get("query", [""])[-1]
        if not query:
            return None
        operation = params.get("operationName", [None])[-1] or None
        return self._documents.get(query).operation_type(operation)

    async def _run(self, payload: Any, context: RequestContext) -> tuple[int, dict[str, Any]]:
        if not isinstance(payload, dict):
            raise _BadRequest("The request body must be a JSON object with a 'query'.")
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise _BadRequest("The request has no 'query' string.")
        if variables is not None and not isinstance(variables, dict):
            raise _BadRequest("'variables' must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _BadRequest("'operationName' must be a string.")
        prepared = self._documents.get(query)
        if prepared.document is None:
            errors = [coded_error(e).formatted for e in prepared.errors]
            return 400, {"errors": errors}
        if prepared.operation_type(operation_name) is OperationType.SUBSCRIPTION:
            return 400, _NEEDS_STREAM
        result = execute(
            self._schema,
            prepared.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=StrawberryGraphQLCoreExecutionContext,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return _shape(result, operation_name, context)

    async def _context(self, headers: Headers, scope: Scope) -> RequestContext:
        """Authenticate and count the request (raises the refusal); its context."""
        sessions = self._sessions
        session = await sessions.authenticate(headers.get("authorization"), client_address(scope))
        return sessions.context(session, request=scope)


def _shape(
    result: ExecutionResult, operation_name: str | None, context: RequestContext
) -> tuple[int, dict[str, Any]]:
    if not result.errors and not context.partial_errors:
        return 200, {"data": result.data}
    user = context.user.id if context.user else None
    errors = [
        coded_error(e, operation=operation_name, user=user).formatted
        for e in (*(result.errors or ()), *context.partial_errors)
    ]
    if not result.errors:
        return 200, {"data": result.data, "errors": errors}
    if result.data is None and all(e.path is None for e in result.errors):
        # A request error (e.g. a variable of the wrong type): nothing was executed.
        return 400, {"errors": errors}
    return 200, {"data": result.data, "errors": errors}


def _error_body(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


async def refuse(send: Send, error: TimergateError, media: str = "application/json") -> None:
    """Refuse the whole request: 401 for a bad token, 429 with ``Retry-After`` past a limit."""
    status, headers = http_refusal(error)
    body = orjson.dumps({"errors": [{"message": error.message, "extensions": error.extensions()}]})
    await _respond(send, status, media, body, headers)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _BadRequest("The client went away.", status=400)
        # The size was bounded on the way in (timergate.transport.body_limit).
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the already-read body to another app."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _respond(
    send: Send,
    status: int,
    media: str,
    body: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", f"{media}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or ()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
