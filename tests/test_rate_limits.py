"""Rate limits per token and per client address, over the HTTP fast path and Strawberry's view."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from tests.conftest import GraphQLClient, make_token

from timergate.app import create_app
from timergate.config import Settings

VIEWER = "{ viewer { name } }"
TYPENAME = "{ __typename }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, so a few requests reach them."""
    return replace(settings, rate_limit_per_token="3/minute", rate_limit_per_address="2/minute")


def assert_rate_limited(response: httpx.Response) -> int:
    """A whole request refused: 429, a Retry-After header and RATE_LIMITED with retryAfter."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert f"retry in {retry_after} s" in error["message"]
    return retry_after


async def test_a_token_past_its_limit_gets_429_with_retry_after(
    alice: GraphQLClient, bob: GraphQLClient
) -> None:
    """The fourth request of a token within 3/minute is refused; another token is not."""
    for _ in range(3):
        assert await alice.data(VIEWER) == {"viewer": {"name": "alice"}}
    assert_rate_limited(await alice.post(VIEWER))
    assert await bob.data(VIEWER) == {"viewer": {"name": "bob"}}


async def test_get_queries_through_the_view_count_against_the_same_limit(
    alice: GraphQLClient,
) -> None:
    """Queries over GET (Strawberry's view) and POST share the token's count."""
    headers = {"Authorization": f"Bearer {alice.token}"}
    for _ in range(2):
        response = await alice.http.get("/graphql", params={"query": VIEWER}, headers=headers)
        assert response.status_code == 200, response.text
    assert await alice.data(VIEWER) == {"viewer": {"name": "alice"}}
    assert_rate_limited(await alice.http.get("/graphql", params={"query": VIEWER}, headers=headers))


async def test_requests_without_a_token_count_per_address(
    anonymous: GraphQLClient, alice: GraphQLClient
) -> None:
    """Anonymous requests and wrong tokens share the address's limit; valid tokens do not."""
    assert (await anonymous.post(TYPENAME)).status_code == 200
    wrong = GraphQLClient(anonymous.http, "tg_not-a-token")
    assert (await wrong.post(VIEWER)).status_code == 401
    assert_rate_limited(await anonymous.post(TYPENAME))
    assert_rate_limited(await wrong.post(VIEWER))
    assert await alice.data(VIEWER) == {"viewer": {"name": "alice"}}


async def test_addresses_are_counted_apart(settings: Settings) -> None:
    """One address past its limit does not refuse another address."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                base_url="http://timergate.test",
            )
            for address in ("192.0.2.1", "192.0.2.2")
        ]
        one, two = (GraphQLClient(c) for c in clients)
        for _ in range(2):
            assert (await one.post(TYPENAME)).status_code == 200
        assert_rate_limited(await one.post(TYPENAME))
        assert (await two.post(TYPENAME)).status_code == 200
        for client in clients:
            await client.aclose()


async def test_off_turns_a_limit_off(settings: Settings) -> None:
    """rate_limit_per_address=off lets any number of anonymous requests through."""
    app = create_app(replace(settings, rate_limit_per_address="off"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://timergate.test"
        ) as http,
    ):
        for _ in range(10):
            assert (await GraphQLClient(http).post(TYPENAME)).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("rate_limit_per_token", "lots"), ("rate_limit_per_address", "5 per fortnight")],
)
def test_a_malformed_limit_is_refused_at_start_naming_the_setting(
    settings: Settings, field: str, value: str
) -> None:
    """A limit that does not parse stops the app from starting, with the setting and a sample."""
    with pytest.raises(ValueError, match=f"{field}: .*'100/second;3000/minute'"):
        create_app(replace(settings, **{field: value}))


def test_an_unknown_limit_storage_is_refused_at_start(settings: Settings) -> None:
    """A rate limit storage URL of no known scheme stops the app with the ones to use."""
    with pytest.raises(ValueError, match="memory:// or redis://"):
        create_app(replace(settings, rate_limit_storage="carrier-pigeon://loft"))


REDIS_URL = "redis://127.0.0.1:6379/15"


async def test_gateways_sharing_a_redis_storage_share_the_counts(settings: Settings) -> None:
    """With rate_limit_storage=redis://…, a token's requests count across every gateway."""
    redis = pytest.importorskip("redis.asyncio")
    probe = redis.from_url(REDIS_URL)
    try:
        await probe.ping()
    except OSError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    finally:
        await probe.aclose()
    shared = replace(settings, rate_limit_storage=REDIS_URL)
    first, second = create_app(shared), create_app(shared)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        token = await make_token(first.state.gateway, "ruth")
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t.test")
            for app in (first, second)
        ]
        one, two = (GraphQLClient(c, token) for c in clients)
        assert await one.data(VIEWER) == {"viewer": {"name": "ruth"}}
        assert await two.data(VIEWER) == {"viewer": {"name": "ruth"}}
        assert await one.data(VIEWER) == {"viewer": {"name": "ruth"}}
        assert_rate_limited(await two.post(VIEWER))
        for client in clients:
            await client.aclose()
