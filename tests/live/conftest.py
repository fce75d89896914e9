"""A real gateway for the live tests: ``timergate serve`` in a subprocess on a loopback port.

The server is started once per session (a second one, with an allowed browser origin, once
per module that asks for it) and always killed at the end. Each test makes its own users, so
tests never see each other's timers or events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_support import Person

from serving import create_tokens, free_port, timergate_serve

#: How long the server may take to answer /healthz after it is launched.
STARTUP_DEADLINE = 15.0


@dataclass(frozen=True)
class LiveServer:
    """A running ``timergate serve`` process."""

    port: int
    database_url: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def create_tokens(self, *names: str) -> list[str]:
        """A new token for each user name, made by ``timergate token create``."""
        return create_tokens(self.database_url, *names)


@contextmanager
def running_server(directory: Path, **environment: str) -> Iterator[LiveServer]:
    """Start ``timergate serve``, wait until /healthz answers, and kill it on the way out."""
    port = free_port()
    server = LiveServer(
        port=port,
        database_url=f"sqlite:///{directory / 'live.db'}",
        log=directory / "server.log",
    )
    with timergate_serve(
        port, server.database_url, server.log, environment=environment, deadline=STARTUP_DEADLINE
    ):
        yield server


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
