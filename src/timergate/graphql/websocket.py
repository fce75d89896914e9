"""GraphQL over websockets at ``/graphql``: ``graphql-transport-ws`` and legacy ``graphql-ws``.

One handler speaks both protocols. A plain ``timerTicks`` selection is rendered straight from
the tick (see :mod:`timergate.graphql.tick_render`) and written by one writer task per
connection, so a tick costs a dict and a JSON encode, not an execution; other operations run
through graphql-core on Strawberry's schema, one task each.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import replace
from inspect import isawaitable
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_argument_values,
    get_variable_values,
    subscribe,
)
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from timergate.errors import RateLimited, TimergateError, TooManyConnections, Unauthenticated
from timergate.gateway import Gateway
from timergate.graphql.context import RequestContext
from timergate.graphql.documents import DocumentCache
from timergate.graphql.errors import coded_error
from timergate.graphql.inputs import global_id
from timergate.graphql.schema import TimergateSchema
from timergate.graphql.tick_render import TickRenderer, compile_tick_renderer
from timergate.graphql.tick_writer import TickWriter
from timergate.live.subscriptions import TickSubscription
from timergate.sessions import (
    REVOKED_CLOSE,
    LiveConnection,
    Sessions,
    client_address,
    websocket_refusal,
)
from timergate.transport.origins import allowed_browser_origins

__all__ = [
    "GRAPHQL_TRANSPORT_WS",
    "GRAPHQL_WS",
    "MAX_OPERATIONS_PER_CONNECTION",
    "SHUTDOWN_CLOSE",
    "SLOW_CONSUMER_CLOSE",
    "WebSocketEndpoint",
]

_log = logging.getLogger("timergate.websocket")

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
GRAPHQL_WS = "graphql-ws"
_PROTOCOLS = (GRAPHQL_TRANSPORT_WS, GRAPHQL_WS)
#: Operations one connection may run at once (Strawberry's own default).
MAX_OPERATIONS_PER_CONNECTION = 100
#: Close code and reason for a subscriber whose undelivered events passed the bound.
SLOW_CONSUMER_CLOSE = (1008, "Slow consumer: too many undelivered events; reconnect and re-read")
#: Close code and reason for every socket when the instance shuts down. 1012 (Service Restart)
#: says the server is going away for now and the client should reconnect, which graphql-ws
#: and browsers' reconnecting clients do (another instance answers behind a load balancer);
#: 1001 (Going Away) is also what a browser sends when a page closes, so says less.
SHUTDOWN_CLOSE = (1012, "Service Restart: reconnect and re-read")


class WebSocketEndpoint:
    """The ASGI websocket app; one :class:`_Connection` per socket."""

    def __init__(
        self,
        gateway: Gateway,
        schema: TimergateSchema,
        documents: DocumentCache,
        *,
        sessions: Sessions | None = None,
        init_timeout: float = 10.0,
    ) -> None:
        self.gateway = gateway
        self.sessions = sessions or Sessions(gateway)
        self.schema = schema._schema
        self.documents = documents
        self.init_timeout = init_timeout
        settings = gateway.settings
        self._allowed_origins = frozenset(
            allowed_browser_origins(settings.allowed_origins, settings.host, settings.port)
        )
        self._tick_plans: OrderedDict[tuple[str, str | None], Any] = OrderedDict()
        self._open: set[_Connection] = set()
        gateway.draining.on_drain(self._close_all)

    async def _close_all(self) -> None:
        """Close every socket with :data:`SHUTDOWN_CLOSE` (the instance is draining)."""
        for connection in list(self._open):
            try:
                await connection.close(*SHUTDOWN_CLOSE)
            except Exception:
                _log.debug("a websocket was gone before it could be closed", exc_info=True)

    def origin_allowed(self, scope: Scope) -> bool:
        """Browsers send ``Origin``; only the origins CORS allows may connect.

        Compared exactly as CORS compares it, and never with ``Host`` (see
        :mod:`timergate.transport.origins`). Clients that are not browsers send no ``Origin``.
        """
        origin = Headers(scope=scope).get("origin")
        if origin is None or "*" in self._allowed_origins:
            return True
        return origin in self._allowed_origins

    def tick_plan(
        self,
        query: str,
        operation_name: str | None,
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> tuple[str, FieldNode, TickRenderer] | None:
        key = (query, operation_name)
        if key in self._tick_plans:
            self._tick_plans.move_to_end(key)
            plan: tuple[str, FieldNode, TickRenderer] | None = self._tick_plans[key]
            return plan
        plan = compile_tick_renderer(document, operation)
        self._tick_plans[key] = plan
        if len(self._tick_plans) > 256:
            self._tick_plans.popitem(last=False)
        return plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if not self.origin_allowed(scope):
            _log.warning("refused a websocket from origin %r", Headers(scope=scope).get("origin"))
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        offered = scope.get("subprotocols") or []
        protocol = next((p for p in offered if p in _PROTOCOLS), None)
        await send({"type": "websocket.accept", "subprotocol": protocol})
        if protocol is None:
            await send(
                {"type": "websocket.close", "code": 4406, "reason": "Subprotocol not acceptable"}
            )
            return
        if self.gateway.draining.started:
            code, reason = SHUTDOWN_CLOSE
            await send({"type": "websocket.close", "code": code, "reason": reason})
            return
        connection = _Connection(self, protocol, send, client_address(scope))
        self._open.add(connection)
        try:
            await connection.serve(receive)
        finally:
            self._open.discard(connection)


class _Connection:
    __slots__ = (
        "_closer",
        "_init_timer",
        "_send",
        "address",
        "closed",
        "context",
        "endpoint",
        "init_received",
        "legacy",
        "live",
        "tasks",
        "ticks",
    )

    def __init__(
        self, endpoint: WebSocketEndpoint, protocol: str, send: Send, address: str
    ) -> None:
        self.endpoint = endpoint
        self.address = address
        self.live: LiveConnection | None = None
        self.legacy = protocol == GRAPHQL_WS
        self._send = send
        self.context: RequestContext | None = None
        self.init_received = False
        self.closed = False
        self.ticks = TickWriter(send, legacy=self.legacy)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._closer: asyncio.Task[None] | None = None
        self._init_timer: asyncio.TimerHandle | None = None

    # Transport.

    async def send_json(self, message: dict[str, Any]) -> None:
        if not self.closed:
            await self._send({"type": "websocket.send", "text": orjson.dumps(message).decode()})

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = self.ticks.closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    def _close_soon(self, code: int, reason: str) -> None:
        if not self.closed and self._closer is None:
            self._closer = asyncio.get_running_loop().create_task(self.close(code, reason))

    async def serve(self, receive: Receive) -> None:
        loop = asyncio.get_running_loop()
        self._init_timer = loop.call_later(self.endpoint.init_timeout, self._init_timed_out)
        try:
            while not self.closed:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    self.closed = True
                    break
                text = message.get("text")
                if text is None:
                    await self.close(4400, "Binary messages are not supported")
                    break
                await self._handle(text)
        except OSError:
            self.closed = True  # the peer vanished mid-send
        except Exception:
            self.closed = True
            _log.exception("websocket connection failed")
        finally:
            if self._init_timer is not None:
                self._init_timer.cancel()
            await self._cleanup()

    def _init_timed_out(self) -> None:
        if not self.init_received:
            self._close_soon(4408, "Connection initialisation timeout")

    async def _cleanup(self) -> None:
        self.closed = True
        if self.live is not None:
            self.live.release()
        for task in self.tasks.values():
            task.cancel()
        await self.ticks.close()

    # Protocol messages.

    async def _handle(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return await self.close(4400, "Invalid message: not JSON")
        kind = message.get("type") if isinstance(message, dict) else None
        if not isinstance(kind, str):
            return await self.close(4400, "Invalid message: no type")
        if kind == "connection_init":
            return await self._init(message.get("payload"))
        if kind == "ping" and not self.legacy:
            return await self.send_json({"type": "pong"})
        if kind == "pong" and not self.legacy:
            return None
        if kind == "connection_terminate" and self.legacy:
            return await self.close(1000, "")
        if kind in ("subscribe", "start"):
            return await self._subscribe(message)
        if kind in ("complete", "stop"):
            op_id = message.get("id")
            if isinstance(op_id, str):
                await self._stop(op_id)
            return None
        return await self.close(4400, f"Invalid message: unknown type {kind!r}")

    async def _init(self, payload: object) -> None:
        if self.init_received:
            return await self.close(4429, "Too many initialisation requests")
        self.init_received = True
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None
        if payload is not None and not isinstance(payload, dict):
            return await self.close(
                4400, "Invalid message: connection_init payload must be an object"
            )
        sessions = self.endpoint.sessions
        try:
            session = await sessions.authenticate_init(payload, self.address)
            self.live = sessions.open(session, on_revoke=lambda: self._close_soon(*REVOKED_CLOSE))
        except (Unauthenticated, RateLimited, TooManyConnections) as exc:
            code, reason = websocket_refusal(exc)
            if self.legacy:
                error = {"message": exc.message, "extensions": exc.extensions()}
                await self.send_json({"type": "connection_error", "payload": error})
            return await self.close(code, reason)
        self.context = sessions.context(
            session, on_slow_consumer=lambda: self._close_soon(*SLOW_CONSUMER_CLOSE)
        )
        await self.send_json({"type": "connection_ack"})

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if self.context is None:
            return await self.close(4401, "Unauthorized")
        op_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            return await self.close(4400, "Invalid message: subscribe needs an id and a payload")
        if op_id in self.ticks or op_id in self.tasks:
            return await self.close(4409, f"Subscriber for {op_id} already exists")
        if len(self.ticks) + len(self.tasks) >= MAX_OPERATIONS_PER_CONNECTION:
            return await self._send_errors(
                op_id,
                [
                    _request_error(
                        f"At most {MAX_OPERATIONS_PER_CONNECTION} operations may run on one "
                        "connection; complete one first or open another connection."
                    )
                ],
            )
        # Each operation counts like an HTTP request: mutations may come this way too.
        if self.context.session is not None:
            try:
                await self.endpoint.sessions.count(self.context.session)
            except RateLimited as exc:
                error = GraphQLError(exc.message, extensions=exc.extensions())
                return await self._send_errors(op_id, [error])
        query = payload.get("query")
        variables = payload.get("variables") or {}
        operation_name = payload.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict)
            or not (operation_name is None or isinstance(operation_name, str))
        ):
            return await self._send_errors(
                op_id, [_request_error("The payload needs a query string.")]
            )
        prepared = self.endpoint.documents.get(query)
        if prepared.document is None:
            return await self._send_errors(op_id, [coded_error(e) for e in prepared.errors])
        operation = prepared.operation(operation_name)
        if operation is None:
            return await self._send_errors(
                op_id, [_request_error("Name the operation to run with operationName.")]
            )
        context = replace(self.context, now=self.endpoint.gateway.clock.now(), partial_errors=[])
        if operation.operation is OperationType.SUBSCRIPTION:
            plan = self.endpoint.tick_plan(query, operation_name, prepared.document, operation)
            if plan is not None:
                return await self._start_ticks(op_id, plan, operation, variables, context)
        self.tasks[op_id] = asyncio.get_running_loop().create_task(
            self._run(op_id, prepared.document, operation, variables, operation_name, context)
        )
        return None

    async def _stop(self, op_id: str) -> None:
        await self.ticks.stop(op_id)
        task = self.tasks.pop(op_id, None)
        if task is not None:
            task.cancel()

    # Ticks: rendered from the tick itself and written by the connection's TickWriter.

    async def _start_ticks(
        self,
        op_id: str,
        plan: tuple[str, FieldNode, TickRenderer],
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        context: RequestContext,
    ) -> None:
        _, field, render = plan
        schema = self.endpoint.schema
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return await self._send_errors(op_id, [coded_error(e) for e in coerced])
        subscription_type = schema.subscription_type
        assert subscription_type is not None
        try:
            args = get_argument_values(subscription_type.fields["timerTicks"], field, coerced)
        except GraphQLError as error:
            return await self._send_errors(op_id, [coded_error(error)])
        feed = self.ticks.add(op_id, render)
        try:
            raw_id = args.get("timerId")
            target = global_id(raw_id, "Timer", "timerId") if raw_id is not None else None
            subscription = await TickSubscription.open(
                context.gateway,
                context.viewer,
                feed,
                timer_id=target.native_id if target else None,
                provider=target.provider if target else None,
                interval=args["intervalSeconds"],
            )
        except TimergateError as exc:
            self.ticks.discard(op_id)
            located = GraphQLError(
                exc.message,
                nodes=[field],
                path=[field.alias.value if field.alias else "timerTicks"],
                original_error=exc,
            )
            return await self._send_errors(op_id, [coded_error(located)])
        self.ticks.attach(op_id, subscription)
        return None

    # Everything else: graphql-core on Strawberry's schema.

    async def _run(
        self,
        op_id: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        operation_name: str | None,
        context: RequestContext,
    ) -> None:
        schema = self.endpoint.schema
        kwargs: dict[str, Any] = {
            "context_value": context,
            "variable_values": variables,
            "operation_name": operation_name,
            "executor_class": StrawberryGraphQLCoreExecutionContext,
        }
        stream: AsyncIterator[ExecutionResult] | None = None
        try:
            if operation.operation is OperationType.SUBSCRIPTION:
                result: Any = subscribe(schema, document, **kwargs)
            else:
                awaitable_check: Any = optimized_is_awaitable
                result = execute(schema, document, is_awaitable=awaitable_check, **kwargs)
            if isawaitable(result):
                result = await result
            if isinstance(result, ExecutionResult):
                subscribing = operation.operation is OperationType.SUBSCRIPTION
                if result.errors and (subscribing or result.data is None):
                    errors = [self._code(e, context) for e in result.errors]
                    return await self._send_errors(op_id, errors)
                await self._send_result(op_id, result, context)
            else:
                stream = result
                async for item in stream:
                    await self._send_result(op_id, item, context)
            await self.send_json({"id": op_id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except GraphQLError as error:
            await self._send_errors(op_id, [self._code(error, context)])
        except TimergateError as exc:
            await self._send_errors(
                op_id, [coded_error(GraphQLError(exc.message, original_error=exc))]
            )
        except Exception as exc:
            if self.closed:
                return
            await self._send_errors(
                op_id, [self._code(GraphQLError(str(exc), original_error=exc), context)]
            )
        finally:
            self.tasks.pop(op_id, None)
            if stream is not None and hasattr(stream, "aclose"):
                await stream.aclose()

    def _code(self, error: GraphQLError, context: RequestContext) -> GraphQLError:
        return coded_error(
            error, operation="websocket", user=context.user.id if context.user else None
        )

    async def _send_result(
        self, op_id: str, result: ExecutionResult, context: RequestContext
    ) -> None:
        payload: dict[str, Any] = {"data": result.data}
        errors = [*(result.errors or ()), *context.partial_errors]
        context.partial_errors.clear()
        if errors:
            payload["errors"] = [self._code(e, context).formatted for e in errors]
        await self.send_json(
            {"id": op_id, "type": "data" if self.legacy else "next", "payload": payload}
        )

    async def _send_errors(self, op_id: str, errors: list[GraphQLError]) -> None:
        formatted = [e.formatted for e in errors]
        if self.legacy:
            # subscriptions-transport-ws sends one error object, then nothing for that id.
            await self.send_json({"id": op_id, "type": "error", "payload": formatted[0]})
        else:
            await self.send_json({"id": op_id, "type": "error", "payload": formatted})


def _request_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})
