"""Browser origins: CORS and the websocket handshake allow exactly the same ones.

The websocket decision is read from the app's first answer to a handshake (accept, or a close
before accepting, which the server turns into HTTP 403); the CORS decision from a preflight.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from timergate.app import create_app
from timergate.cli import main
from timergate.config import Settings
from timergate.domain import ManualClock

ALLOWED = "https://app.example.com"


@pytest.fixture
async def app_for(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Any]:
    """Build (and start) an app for given settings; all are stopped at the end."""
    started: list[Starlette] = []
    stops: list[Any] = []

    async def build(**settings: Any) -> Starlette:
        app = create_app(
            Settings(
                database_url=f"sqlite:///{tmp_path / f'o{len(started)}.db'}",
                access_log=False,
                **settings,
            ),
            clock=clock,
        )
        context = app.router.lifespan_context(app)
        await context.__aenter__()
        started.append(app)
        stops.append(context)
        return app

    yield build
    for context in reversed(stops):
        await context.__aexit__(None, None, None)


async def websocket_accepted(app: Starlette, headers: dict[str, str]) -> bool:
    """Open a graphql-transport-ws handshake with ``headers``; was it accepted?"""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "subprotocols": ["graphql-transport-ws"],
    }
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1001}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with asyncio.timeout(5):
        await app(scope, receive, send)
    return sent[0]["type"] == "websocket.accept"


async def cors_allows(app: Starlette, origin: str) -> bool:
    """Does a CORS preflight for POST with Authorization pass for ``origin``?"""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        response = await http.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    allowed = response.status_code == 200
    assert allowed == (response.headers.get("access-control-allow-origin") == origin)
    return allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (ALLOWED, "127.0.0.1:8000", True),
        ("https://APP.EXAMPLE.COM", "127.0.0.1:8000", False),
        ("https://app.example.com:443", "127.0.0.1:8000", False),
        ("https://app.example.com/", "127.0.0.1:8000", False),
        ("http://app.example.com", "127.0.0.1:8000", False),
        ("https://evil.example", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
        # DNS rebinding: the attacker's name resolves to the gateway; Host follows the page.
        ("http://evil.example:8000", "evil.example:8000", False),
        ("http://evil.example", "evil.example", False),
        # GraphiQL served by the gateway itself, from its listen address.
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://localhost:8000", "localhost:8000", True),
        ("http://localhost:9000", "localhost:9000", False),
    ],
)
async def test_cors_and_the_websocket_agree_on_every_origin(
    app_for: Any, origin: str, host: str, allowed: bool
) -> None:
    """An origin passes the CORS preflight exactly when its websocket handshake is accepted,
    and ``Host`` never lets one in."""
    app = await app_for(allowed_origins=(ALLOWED,), host="127.0.0.1", port=8000)
    assert await cors_allows(app, origin) is allowed
    assert await websocket_accepted(app, {"Origin": origin, "Host": host}) is allowed


async def test_clients_without_an_origin_may_open_a_websocket(app_for: Any) -> None:
    """Non-browser clients send no Origin and are not refused for it."""
    app = await app_for()
    assert await websocket_accepted(app, {"Host": "127.0.0.1:8000"})


async def test_configured_origins_are_normalised_as_browsers_send_them(app_for: Any) -> None:
    """``https://APP.example.com:443/`` configured means the origin browsers send for it."""
    app = await app_for(allowed_origins=("https://APP.example.com:443/",))
    assert await cors_allows(app, ALLOWED)
    assert await websocket_accepted(app, {"Origin": ALLOWED})
    assert not await websocket_accepted(app, {"Origin": "https://APP.example.com:443/"})


async def test_a_gateway_on_all_interfaces_knows_no_own_origin(app_for: Any) -> None:
    """Listening on 0.0.0.0, the gateway cannot know its public name: list it instead."""
    app = await app_for(host="0.0.0.0", port=8000)
    assert not await websocket_accepted(app, {"Origin": "http://0.0.0.0:8000"})
    assert not await websocket_accepted(app, {"Origin": "http://127.0.0.1:8000"})


def test_an_allowed_origin_that_is_not_an_origin_stops_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--allowed-origin`` with a path is refused at start-up with a message."""
    database = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--database", database, "--allowed-origin", "https://app.example/x"])
    assert "Invalid origin 'https://app.example/x'" in str(stopped.value)
