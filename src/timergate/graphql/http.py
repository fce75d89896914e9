"""``/graphql`` over HTTP: a lean path for JSON POSTs, Strawberry's view for the rest.

Most traffic is the same few operations posted as JSON. For those the endpoint parses and
validates each distinct query text once (an LRU of prepared documents), then runs graphql-core
directly on Strawberry's schema: no per-request extension machinery, one JSON encode with
orjson. GET queries, GraphiQL, batches, multipart and SSE streams, and websockets go to
Strawberry's own view, which follows the GraphQL-over-HTTP spec for them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any
from urllib.parse import parse_qs

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from timergate.auth import bearer_token
from timergate.errors import Unauthenticated
from timergate.gateway import Gateway
from timergate.graphql.context import RequestContext
from timergate.graphql.errors import coded_error
from timergate.graphql.schema import TimergateSchema, extra_validation_rules

__all__ = ["MAX_BODY_BYTES", "GraphQLEndpoint"]

_log = logging.getLogger("timergate.http")

MAX_BODY_BYTES = 1 << 20
_MAX_TOKENS = 5000
_RESPONSE_MEDIA = "application/graphql-response+json"
_STREAM_MEDIA = ("text/event-stream", "multipart/mixed")
_ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A parsed and validated query text, or the errors that stop it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    operations: dict[str | None, OperationType]


class _DocumentCache:
    def __init__(self, schema: TimergateSchema, size: int = 512) -> None:
        self._schema = schema._schema
        self._rules = (*specified_rules, *extra_validation_rules(schema))
        self._size = size
        self._prepared: OrderedDict[str, _Prepared] = OrderedDict()

    def get(self, query: str) -> _Prepared:
        prepared = self._prepared.get(query)
        if prepared is None:
            prepared = self._prepare(query)
            self._prepared[query] = prepared
            if len(self._prepared) > self._size:
                self._prepared.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> _Prepared:
        try:
            document = parse(query, max_tokens=_MAX_TOKENS)
        except GraphQLError as error:
            return _Prepared(None, (error,), {})
        errors = validate(self._schema, document, self._rules)
        if errors:
            return _Prepared(None, tuple(errors), {})
        operations = {
            (d.name.value if d.name else None): d.operation
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        }
        return _Prepared(document, (), operations)


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class GraphQLEndpoint:
    """The ASGI app mounted at ``/graphql``."""

    def __init__(self, gateway: Gateway, schema: TimergateSchema, fallback: _ASGIApp) -> None:
        self._gateway = gateway
        self._schema = schema._schema
        self._documents = _DocumentCache(schema)
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._fallback(scope, receive, send)
        if scope["method"] == "GET" and self._is_mutation_via_get(scope):
            body = _error_body(
                "Mutations are not allowed over GET; send them as a POST.", "METHOD_NOT_ALLOWED"
            )
            return await _respond(send, 405, "application/json", body, [(b"allow", b"POST")])
        if scope["method"] != "POST":
            return await self._fallback(scope, receive, send)
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        accept = headers.get("accept", "")
        if content_type != "application/json" or any(m in accept for m in _STREAM_MEDIA):
            return await self._fallback(scope, receive, send)
        media = _RESPONSE_MEDIA if _RESPONSE_MEDIA in accept else "application/json"
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
            return await self._fallback(scope, _replay(body), send)
        try:
            status, result = await self._run(payload, headers, scope)
        except _BadRequest as exc:
            extra = [(b"www-authenticate", b"Bearer")] if exc.status == 401 else []
            return await _respond(
                send, exc.status, media, _error_body(exc.message, exc.code), extra
            )
        except _Delegate:
            return await self._fallback(scope, _replay(body), send)
        if media != _RESPONSE_MEDIA and status == 400:
            status = 200  # application/json clients expect 200 for any GraphQL response
        await _respond(send, status, media, orjson.dumps(result))

    def _is_mutation_via_get(self, scope: Scope) -> bool:
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query = params.get("query", [""])[-1]
        if not query:
            return False
        operation = params.get("operationName", [None])[-1] or None
        return self._documents.get(query).operations.get(operation) is OperationType.MUTATION

    async def _run(
        self, payload: Any, headers: Headers, scope: Scope
    ) -> tuple[int, dict[str, Any]]:
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
        if prepared.operations.get(operation_name) is OperationType.SUBSCRIPTION:
            raise _Delegate
        context = await self._context(headers, scope)
        result = execute(
            self._schema,
            prepared.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=StrawberryGraphQLCoreExecutionContext,
            is_awaitable=optimized_is_awaitable,
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return _shape(result, operation_name, context)

    async def _context(self, headers: Headers, scope: Scope) -> RequestContext:
        gateway = self._gateway
        user = None
        header = headers.get("authorization")
        if header is not None:
            token = bearer_token(header)
            user = await gateway.authenticator.authenticate(token) if token else None
            if user is None:
                raise _BadRequest(
                    "The bearer token is malformed, unknown or revoked; ask for a new one.",
                    status=401,
                    code=Unauthenticated.code,
                )
        return RequestContext(gateway=gateway, user=user, now=gateway.clock.now(), request=scope)


class _Delegate(Exception):
    """This request is one for Strawberry's own view (a subscription, say)."""


def _shape(
    result: ExecutionResult, operation_name: str | None, context: RequestContext
) -> tuple[int, dict[str, Any]]:
    if not result.errors:
        return 200, {"data": result.data}
    user = context.user.id if context.user else None
    errors = [coded_error(e, operation=operation_name, user=user).formatted for e in result.errors]
    if result.data is None and all(e.path is None for e in result.errors):
        # A request error (e.g. a variable of the wrong type): nothing was executed.
        return 400, {"errors": errors}
    return 200, {"data": result.data, "errors": errors}


def _error_body(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _BadRequest("The client went away.", status=400)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BadRequest(
                f"The request body is over {MAX_BODY_BYTES} bytes.", status=413, code="BAD_REQUEST"
            )
        chunks.append(chunk)
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
