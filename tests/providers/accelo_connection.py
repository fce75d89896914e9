"""An Accelo provider built by hand around the fake deployment, and a record of what it told
the gateway (status marks, saved credentials, waits), for the adapter's own tests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from timergate.domain import ManualClock, User
from timergate.domain.connections import Connection, ConnectionStatus, ProviderKind
from timergate.fakes.accelo import AcceloFake
from timergate.providers.accelo import AcceloProvider
from timergate.providers.registry import ProviderSetup

BASE_URL = "http://timergate-demo.api.accelo.test"
USER = User(id=1, name="alice", time_zone="UTC", created_at=datetime(2025, 1, 1, tzinfo=UTC))


@dataclass
class Gatekeeper:
    """What the provider reported back to the gateway."""

    statuses: list[ConnectionStatus] = field(default_factory=list)
    saved: list[dict[str, Any]] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    #: Requests sent, by method and path, and the HTTP statuses answered.
    requests: Counter[str] = field(default_factory=Counter)
    answered: Counter[int] = field(default_factory=Counter)

    async def save(self, credentials: Mapping[str, Any]) -> None:
        self.saved.append(dict(credentials))

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def get(self, key: str) -> Any | None:
        return self.notes.get(key)

    async def put(self, key: str, value: Any | None) -> None:
        if value is None:
            self.notes.pop(key, None)
        else:
            self.notes[key] = value

    def sent(self, method: str, path: str) -> int:
        return self.requests[f"{method} {path}"]


#: Fault injection: answer a request in the fake's place (a response), send another request
#: in its place, or let it through (``None``).
Fault = Callable[[httpx.Request], httpx.Request | httpx.Response | None]


class _Counting(httpx.AsyncBaseTransport):
    def __init__(
        self, inner: httpx.AsyncBaseTransport, record: Gatekeeper, fault: Fault | None
    ) -> None:
        self._inner = inner
        self._record = record
        self._fault = fault

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # As over a network, other calls may go on meanwhile (the fake in process never waits).
        await asyncio.sleep(0)
        self._record.requests[f"{request.method} {request.url.path}"] += 1
        replaced = self._fault(request) if self._fault is not None else None
        if isinstance(replaced, httpx.Response):
            response = replaced
        else:
            response = await self._inner.handle_async_request(replaced or request)
        self._record.answered[response.status_code] += 1
        return response


@asynccontextmanager
async def accelo_provider(
    fake: AcceloFake,
    clock: ManualClock,
    credentials: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    fault: Fault | None = None,
) -> AsyncIterator[tuple[AcceloProvider, Gatekeeper]]:
    """An opened provider for ``credentials`` on ``fake`` (or on ``transport``)."""
    record = Gatekeeper()
    inner = transport or httpx.ASGITransport(app=fake.app)
    now = clock.now()
    connection = Connection(
        id=1,
        user_id=USER.id,
        kind=ProviderKind.ACCELO,
        label="Work",
        base_url=BASE_URL,
        status=ConnectionStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    async with httpx.AsyncClient(transport=_Counting(inner, record, fault)) as client:
        setup = ProviderSetup(
            connection=connection,
            credentials=dict(credentials),
            client=client,
            clock=clock,
            on_auth_failure=lambda: record.statuses.append(ConnectionStatus.AUTH_FAILED),
            save_credentials=record.save,
            on_reauthorization_needed=lambda: record.statuses.append(
                ConnectionStatus.NEEDS_REAUTHORIZATION
            ),
            limiter=lambda rate, period: None,
            state=record,
        )
        provider = AcceloProvider(setup, sleep=record.sleep)
        await provider.open()
        try:
            yield provider, record
        finally:
            await provider.close()


def envelope(status: str, message: str = "", *, code: int = 400, **headers: str) -> httpx.Response:
    """An answer of Accelo's with ``meta.status`` ``status`` and no response."""
    body = {"meta": {"status": status, "message": message, "more_info": ""}, "response": None}
    return httpx.Response(code, json=body, headers=headers)


def credentials_of(
    fake: AcceloFake, *, refresh: bool = True, other: bool = False
) -> dict[str, Any]:
    """The seeded user's credentials (``other``: the second user's), with or without the
    means to refresh the token."""
    described = fake.describe(BASE_URL)
    given = dict(described.seed["otherCredentials"] if other else described.credentials)
    if not refresh:
        given = {"token": given["token"]}
    return given
