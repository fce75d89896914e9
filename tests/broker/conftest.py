"""Brokers under test: every contract test runs against ``memory://``, Redis and PostgreSQL.

Each test gets its own namespace, so tests (and other runs sharing the servers) never hear
each other's messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from broker_support import connected

from services import broker_url as server_broker_url
from timergate.broker import Broker


@pytest.fixture(params=["memory", "redis", "postgresql"])
def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return server_broker_url(request.param)


@pytest.fixture(params=["redis", "postgresql"])
def server_url(request: pytest.FixtureRequest) -> str:
    """A networked broker's URL (for what only a broker across processes can do)."""
    return server_broker_url(request.param)


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
