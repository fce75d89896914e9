"""Fixtures: a running app on a fresh store, users with tokens, a GraphQL client.

The store is a fresh SQLite file; a test module runs on PostgreSQL too with
``pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fresh_stores import fresh_store_url
from timergate.app import create_app
from timergate.auth import hash_token, new_token
from timergate.config import Settings
from timergate.domain import ManualClock, TokenGrant
from timergate.gateway import Gateway


@pytest.fixture(scope="session", autouse=True)
def data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory of the run's own (XDG_DATA_HOME), so a default store stays out of the
    user's; servers started as subprocesses inherit it."""
    before = os.environ.get("XDG_DATA_HOME")
    home = tmp_path_factory.mktemp("data-home")
    os.environ["XDG_DATA_HOME"] = str(home)
    yield home
    if before is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = before


@pytest.fixture
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty store: SQLite, or the backend the test is parametrised with."""
    async with fresh_store_url(getattr(request, "param", "sqlite"), tmp_path) as url:
        yield url


@pytest.fixture
def settings(store_url: str) -> Settings:
    # In-process requests arrive far faster than any frontend's: the limiter counts them,
    # with limits no test reaches (tests/test_rate_limits.py sets its own).
    return Settings(
        database_url=store_url,
        access_log=False,
        rate_limit_per_token="100000/second",
        rate_limit_per_address="100000/second",
    )


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand, so elapsed times are exact."""
    return ManualClock()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def gateway(app: Starlette) -> Gateway:
    gw: Gateway = app.state.gateway
    return gw


@dataclass
class GraphQLClient:
    """Posts GraphQL to the app as one user (``token``), or anonymously."""

    http: httpx.AsyncClient
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = dict(self.headers)
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response body; fails the test on a non-200 status."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """``data`` of a response that must have no errors."""
        body = await self.execute(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single error of a response that must fail."""
        body = await self.execute(query, variables)
        assert len(body.get("errors", [])) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://timergate.test") as client:
        yield client


async def make_token(gateway: Gateway, name: str) -> str:
    token = new_token()
    await gateway.store.grant_tokens(
        [TokenGrant(name, hash_token(token), token[:7])], gateway.clock.now()
    )
    return token


@pytest.fixture
async def alice(gateway: Gateway, http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http, await make_token(gateway, "alice"))


@pytest.fixture
async def bob(gateway: Gateway, http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http, await make_token(gateway, "bob"))


@pytest.fixture
def anonymous(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
