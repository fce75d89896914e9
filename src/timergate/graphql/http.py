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
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any
from urllib.parse import parse_qs

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationType,
    execute,
)
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from timergate.errors import RateLimited, TimergateError, Unauthenticated
from timergate.graphql.context import NO_TOKEN, RequestContext
from timergate.graphql.documents import DocumentCache, Prepared
from timergate.graphql.errors import coded_error
from timergate.graphql.schema import TimergateSchema
from timergate.sessions import SCOPE_CONTEXT, SCOPE_MEDIA, Sessions, client_address, http_refusal
from timergate.transport.media import GRAPHQL_RESPONSE, negotiate

__all__ = ["GraphQLEndpoint", "needs_viewer", "refuse"]

_log = logging.getLogger("timergate.http")

#: Root fields anyone may ask for without a token: the schema is public.
_PUBLIC_ROOT_FIELDS = frozenset({"__schema", "__type", "__typename"})
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
    def __init__(
        self,
        message: str,
        status: int = 400,
        code: str = "BAD_REQUEST",
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.code, self.headers = message, status, code, headers


class GraphQLEndpoint:
    """The ASGI app mounted at ``/graphql``.

    Every request is negotiated here (:mod:`timergate.transport.media`), authenticated once,
    and answered here when its answer is JSON: queries over GET or POST, mutations over POST,
    and every refusal, in the JSON type the client prefers. Streams (subscriptions, and
    queries from clients that accept nothing but a stream), batches, other body types and the
    GraphiQL page go on to Strawberry's view.
    """

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
        acceptable = negotiate(headers.get("accept"))
        media = acceptable.response_media
        method = scope["method"]
        body: bytes | None = None
        try:
            if method == "GET":
                payload = _payload_via_get(scope)
                if payload is None:  # no query: the GraphiQL page (or the view's own 400)
                    return await self._fallback(scope, receive, send)
            elif method == "POST":
                content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
                if content_type != "application/json":
                    return await self._fallback(scope, receive, send)
                body = await _read_body(receive)
                try:
                    payload = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise _BadRequest("The request body is not valid JSON.") from None
                if isinstance(payload, list):  # a batch: the view answers it
                    return await self._fallback(scope, _replay(body, receive), send)
            else:
                raise _BadRequest(
                    f"/graphql answers GET and POST, not {method}.",
                    status=405,
                    code="METHOD_NOT_ALLOWED",
                    headers=[(b"allow", b"GET, POST")],
                )
            request = _request(payload)
            prepared = self._documents.get(request.query)
            operation = prepared.operation_type(request.operation_name)
            if method == "GET" and operation is OperationType.MUTATION:
                raise _BadRequest(
                    "Mutations are not allowed over GET; send them as a POST.",
                    status=405,
                    code="METHOD_NOT_ALLOWED",
                    headers=[(b"allow", b"POST")],
                )
        except _BadRequest as exc:
            return await _respond(
                send, exc.status, media, _error_body(exc.message, exc.code), exc.headers
            )
        # A subscription streams; so does anything else when the client takes no JSON.
        streams = acceptable.stream is not None and (
            operation is OperationType.SUBSCRIPTION or acceptable.json is None
        )
        if not streams and prepared.document is None:
            errors = [coded_error(e).formatted for e in prepared.errors]
            return await _respond(
                send, _status(400, media), media, orjson.dumps({"errors": errors})
            )
        if not streams and operation is OperationType.SUBSCRIPTION:
            return await _respond(send, _status(400, media), media, orjson.dumps(_NEEDS_STREAM))
        try:
            context = await self._context(headers, scope)
            if context.user is None and needs_viewer(prepared, request.operation_name):
                raise Unauthenticated(NO_TOKEN)
        except (Unauthenticated, RateLimited) as exc:
            return await refuse(send, exc, media)
        if streams:
            assert acceptable.stream is not None
            # The view streams the answer (or, for a refused document, the refusal).
            scope[SCOPE_CONTEXT] = context
            scope[SCOPE_MEDIA] = media
            scope["headers"] = _with_accept(scope["headers"], acceptable.stream)
            if body is not None:
                receive = _replay(body, receive)
            return await self._fallback(scope, receive, send)
        status, result = await self._run(request, prepared, context)
        await _respond(send, _status(status, media), media, orjson.dumps(result))

    async def _run(
        self, request: _Request, prepared: Prepared, context: RequestContext
    ) -> tuple[int, dict[str, Any]]:
        assert prepared.document is not None
        result = execute(
            self._schema,
            prepared.document,
            context_value=context,
            variable_values=request.variables,
            operation_name=request.operation_name,
            executor_class=StrawberryGraphQLCoreExecutionContext,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return _shape(result, request.operation_name, context)

    async def _context(self, headers: Headers, scope: Scope) -> RequestContext:
        """Authenticate and count the request (raises the refusal); its context."""
        sessions = self._sessions
        session = await sessions.authenticate(headers.get("authorization"), client_address(scope))
        return sessions.context(session, request=scope)


@dataclass(frozen=True, slots=True)
class _Request:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def _request(payload: Any) -> _Request:
    """The GraphQL request in a decoded body or query string; :class:`_BadRequest` if none."""
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
    return _Request(query, variables, operation_name or None)


def _payload_via_get(scope: Scope) -> dict[str, Any] | None:
    """The request in a GET's query string (``variables`` decoded); None without a query."""
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    query = params.get("query", [""])[-1]
    if not query:
        return None
    payload: dict[str, Any] = {"query": query}
    if name := params.get("operationName", [""])[-1]:
        payload["operationName"] = name
    if variables := params.get("variables", [""])[-1]:
        try:
            payload["variables"] = orjson.loads(variables)
        except orjson.JSONDecodeError:
            raise _BadRequest("The 'variables' parameter is not valid JSON.") from None
    return payload


def needs_viewer(prepared: Prepared, operation_name: str | None) -> bool:
    """Whether the operation asks for anything beyond introspection (which is public)."""
    operation = prepared.operation(operation_name)
    if operation is None or prepared.document is None:
        return False
    fragments = {
        d.name.value: d
        for d in prepared.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    pending, seen = [operation.selection_set], set[str]()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in _PUBLIC_ROOT_FIELDS:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return False


def _status(status: int, media: str) -> int:
    """``status`` for a GraphQL response in ``media``: ``application/json`` clients get 200
    for any well-formed request (the spec's rule for that type)."""
    return 200 if status == 400 and media != GRAPHQL_RESPONSE else status


def _with_accept(headers: list[tuple[bytes, bytes]], accept: str) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Accept`` set to the negotiated stream alone."""
    kept = [(k, v) for k, v in headers if k.lower() != b"accept"]
    return [*kept, (b"accept", accept.encode("latin-1"))]


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


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to another app, then the client's own
    messages (a streaming response listens there for the client to go away)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


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
