"""/graphql over HTTP: methods, media types, status codes, GraphiQL, health and CORS."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import START

from timergate.app import create_app
from timergate.config import Settings
from timergate.domain import ManualClock

GRAPHQL_RESPONSE = "application/graphql-response+json"
VIEWER = "{ viewer { name } }"


def auth(client: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}"}


async def test_a_query_is_posted_as_json(http: httpx.AsyncClient, alice) -> None:
    """POST /graphql with a JSON body answers 200 with the data as JSON."""
    response = await http.post("/graphql", json={"query": VIEWER}, headers=auth(alice))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"viewer": {"name": "alice"}}}


async def test_a_query_can_be_sent_with_get(http: httpx.AsyncClient, alice) -> None:
    """GET /graphql?query=...&variables=... runs queries."""
    await http.post(
        "/graphql", json={"query": START, "variables": {"input": {}}}, headers=auth(alice)
    )
    response = await http.get(
        "/graphql",
        params={
            "query": "query($n: Int!) { viewer { name } timers(first: $n) { totalCount } }",
            "variables": json.dumps({"n": 5}),
        },
        headers=auth(alice),
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"name": "alice"}, "timers": {"totalCount": 1}}}


async def test_a_mutation_over_get_is_refused_and_not_run(http: httpx.AsyncClient, alice) -> None:
    """A mutation sent with GET answers 405 with Allow: POST, and nothing starts."""
    response = await http.get(
        "/graphql",
        params={"query": "mutation { startTimer(input: {}) { timer { id } } }"},
        headers=auth(alice),
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert await alice.data("{ timers { totalCount } }") == {"timers": {"totalCount": 0}}


async def test_get_picks_the_operation_by_name(http: httpx.AsyncClient, alice) -> None:
    """In a document with a query and a mutation, GET may run the query, never the mutation."""
    document = "query Q { viewer { name } } mutation M { stopTimer { timer { id } } }"
    query = await http.get(
        "/graphql", params={"query": document, "operationName": "Q"}, headers=auth(alice)
    )
    assert query.status_code == 200
    assert query.json() == {"data": {"viewer": {"name": "alice"}}}
    mutation = await http.get(
        "/graphql", params={"query": document, "operationName": "M"}, headers=auth(alice)
    )
    assert mutation.status_code == 405


async def test_graphql_response_json_gets_its_media_type_and_400(
    http: httpx.AsyncClient, alice
) -> None:
    """Accept: application/graphql-response+json gets that type, and 400 for an invalid query."""
    headers = {**auth(alice), "Accept": GRAPHQL_RESPONSE}
    bad = await http.post("/graphql", json={"query": "{ nonsense }"}, headers=headers)
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert [e["extensions"]["code"] for e in bad.json()["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    good = await http.post("/graphql", json={"query": VIEWER}, headers=headers)
    assert good.status_code == 200
    assert good.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_application_json_gets_200_for_an_invalid_query(
    http: httpx.AsyncClient, alice
) -> None:
    """Accept: application/json gets 200 even when the query does not validate."""
    headers = {**auth(alice), "Accept": "application/json"}
    bad = await http.post("/graphql", json={"query": "{ nonsense }"}, headers=headers)
    assert bad.status_code == 200
    assert bad.headers["content-type"].startswith("application/json")
    assert [e["extensions"]["code"] for e in bad.json()["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    syntax = await http.post("/graphql", json={"query": "{ viewer {"}, headers=headers)
    assert [e["extensions"]["code"] for e in syntax.json()["errors"]] == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b'"just a string"',
        b'{"variables": {}}',
        b'{"query": "{ viewer { name } }", "variables": [1]}',
    ],
    ids=["invalid-json", "empty", "not-an-object", "no-query", "variables-not-an-object"],
)
async def test_a_malformed_body_is_400(http: httpx.AsyncClient, alice, body: bytes) -> None:
    """A body that is not a GraphQL request object answers 400 with a coded error."""
    response = await http.post(
        "/graphql", content=body, headers={**auth(alice), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


async def test_an_oversized_body_is_413(http: httpx.AsyncClient, alice) -> None:
    """A body over 1 MiB is refused before it is parsed."""
    padding = " " * (1 << 20)
    response = await http.post("/graphql", json={"query": VIEWER + padding}, headers=auth(alice))
    assert response.status_code == 413


async def test_a_browser_gets_graphiql(http: httpx.AsyncClient) -> None:
    """GET /graphql asking for HTML serves the GraphiQL page."""
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_health_check(http: httpx.AsyncClient) -> None:
    """GET /healthz answers 200 without authentication."""
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_a_bad_token_over_get_is_refused(http: httpx.AsyncClient) -> None:
    """GET with an unknown token answers 401 with WWW-Authenticate, as POST does."""
    response = await http.get(
        "/graphql", params={"query": VIEWER}, headers={"Authorization": "Bearer tg_nobody"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]


async def test_unexpected_failures_over_get_are_masked(
    http: httpx.AsyncClient,
    alice,
    gateway,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug behind a GET query answers INTERNAL_SERVER_ERROR; only the log has the details."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connection string postgres://admin:pw@db leaked")

    monkeypatch.setattr(gateway.connections.local, "running_timers", broken)
    with caplog.at_level(logging.ERROR):
        response = await http.get(
            "/graphql", params={"query": "{ runningTimers { id } }"}, headers=auth(alice)
        )
    body = response.json()
    assert [e["extensions"] for e in body["errors"]] == [{"code": "INTERNAL_SERVER_ERROR"}]
    assert "leaked" not in response.text
    assert "postgres://admin:pw@db leaked" in caplog.text


async def test_cors_is_closed_by_default(http: httpx.AsyncClient, alice) -> None:
    """With no allowed origins, a browser origin gets no Access-Control-Allow-Origin."""
    origin = {"Origin": "https://evil.example"}
    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={**auth(alice), **origin}
    )
    assert "access-control-allow-origin" not in response.headers
    preflight = await http.options(
        "/graphql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers


ALLOWED = "https://app.example.com"


@pytest.fixture
async def cors_http(tmp_path: Path, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that allows the browser origin ``ALLOWED``."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cors.db'}",
        access_log=False,
        allowed_origins=(ALLOWED,),
    )
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://timergate.test") as c:
            yield c


async def test_cors_opens_for_a_configured_origin(cors_http: httpx.AsyncClient) -> None:
    """An allowed origin passes the preflight for POST with Authorization, and gets CORS headers."""
    preflight = await cors_http.options(
        "/graphql",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()

    response = await cors_http.get("/healthz", headers={"Origin": ALLOWED})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    other = await cors_http.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


SUBSCRIPTION = "subscription { timerEvents { type } }"
NEEDS_STREAM = (
    "Subscriptions need a streaming transport: a websocket to /graphql (subprotocol "
    "graphql-transport-ws or graphql-ws), or a POST to /graphql with 'Accept: text/event-stream' "
    "(server-sent events) or 'Accept: multipart/mixed'."
)


@pytest.mark.parametrize(("accept", "status"), [("application/json", 200), (GRAPHQL_RESPONSE, 400)])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_without_a_stream_names_the_transports(
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    method: str,
    accept: str,
    status: int,
) -> None:
    """A subscription over GET or plain JSON is a client error naming the streaming
    transports, with the spec's status for each media type, and leaves no log line."""
    with caplog.at_level(logging.DEBUG, logger="timergate"):
        if method == "GET":
            response = await http.get(
                "/graphql", params={"query": SUBSCRIPTION}, headers={"Accept": accept}
            )
        else:
            response = await http.post(
                "/graphql", json={"query": SUBSCRIPTION}, headers={"Accept": accept}
            )
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept)
    assert response.json() == {
        "errors": [{"message": NEEDS_STREAM, "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert caplog.records == []


@pytest.mark.parametrize("accept", ["text/event-stream", "multipart/mixed"])
async def test_a_streaming_request_meets_the_body_limit(
    http: httpx.AsyncClient, alice, accept: str
) -> None:
    """Bodies for server-sent events and multipart get the same 1 MiB bound as JSON."""
    padding = " " * (1 << 20)
    headers = {**auth(alice), "Accept": accept}
    declared = await http.post("/graphql", json={"query": SUBSCRIPTION + padding}, headers=headers)
    assert declared.status_code == 413
    assert [e["extensions"]["code"] for e in declared.json()["errors"]] == ["BAD_REQUEST"]

    async def chunks():  # no Content-Length: the size is only known as it arrives
        yield b'{"query": "' + SUBSCRIPTION.encode()
        for _ in range(20):
            yield b" " * 65536
        yield b'"}'

    chunked = await http.post(
        "/graphql", content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert chunked.status_code == 413


async def test_a_body_within_the_limit_streams(http: httpx.AsyncClient, alice) -> None:
    """A body just inside the bound still reaches the server-sent events view."""
    padding = " " * ((1 << 20) - 200)
    async with http.stream(
        "POST",
        "/graphql",
        json={"query": "{ viewer { name } }" + padding},
        headers={**auth(alice), "Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        body = (await response.aread()).decode()
    assert '"viewer":{"name":"alice"}' in body
