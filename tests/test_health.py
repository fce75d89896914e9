"""/healthz and /readyz: what a load balancer or Kubernetes reads to route traffic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from services import REDIS_URL, require_service
from tcp_proxy import TcpProxy
from timergate.app import create_app
from timergate.config import Settings
from timergate.gateway import Gateway


async def test_healthz_answers_while_the_process_runs(http: httpx.AsyncClient) -> None:
    """Liveness needs no store, broker or token."""
    response = await http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_answers_200_when_store_and_broker_answer(http: httpx.AsyncClient) -> None:
    """A ready instance says so, and what it checked."""
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "store": "ok", "broker": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_names_an_unreachable_store(http: httpx.AsyncClient, gateway: Gateway) -> None:
    """Without its store the instance is taken out of rotation, and the answer says why."""
    await gateway.store.disconnect()
    try:
        response = await http.get("/readyz")
    finally:
        await gateway.store.connect()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "store": "unreachable", "broker": "ok"}


async def test_readyz_answers_503_once_draining(http: httpx.AsyncClient, gateway: Gateway) -> None:
    """After SIGTERM a load balancer stops sending new work while requests finish."""
    await gateway.drain()
    response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (503, {"status": "draining"})
    assert (await http.get("/healthz")).status_code == 200


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(require_service(REDIS_URL))
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def test_readyz_names_an_unreachable_broker_and_recovers(
    settings: Settings, redis_proxy: TcpProxy
) -> None:
    """An instance that lost Redis reports it (503, broker unreachable) and is ready again
    once Redis answers."""
    url = f"{redis_proxy.url}?namespace=t{uuid.uuid4().hex[:12]}"
    app: Starlette = create_app(replace(settings, broker_url=url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://timergate.test"
        ) as http,
    ):
        assert (await http.get("/readyz")).status_code == 200

        await redis_proxy.cut()
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "store": "ok",
            "broker": "unreachable",
        }

        await redis_proxy.restore()
        async with asyncio.timeout(20):
            while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
