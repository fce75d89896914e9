"""What every fake vendor shares: its description line, fault switches, and serving it.

A fake is a real HTTP server that behaves like one vendor's timer API, so that the vendor's own
client libraries (and timergate's adapter) work against it unchanged. It imports nothing of the
gateway: it stands where the vendor would.

Every fake also answers a small control surface under ``/_fake/`` (never part of a vendor's
API) so that a frontend developer or a test can make it misbehave the way vendors do:

- ``GET /_fake/control`` shows the switches; ``POST /_fake/control`` with a JSON object sets
  any of them: ``rate_limit`` (bool: enforce the vendor's documented request rate),
  ``delay_seconds`` (answer every API call this much later), ``fail_status`` (answer every API
  call with this status), ``fail_body`` and ``fail_content_type`` (the body of those answers:
  say an HTML error page, or garbage).
- ``POST /_fake/reset`` turns every switch off.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Fake", "FakeControl", "FakeDescription", "Now", "bind", "serve_fake", "system_now"]

#: Where a fake's "now" comes from; tests pass a controllable one.
Now = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeControl:
    """Switches that make a fake misbehave like a real vendor can."""

    rate_limit: bool = False
    delay_seconds: float = 0.0
    fail_status: int | None = None
    fail_body: str = ""
    fail_content_type: str = "text/plain"

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown control switches: {sorted(unknown)}; known: {sorted(known)}")
        for name, value in changes.items():
            setattr(self, name, value)

    def reset(self) -> None:
        self.update(asdict(FakeControl()))


@dataclass(frozen=True)
class FakeDescription:
    """The first line a fake prints: how to connect to it and what it holds.

    ``credentials`` is exactly what ``connectProvider``'s ``credentials.<vendor>`` takes;
    ``seed`` holds at least ``context`` (a ``TimerContextInput`` that ``startTimer`` accepts
    for a connection to this fake), plus vendor-specific ids.
    """

    vendor: str
    base_url: str
    credentials: dict[str, Any]
    seed: dict[str, Any]

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(", ", ": "))


class Fake(Protocol):
    """One fake vendor: an ASGI app and the description of what it holds."""

    vendor: str
    control: FakeControl

    @property
    def app(self) -> ASGIApp:
        """The vendor's API, wrapped in the ``/_fake/`` control surface."""
        ...

    def describe(self, base_url: str) -> FakeDescription:
        """Credentials and seed, with ``base_url`` as the vendor's API base the adapter uses."""
        ...


class ControlledApp:
    """Wraps a vendor app with the ``/_fake/`` control surface and the fault switches."""

    def __init__(self, app: ASGIApp, control: FakeControl) -> None:
        self._app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        if scope["path"].startswith("/_fake/"):
            return await self._control(scope, receive, send)
        control = self.control
        if control.delay_seconds > 0:
            await asyncio.sleep(control.delay_seconds)
        if control.fail_status is not None:
            response = Response(
                control.fail_body,
                status_code=control.fail_status,
                media_type=control.fail_content_type,
            )
            return await response(scope, receive, send)
        await self._app(scope, receive, send)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = scope["path"]
        response: Response
        if path == "/_fake/control" and request.method == "GET":
            response = JSONResponse(asdict(self.control))
        elif path == "/_fake/control" and request.method == "POST":
            try:
                changes = await request.json()
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object of switches")
                self.control.update(changes)
            except ValueError as exc:
                response = JSONResponse({"error": str(exc)}, status_code=400)
            else:
                response = JSONResponse(asdict(self.control))
        elif path == "/_fake/reset" and request.method == "POST":
            self.control.reset()
            response = JSONResponse(asdict(self.control))
        else:
            response = JSONResponse({"error": "unknown control endpoint"}, status_code=404)
        await response(scope, receive, send)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it back from the description)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_fake(fake: Fake, *, host: str, port: int, base_path: str = "") -> None:
    """Print the fake's description line, then serve it until interrupted."""
    import uvicorn

    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{bound_port}{base_path}"
    sys.stdout.write(fake.describe(base_url).line() + "\n")
    sys.stdout.flush()
    config = uvicorn.Config(fake.app, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
