"""How the fake Accelo shapes answers: fields, filters, paging, method override, the
``_suppress_*`` flags, unknown paths, and the rate limit."""

from __future__ import annotations

from typing import Any

import httpx
from accelo_support import BASE_URL, AcceloUser, token_request

from timergate.domain import ManualClock
from timergate.fakes import create_fake


async def make_timers(user: AcceloUser, count: int) -> list[str]:
    ids = []
    for number in range(count):
        timer = await user.ok("POST", "/timers", subject=f"Timer {number}")
        ids.append(timer["id"])
    return ids


async def test_answers_carry_default_fields_and_more_on_request(morgan: AcceloUser) -> None:
    """Default fields only, unless _fields names more, _ALL, or a linked object in parentheses."""
    timer = await morgan.ok(
        "POST", "/timers", subject="Fields", against_type="task", against_id="51"
    )
    assert set(timer) == {"id", "subject", "seconds"}
    path = f"/timers/{timer['id']}"
    assert set(await morgan.ok("GET", path, _fields="status,nonsense")) == {
        "id", "subject", "seconds", "status",
    }  # fmt: skip
    everything = await morgan.ok("GET", path, _fields="_ALL")
    assert everything["staff"] == "7"
    assert everything["against_title"] == "Design the checkout flow"
    linked = await morgan.ok("GET", path, _fields="staff(email,username),breadcrumbs")
    assert linked["staff"] == {
        "id": "7", "firstname": "Morgan", "surname": "Reyes",
        "email": "morgan@example.com", "username": "morgan",
    }  # fmt: skip
    assert [crumb["table"] for crumb in linked["breadcrumbs"]] == ["task", "job", "company"]
    await morgan.refused("GET", path, "invalid_request", _fields="staff(email")


async def test_every_number_is_sent_as_a_string(morgan: AcceloUser, clock: ManualClock) -> None:
    """Ids, seconds and unix dates arrive as JSON strings, as Accelo sends them."""
    timer = await morgan.ok("POST", "/timers", subject="Strings", seconds=12, _fields="_ALL")
    activity = await morgan.ok(
        "POST", "/activities", subject="Strings", against_type="job", against_id=31,
        visibility="all", nonbillable=12, _fields="_ALL",
    )  # fmt: skip
    for value in (timer["id"], timer["seconds"], timer["staff_id"], activity["nonbillable"],
                  activity["date_created"], activity["owner_id"]):  # fmt: skip
        assert isinstance(value, str)
    assert activity["date_created"] == str(int(clock.now().timestamp()))


async def test_paging_uses_page_limit_and_offset(morgan: AcceloUser) -> None:
    """_limit defaults to 10 (at most 100), _page counts from 0 and wins over _offset."""
    ids = await make_timers(morgan, 12)

    async def page(**params: Any) -> list[str]:
        return [timer["id"] for timer in await morgan.ok("GET", "/timers", **params)]

    assert await page() == ids[:10]
    assert await page(_page=1) == ids[10:]
    assert await page(_limit=5, _page=1) == ids[5:10]
    assert await page(_limit=5, _offset=3) == ids[3:8]
    assert await page(_limit=5, _offset=3, _page=2) == ids[10:]
    assert await page(_limit=1000) == ids
    await morgan.refused("GET", "/timers", "invalid_request", _limit="0")
    await morgan.refused("GET", "/timers", "invalid_request", _page="first")


async def test_filters_combine_basic_range_negated_and_or(
    morgan: AcceloUser, clock: ManualClock
) -> None:
    """id(…), status(…), *_greater_than, *_not and _OR select the timers Accelo would."""
    ids = await make_timers(morgan, 4)
    await morgan.ok("PUT", f"/timers/{ids[1]}/start")

    async def found(filters: Any) -> list[str]:
        return [timer["id"] for timer in await morgan.ok("GET", "/timers", _filters=filters)]

    assert await found("status(running)") == [ids[1]]
    assert await found("status_not(running)") == [ids[0], ids[2], ids[3]]
    assert await found(f"id({ids[0]},{ids[3]})") == [ids[0], ids[3]]
    assert await found(f"id_greater_than({ids[1]}),order_by_desc(id)") == [ids[3], ids[2]]
    assert await found(f"id_less_than_or_equal({ids[1]}),staff(7)") == ids[:2]
    assert await found(f"_OR(id({ids[0]}),status(running))") == ids[:2]
    assert await found("against_id_greater_than(0)") == []  # none of them is against anything


async def test_filters_sent_as_json_work_like_the_filter_language(
    http: httpx.AsyncClient, morgan: AcceloUser
) -> None:
    """A JSON body's _filters object filters as the query-string form does."""
    ids = await make_timers(morgan, 3)
    answer = await http.request(
        "GET", "/api/v0/timers",
        json={"_filters": {"id": [int(ids[0]), int(ids[2])], "order_by_desc": ["id"]}},
        headers={"Authorization": f"Bearer {morgan.token}"},
    )  # fmt: skip
    assert [timer["id"] for timer in answer.json()["response"]] == [ids[2], ids[0]]


async def test_unknown_or_malformed_filters_are_refused_by_name(morgan: AcceloUser) -> None:
    """A filter the resource does not take is an invalid_request naming it."""
    body = await morgan.refused("GET", "/timers", "invalid_request", _filters="subject(x)")
    assert "subject" in body["meta"]["message"]
    await morgan.refused("GET", "/timers", "invalid_request", _filters="id_greater_than(a)")
    await morgan.refused("GET", "/timers", "invalid_request", _filters="order_by_desc(subject)")
    await morgan.refused("GET", "/timers", "invalid_request", _filters="status(running")


async def test_method_override_turns_a_post_into_a_put_or_a_delete(morgan: AcceloUser) -> None:
    """_method=put and _method=delete act as those methods whatever the HTTP method."""
    (timer_id,) = await make_timers(morgan, 1)
    renamed = await morgan.ok("POST", f"/timers/{timer_id}", _method="put", subject="Renamed")
    assert renamed["subject"] == "Renamed"
    assert await morgan.ok("POST", f"/timers/{timer_id}", _method="delete") is None
    assert await morgan.ok("GET", "/timers") == []


async def test_suppress_flags_shape_the_envelope(morgan: AcceloUser) -> None:
    """_suppress_http_status answers 200 with meta.response_code; _suppress_message drops the text."""
    answer = await morgan.request(
        "GET", "/timers/999", _suppress_http_status="1", _suppress_message="yes"
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "meta": {"status": "invalid_request", "response_code": 400},
        "response": None,
    }
    bare = await morgan.request("GET", "/timers", _suppress_meta="1")
    assert bare.json() == {"response": []}


async def test_unknown_paths_and_bad_requests_answer_the_envelope(
    http: httpx.AsyncClient, morgan: AcceloUser
) -> None:
    """Unknown resources, versions, ids and repeated parameters are invalid_request envelopes."""
    for path in (
        "/api/v0/monkeys",
        "/api/v20000/timers",
        "/api/v0/timers/abc",
        "/api/v0/timers.xml",
    ):
        answer = await http.get(path, headers={"Authorization": f"Bearer {morgan.token}"})
        assert answer.status_code == 400, path
        assert answer.json()["meta"]["status"] == "invalid_request"
    twice = await http.get(
        "/api/v0/timers?_limit=1&_limit=2", headers={"Authorization": f"Bearer {morgan.token}"}
    )
    assert "more than once" in twice.json()["meta"]["message"]
    assert (await morgan.ok("GET", "/timers.json")) == []


async def test_rate_limit_headers_come_on_every_api_answer(
    http: httpx.AsyncClient, morgan: AcceloUser, clock: ManualClock
) -> None:
    """X-RateLimit-Limit/Remaining/Reset are on answers and errors alike; Remaining counts down."""
    first = await morgan.request("GET", "/timers")
    failed = await AcceloUser(http, "wrong").request("GET", "/timers")
    assert first.headers["X-RateLimit-Limit"] == "5000"
    assert first.headers["X-RateLimit-Remaining"] == "4999"
    assert failed.headers["X-RateLimit-Remaining"] == "4998"
    assert failed.headers["X-RateLimit-Reset"] == str(int(clock.now().timestamp()) + 3600)


async def test_the_hourly_limit_is_enforced_when_switched_on(clock: ManualClock) -> None:
    """With rate_limit on, requests past the hourly limit get 429 until the window resets; OAuth is not counted."""
    fake = create_fake("accelo", now=clock.now, hourly_limit=3)
    description = fake.describe(BASE_URL)
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        switched = await http.post("/_fake/control", json={"rate_limit": True})
        assert switched.json()["rate_limit"] is True
        user = AcceloUser(http, description.credentials["token"])
        for _ in range(3):
            await user.ok("GET", "/timers")
        credentials = description.credentials
        refreshed = await token_request(
            http, credentials["clientId"], credentials["clientSecret"],
            grant_type="refresh_token", refresh_token=credentials["refreshToken"],
        )  # fmt: skip
        assert refreshed.status_code == 200
        assert "X-RateLimit-Remaining" not in refreshed.headers
        limited = await user.request("GET", "/timers")
        assert limited.status_code == 429
        assert limited.json()["meta"]["status"] == "too_many_requests"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        reset = int(limited.headers["X-RateLimit-Reset"])
        clock.advance(reset - int(clock.now().timestamp()))
        fresh = AcceloUser(http, refreshed.json()["access_token"])
        assert await fresh.ok("GET", "/timers") == []
