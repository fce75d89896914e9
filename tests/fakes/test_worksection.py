"""The fake Worksection API, driven the way the adapter, the docs and the official client do."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from client_venvs import run_client_script

from serving import timergate_fake
from timergate.domain import ManualClock
from timergate.fakes import create_fake
from timergate.fakes.worksection import WorksectionFake

# 22:30 UTC is 00:30 the next day in Kyiv (UTC+2 in early March).
START = datetime(2026, 3, 2, 22, 30, 15, tzinfo=UTC)
OLENA, TARAS = "3993", "5514"
TASK, OTHER_TASK, CLOSED_TASK = "330090", "330142", "330201"
PROJECT = "6622"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(clock: ManualClock) -> WorksectionFake:
    made = create_fake("worksection", now=clock.now)
    assert isinstance(made, WorksectionFake)
    return made


@pytest.fixture
async def http(fake: WorksectionFake) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ws.test") as client:
        yield client


class Worksection:
    """Calls as a user (OAuth token) or as the admin (MD5-hashed query string)."""

    def __init__(self, http: httpx.AsyncClient, fake: WorksectionFake) -> None:
        self.http = http
        description = fake.describe("http://ws.test")
        self.token = description.credentials["accessToken"]
        self.other_token = description.seed["otherCredentials"]["accessToken"]
        self.key = description.credentials["adminKey"]

    async def user(self, query: str, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = await self.http.get(f"/api/oauth2?{query}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def admin(self, query: str, key: str | None = None) -> dict[str, Any]:
        signed = hashlib.md5((query + (key or self.key)).encode()).hexdigest()
        response = await self.http.get(f"/api/admin/v2/?{query}&hash={signed}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def ws(http: httpx.AsyncClient, fake: WorksectionFake) -> Worksection:
    return Worksection(http, fake)


def error(code: int, message: str, details: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "status_code": code, "message": message}
    if details is not None:
        body["message_details"] = details
    return body


OK = {"status": "ok"}


def test_description_names_both_credentials_a_task_and_the_time_zone(
    fake: WorksectionFake,
) -> None:
    """The first line gives accessToken/adminKey, a task context, its id and the zone."""
    description = fake.describe("http://127.0.0.1:9")
    assert set(description.credentials) == {"accessToken", "adminKey"}
    seed = description.seed
    assert seed["context"] == {"type": "task", "id": TASK, "title": "Onboarding screens"}
    assert seed["taskId"] == TASK and seed["timeZone"] == "Europe/Kyiv"
    other = seed["otherCredentials"]
    assert other["adminKey"] == description.credentials["adminKey"]
    assert other["accessToken"] != description.credentials["accessToken"]


def test_an_unknown_time_zone_is_refused() -> None:
    """The account's time zone must be an IANA name."""
    with pytest.raises(ValueError, match="IANA"):
        create_fake("worksection", time_zone="Mars/Olympus")


async def test_a_token_is_accepted_as_header_or_parameter(
    ws: Worksection, http: httpx.AsyncClient
) -> None:
    """Bearer header and `access_token=` both authenticate, with or without the slash."""
    me = await ws.user("action=me")
    assert me["data"]["id"] == OLENA and me["data"]["email"].startswith("olena.")
    for path in ("/api/oauth2", "/api/oauth2/"):
        response = await http.post(f"{path}?action=me&access_token={ws.other_token}")
        assert response.json()["data"]["id"] == TARAS


@pytest.mark.parametrize(
    ("headers", "description"),
    [
        ({}, "Access token is missing"),
        ({"Authorization": "Bearer nope"}, "Access token is invalid"),
    ],
)
async def test_a_missing_or_unknown_token_answers_401(
    http: httpx.AsyncClient, headers: dict[str, str], description: str
) -> None:
    """No token, or a wrong one, answers HTTP 401 in the OAuth error shape."""
    response = await http.get("/api/oauth2?action=get_my_timer", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_request", "errorDescription": description}


async def test_a_token_expires_after_a_day(
    ws: Worksection, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    """A day after issue the token answers 401 'token is expired', the signal to refresh."""
    clock.advance(hours=23, minutes=59)
    assert (await ws.user("action=me"))["status"] == "ok"
    clock.advance(minutes=1)
    headers = {"Authorization": f"Bearer {ws.token}"}
    response = await http.get("/api/oauth2?action=me", headers=headers)
    assert response.status_code == 401
    assert "token is expired" in response.json()["errorDescription"]


async def test_admin_hash_covers_the_query_in_its_sent_order(
    ws: Worksection, http: httpx.AsyncClient
) -> None:
    """md5(query without hash + key) authenticates; another order, key or no hash is code 2."""
    assert (await ws.admin(f"action=get_tasks&id_project={PROJECT}"))["status"] == "ok"
    signed = hashlib.md5(f"action=get_tasks&id_project={PROJECT}{ws.key}".encode()).hexdigest()
    reordered = await http.get(f"/api/admin/v2?id_project={PROJECT}&action=get_tasks&hash={signed}")
    assert reordered.json() == error(2, "Action hash is missed or invalid")
    assert await ws.admin("action=get_timers", key="not-the-key") == error(
        2, "Action hash is missed or invalid"
    )
    unsigned = await http.post("/api/admin/v2/?action=get_timers")
    assert unsigned.status_code == 200
    assert unsigned.json()["status_code"] == 2
    assert unsigned.headers["content-type"] == "application/json; charset=utf-8"


async def test_admin_hash_of_an_encoded_value_may_cover_either_spelling(
    ws: Worksection, http: httpx.AsyncClient
) -> None:
    """A value with spaces is signed as sent (encoded) or as read (decoded), both accepted."""
    raw = "action=get_costs&datestart=" + quote("02.03.2026") + "&filter=" + quote("a b")
    for text in (raw, "action=get_costs&datestart=02.03.2026&filter=a b"):
        signed = hashlib.md5((text + ws.key).encode()).hexdigest()
        response = await http.get(f"/api/admin/v2/?{raw}&hash={signed}")
        assert response.json()["status"] == "ok", text


def admin_header(key: str, action: str, stamp: int = 1767225600) -> dict[str, str]:
    signature = hmac.new(key.encode(), f"{action}:{stamp}".encode(), hashlib.sha256).hexdigest()
    return {"Authorization": f"Admin {stamp}_{signature}"}


async def test_the_official_clients_admin_signature_and_json_body_work(
    ws: Worksection, http: httpx.AsyncClient
) -> None:
    """`Authorization: Admin {ts}_{hmac}` with a JSON body POSTed to /api/admin/v2 works."""
    await ws.user(f"action=start_my_timer&id_task={TASK}")
    timers = await http.post(
        "/api/admin/v2?action=get_timers", headers=admin_header(ws.key, "get_timers")
    )
    timer_id = timers.json()["data"][0]["id"]
    stopped = await http.post(
        "/api/admin/v2?action=stop_timer",
        json={"timer": int(timer_id)},
        headers=admin_header(ws.key, "stop_timer"),
    )
    assert stopped.json() == OK
    forged = await http.post(
        "/api/admin/v2?action=get_timers", headers=admin_header(ws.key, "stop_timer")
    )
    assert forged.json() == error(2, "Action hash is missed or invalid")


async def test_my_timer_runs_from_start_to_stop_and_saves_a_cost(
    ws: Worksection, clock: ManualClock
) -> None:
    """start → get (seconds, local minute) → stop with comment → [] and a timer cost entry."""
    assert await ws.user("action=get_my_timer") == {"status": "ok", "data": []}
    assert await ws.user(f"action=start_my_timer&id_task={TASK}") == OK
    clock.advance(seconds=75)
    running = (await ws.user("action=get_my_timer"))["data"]
    assert running["time"] == 75
    assert running["date_started"] == "2026-03-03 00:30"  # Kyiv time, minute precision
    assert "id" not in running and "user_from" not in running
    task = running["task"]
    assert (task["id"], task["name"], task["page"]) == (
        TASK,
        "Onboarding screens",
        "/project/6622/330090/",
    )
    assert task["project"] == {
        "id": PROJECT,
        "name": "Mobile app redesign",
        "page": "/project/6622/",
    }
    clock.advance(minutes=40, seconds=15)  # 41:30 in all
    assert await ws.user("action=stop_my_timer&comment=Wrote%20the%20copy") == OK
    assert (await ws.user("action=get_my_timer"))["data"] == []
    costs = await ws.user(f"action=get_costs&is_timer=1&id_task={TASK}")
    [cost] = costs["data"]
    assert cost["time"] == "0:42"  # whole minutes, rounded
    assert cost["money"] == f"{25 * 42 / 60:.2f}"
    assert (cost["comment"], cost["date"], cost["is_timer"]) == (
        "Wrote the copy",
        "2026-03-03",
        True,
    )
    assert cost["user_from"] == {
        "id": OLENA,
        "email": "olena.marchenko@studio.example",
        "name": "Olena Marchenko",
    }
    assert costs["total"] == {"time": "0:42", "money": cost["money"]}


async def test_a_second_start_is_refused_and_the_running_timer_goes_on(
    ws: Worksection, clock: ManualClock
) -> None:
    """Starting while a timer runs answers code 6 and leaves that timer running."""
    await ws.user(f"action=start_my_timer&id_task={TASK}")
    clock.advance(seconds=30)
    assert await ws.user(f"action=start_my_timer&id_task={OTHER_TASK}") == error(
        6, "Timer is already started"
    )
    clock.advance(seconds=30)
    running = (await ws.user("action=get_my_timer"))["data"]
    assert running["task"]["id"] == TASK and running["time"] == 60


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=start_my_timer", error(10, "Field is required", "id_task")),
        ("action=start_my_timer&id_task=999999", error(5, "Task is invalid")),
        (f"action=start_my_timer&id_task={CLOSED_TASK}", error(8, "Task is closed")),
        ("action=stop_my_timer", error(7, "Timer is not started")),
        ("action=delete_my_timer", error(7, "Timer is not started")),
        (
            "action=get_timers",
            error(1, "Action is invalid", "get_timers is available only for the admin API"),
        ),
        ("action=no_such_action", error(1, "Action is invalid", "no_such_action")),
    ],
)
async def test_user_refusals_answer_http_200_with_a_status_code(
    ws: Worksection, query: str, expected: dict[str, Any]
) -> None:
    """Bad task ids, nothing running and unknown actions are coded errors, changing nothing."""
    assert await ws.user(query) == expected
    assert (await ws.user("action=get_my_timer"))["data"] == []


async def test_discarding_my_timer_saves_no_time(ws: Worksection, clock: ManualClock) -> None:
    """delete_my_timer ends the timer without a cost entry."""
    await ws.user(f"action=start_my_timer&id_task={TASK}")
    clock.advance(minutes=10)
    assert await ws.user("action=delete_my_timer") == OK
    assert (await ws.user("action=get_my_timer"))["data"] == []
    assert (await ws.admin("action=get_costs&is_timer=1"))["data"] == []


async def test_admin_lists_every_running_timer_and_stops_one(
    ws: Worksection, clock: ManualClock
) -> None:
    """get_timers shows each user's timer as HH:MM:SS; stop_timer saves it; a second stop is 7."""
    await ws.user(f"action=start_my_timer&id_task={TASK}")
    await ws.user(f"action=start_my_timer&id_task={OTHER_TASK}", token=ws.other_token)
    clock.advance(hours=1, minutes=2, seconds=3)
    timers = (await ws.admin("action=get_timers"))["data"]
    assert [(t["user_from"]["id"], t["task"]["id"], t["time"]) for t in timers] == [
        (OLENA, TASK, "01:02:03"),
        (TARAS, OTHER_TASK, "01:02:03"),
    ]
    assert all(t["date_started"] == "2026-03-03 00:30" and t["id"].isdigit() for t in timers)
    taras = timers[1]["id"]
    assert await ws.admin(f"action=stop_timer&timer={taras}") == OK
    assert [t["user_from"]["id"] for t in (await ws.admin("action=get_timers"))["data"]] == [OLENA]
    assert (await ws.user("action=get_my_timer", token=ws.other_token))["data"] == []
    assert await ws.admin(f"action=stop_timer&timer={taras}") == error(7, "Timer not found")
    assert await ws.admin("action=stop_timer") == error(10, "Field is required", "timer")
    [cost] = (await ws.admin(f"action=get_costs&id_task={OTHER_TASK}&is_timer=1"))["data"]
    assert (cost["time"], cost["user_from"]["id"], cost["comment"]) == ("1:02", TARAS, "")


async def test_user_only_actions_are_refused_with_the_admin_key(ws: Worksection) -> None:
    """get_my_timer and friends need a user's token; the admin key gets code 1."""
    for action in ("me", "get_my_timer", "start_my_timer", "stop_my_timer", "delete_my_timer"):
        body = await ws.admin(f"action={action}")
        assert body["status_code"] == 1 and "access token" in body["message_details"], action


async def test_costs_filter_by_task_project_dates_and_kind(
    ws: Worksection, clock: ManualClock
) -> None:
    """get_costs narrows by id_task, id_project, DD.MM.YYYY dates and is_timer, with a total."""
    await ws.user(f"action=start_my_timer&id_task={TASK}")
    clock.advance(minutes=30)
    await ws.user("action=stop_my_timer")

    async def ids(query: str) -> list[str]:
        body = await ws.admin(f"action=get_costs{query}")
        assert body["status"] == "ok", body
        return [c["id"] for c in body["data"]]

    timer_cost, manual = "3610", "3609"
    assert await ids("") == [manual, timer_cost]
    assert await ids("&is_timer=0") == [manual]
    assert await ids(f"&id_task={TASK}") == [timer_cost]
    assert await ids(f"&id_project={PROJECT}") == [manual, timer_cost]
    assert await ids("&id_project=6630") == []
    assert await ids("&datestart=03.03.2026") == [timer_cost]
    assert await ids("&dateend=2026-03-02") == [manual]
    total = (await ws.admin("action=get_costs"))["total"]
    assert total == {"time": "3:00", "money": f"{11 * 2.5 + 25 * 0.5:.2f}"}
    assert await ws.admin("action=get_costs&datestart=March") == error(
        11, "Field is invalid", "datestart"
    )
    assert await ws.admin("action=get_costs&id_task=1") == error(5, "Task is invalid")


async def test_reads_an_adapter_needs_to_check_and_name_things(ws: Worksection) -> None:
    """Users, projects and tasks read with string ids; unknown ids are coded errors."""
    users = (await ws.admin("action=get_users"))["data"]
    assert [(u["id"], u["name"]) for u in users] == [
        (OLENA, "Olena Marchenko"),
        (TARAS, "Taras Bondar"),
    ]
    projects = (await ws.user("action=get_projects"))["data"]
    assert [p["id"] for p in projects] == [PROJECT, "6630"]
    assert (await ws.admin(f"action=get_project&id_project={PROJECT}"))["data"][
        "name"
    ] == "Mobile app redesign"
    tasks = (await ws.admin(f"action=get_tasks&id_project={PROJECT}"))["data"]
    assert [t["id"] for t in tasks] == [TASK, OTHER_TASK]
    active = (await ws.user("action=get_all_tasks&filter=active"))["data"]
    assert CLOSED_TASK not in [t["id"] for t in active]
    closed = (await ws.admin(f"action=get_task&id_task={CLOSED_TASK}"))["data"]
    assert closed["status"] == "done"
    assert await ws.admin("action=get_tasks&id_project=1") == error(4, "Project is invalid")
    assert await ws.admin("action=get_tasks") == error(10, "Field is required", "id_project")


async def test_parameters_may_come_in_a_json_or_form_body(
    ws: Worksection, http: httpx.AsyncClient
) -> None:
    """id_task as a JSON number or a form field starts the timer like a query parameter."""
    bearer = {"Authorization": f"Bearer {ws.token}"}
    started = await http.post(
        "/api/oauth2?action=start_my_timer", json={"id_task": int(TASK)}, headers=bearer
    )
    assert started.json() == OK
    stopped = await http.post(
        "/api/oauth2?action=stop_my_timer", data={"comment": "form body"}, headers=bearer
    )
    assert stopped.json() == OK
    [cost] = (await ws.user("action=get_costs&is_timer=1"))["data"]
    assert cost["comment"] == "form body"


async def test_one_users_token_never_reaches_another_users_timer(
    ws: Worksection, clock: ManualClock
) -> None:
    """A user sees, stops and discards only their own timer."""
    await ws.user(f"action=start_my_timer&id_task={TASK}")
    other = ws.other_token
    assert (await ws.user("action=get_my_timer", token=other))["data"] == []
    assert await ws.user("action=stop_my_timer", token=other) == error(7, "Timer is not started")
    assert await ws.user("action=delete_my_timer", token=other) == error(7, "Timer is not started")
    clock.advance(seconds=5)
    assert (await ws.user("action=get_my_timer"))["data"]["time"] == 5


async def test_rate_limit_answers_429_with_retry_after_past_one_request_a_second(
    ws: Worksection, http: httpx.AsyncClient, fake: WorksectionFake, clock: ManualClock
) -> None:
    """With the limit on, a second request within a second gets 429 and Retry-After."""
    fake.control.rate_limit = True
    assert (await ws.user("action=me"))["status"] == "ok"
    refused = await http.get(
        "/api/oauth2?action=me", headers={"Authorization": f"Bearer {ws.token}"}
    )
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert (await ws.user("action=me"))["status"] == "ok"


async def test_other_paths_are_not_found(http: httpx.AsyncClient) -> None:
    """Only the two API paths (and /_fake/) exist."""
    assert (await http.get("/api/v1?action=me")).status_code == 404


def test_timergate_fake_worksection_serves_what_its_first_line_says() -> None:
    """`timergate fake worksection` prints the description, then serves both ways in."""
    with timergate_fake("worksection") as description:
        base, credentials = description["base_url"], description["credentials"]
        bearer = {"Authorization": f"Bearer {credentials['accessToken']}"}
        task = description["seed"]["taskId"]
        started = httpx.post(
            f"{base}/api/oauth2?action=start_my_timer&id_task={task}", headers=bearer
        )
        assert started.json() == OK
        query = "action=get_timers"
        signed = hashlib.md5((query + credentials["adminKey"]).encode()).hexdigest()
        timers = httpx.get(f"{base}/api/admin/v2/?{query}&hash={signed}").json()["data"]
        assert [t["task"]["id"] for t in timers] == [task]


def test_the_official_python_client_drives_the_timer_calls() -> None:
    """worksection-api-client, unchanged, gets, starts, stops, discards and reads costs."""
    with timergate_fake("worksection") as description:
        seen = run_client_script(
            "worksection",
            "worksection_timers.py",
            {
                "base_url": description["base_url"],
                "access_token": description["credentials"]["accessToken"],
                "other_access_token": description["seed"]["otherCredentials"]["accessToken"],
                "admin_key": description["credentials"]["adminKey"],
                "task_id": description["seed"]["taskId"],
            },
        )
    assert seen["profile"]["id"] == OLENA
    assert seen["timer_before"] is None
    running = seen["timer_running"]
    assert isinstance(running["time"], int) and running["task"]["id"] == TASK
    assert seen["second_start"] == "ResponseException: start_my_timer: Timer is already started"
    assert seen["other_user_timer"] is None
    [listed] = seen["admin_timers"]
    assert listed["user_from"]["id"] == OLENA and listed["time"].count(":") == 2
    assert seen["timer_after_stop"] is None
    assert seen["stop_again"] == "ResponseException: stop_my_timer: Timer is not started"
    [mine] = seen["my_timer_costs"]
    assert (mine["comment"], mine["is_timer"], mine["user_from"]["id"]) == (
        "Wrote the onboarding copy",
        True,
        OLENA,
    )
    assert seen["timer_after_discard"] is None
    assert seen["discard_again"] == "ResponseException: delete_my_timer: Timer is not started"
    assert seen["timers_after_admin_stop"] == []
    assert seen["admin_stop_again"] == "ResponseException: stop_timer: Timer not found"
    assert [c["user_from"]["id"] for c in seen["admin_timer_costs"]] == [OLENA, TARAS]
    assert seen["wrong_key"] == "ResponseException: get_timers: Action hash is missed or invalid"
    assert seen["wrong_token"] == "UnauthorizedException: Access token is invalid"


async def test_lifetime_none_keeps_tokens_valid(clock: ManualClock) -> None:
    """token_lifetime=None (for long-running sandboxes) issues tokens that never expire."""
    fake = create_fake("worksection", now=clock.now, token_lifetime=None)
    token = fake.describe("http://ws.test").credentials["accessToken"]
    clock.advance(timedelta(days=30).total_seconds())
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ws.test") as http:
        response = await http.get(f"/api/oauth2?action=me&access_token={token}")
    assert response.json()["data"]["id"] == OLENA
