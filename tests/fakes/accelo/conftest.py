"""A fake Accelo deployment on a manual clock, and its two seeded users."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from accelo_support import BASE_URL, AcceloUser

from timergate.domain import ManualClock
from timergate.fakes import create_fake
from timergate.fakes.accelo import AcceloFake


@pytest.fixture
def fake(clock: ManualClock) -> AcceloFake:
    accelo: AcceloFake = create_fake("accelo", now=clock.now)  # type: ignore[assignment]
    return accelo


@pytest.fixture
def description(fake: AcceloFake) -> dict[str, Any]:
    """The fake's description line, parsed as a client reads it."""
    parsed: dict[str, Any] = json.loads(fake.describe(BASE_URL).line())
    return parsed


@pytest.fixture
async def http(fake: AcceloFake) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def morgan(http: httpx.AsyncClient, description: dict[str, Any]) -> AcceloUser:
    """The user the description's ``credentials`` belong to."""
    return AcceloUser(http, description["credentials"]["token"])


@pytest.fixture
def sam(http: httpx.AsyncClient, description: dict[str, Any]) -> AcceloUser:
    """The other seeded user (``seed.otherCredentials``)."""
    return AcceloUser(http, description["seed"]["otherCredentials"]["token"])
