"""A real gateway for the live tests: ``timergate serve`` in a subprocess on a loopback port.

The server is started once per session (a second one, with an allowed browser origin, once
per module that asks for it) and always killed at the end. Each test makes its own users, so
tests never see each other's timers or events.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_support import Person

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
        users = [arg for name in names for arg in ("--user", name)]
        command = [sys.executable, "-m", "timergate", "token", "create", *users]
        result = subprocess.run(
            [*command, "--database", self.database_url],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        tokens = result.stdout.split()
        assert len(tokens) == len(names), result.stdout
        return tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(directory: Path, **environment: str) -> Iterator[LiveServer]:
    """Start ``timergate serve``, wait until /healthz answers, and kill it on the way out."""
    port = free_port()
    server = LiveServer(
        port=port,
        database_url=f"sqlite:///{directory / 'live.db'}",
        log=directory / "server.log",
    )
    command = [sys.executable, "-m", "timergate", "serve", "--port", str(port)]
    command += ["--database", server.database_url, "--no-access-log"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMERGATE_")}
    env.update(environment)
    with server.log.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_healthy(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_healthy(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"timergate serve exited with {process.returncode}:\n{server.log.read_text()}"
            )
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"timergate serve did not answer /healthz in time:\n{server.log.read_text()}")


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
