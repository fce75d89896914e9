"""The Accelo adapter's token handling: refresh once and keep the rotated refresh token, mark
the connection when the user must authorise again, and refuse service applications."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from accelo_connection import USER, accelo_provider, credentials_of

from timergate.domain import ManualClock, TimerContext, TimerDetails
from timergate.domain.connections import ConnectionStatus
from timergate.errors import BadUserInput, UpstreamAuthFailed
from timergate.fakes.accelo import AcceloFake, create_fake
from timergate.providers.accelo_session import AcceloCredentials

DETAILS = TimerDetails(description="Write the brief", context=TimerContext("job", "31"))


@pytest.fixture
def fake(clock: ManualClock) -> AcceloFake:
    return create_fake(now=clock.now)


def revoke(fake: AcceloFake, token: str) -> None:
    fake.authority.grants[token].revoked = True


async def test_an_expired_token_is_refreshed_once_and_the_new_pair_is_kept(
    clock: ManualClock,
) -> None:
    """Past its expiry the token is renewed before it is sent; the rotated refresh token is saved."""
    fake = create_fake(now=clock.now, token_lifetime=timedelta(hours=1))
    given = credentials_of(fake)
    async with accelo_provider(fake, clock, given) as (provider, record):
        await provider.verify()
        clock.advance(hours=2)
        timer = (await provider.start(USER, DETAILS, clock.now())).timer
        assert timer.details.description == "Write the brief"
        (saved,) = record.saved
        assert saved["token"] != given["token"] and saved["refreshToken"] != given["refreshToken"]
        assert (saved["clientId"], saved["clientSecret"]) == (
            given["clientId"],
            given["clientSecret"],
        )
        assert record.sent("POST", "/oauth2/v0/token") == 1
        assert record.answered[401] == 0, "a token known to be expired is not sent"
        assert record.statuses == []


async def test_a_refused_token_is_refreshed_and_the_call_sent_again(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """A token Accelo refuses (expired on its side) is swapped once, and the call succeeds."""
    given = credentials_of(fake)
    async with accelo_provider(fake, clock, given) as (provider, record):
        revoke(fake, given["token"])
        assert await provider.open_timers(USER) == []
        assert record.answered[401] == 1 and record.sent("POST", "/oauth2/v0/token") == 1
        assert len(record.saved) == 1 and record.statuses == []


async def test_calls_at_once_with_a_refused_token_refresh_it_once(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """Concurrent calls share one refresh: the rotated refresh token is never used twice."""
    given = credentials_of(fake)
    async with accelo_provider(fake, clock, given) as (provider, record):
        revoke(fake, given["token"])
        results = await asyncio.gather(*(provider.open_timers(USER) for _ in range(4)))
        assert results == [[], [], [], []]
        assert record.sent("POST", "/oauth2/v0/token") == 1
        assert record.statuses == []


async def test_a_refused_refresh_marks_the_connection_for_reauthorisation(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """When Accelo will not renew the token, the user is told to authorise again."""
    given = credentials_of(fake)
    given["refreshToken"] = "no-longer-valid"
    async with accelo_provider(fake, clock, given) as (provider, record):
        revoke(fake, given["token"])
        with pytest.raises(UpstreamAuthFailed, match="authorise timergate again"):
            await provider.open_timers(USER)
        assert record.statuses == [ConnectionStatus.NEEDS_REAUTHORIZATION]
        assert record.saved == []


async def test_an_expired_token_without_refresh_needs_reauthorisation(clock: ManualClock) -> None:
    """Without the means to refresh, an expired token marks NEEDS_REAUTHORIZATION."""
    fake = create_fake(now=clock.now, token_lifetime=timedelta(hours=1))
    async with accelo_provider(fake, clock, credentials_of(fake, refresh=False)) as opened:
        provider, record = opened
        clock.advance(hours=2)
        with pytest.raises(UpstreamAuthFailed, match="has expired"):
            await provider.open_timers(USER)
        assert record.statuses == [ConnectionStatus.NEEDS_REAUTHORIZATION]


async def test_a_revoked_token_without_refresh_fails_the_connection(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """A token refused before its expiry (revoked) marks the connection AUTH_FAILED."""
    given = credentials_of(fake, refresh=False)
    async with accelo_provider(fake, clock, given) as (provider, record):
        await provider.verify()
        revoke(fake, given["token"])
        with pytest.raises(UpstreamAuthFailed, match="refused its access token"):
            await provider.open_timers(USER)
        assert record.statuses == [ConnectionStatus.AUTH_FAILED]


async def test_a_service_applications_token_is_refused_with_the_reason(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """Accelo offers timers to users only: a client_credentials token is refused at connect."""
    service = fake.service_client
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        answer = await http.post(
            "http://accelo.test/oauth2/v0/token",
            data={"grant_type": "client_credentials", "scope": "write(all)"},
            auth=(service.client_id, service.secret),
        )
    token = answer.json()["access_token"]
    async with accelo_provider(fake, clock, {"token": token}) as (provider, _):
        with pytest.raises(BadUserInput, match="not to service applications") as refused:
            await provider.verify()
    assert refused.value.field == "input.credentials.accelo.token"


def test_refresh_needs_client_id_secret_and_refresh_token_together() -> None:
    """Half the refresh credentials is a clear input error naming what is missing."""
    with pytest.raises(BadUserInput, match="clientSecret, refreshToken missing") as refused:
        AcceloCredentials.parse({"token": "t", "clientId": "c"})
    assert refused.value.field == "input.credentials.accelo.clientSecret"
    assert not AcceloCredentials.parse({"token": "t"}).can_refresh
