"""Gateway instances inside the test process: each its own app, sharing a store and a broker.

A broker URL may lead through a :class:`~tcp_proxy.TcpProxy`, so a test can take one
instance's broker away while the others keep theirs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from timergate.app import create_app
from timergate.auth import hash_token, new_token
from timergate.config import Settings
from timergate.domain import Clock, TokenGrant, User
from timergate.gateway import Gateway

__all__ = ["Instance", "instance", "new_user"]


@dataclass
class Instance:
    """One running gateway, and an HTTP client to its app."""

    app: Starlette
    http: httpx.AsyncClient

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.state.gateway
        return gateway

    async def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        """``data`` of a GraphQL request as the token's user, which must have no errors."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@asynccontextmanager
async def instance(
    settings: Settings,
    *,
    clock: Clock | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Instance]:
    """A gateway on ``settings``, started, with a client; stopped on the way out.

    ``upstream_transport`` leads its vendor connections to fakes in this process.
    """
    app = create_app(settings, clock=clock, upstream_transport=upstream_transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://timergate.test"
        ) as http,
    ):
        yield Instance(app, http)


async def new_user(gateway: Gateway, name: str) -> tuple[User, str]:
    """A user with a fresh bearer token."""
    token = new_token()
    (user,) = await gateway.store.grant_tokens(
        [TokenGrant(name, hash_token(token), token[:7])], gateway.clock.now()
    )
    return user, token
