"""Operations generated from the schema, with extreme values, never break the gateway.

hypothesis-graphql writes queries and mutations (valid ones, and ones with one schema
violation) that two users send in turn. Whatever they send: no INTERNAL_SERVER_ERROR, no
5xx, nothing logged as an error, nothing of the other user's in the answer, and the other
user's data unchanged.

The default run is bounded (``FUZZ_EXAMPLES`` operations per test); set
``TIMERGATE_FUZZ_EXAMPLES`` for a longer one, e.g. ``TIMERGATE_FUZZ_EXAMPLES=5000``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries
from starlette.applications import Starlette
from support import create_entry, start, stop
from tests.conftest import GraphQLClient

from timergate.app import create_app
from timergate.config import Settings
from timergate.domain import ManualClock
from timergate.domain.connections import connection_key
from timergate.domain.ids import HOLDER, encode_global_id
from timergate.domain.limits import MAX_DESCRIPTION_LENGTH, MAX_DURATION_SECONDS
from timergate.fakes import Fake, create_fake
from timergate.graphql.schema import build_schema

FUZZ_EXAMPLES = int(os.environ.get("TIMERGATE_FUZZ_EXAMPLES", "300"))
SCHEMA = build_schema().as_str()


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


def _int(value: int) -> graphql.IntValueNode:
    return graphql.IntValueNode(value=str(value))


#: Text a client might send by mistake or malice: long, astral, invisible, control, reversed.
ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u202eevil",
        "e\u0301\u0301\u0301",
        "\U0001f600" * 10,
        "\ufeff",
        "\u200b",
        "' OR 1=1 --",
        "%_\\",
        "x" * (MAX_DESCRIPTION_LENGTH + 1),
        "\U00010348" * 3000,
        "y" * 200_000,
    ]
)
#: Where a timer or entry lives: the local store or one of the first connections (a
#: ``provider`` argument is a String).
PROVIDERS = ["local", *(connection_key(n) for n in range(1, 4))]
#: Page cursors shaped like the API's own, placed anywhere from year 1 to the end of 9999.
_EPOCH = datetime(1970, 1, 1)
CURSORS = st.builds(
    lambda at, provider, native: (
        base64.urlsafe_b64encode(
            f"p1:{(at - _EPOCH) // timedelta(microseconds=1)}:{provider}:{native}".encode()
        )
        .decode()
        .rstrip("=")
    ),
    st.one_of(
        st.sampled_from([datetime.min, datetime(1, 1, 1, 12), datetime(9999, 12, 31, 12)]),
        st.sampled_from([datetime.max]),
        st.datetimes(),
    ),
    st.sampled_from(PROVIDERS),
    st.integers(0, 20),
)
STRINGS = st.one_of(st.text(), ODD_TEXT, st.sampled_from(PROVIDERS), CURSORS).map(_string)
#: Ints at and around every limit, and past GraphQL's 32 bits.
EDGE_INTS = [-1, 0, 1, 100, 101, MAX_DURATION_SECONDS, MAX_DURATION_SECONDS + 1, 2**31 - 1]
PAST_32_BITS = [2**31, -(2**31) - 1, 10**30, -(10**30)]
#: Small ints often, so page sizes and durations get past their checks to the providers.
INTS = st.one_of(
    st.integers(-5, 120),
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([*EDGE_INTS, *PAST_32_BITS]),
).map(_int)
_ISO_DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01", "2026-02-30", "x"]),
)
_OFFSETS = st.sampled_from(["Z", "+00:00", "+01:00", "-12:00", "+14:00", "+23:59", "-23:59", ""])
DATES = _ISO_DATES.map(_string)
DATETIMES = st.one_of(
    st.builds(
        lambda naive, offset: naive.isoformat() + offset,
        st.datetimes(),
        _OFFSETS,
    ),
    st.sampled_from(
        [
            "9999-12-31T23:59:59Z",
            "9999-12-31T24:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00-14:00",
            "2026-05-01T09:00:00+24:00",
            "2026-05-01",
            "yesterday",
        ]
    ),
).map(_string)


@dataclass
class Actor:
    """One fuzzed user: their client, a marker in all their texts, and their object ids."""

    client: GraphQLClient
    marker: str
    ids: list[str]


NOKO_URL = "http://noko.fake.test"


class NokoOnly(httpx.AsyncBaseTransport):
    """The gateway's way out: the fake Noko, and nothing else (no request leaves the process)."""

    def __init__(self, fake: Fake) -> None:
        self._noko = httpx.ASGITransport(app=fake.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != httpx.URL(NOKO_URL).host:
            raise httpx.ConnectError(f"no route to {request.url.host}", request=request)
        return await self._noko.handle_async_request(request)


@pytest.fixture
def noko(clock: ManualClock) -> Fake:
    return create_fake("noko", now=clock.now)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'timergate.db'}",
        access_log=False,
        rate_limit_per_token="100000/second",
        rate_limit_per_address="100000/second",
        allowed_upstreams=(NOKO_URL,),
        upstream_pacing=False,
        upstream_timeout_seconds=2.0,
    )


@pytest.fixture
async def app(settings: Settings, clock: ManualClock, noko: Fake) -> AsyncIterator[Starlette]:
    """The app with the fake Noko as the only vendor it can reach."""
    application = create_app(settings, clock=clock, upstream_transport=NokoOnly(noko))
    async with application.router.lifespan_context(application):
        yield application


CONNECT = """mutation($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id } }
}"""


async def _seed(
    client: GraphQLClient,
    clock: ManualClock,
    marker: str,
    credentials: dict[str, Any],
    noko_context: dict[str, Any],
) -> list[str]:
    """A stopped, a paused and a running timer, and a hand-made entry, all marked; and a
    connected Noko account with a marked timer of its own."""
    details = {
        "description": f"{marker} work",
        "context": {"type": "task", "id": f"{marker}-task", "title": f"{marker} title"},
        "tags": [marker],
    }
    first = await start(client, **details)
    clock.advance(60)
    stopped = await stop(client, first["id"])
    paused = await start(client, **details)
    clock.advance(30)
    running = await start(client, **details)
    entry = await create_entry(
        client, startedAt="2026-01-01T09:00:00Z", durationSeconds=600, **details
    )
    viewer = await client.data("{ viewer { id } }")
    connected = await client.data(
        CONNECT, {"input": {"baseUrl": NOKO_URL, "credentials": {"noko": credentials}}}
    )
    connection = connected["connectProvider"]["connection"]["id"]
    vendor = await start(
        client, provider=connection, context=noko_context, description=f"{marker} at noko"
    )
    return [
        first["id"],
        stopped["entry"]["id"],
        paused["id"],
        running["id"],
        entry["id"],
        viewer["viewer"]["id"],
        connection,
        vendor["id"],
    ]


@pytest.fixture
async def actors(
    alice: GraphQLClient, bob: GraphQLClient, clock: ManualClock, noko: Fake
) -> tuple[Actor, Actor]:
    """Alice and Bob, each with local timers and entries and a Noko account of their own."""
    described = noko.describe(NOKO_URL)
    accounts = [dict(described.credentials), dict(described.seed["otherCredentials"])]
    pair = []
    for client, credentials in zip((alice, bob), accounts, strict=True):
        marker = f"only-{uuid.uuid4().hex[:12]}"
        ids = await _seed(client, clock, marker, credentials, described.seed["context"])
        pair.append(Actor(client, marker, ids))
    return pair[0], pair[1]


#: Every id the two seeded users' objects can have (the store numbers rows from 1), and ids of
#: nothing at all, so operations hit their own objects, the other user's, and missing ones.
KNOWN_IDS = [
    *(encode_global_id(kind, "local", n) for kind in ("Timer", "TimeEntry") for n in range(1, 12)),
    *(encode_global_id(kind, HOLDER, n) for kind in ("User", "Connection") for n in range(1, 4)),
]
#: Stands for the n-th id the seeded users' objects have (vendor ids are only known once the
#: fake Noko made them); replaced in the document just before it is sent.
SEEDED_ID = re.compile(r"@@seeded-(\d+)@@")
SCALARS = {
    "String": STRINGS,
    "Int": INTS,
    "ID": st.one_of(
        st.sampled_from(KNOWN_IDS),
        st.integers(0, 99).map(lambda n: f"@@seeded-{n}@@"),
        st.text(),
    ).map(_string),
    "Date": DATES,
    "DateTime": DATETIMES,
}
VALID = st.one_of(
    queries(SCHEMA, custom_scalars=SCALARS), mutations(SCHEMA, custom_scalars=SCALARS)
)
ONE_VIOLATION = st.one_of(
    queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    mutations(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
)
#: What a user has, compactly: every change grows a version.
STATE = """{
  viewer { timeZone }
  timers(first: 100) { totalCount nodes { id version state } }
  timeEntries(first: 100) { totalCount nodes { id version } }
}"""


async def _send(client: GraphQLClient, document: str, via_get: bool) -> httpx.Response:
    headers = {"Authorization": f"Bearer {client.token}"}
    if via_get:
        return await client.http.get("/graphql", params={"query": document}, headers=headers)
    # ensure_ascii keeps lone surrogates as escapes the server must refuse cleanly.
    body = json.dumps({"query": document}, ensure_ascii=True).encode()
    headers["Content-Type"] = "application/json"
    return await client.http.post("/graphql", content=body, headers=headers)


def _error_codes(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e.get("extensions", {}).get("code") for e in errors or []]


async def fuzz_once(
    actors: tuple[Actor, Actor],
    caplog: pytest.LogCaptureFixture,
    document: str,
    actor_index: int,
    via_get: bool,
) -> None:
    """Send ``document`` as one user and check the answer, the log and the other user."""
    actor, other = actors[actor_index], actors[1 - actor_index]
    seeded = actors[0].ids + actors[1].ids
    document = SEEDED_ID.sub(lambda m: seeded[int(m[1]) % len(seeded)], document)
    is_query = document.lstrip().startswith(("{", "query"))
    other_before = None if is_query else await other.client.data(STATE)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        # Long documents go by POST: a URL has no room for them.
        response = await _send(
            actor.client, document, via_get and is_query and len(document) < 4000
        )
    assert response.status_code < 500, (document, response.text)
    assert "INTERNAL_SERVER_ERROR" not in _error_codes(response), (document, response.text)
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not problems and "Traceback" not in caplog.text, (document, caplog.text)
    # The other user's texts never show; their ids only where the actor sent them.
    assert other.marker not in response.text, (document, response.text)
    for other_id in other.ids:
        quoted = f'"{other_id}"'  # whole ids: one id may begin another (…OjM, …OjMy)
        assert quoted not in response.text or quoted in document, (document, response.text)
    if other_before is not None:
        assert await other.client.data(STATE) == other_before, document


FUZZ = hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    # The app and its two seeded users live for the whole run, so state builds up.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(document=VALID, actor=st.integers(0, 1), via_get=st.booleans())
async def test_valid_operations_never_break_the_gateway(
    actors: tuple[Actor, Actor],
    caplog: pytest.LogCaptureFixture,
    document: str,
    actor: int,
    via_get: bool,
) -> None:
    """Valid generated operations as either user: no internal error, no leak, no cross-user change."""
    await fuzz_once(actors, caplog, document, actor, via_get)


@FUZZ
@given(document=ONE_VIOLATION, actor=st.integers(0, 1), via_get=st.booleans())
async def test_operations_with_one_schema_violation_are_refused_cleanly(
    actors: tuple[Actor, Actor],
    caplog: pytest.LogCaptureFixture,
    document: str,
    actor: int,
    via_get: bool,
) -> None:
    """Operations with one schema violation are refused with a code, never an internal error."""
    await fuzz_once(actors, caplog, document, actor, via_get)
