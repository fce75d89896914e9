"""A real gateway for the live tests: ``timergate serve`` in a subprocess on a loopback port.

The server is started once per session (a second one, with an allowed browser origin, once
per module that asks for it) and always killed at the end. Each test makes its own users, so
tests never see each other's timers or events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from live_support import LiveServer, Person, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The gateway under test: no allowed browser origins."""
    with running_server(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture(scope="module")
def server_for_app_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second gateway that lets the browser origin https://app.example in."""
    with running_server(
        tmp_path_factory.mktemp("origin"), TIMERGATE_ALLOWED_ORIGINS="https://app.example"
    ) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as client:
        yield client


People = Callable[..., Awaitable[list[Person]]]


@pytest.fixture
def people(server: LiveServer, http: httpx.AsyncClient) -> People:
    """Make fresh users with tokens: ``alice, bob = await people("alice", "bob")``."""

    async def make(*names: str) -> list[Person]:
        unique = [f"{name}-{uuid.uuid4().hex[:8]}" for name in names]
        tokens = server.create_tokens(*unique)
        return [Person(name, token, http) for name, token in zip(unique, tokens, strict=True)]

    return make
