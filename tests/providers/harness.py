"""What the provider contract suite needs to know of each provider, and how it reaches it.

Each vendor adds one module ``tests/providers/harness_<vendor>.py`` defining ``HARNESS``; the
suite runs every scenario against every harness. Vendors run as their fakes, in this process, behind
the gateway's upstream transport, on the test's manual clock.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import GraphQLClient

from timergate.domain.connections import TimerOperation
from timergate.fakes.base import Fake, FakeDescription, Now

__all__ = ["HARNESSES", "FakeRouter", "Handle", "Harness", "connect"]


@dataclass(frozen=True)
class Harness:
    """One provider as the contract suite drives it."""

    name: str
    #: The vendor's fake (``None`` for timergate's own store).
    fake: Callable[[Now], Fake] | None = None
    #: The ``credentials`` input of ``connectProvider`` for the fake's description.
    credentials: Callable[[FakeDescription], dict[str, Any]] | None = None
    #: The same for the fake's second user.
    other_credentials: Callable[[FakeDescription], dict[str, Any]] | None = None
    #: At least two ``TimerContextInput`` values timers can be started on.
    contexts: Callable[[FakeDescription | None], Sequence[dict[str, Any]]] = lambda _: (
        {"type": "task", "id": "T-1", "title": "First task"},
        {"type": "task", "id": "T-2", "title": "Second task"},
    )
    #: The seconds an entry records for a timer that ran ``elapsed`` seconds on context
    #: ``index`` (vendors may round).
    entry_seconds: Callable[[int, int], int] = lambda elapsed, _index: elapsed

    @property
    def host(self) -> str:
        return f"{self.name}.fake.test"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"


@dataclass
class Handle:
    """A provider connected for one test's user."""

    harness: Harness
    #: What ``provider`` inputs take: ``None`` for the default store, else a connection id.
    key: str | None
    #: What ``Timer.provider`` shows.
    shown: str
    contexts: Sequence[dict[str, Any]]
    description: FakeDescription | None = None
    capabilities: dict[str, str] = field(default_factory=dict)

    def supports(self, operation: TimerOperation) -> bool:
        return self.capabilities.get(operation.value, "NATIVE") != "UNSUPPORTED"

    def start_input(self, index: int = 0, **extra: Any) -> dict[str, Any]:
        given: dict[str, Any] = {"context": dict(self.contexts[index]), **extra}
        if self.key is not None:
            given["provider"] = self.key
        return given


class FakeRouter(httpx.AsyncBaseTransport):
    """Sends each request to the fake app serving its host; counts what each host got."""

    def __init__(self) -> None:
        self._apps: dict[str, httpx.ASGITransport] = {}
        self.requests: dict[str, int] = {}

    def mount(self, host: str, fake: Fake) -> None:
        self._apps[host] = httpx.ASGITransport(app=fake.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        transport = self._apps.get(host)
        if transport is None:
            raise httpx.ConnectError(f"no fake serves {host}", request=request)
        self.requests[host] = self.requests.get(host, 0) + 1
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._apps.values():
            await transport.aclose()


CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) {
    connection { id kind label baseUrl status capabilities { operation support note } }
  }
}
"""


def description(harness: Harness, fakes: dict[str, Fake]) -> FakeDescription:
    return fakes[harness.name].describe(harness.base_url)


async def connect(
    client: GraphQLClient, harness: Harness, fakes: dict[str, Fake], *, other: bool = False
) -> Handle:
    """Connect ``harness``'s fake for ``client`` through GraphQL (nothing for ``local``)."""
    if harness.fake is None:
        return Handle(harness, None, "local", harness.contexts(None))
    described = description(harness, fakes)
    make = harness.other_credentials if other else harness.credentials
    assert make is not None
    data = await client.data(
        CONNECT,
        {
            "input": {
                "label": f"{harness.name} test",
                "baseUrl": harness.base_url,
                "credentials": make(described),
            }
        },
    )
    connection = data["connectProvider"]["connection"]
    return Handle(
        harness,
        connection["id"],
        connection["id"],
        harness.contexts(described),
        described,
        {c["operation"]: c["support"] for c in connection["capabilities"]},
    )


def _discover() -> dict[str, Harness]:
    found: dict[str, Harness] = {"local": Harness("local")}
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("harness_"):
            harness = importlib.import_module(module.name).HARNESS
            found[harness.name] = harness
    return found


HARNESSES: dict[str, Harness] = _discover()
