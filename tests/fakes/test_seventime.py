"""The fake Seven Time API, driven over HTTP the way an adapter and the docs' examples do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from serving import timergate_fake
from timergate.domain import ManualClock
from timergate.fakes import create_fake
from timergate.fakes.seventime import SevenTimeFake

START = datetime(2026, 3, 2, 7, 30, 0, 250000, tzinfo=UTC)
ANNA, ERIK = "65f1a2b3c4d5e6f708192a01", "65f1a2b3c4d5e6f708192a02"
SOLGLANTAN = "65f1a2b3c4d5e6f708192b01"
STAMBYTE, SERVICE = "65f1a2b3c4d5e6f708192c01", "65f1a2b3c4d5e6f708192c02"
WORK_ORDER = "65f1a2b3c4d5e6f708192d01"
TASK = "65f1a2b3c4d5e6f708192e01"
WORK, TRAVEL, VACATION = (
    "65f1a2b3c4d5e6f708192f01",
    "65f1a2b3c4d5e6f708192f02",
    "65f1a2b3c4d5e6f708192f03",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(clock: ManualClock) -> SevenTimeFake:
    made = create_fake("seventime", now=clock.now)
    assert isinstance(made, SevenTimeFake)
    return made


@pytest.fixture
async def api(fake: SevenTimeFake) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends what the docs' examples send: the key and JSON headers."""
    secret = fake.describe("http://seventime.test").credentials["clientSecret"]
    headers = {"Client-Secret": secret, "Accept": "application/json"}
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://seventime.test/api/2", headers=headers
    ) as client:
        yield client


async def start(api: httpx.AsyncClient, **body: str) -> dict[str, Any]:
    response = await api.post("/startTimer", json=body)
    assert response.status_code == 200, response.text
    timer: dict[str, Any] = response.json()
    return timer


async def stop(api: httpx.AsyncClient, **body: str) -> dict[str, Any]:
    response = await api.post("/stopTimer", json=body)
    assert response.status_code == 200, response.text
    log: dict[str, Any] = response.json()
    return log


async def log_time(
    api: httpx.AsyncClient, clock: ManualClock, minutes: float, **body: str
) -> dict[str, Any]:
    await start(api, **body)
    clock.advance(minutes=minutes)
    return await stop(api, user=body["user"])


def test_description_names_credentials_and_a_startable_context(fake: SevenTimeFake) -> None:
    """The first line gives connectProvider's credentials, a project context and a second user."""
    described = fake.describe("http://127.0.0.1:9").line()
    assert '"vendor": "seventime"' in described
    description = fake.describe("http://127.0.0.1:9")
    assert description.credentials == {
        "clientSecret": description.credentials["clientSecret"],
        "userId": ANNA,
    }
    assert description.seed["context"] == {
        "type": "project",
        "id": STAMBYTE,
        "title": "Stambyte Solgläntan",
    }
    assert description.seed["customerId"] == SOLGLANTAN
    other = description.seed["otherCredentials"]
    assert other["userId"] == ERIK
    assert other["clientSecret"] == description.credentials["clientSecret"]


@pytest.mark.parametrize("secret", [None, "", "not-the-key"])
async def test_a_missing_or_wrong_client_secret_is_refused(
    api: httpx.AsyncClient, secret: str | None
) -> None:
    """Without the account's key every call answers 401 with an errorMessage."""
    headers = {} if secret is None else {"Client-Secret": secret}
    api.headers.pop("Client-Secret")
    response = await api.get("/timers", headers=headers)
    assert response.status_code == 401
    assert "Client-Secret" in response.json()["errorMessage"]


async def test_start_answers_the_timer_unwrapped_and_it_lists_as_active(
    api: httpx.AsyncClient,
) -> None:
    """startTimer returns the timer itself; GET /timers lists it in the meta/data envelope."""
    timer = await start(api, user=ANNA, project=STAMBYTE, customer=SOLGLANTAN)
    assert timer == {
        "startLocation": {"type": "Point", "coordinates": []},
        "_id": timer["_id"],
        "startTimestamp": "2026-03-02T07:30:00.250Z",
        "realStartTimestamp": "2026-03-02T07:30:00.250Z",
        "machineTimeSupplements": [],
        "machineTimePrices": [],
        "user": ANNA,
        "project": STAMBYTE,
        "customer": SOLGLANTAN,
    }
    assert len(timer["_id"]) == 24 and int(timer["_id"], 16) >= 0
    listed = (await api.get("/timers")).json()
    assert listed == {
        "meta": {"totalResources": 1, "totalPages": 1, "currentPage": 1},
        "data": [timer],
    }


@pytest.mark.parametrize("path", ["/startTimer", "/startTimer/", "/timers", "/timers/"])
async def test_every_documented_start_path_starts_a_timer(
    api: httpx.AsyncClient, path: str
) -> None:
    """The curl path, the JavaScript path and the 'HTTP Request' line all start a timer."""
    response = await api.post(path, json={"user": ANNA})
    assert response.status_code == 200, response.text
    assert (await api.get("/timers/")).json()["data"] == [response.json()]


async def test_a_second_start_for_a_running_user_is_refused_and_keeps_the_first(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """One active timer per user: a second start answers 400 and the running time stays."""
    first = await start(api, user=ANNA, project=STAMBYTE)
    clock.advance(minutes=5)
    response = await api.post("/startTimer", json={"user": ANNA, "project": SERVICE})
    assert response.status_code == 400
    assert "already has an active timer" in response.json()["errorMessage"]
    assert (await api.get("/timers")).json()["data"] == [first]


async def test_stop_by_user_answers_the_created_time_log_with_hours_and_prices(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Stopping saves a priced time log whose decimal hours match its timestamps exactly."""
    await start(api, user=ANNA, project=STAMBYTE, customer=SOLGLANTAN, task=TASK)
    clock.advance(minutes=90, milliseconds=500)
    log = await stop(api, user=ANNA)
    assert log["timestamp"] == log["realTimestamp"] == "2026-03-02T07:30:00.250Z"
    assert log["endTimestamp"] == log["realEndTimestamp"] == "2026-03-02T09:00:00.750Z"
    assert log["createDate"] == "2026-03-02T09:00:00.750Z"
    hours = 5400.5 / 3600
    assert log["time"] == log["invoiceableTime"] == hours
    assert log["pricePerHour"] == 695  # the project's price
    assert log["price"] == round(695 * hours, 4)
    assert log["cost"] == round(310 * hours, 4)
    assert log["user"] == ANNA and log["userName"] == "Anna Andersson"
    assert (log["customer"], log["project"], log["task"]) == (SOLGLANTAN, STAMBYTE, TASK)
    assert log["timeCategory"] is None
    assert log["stopLocation"] == {"type": "Point", "coordinates": []}
    assert (log["status"], log["allDay"], log["isInvoiceable"], log["isInvoiced"]) == (
        1,
        False,
        True,
        False,
    )
    assert (await api.get("/timers")).json()["data"] == []
    fetched = await api.get(f"/timeLogs/{log['_id']}")
    assert fetched.json() == {"data": log}


async def test_stop_by_timer_id_stops_that_timer(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """stopTimer with `_id` stops the named timer and leaves other users' timers running."""
    anna = await start(api, user=ANNA)
    erik = await start(api, user=ERIK)
    clock.advance(minutes=30)
    log = await stop(api, _id=anna["_id"])
    assert log["user"] == ANNA and log["time"] == 0.5
    assert (await api.get("/timers")).json()["data"] == [erik]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Either '_id' or 'user' is required"),
        ({"_id": "65f1a2b3c4d5e6f7081920ff"}, 404, "No active timer"),
        ({"user": ERIK}, 404, "has no active timer"),
        ({"user": "65f1a2b3c4d5e6f7081920ff"}, 404, "could not be found"),
    ],
)
async def test_stopping_nothing_is_refused_with_a_reason(
    api: httpx.AsyncClient, body: dict[str, str], status: int, message: str
) -> None:
    """Stopping without a target, or with none running, answers 400/404 and saves nothing."""
    await start(api, user=ANNA)
    response = await api.post("/stopTimer", json=body)
    assert response.status_code == status
    assert message in response.json()["errorMessage"]
    assert (await api.get("/timeLogs")).json()["data"] == []
    assert len((await api.get("/timers")).json()["data"]) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"user": "anna"}, 400),
        ({"user": "65f1a2b3c4d5e6f7081920ff"}, 404),
        ({"user": ANNA, "project": "65f1a2b3c4d5e6f7081920ff"}, 404),
        ({"user": ANNA, "workOrder": "nope"}, 400),
    ],
)
async def test_starting_with_bad_ids_is_refused(
    api: httpx.AsyncClient, body: dict[str, str], status: int
) -> None:
    """A missing or malformed id answers 400, an unknown one 404; no timer starts."""
    response = await api.post("/startTimer", json=body)
    assert response.status_code == status
    assert response.json()["errorMessage"]
    assert (await api.get("/timers")).json()["data"] == []


async def test_a_body_that_is_not_a_json_object_is_refused(api: httpx.AsyncClient) -> None:
    """Broken JSON answers 400 rather than starting anything."""
    response = await api.post(
        "/startTimer", content=b"{user:", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["errorMessage"]


async def test_time_category_sets_price_and_absence(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """A priced category overrides the project's price; an absence is neither work nor billable."""
    travel = await log_time(api, clock, 60, user=ERIK, project=STAMBYTE, timeCategory=TRAVEL)
    assert (travel["pricePerHour"], travel["price"]) == (450, 450)
    vacation = await log_time(api, clock, 120, user=ERIK, timeCategory=VACATION)
    assert vacation["time"] == 2 and vacation["invoiceableTime"] == 0 and vacation["price"] == 0
    assert (vacation["isAbsence"], vacation["isWorkTime"], vacation["isInvoiceable"]) == (
        True,
        False,
        False,
    )
    order = await log_time(api, clock, 30, user=ERIK, workOrder=WORK_ORDER, timeCategory=WORK)
    assert order["pricePerHour"] == 720 and order["workOrder"] == WORK_ORDER


async def test_active_timers_filter_by_each_documented_field(
    api: httpx.AsyncClient,
) -> None:
    """GET /timers narrows by user, project, task, customer, time category and work order."""
    anna = await start(api, user=ANNA, project=STAMBYTE, task=TASK, customer=SOLGLANTAN)
    erik = await start(api, user=ERIK, workOrder=WORK_ORDER, timeCategory=TRAVEL)
    cases = {
        f"user={ERIK}": [erik],
        f"project={STAMBYTE}": [anna],
        f"task={TASK}": [anna],
        f"customer={SOLGLANTAN}": [anna],
        f"timeCategory={TRAVEL}": [erik],
        f"workOrder={WORK_ORDER}": [erik],
        f"user={ERIK}&project={STAMBYTE}": [],
    }
    for query, expected in cases.items():
        assert (await api.get(f"/timers?{query}")).json()["data"] == expected, query


async def test_time_logs_filter_by_owner_objects_and_date_range(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Time logs narrow by user, project, category and a `YYYY-MM-DD HH:MM[:SS]` range."""
    first = await log_time(api, clock, 60, user=ANNA, project=STAMBYTE)  # 07:30-08:30
    clock.advance(hours=1)
    second = await log_time(api, clock, 30, user=ERIK, timeCategory=TRAVEL)  # 09:30-10:00
    clock.advance(days=1)
    third = await log_time(api, clock, 15, user=ANNA, workOrder=WORK_ORDER)  # next day

    async def ids(query: str) -> list[str]:
        response = await api.get("/timeLogs", params=query)
        assert response.status_code == 200, response.text
        return [log["_id"] for log in response.json()["data"]]

    assert await ids(f"user={ANNA}") == [first["_id"], third["_id"]]
    assert await ids(f"project={STAMBYTE}") == [first["_id"]]
    assert await ids(f"category={TRAVEL}") == [second["_id"]]
    assert await ids("workOrderNumber=2901") == [third["_id"]]
    assert await ids("timestamp=2026-03-02 09:00") == [second["_id"], third["_id"]]
    assert await ids("endTimestamp=2026-03-02T10:01:00") == [first["_id"], second["_id"]]
    both = "timestamp=2026-03-02T08:00&endTimestamp=2026-03-02 23:59:59"
    assert await ids(both) == [second["_id"]]


@pytest.mark.parametrize("value", ["2026-03-02", "02.03.2026 10:00", "2026-13-02 10:00"])
async def test_a_malformed_date_filter_is_refused(api: httpx.AsyncClient, value: str) -> None:
    """A date filter in another format answers 400 naming the accepted formats."""
    response = await api.get("/timeLogs", params={"timestamp": value})
    assert response.status_code == 400
    assert "timestamp" in response.json()["errorMessage"]


async def test_lists_page_and_sort(api: httpx.AsyncClient, clock: ManualClock) -> None:
    """`limit`/`page` slice a sorted list and `meta` counts every resource and page."""
    logs = [await log_time(api, clock, minutes, user=ANNA) for minutes in (30, 10, 20)]
    page = (await api.get("/timeLogs", params={"limit": 2, "page": 2})).json()
    assert page["meta"] == {"totalResources": 3, "totalPages": 2, "currentPage": 2}
    assert page["data"] == [logs[2]]
    by_time = await api.get("/timeLogs", params={"sortBy": "time", "sortDirection": "descending"})
    assert [log["time"] for log in by_time.json()["data"]] == [0.5, 1 / 3, 1 / 6]
    ascending = await api.get("/timeLogs", params={"sortBy": "time"})
    assert [log["_id"] for log in ascending.json()["data"]] == [
        logs[1]["_id"],
        logs[2]["_id"],
        logs[0]["_id"],
    ]
    beyond = (await api.get("/timeLogs", params={"page": 5})).json()
    assert beyond["data"] == [] and beyond["meta"]["currentPage"] == 5


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "limit=ten", "page=0", "sortBy=time&sortDirection=up"]
)
async def test_bad_paging_or_sorting_is_refused(api: httpx.AsyncClient, query: str) -> None:
    """Paging outside 1-500 or below page 1, or an unknown direction, answers 400."""
    response = await api.get(f"/timers?{query}")
    assert response.status_code == 400
    assert response.json()["errorMessage"]


async def test_a_missing_time_log_answers_404(api: httpx.AsyncClient) -> None:
    """An unknown time log id answers 404 with an errorMessage."""
    response = await api.get("/timeLogs/65f1a2b3c4d5e6f7081920ff")
    assert response.status_code == 404
    assert response.json()["errorMessage"]


async def test_deleting_a_time_log_removes_it(api: httpx.AsyncClient, clock: ManualClock) -> None:
    """DELETE /timeLogs with `_id` removes the log; deleting it again answers 404."""
    log = await log_time(api, clock, 10, user=ANNA)
    response = await api.request(
        "DELETE", "/timeLogs/", json={"_id": log["_id"], "deletedByUser": ANNA}
    )
    assert response.json() == {"_id": log["_id"]}
    assert (await api.get(f"/timeLogs/{log['_id']}")).status_code == 404
    again = await api.request("DELETE", "/timeLogs", json={"_id": log["_id"]})
    assert again.status_code == 404


async def test_seeded_objects_are_readable_without_internal_figures(
    api: httpx.AsyncClient,
) -> None:
    """Users, projects, work orders, tasks and categories read as documented, by list or id."""
    user = (await api.get(f"/users/{ANNA}")).json()["data"]
    assert (user["firstName"], user["lastName"], user["isActive"]) == ("Anna", "Andersson", True)
    assert "costPerHour" not in user
    projects = (await api.get("/projects/")).json()
    assert projects["meta"]["totalResources"] == 2
    assert {p["name"] for p in projects["data"]} == {"Stambyte Solgläntan", "Serviceavtal Norrport"}
    order = (await api.get(f"/workOrders/{WORK_ORDER}")).json()["data"]
    assert order["workOrderNumber"] == 2901
    assert (await api.get(f"/tasks/{TASK}")).json()["data"]["title"] == "Rivning badrum"
    categories = (await api.get("/timeCategories")).json()["data"]
    assert [c["name"] for c in categories] == ["Arbetstid", "Restid", "Semester"]
    assert (await api.get("/users/65f1a2b3c4d5e6f7081920ff")).status_code == 404


async def test_an_unknown_endpoint_answers_404_json(api: httpx.AsyncClient) -> None:
    """Paths and methods the API lacks answer 404 with an errorMessage."""
    for method, path in [("GET", "/timerz"), ("DELETE", "/timers"), ("PUT", "/stopTimer")]:
        response = await api.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json()["errorMessage"]


async def test_the_key_acts_for_any_user_so_the_user_field_isolates(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Each user's timers and logs are reachable only through that user's id."""
    await start(api, user=ANNA, project=STAMBYTE)
    erik = await start(api, user=ERIK, project=SERVICE)
    clock.advance(minutes=20)
    anna_log = await stop(api, user=ANNA)
    assert (await api.get(f"/timers?user={ERIK}")).json()["data"] == [erik]
    assert (await api.get(f"/timers?user={ANNA}")).json()["data"] == []
    assert (await api.get(f"/timeLogs?user={ERIK}")).json()["data"] == []
    assert (await api.get(f"/timeLogs?user={ANNA}")).json()["data"] == [anna_log]
    wrong_owner = await api.post("/stopTimer", json={"_id": erik["_id"], "user": ANNA})
    assert wrong_owner.status_code == 404
    assert (await api.get(f"/timers?user={ERIK}")).json()["data"] == [erik]


async def test_rate_limit_answers_429_past_four_requests_a_second(
    api: httpx.AsyncClient, fake: SevenTimeFake, clock: ManualClock
) -> None:
    """With the limit on, a fifth request within a second gets 429; a second later it passes."""
    fake.control.rate_limit = True
    statuses = [(await api.get("/timers")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert "4 requests per second" in (await api.get("/timers")).json()["errorMessage"]
    clock.advance(seconds=1)
    assert (await api.get("/timers")).status_code == 200
    fake.control.rate_limit = False
    assert all([(await api.get("/timers")).status_code == 200 for _ in range(10)])


async def test_fault_switches_answer_vendor_errors(api: httpx.AsyncClient) -> None:
    """/_fake/control makes every call answer a chosen status and body, e.g. a 503."""
    body = '{"errorMessage": "We are temporarily offline for maintenance"}'
    switched = await api.post(
        "http://seventime.test/_fake/control",
        json={"fail_status": 503, "fail_body": body, "fail_content_type": "application/json"},
    )
    assert switched.status_code == 200
    response = await api.get("/timers")
    assert response.status_code == 503
    assert response.json()["errorMessage"].startswith("We are temporarily offline")
    await api.post("http://seventime.test/_fake/reset")
    assert (await api.get("/timers")).status_code == 200


def test_timergate_fake_seventime_serves_what_its_first_line_says() -> None:
    """`timergate fake seventime` prints the description, then serves the API on that port."""
    with timergate_fake("seventime") as description:
        assert description["vendor"] == "seventime"
        credentials = description["credentials"]
        headers = {"Client-Secret": credentials["clientSecret"]}
        base = description["base_url"] + "/api/2"
        started = httpx.post(
            f"{base}/startTimer/", json={"user": credentials["userId"]}, headers=headers
        )
        assert started.status_code == 200, started.text
        listed = httpx.get(f"{base}/timers/", headers=headers).json()
        assert [t["_id"] for t in listed["data"]] == [started.json()["_id"]]
        stopped = httpx.post(
            f"{base}/stopTimer/", json={"_id": started.json()["_id"]}, headers=headers
        )
        assert stopped.json()["user"] == credentials["userId"]
