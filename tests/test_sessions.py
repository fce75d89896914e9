"""The front door: tokens to users, revocation at once, and the per-user connection cap."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from tests.conftest import GraphQLClient, make_token

from timergate.auth import hash_token
from timergate.config import Settings
from timergate.errors import TooManyConnections, Unauthenticated
from timergate.gateway import Gateway
from timergate.sessions import Sessions
from timergate.store import open_store

VIEWER = "{ viewer { name } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Token lookups cached for an hour and a log polled hourly: only a notice can revoke."""
    return replace(
        settings,
        token_cache_seconds=3600,
        revocation_poll_seconds=3600,
        max_connections_per_user=2,
    )


def sessions_of(app: Starlette) -> Sessions:
    sessions: Sessions = app.state.sessions
    return sessions


async def test_a_revocation_in_this_process_refuses_a_cached_token_at_once(
    gateway: Gateway, alice: GraphQLClient, bob: GraphQLClient
) -> None:
    """Gateway.revoke_tokens drops the token from the hour-long cache; other tokens work on."""
    assert await alice.data(VIEWER) == {"viewer": {"name": "alice"}}
    assert alice.token is not None
    assert await gateway.revoke_tokens([alice.token]) == 1
    response = await alice.post(VIEWER)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await bob.data(VIEWER) == {"viewer": {"name": "bob"}}


async def test_a_revocation_by_another_process_is_read_from_the_log(
    gateway: Gateway, alice: GraphQLClient, settings: Settings
) -> None:
    """A token revoked through another store connection is refused after one poll of the log."""
    assert await alice.data(VIEWER) == {"viewer": {"name": "alice"}}
    assert alice.token is not None
    other = open_store(settings.database_url)  # as `timergate token revoke` opens it
    await other.connect()
    try:
        assert await other.revoke_tokens([hash_token(alice.token)]) == 1
    finally:
        await other.disconnect()
    assert (await alice.post(VIEWER)).status_code == 200, "cached until the log is read"
    await gateway.revocations.poll()
    assert (await alice.post(VIEWER)).status_code == 401


async def test_revoking_a_token_revokes_its_connections_only(
    app: Starlette, gateway: Gateway, alice: GraphQLClient
) -> None:
    """Revocation ends every connection of that token, not those of the user's other tokens."""
    sessions = sessions_of(app)
    second = await make_token(gateway, "alice")
    assert alice.token is not None
    first_session = await sessions.authenticate(f"Bearer {alice.token}", "192.0.2.1")
    second_session = await sessions.authenticate(f"Bearer {second}", "192.0.2.1")
    ended: list[str] = []
    sessions.open(first_session, on_revoke=lambda: ended.append("first"))
    kept = sessions.open(second_session, on_revoke=lambda: ended.append("second"))
    await gateway.revoke_tokens([alice.token])
    assert ended == ["first"]
    assert not kept.revoked.is_set()


async def test_a_connection_racing_its_revocation_is_refused(
    app: Starlette, gateway: Gateway, alice: GraphQLClient
) -> None:
    """A token revoked between its lookup and the connection's registration cannot register."""
    sessions = sessions_of(app)
    assert alice.token is not None
    session = await sessions.authenticate(f"Bearer {alice.token}", "192.0.2.1")
    await gateway.revoke_tokens([alice.token])
    with pytest.raises(Unauthenticated):
        sessions.open(session)


async def test_the_cap_counts_open_connections_per_user(
    app: Starlette, gateway: Gateway, alice: GraphQLClient, bob: GraphQLClient
) -> None:
    """Past max_connections_per_user a user is refused; a released connection makes room."""
    sessions = sessions_of(app)
    assert alice.token is not None and bob.token is not None
    session = await sessions.authenticate(f"Bearer {alice.token}", "192.0.2.1")
    first = sessions.open(session)
    sessions.open(session)
    with pytest.raises(TooManyConnections) as refused:
        sessions.open(session)
    assert refused.value.extensions() == {"code": "TOO_MANY_CONNECTIONS", "limit": 2}
    sessions.open(await sessions.authenticate(f"Bearer {bob.token}", "192.0.2.1"))
    first.release()
    first.release()  # twice changes nothing
    sessions.open(session)
    assert session.user is not None
    assert sessions.open_count(session.user.id) == 2


async def test_an_event_stream_past_the_cap_is_refused_with_429(
    app: Starlette, alice: GraphQLClient
) -> None:
    """SSE with the cap already taken: HTTP 429 and TOO_MANY_CONNECTIONS, as JSON."""
    sessions = sessions_of(app)
    assert alice.token is not None
    session = await sessions.authenticate(f"Bearer {alice.token}", "192.0.2.1")
    for _ in range(2):
        sessions.open(session)
    response = await alice.http.post(
        "/graphql",
        json={"query": "subscription { timerEvents { type } }"},
        headers={"Authorization": f"Bearer {alice.token}", "Accept": "text/event-stream"},
    )
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_CONNECTIONS", "limit": 2}
    assert "close one" in error["message"]


async def test_a_query_asking_for_a_stream_releases_its_place(
    app: Starlette, alice: GraphQLClient, http: httpx.AsyncClient
) -> None:
    """A query sent with Accept: text/event-stream holds a place only while it runs."""
    assert alice.token is not None
    for _ in range(3):
        response = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"Authorization": f"Bearer {alice.token}", "Accept": "text/event-stream"},
        )
        assert response.status_code == 200, response.text
    user = (await sessions_of(app).authenticate(f"Bearer {alice.token}", "192.0.2.1")).user
    assert user is not None
    assert sessions_of(app).open_count(user.id) == 0


async def stream_until_revoked(
    app: Starlette, gateway: Gateway, person: GraphQLClient, accept: str
) -> str:
    """Subscribe over an HTTP stream, revoke the token once it is open; the whole body."""
    assert person.token is not None
    request = asyncio.ensure_future(
        person.http.post(
            "/graphql",
            json={"query": "subscription { timerEvents { type } }"},
            headers={"Authorization": f"Bearer {person.token}", "Accept": accept},
        )
    )
    user = await gateway.authenticator.authenticate(person.token)
    assert user is not None
    for _ in range(1000):
        if sessions_of(app).open_count(user.id):
            break
        await asyncio.sleep(0.005)
    assert sessions_of(app).open_count(user.id) == 1, "the stream never opened"
    await gateway.revoke_tokens([person.token])
    response = await request
    assert response.status_code == 200
    assert sessions_of(app).open_count(user.id) == 0
    return response.text


async def test_revocation_ends_a_server_sent_events_stream(
    app: Starlette, gateway: Gateway, alice: GraphQLClient
) -> None:
    """An SSE subscription ends with an UNAUTHENTICATED error and "complete" on revocation."""
    body = await stream_until_revoked(app, gateway, alice, "text/event-stream")
    events = [e for e in body.split("\r\n\r\n") if e.strip() and not e.startswith(":")]
    assert len(events) == 2, body
    name, _, data = events[0].partition("\r\ndata: ")
    assert name == "event: next"
    (error,) = orjson.loads(data)["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "revoked" in error["message"]
    assert events[1].startswith("event: complete")


async def test_revocation_ends_a_multipart_stream(
    app: Starlette, gateway: Gateway, alice: GraphQLClient
) -> None:
    """A multipart subscription ends with an UNAUTHENTICATED error and its closing boundary."""
    body = await stream_until_revoked(
        app, gateway, alice, 'multipart/mixed;subscriptionSpec="1.0", application/json'
    )
    *parts, end = body.split("\r\n--graphql")
    assert end == "--\r\n", body
    payloads = [orjson.loads(part.partition("\r\n\r\n")[2]) for part in parts if part]
    errors = [p["payload"]["errors"] for p in payloads if p]  # {} parts are heartbeats
    assert len(errors) == 1, body
    (error,) = errors[0]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "revoked" in error["message"]
