"""What the Seven Time adapter tests share: the seeded company, connecting, fault injection."""

from __future__ import annotations

from typing import Any

import httpx
from harness import HARNESSES, FakeRouter
from tests.conftest import GraphQLClient
from tests.graphql.support import global_id

from timergate.fakes.base import Fake
from timergate.fakes.seventime import SevenTimeFake

__all__ = [
    "ANNA",
    "CONNECT",
    "CUSTOMER",
    "ERIK",
    "PROJECT",
    "SECRET",
    "SEVEN_TIME",
    "TASK",
    "FaultRouter",
    "connect",
    "fake_of",
    "timer_gid",
]

SEVEN_TIME = HARNESSES["seventime"]
ANNA, ERIK = "65f1a2b3c4d5e6f708192a01", "65f1a2b3c4d5e6f708192a02"
CUSTOMER = "65f1a2b3c4d5e6f708192b01"
PROJECT = "65f1a2b3c4d5e6f708192c01"
TASK = "65f1a2b3c4d5e6f708192e01"
SECRET = "st-fake-3f9c2d7e41b84a6c"

CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id kind status } }
}
"""


def fake_of(fakes: dict[str, Fake]) -> SevenTimeFake:
    fake = fakes["seventime"]
    assert isinstance(fake, SevenTimeFake)
    return fake


async def connect(client: GraphQLClient, **credentials: str) -> str:
    """Connect Seven Time as Anna (or as ``credentials`` say); the connection's id."""
    given = {"clientSecret": SECRET, "userId": ANNA, **credentials}
    data = await client.data(
        CONNECT,
        {"input": {"baseUrl": SEVEN_TIME.base_url, "credentials": {"sevenTime": given}}},
    )
    connection_id: str = data["connectProvider"]["connection"]["id"]
    return connection_id


def timer_gid(connection: str, native: str) -> str:
    return global_id("Timer", connection, native)


class FaultRouter(FakeRouter):
    """The fakes, except for calls told to fail (as a vendor's answer can, mid-operation)."""

    def __init__(self) -> None:
        super().__init__()
        self._faults: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.sent: list[tuple[str, str]] = []

    def fail(self, method: str, path: str, status: int, body: dict[str, Any]) -> None:
        self._faults[(method, path)] = (status, body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        fault = self._faults.get((request.method, request.url.path))
        if fault is not None:
            status, body = fault
            return httpx.Response(status, json=body, request=request)
        return await super().handle_async_request(request)
