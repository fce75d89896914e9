"""How the Accelo adapter turns Accelo's answers into the gateway's errors, and how it paces
itself by the X-RateLimit-* headers so the hourly allowance is not spent before its reset."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from accelo_connection import USER, accelo_provider, credentials_of, envelope

from timergate.domain import ManualClock
from timergate.errors import (
    BadUserInput,
    NotFound,
    TimergateError,
    UpstreamAuthFailed,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from timergate.fakes.accelo import AcceloFake, create_fake
from timergate.providers.header_pacing import HeaderPacing


@pytest.fixture
def fake(clock: ManualClock) -> AcceloFake:
    return create_fake(now=clock.now)


LOCKOUT = (
    "User is locked out by their IP due to too many failed authentication attempts. "
    "Please use the 'Retry-After' header for accessing the locked delay in seconds."
)

ANSWERS: list[tuple[httpx.Response, type[TimergateError], str]] = [
    (envelope("invalid_request", "subject is required."), BadUserInput, "subject is required"),
    (envelope("duplicate", "That already exists."), BadUserInput, "refused a duplicate"),
    (
        envelope("invalid_permission", "No write(timers).", code=403),
        UpstreamAuthFailed,
        "write(timers)",
    ),
    (
        envelope("too_many_requests", code=429, **{"Retry-After": "120"}),
        UpstreamRateLimited,
        "Retry in 120 s",
    ),
    (
        envelope("too_many_failed_logins", LOCKOUT, code=401, **{"Retry-After": "300"}),
        UpstreamRateLimited,
        "locked this address out",
    ),
    # The docs show the lockout answer without the meta wrapper.
    (
        httpx.Response(
            401,
            json={"status": "too_many_failed_logins", "message": LOCKOUT},
            headers={"Retry-After": "300"},
        ),
        UpstreamRateLimited,
        "locked this address out",
    ),
    (envelope("server_error", code=500), UpstreamUnavailable, "failed (server_error)"),
    (httpx.Response(200, text="<html>"), UpstreamUnavailable, "not Accelo's envelope"),
    (httpx.Response(502, text="Bad gateway"), UpstreamUnavailable, "HTTP 502"),
    (httpx.Response(404, text="Not Found"), UpstreamUnavailable, "baseUrl"),
]


@pytest.mark.parametrize(("answer", "error", "words"), ANSWERS)
async def test_accelos_answers_become_the_gateways_errors(
    fake: AcceloFake,
    clock: ManualClock,
    answer: httpx.Response,
    error: type[TimergateError],
    words: str,
) -> None:
    """Each meta.status (and each answer that is no envelope) maps to its gateway code."""
    async with accelo_provider(fake, clock, credentials_of(fake), fault=lambda _: answer) as (
        provider,
        record,
    ):
        with pytest.raises(TimergateError) as raised:
            await provider.open_timers(USER)
    assert type(raised.value) is error
    assert words in raised.value.message
    if isinstance(raised.value, UpstreamRateLimited):
        assert raised.value.retry_after in (120, 300)
    if error is not UpstreamAuthFailed:
        assert record.statuses == []


async def test_a_missing_id_is_not_found_but_bad_input_is_bad_input(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """Accelo answers invalid_request for both: an id that names nothing is NOT_FOUND."""
    async with accelo_provider(fake, clock, credentials_of(fake)) as (provider, _):
        with pytest.raises(NotFound):
            await provider.pause(USER, "4242", clock.now())
        with pytest.raises(NotFound):
            await provider.delete_entry(USER, "1002", clock.now())


async def test_an_unreachable_deployment_is_unavailable(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """A deployment that cannot be reached answers UPSTREAM_UNAVAILABLE, naming the connection."""

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with accelo_provider(fake, clock, credentials_of(fake), fault=unreachable) as opened:
        with pytest.raises(UpstreamUnavailable, match="Accelo connection 'Work' could not be"):
            await opened[0].open_timers(USER)


async def test_the_adapter_slows_down_before_the_allowance_runs_out(clock: ManualClock) -> None:
    """Past nine tenths of the hourly allowance requests wait their turn; with none left,
    nothing is sent until the reset and the caller learns when to retry."""
    fake = create_fake(now=clock.now, rate_limit=True, hourly_limit=20)
    async with accelo_provider(fake, clock, credentials_of(fake)) as (provider, record):
        for _ in range(18):
            await provider.open_timers(USER)
        assert record.waits == []
        await provider.open_timers(USER)
        await provider.open_timers(USER)
        assert len(record.waits) == 1 and 0 < record.waits[0] <= 3
        with pytest.raises(UpstreamRateLimited) as limited:
            await provider.open_timers(USER)
        assert record.sent("GET", "/api/v0/timers") == 20
        assert record.answered[429] == 0
        assert limited.value.retry_after is not None and 3500 < limited.value.retry_after <= 3600
        clock.advance(hours=1)
        assert await provider.open_timers(USER) == []


async def test_a_429_says_when_to_retry_from_the_reset_header(clock: ManualClock) -> None:
    """Spent by other clients of the deployment: Accelo's 429 becomes UPSTREAM_RATE_LIMITED
    with the seconds until X-RateLimit-Reset, and the connection is not marked."""
    fake = create_fake(now=clock.now, rate_limit=True, hourly_limit=3)
    async with accelo_provider(fake, clock, credentials_of(fake)) as (provider, record):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as other:
            for _ in range(3):
                await other.get("http://accelo.test/api/v0/staff")
        clock.advance(600)
        with pytest.raises(UpstreamRateLimited) as limited:
            await provider.open_timers(USER)
        assert limited.value.retry_after == 3000
        assert record.statuses == []


def pacing(clock: ManualClock, waits: list[float]) -> HeaderPacing:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return HeaderPacing(clock, sleep, "Accelo connection 'Work'", "key")


def headers(limit: int, remaining: int, reset_in: float, clock: ManualClock) -> dict[str, str]:
    reset = int((clock.now() + timedelta(seconds=reset_in)).timestamp())
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
    }


async def test_pacing_spreads_the_last_tenth_over_what_is_left_of_the_hour(
    clock: ManualClock,
) -> None:
    """With 5 of 100 left and 10 s to go, requests go 2 s apart; plenty left, none wait."""
    waits: list[float] = []
    paced = pacing(clock, waits)
    paced.note(headers(100, 50, 10, clock))
    await paced.wait()
    assert waits == []
    paced.note(headers(100, 5, 10, clock))
    await paced.wait()
    await paced.wait()
    assert waits == [2.0]
    clock.advance(11)
    await paced.wait()
    assert waits == [2.0], "a new window starts unpaced"


async def test_pacing_waits_at_most_a_few_seconds_and_ignores_garbage(clock: ManualClock) -> None:
    """A long spacing is capped so a request keeps its deadline; unreadable headers change nothing."""
    waits: list[float] = []
    paced = pacing(clock, waits)
    paced.note(headers(5000, 10, 3000, clock))
    await paced.wait()
    await paced.wait()
    assert waits == [3.0]
    paced.note(
        {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "soon", "x-ratelimit-reset": "1"}
    )
    assert paced.remaining == 8
