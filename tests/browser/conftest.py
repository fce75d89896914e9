"""A frontend on one origin, the gateway on another, and headless Chromium between them.

The frontend (``site/``, with graphql-ws's browser build from tests/js/node_modules) is served
by a small static server on a loopback port: origin A. Two ``timergate serve`` processes run on
other loopback ports: one lists origin A in ``TIMERGATE_ALLOWED_ORIGINS``, one lists nothing.
Every test opens the frontend in a fresh Chromium driven by Playwright.

Needs /usr/bin/chromium (``apt-get install chromium``), the ``playwright`` package (the
``browser`` extra, which scripts/test.sh installs where Chromium is) and
``npm ci --prefix tests/js``. Without them the tests are skipped, except under CI=true,
where they fail instead. Servers and the browser are always stopped on the way out.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
import pytest

from serving import create_tokens, free_port, timergate_serve

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = Path("/usr/bin/chromium")
SITE = Path(__file__).resolve().parent / "site"
GRAPHQL_WS_UMD = (
    Path(__file__).resolve().parents[1] / "js/node_modules/graphql-ws/umd/graphql-ws.min.js"
)
#: Flags for Chromium as root in a container, with nothing reaching beyond loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The longest any step waits: for a server to start, a page to load, a tick to show.
STEP_TIMEOUT = 5.0


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing; install it: apt-get install chromium"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing; install it: pip install -e '.[browser]'"
    if not GRAPHQL_WS_UMD.is_file():
        return "tests/js/node_modules is missing; run: npm ci --prefix tests/js"
    return None


@pytest.fixture(scope="session", autouse=True)
def browser_tools() -> None:
    """Skip (or, under CI=true, fail) when Chromium, Playwright or graphql-ws is missing."""
    missing = _missing()
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (CI=true: the browser tests must run)")
    pytest.skip(missing)


# Origin A: the frontend.


class _SiteHandler(BaseHTTPRequestHandler):
    FILES = {
        "/": (SITE / "index.html", "text/html; charset=utf-8"),
        "/app.js": (SITE / "app.js", "text/javascript; charset=utf-8"),
        "/graphql-ws.js": (GRAPHQL_WS_UMD, "text/javascript; charset=utf-8"),
    }

    def do_GET(self) -> None:
        if self.path not in self.FILES:
            self.send_error(404)
            return
        path, content_type = self.FILES[self.path]
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def frontend_origin() -> Iterator[str]:
    """Origin A, serving the frontend: ``http://127.0.0.1:<port>``."""
    site = ThreadingHTTPServer(("127.0.0.1", 0), _SiteHandler)
    thread = threading.Thread(target=site.serve_forever, name="frontend-origin", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()
        thread.join(timeout=STEP_TIMEOUT)


# Origin B: the gateway.


@dataclass(frozen=True)
class LiveGateway:
    """A running ``timergate serve`` process, with its access log in ``log``."""

    url: str
    database_url: str
    log: Path

    def token_for_new_user(self) -> str:
        """A token for a user of its own, made by ``timergate token create``."""
        (token,) = create_tokens(self.database_url, f"browser-{uuid.uuid4().hex[:8]}")
        return token

    async def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        """``data`` of a request made outside the browser; fails on errors."""
        async with httpx.AsyncClient(base_url=self.url, timeout=STEP_TIMEOUT) as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def log_mark(self) -> int:
        """Where the log ends now; pass it to :meth:`log_since`."""
        return self.log.stat().st_size

    def log_since(self, mark: int) -> str:
        with self.log.open("rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    async def logged(self, mark: int, text: str) -> str:
        """The log since ``mark`` once it contains ``text``; fails after a few seconds."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while text not in (since := self.log_since(mark)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged; the log says:\n{since}")
            await asyncio.sleep(0.05)
        return since


@contextmanager
def running_gateway(directory: Path, allowed_origins: str) -> Iterator[LiveGateway]:
    """Start ``timergate serve`` with its access log on, wait for /healthz, kill it after."""
    port = free_port()
    gateway = LiveGateway(
        url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite:///{directory / 'browser.db'}",
        log=directory / "server.log",
    )
    with timergate_serve(
        port,
        gateway.database_url,
        gateway.log,
        access_log=True,
        environment={"TIMERGATE_ALLOWED_ORIGINS": allowed_origins},
        deadline=3 * STEP_TIMEOUT,
    ):
        yield gateway


@pytest.fixture(scope="session")
def gateway_allowing_the_frontend(
    frontend_origin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveGateway]:
    """A gateway with TIMERGATE_ALLOWED_ORIGINS set to the frontend's origin."""
    with running_gateway(tmp_path_factory.mktemp("allowing"), frontend_origin) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def closed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    """A gateway with no allowed origins: the default."""
    with running_gateway(tmp_path_factory.mktemp("closed"), "") as gateway:
        yield gateway


# The browser.


@dataclass
class Frontend:
    """The frontend open in a Chromium tab; ``problems`` collects the page's JS errors."""

    page: Page
    origin: str
    problems: list[str] = field(default_factory=list)

    async def open(self, gateway: LiveGateway, token: str) -> None:
        fragment = urlencode({"gateway": gateway.url, "token": token})
        await self.page.goto(f"{self.origin}/#{fragment}", timeout=STEP_TIMEOUT * 1000)

    async def wait_for(self, selector: str, *, count: int = 1) -> None:
        """Wait until ``count`` elements match ``selector``; fails with the page's errors."""
        script = "([s, n]) => document.querySelectorAll(s).length >= n"
        try:
            await self.page.wait_for_function(
                script, arg=[selector, count], timeout=STEP_TIMEOUT * 1000
            )
        except Exception as error:
            body = await self.page.inner_text("body")
            raise AssertionError(
                f"no {count} x {selector!r} within {STEP_TIMEOUT} s; page errors: "
                f"{self.problems}; the page shows:\n{body}"
            ) from error

    async def text(self, selector: str) -> str:
        return await self.page.inner_text(selector)

    async def attribute(self, selector: str, name: str) -> str | None:
        return await self.page.get_attribute(selector, name)

    async def ticks(self) -> list[dict[str, str]]:
        """The ticks the page shows, as their data attributes."""
        items: list[dict[str, str]] = await self.page.eval_on_selector_all(
            "#ticks li", "items => items.map(item => ({...item.dataset}))"
        )
        return items


@pytest.fixture
async def frontend(frontend_origin: str) -> AsyncIterator[Frontend]:
    """A fresh headless Chromium with one tab, closed after the test."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=STEP_TIMEOUT * 3000
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(STEP_TIMEOUT * 1000)
            shown = Frontend(page, frontend_origin)
            page.on("pageerror", lambda error: shown.problems.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    shown.problems.append(message.text) if message.type == "error" else None
                ),
            )
            yield shown
        finally:
            await browser.close()
