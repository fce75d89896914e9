"""Brokers under test: every contract test runs against ``memory://``, Redis and PostgreSQL.

Each test gets its own namespace, so tests (and other runs sharing the servers) never hear
each other's messages.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services import broker_url as server_broker_url
from timergate.broker import Broker, open_broker

#: The longest a test waits for one message.
RECEIVE_TIMEOUT = 5.0
#: The longest a test waits for a broker to notice a lost connection and come back.
RECONNECT_TIMEOUT = 20.0


@pytest.fixture(params=["memory", "redis", "postgresql"])
def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return server_broker_url(request.param)


@pytest.fixture(params=["redis", "postgresql"])
def server_url(request: pytest.FixtureRequest) -> str:
    """A networked broker's URL (for what only a broker across processes can do)."""
    return server_broker_url(request.param)


async def connected(url: str) -> Broker:
    broker = open_broker(url)
    await broker.connect()
    return broker


@pytest.fixture
async def instances(broker_url: str) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two gateway instances sharing ``broker_url`` (for ``memory://``, one process: the same
    broker twice)."""
    first = await connected(broker_url)
    second = first if broker_url.startswith("memory:") else await connected(broker_url)
    try:
        yield first, second
    finally:
        await first.disconnect()
        if second is not first:
            await second.disconnect()


class Inbox:
    """A listener that keeps what it is given, and where it was called."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.threads: set[int] = set()
        self.loops: set[int] = set()

    def __call__(self, message: Any) -> None:
        self.threads.add(threading.get_ident())
        self.loops.add(id(asyncio.get_running_loop()))
        self.queue.put_nowait(message)

    async def next(self) -> Any:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            return await self.queue.get()

    def pending(self) -> list[Any]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items
