"""The fake Accelo's authentication: bearer tokens, expiry and refresh, service applications,
scopes, revocation and the lockout after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from accelo_support import AcceloUser, basic, token_request

from timergate.domain import ManualClock
from timergate.fakes.accelo import AcceloFake


async def test_the_token_works_in_the_header_or_as_bearer_token_parameter(
    http: httpx.AsyncClient, morgan: AcceloUser
) -> None:
    """Either Authorization: Bearer or _bearer_token= authenticates the call."""
    by_header = await morgan.ok("GET", "/staff/whoami")
    by_parameter = await AcceloUser(http, None).ok(
        "GET", "/staff/whoami", _bearer_token=morgan.token
    )
    assert by_header == by_parameter == {"id": "7", "firstname": "Morgan", "surname": "Reyes"}


async def test_sending_the_token_both_ways_is_an_invalid_request(morgan: AcceloUser) -> None:
    """A token in the header and in _bearer_token at once is refused as multiple credentials."""
    body = await morgan.refused("GET", "/timers", "invalid_request", _bearer_token=morgan.token)
    assert "multiple credentials" in body["meta"]["message"]


async def test_a_missing_or_unknown_token_is_invalid_client(http: httpx.AsyncClient) -> None:
    """No token, a wrong token, or Basic auth on the API answer 401 invalid_client."""
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": basic("a", "b")},
    ):
        answer = await http.get("/api/v0/timers", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["meta"]["status"] == "invalid_client"
        assert answer.json()["response"] is None


async def test_an_expired_token_is_refused_until_the_refresh_grant_replaces_it(
    http: httpx.AsyncClient, fake: AcceloFake, clock: ManualClock, description: dict[str, Any]
) -> None:
    """After expiry the token answers 401; the refresh grant gives a working pair and retires the old refresh token."""
    credentials = description["credentials"]
    morgan = AcceloUser(http, credentials["token"])
    clock.advance((fake.token_expiry() - clock.now()).total_seconds())
    body = await morgan.refused("GET", "/timers", "invalid_client")
    assert "expired" in body["meta"]["message"]
    assert (await morgan.request("GET", "/timers")).status_code == 401

    answer = await token_request(
        http, credentials["clientId"], credentials["clientSecret"],
        grant_type="refresh_token", refresh_token=credentials["refreshToken"],
    )  # fmt: skip
    assert answer.status_code == 200
    grant = answer.json()
    assert grant["token_type"] == "Bearer"
    assert grant["expires_in"] == 30 * 24 * 3600
    assert grant["refresh_token"] != credentials["refreshToken"]
    renewed = AcceloUser(http, grant["access_token"])
    assert (await renewed.ok("GET", "/staff/whoami"))["id"] == description["seed"]["staffId"]

    again = await token_request(
        http, credentials["clientId"], credentials["clientSecret"],
        grant_type="refresh_token", refresh_token=credentials["refreshToken"],
    )  # fmt: skip
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def test_a_token_asked_for_with_expires_in_expires_then(
    http: httpx.AsyncClient, clock: ManualClock, description: dict[str, Any]
) -> None:
    """expires_in on the token request sets the lifetime, counted on the fake's clock."""
    credentials = description["credentials"]
    # The docs' own refresh example sends token_type= where the table says grant_type=.
    answer = await token_request(
        http, credentials["clientId"], credentials["clientSecret"],
        token_type="refresh_token", refresh_token=credentials["refreshToken"], expires_in="60",
    )  # fmt: skip
    assert answer.json()["expires_in"] == 60
    user = AcceloUser(http, answer.json()["access_token"])
    clock.advance(59)
    await user.ok("GET", "/timers")
    clock.advance(1)
    await user.refused("GET", "/timers", "invalid_client")


async def test_the_token_endpoint_refuses_bad_clients_and_grants(
    http: httpx.AsyncClient, description: dict[str, Any]
) -> None:
    """Wrong client secret, unknown grant types, codes and a grant of the wrong app kind are refused."""
    web = description["credentials"]
    service = description["seed"]["serviceApplication"]
    cases = [
        ((web["clientId"], "wrong"), {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ((web["clientId"], web["clientSecret"]), {"grant_type": "password"}, 400, "unsupported_grant_type"),
        ((web["clientId"], web["clientSecret"]), {"grant_type": "authorization_code", "code": "1"}, 400, "invalid_grant"),
        ((web["clientId"], web["clientSecret"]), {"grant_type": "client_credentials"}, 401, "unauthorized_client"),
        ((service["clientId"], service["clientSecret"]), {"grant_type": "refresh_token", "refresh_token": web["refreshToken"]}, 401, "unauthorized_client"),
        ((service["clientId"], service["clientSecret"]), {"grant_type": "client_credentials", "scope": "read(all"}, 400, "invalid_scope"),
    ]  # fmt: skip
    for (client_id, secret), form, status, error in cases:
        answer = await token_request(http, client_id, secret, **form)
        assert (answer.status_code, answer.json()["error"]) == (status, error), form
        assert answer.json()["error_description"]
    no_basic = await http.post("/oauth2/v0/token", data={"grant_type": "client_credentials"})
    assert (no_basic.status_code, no_basic.json()["error"]) == (401, "invalid_client")


async def test_a_service_application_gets_a_read_only_token_by_default(
    http: httpx.AsyncClient, description: dict[str, Any]
) -> None:
    """client_credentials gives a token without refresh token; read(all) reads but may not write."""
    service = description["seed"]["serviceApplication"]
    answer = await token_request(
        http, service["clientId"], service["clientSecret"], grant_type="client_credentials"
    )
    grant = answer.json()
    assert "refresh_token" not in grant
    assert grant["expires_in"] == str(30 * 24 * 3600)
    robot = AcceloUser(http, grant["access_token"])
    staff = await robot.ok("GET", "/staff")
    assert [member["id"] for member in staff] == ["7", "9"]
    await robot.refused("GET", "/staff/whoami", "invalid_permission")
    body = await robot.refused(
        "POST", "/activities", "invalid_permission", subject="Note", against_type="job",
        against_id="31", owner_id="7",
    )  # fmt: skip
    assert "write(activities)" in body["meta"]["message"]


async def test_a_revoked_token_is_refused(
    http: httpx.AsyncClient, description: dict[str, Any]
) -> None:
    """POST /oauth2/v0/revoke ends a token at once."""
    credentials = description["credentials"]
    answer = await http.post(
        "/oauth2/v0/revoke",
        data={"token": credentials["token"]},
        headers={"Authorization": basic(credentials["clientId"], credentials["clientSecret"])},
    )
    assert answer.json()["meta"]["status"] == "ok"
    await AcceloUser(http, credentials["token"]).refused("GET", "/timers", "invalid_client")


async def test_tokeninfo_tells_whose_token_it_is_and_when_it_expires(
    morgan: AcceloUser, fake: AcceloFake
) -> None:
    """GET /tokeninfo names the staff member and the expiry as a unix timestamp string."""
    info = await morgan.ok("GET", "/tokeninfo")
    assert info["staff_id"] == "7"
    assert info["email"] == "morgan@example.com"
    assert info["expiry_date"] == str(int(fake.token_expiry().timestamp()))


async def test_more_than_100_failures_in_5_minutes_lock_the_address_out(
    http: httpx.AsyncClient, morgan: AcceloUser, clock: ManualClock
) -> None:
    """The 101st failed authentication locks out even good tokens, with Retry-After; quiet time lifts it."""
    stranger = AcceloUser(http, "wrong")
    for _ in range(100):
        await stranger.refused("GET", "/timers", "invalid_client")
        clock.advance(1)
    locked = await stranger.request("GET", "/timers")
    assert locked.json()["meta"]["status"] == "too_many_failed_logins"
    assert locked.headers["Retry-After"] == "300"
    clock.advance(299)
    # Trying while locked out restarts the five minutes.
    refused = await morgan.request("GET", "/timers")
    assert refused.json()["meta"]["status"] == "too_many_failed_logins"
    clock.advance(299)
    await morgan.refused("GET", "/timers", "too_many_failed_logins")
    clock.advance(timedelta(minutes=5).total_seconds())
    assert await morgan.ok("GET", "/timers") == []


async def test_failures_spread_beyond_5_minutes_never_lock_out(
    http: httpx.AsyncClient, morgan: AcceloUser, clock: ManualClock
) -> None:
    """Failures older than five minutes no longer count towards the lockout."""
    stranger = AcceloUser(http, "wrong")
    for _ in range(150):
        await stranger.refused("GET", "/timers", "invalid_client")
        clock.advance(4)
    assert await morgan.ok("GET", "/timers") == []
