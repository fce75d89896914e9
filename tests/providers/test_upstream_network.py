"""Vendor calls over real sockets: a refused connection and a silent server are both
UPSTREAM_UNAVAILABLE, and the message says which happened."""

from __future__ import annotations

import asyncio
import socket

import pytest

from timergate.errors import UpstreamUnavailable
from timergate.providers.upstream import Upstream, UpstreamPools


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def call(base_url: str, deadline: float = 5.0) -> UpstreamUnavailable:
    pools = UpstreamPools(timeout=deadline)
    upstream = Upstream(
        client=pools.client(base_url),
        base_url=base_url,
        key="c1",
        name="Test connection",
        auth=lambda request: None,
        read_attempts=1,
    )
    try:
        with pytest.raises(UpstreamUnavailable) as raised:
            await upstream.request("POST", "/timers")
    finally:
        await pools.close()
    return raised.value


async def test_a_refused_connection_says_the_vendor_could_not_be_reached() -> None:
    """Nothing listens at the vendor's address: unreachable, not slow."""
    error = await call(f"http://127.0.0.1:{closed_port()}")
    assert "could not be reached" in error.message
    assert error.extensions() == {"code": "UPSTREAM_UNAVAILABLE", "provider": "c1"}


async def test_a_silent_vendor_is_cut_off_at_the_timeout() -> None:
    """A vendor that accepts the connection and never answers fails at the deadline."""

    done = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await done.wait()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        error = await call(f"http://127.0.0.1:{port}", deadline=0.3)
    finally:
        done.set()
        server.close()
        await server.wait_closed()
    assert "did not answer in time" in error.message
