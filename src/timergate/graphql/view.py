"""Strawberry's ASGI view, given our context and authentication."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UnsetType

from timergate.gateway import Gateway
from timergate.graphql.context import RequestContext
from timergate.graphql.schema import TimergateSchema

__all__ = ["TimergateView"]


class TimergateView(GraphQL[RequestContext, None]):
    """Serves GET queries, GraphiQL, SSE and multipart streams, and both websocket protocols."""

    def __init__(self, gateway: Gateway, schema: TimergateSchema) -> None:
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

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        gateway = self.gateway
        user = None
        if isinstance(request, Request):
            header = request.headers.get("authorization")
            if header is not None:
                user = await gateway.authenticator.authenticate_header(header)
                if user is None:
                    raise HTTPException(401, "The bearer token is malformed, unknown or revoked.")
        return RequestContext(
            gateway=gateway, user=user, now=gateway.clock.now(), request=request, response=response
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, Any] | None:
        """Authenticate a websocket in ``connection_init`` (``{"Authorization": "Bearer …"}``)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization", params.get("authorization"))
        user = None
        if isinstance(header, str):
            user = await self.gateway.authenticator.authenticate_header(header)
        if user is None:
            raise ConnectionRejectionError(
                {"message": 'Send a valid token as {"Authorization": "Bearer <token>"}.'}
            )
        context.user = user
        return None
