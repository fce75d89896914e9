"""Fixtures of the provider contract suite: the app with every vendor's fake behind it, and one
connected provider per parametrised run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness import HARNESSES, FakeRouter, Handle, connect
from starlette.applications import Starlette
from tests.conftest import GraphQLClient

from timergate.app import create_app
from timergate.config import Settings
from timergate.domain import ManualClock
from timergate.fakes.base import Fake


@pytest.fixture
def fakes(clock: ManualClock) -> dict[str, Fake]:
    """A fresh fake of every vendor, on the test's clock."""
    return {name: harness.fake(clock.now) for name, harness in HARNESSES.items() if harness.fake}


@pytest.fixture
def router(fakes: dict[str, Fake]) -> FakeRouter:
    router = FakeRouter()
    for name, fake in fakes.items():
        router.mount(HARNESSES[name].host, fake)
    return router


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'timergate.db'}",
        access_log=False,
        allowed_upstreams=tuple(h.base_url for h in HARNESSES.values() if h.fake),
        upstream_pacing=False,
        upstream_timeout_seconds=2.0,
    )


@pytest.fixture
async def app(
    settings: Settings, clock: ManualClock, router: FakeRouter
) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock, upstream_transport=router)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(params=sorted(HARNESSES))
async def provider(
    request: pytest.FixtureRequest, alice: GraphQLClient, fakes: dict[str, Fake]
) -> Handle:
    """Each provider in turn, connected for alice."""
    return await connect(alice, HARNESSES[request.param], fakes)
