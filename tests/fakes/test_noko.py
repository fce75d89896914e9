"""The fake Noko, driven over HTTP the way Noko's clients and timergate's adapter drive it.

Requests go out as Noko's existing clients send them (vendors.md §6): the legacy
``X-FreckleToken`` header, JSON bodies without a ``Content-Type``, and ``{}`` even on GET and
DELETE. Time comes from a manual clock shared with the fake, so elapsed seconds are exact.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from serving import timergate_fake
from timergate.domain import ManualClock
from timergate.fakes import create_fake as create_vendor_fake
from timergate.fakes.noko import NokoFake, create_fake

BASE = "http://noko.test"
TODAY = "2026-01-01"  # the manual clock's first day

TIMER_FIELDS = {
    "id", "state", "seconds", "formatted_time", "date", "description", "user", "project", "url",
    "start_url", "pause_url", "add_or_subtract_time_url", "log_url", "log_inbox_entry_url",
}  # fmt: skip
ENTRY_FIELDS = {
    "id", "date", "user", "billable", "minutes", "description", "project", "tags", "source_url",
    "invoiced_at", "invoice", "import", "approved_at", "approved_by", "url",
    "invoiced_outside_of_noko_url", "invoiced_outside_of_freckle_url", "approved_url",
    "unapproved_url", "created_at", "updated_at",
}  # fmt: skip
USER_FIELDS = {"id", "email", "first_name", "last_name", "profile_image_url", "url"}
PROJECT_FIELDS = {"id", "name", "billing_increment", "enabled", "billable", "color", "url"}


@dataclass
class Naps:
    """Stands in for ``asyncio.sleep`` in the rate limiter: records how long requests wait."""

    taken: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


@dataclass
class NokoClient:
    """Sends requests as Noko's existing clients do."""

    http: httpx.AsyncClient
    token: str

    async def send(
        self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any
    ) -> httpx.Response:
        return await self.http.request(
            method,
            f"/v2{path}",
            params=params,
            content=json.dumps(body or {}),  # no Content-Type, as those clients send it
            headers={"X-FreckleToken": self.token},
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.send("GET", path, **params)

    async def put(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.send("PUT", path, body)

    async def ok(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.send(method, path, body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def naps() -> Naps:
    return Naps()


@pytest.fixture
def fake(clock: ManualClock, naps: Naps) -> NokoFake:
    return create_fake(now=clock.now, sleep=naps)


@pytest.fixture
def seed(fake: NokoFake) -> dict[str, Any]:
    seed: dict[str, Any] = fake.describe(BASE).seed
    return seed


@pytest.fixture
async def http(fake: NokoFake) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    headers = {"User-Agent": "timergate-tests"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
        yield client


@pytest.fixture
def robin(http: httpx.AsyncClient, fake: NokoFake) -> NokoClient:
    return NokoClient(http, fake.describe(BASE).credentials["token"])


@pytest.fixture
def sam(http: httpx.AsyncClient, seed: dict[str, Any]) -> NokoClient:
    return NokoClient(http, seed["otherCredentials"]["token"])


@pytest.fixture
def projects(seed: dict[str, Any]) -> list[int]:
    """Seeded project ids: increments 15 (the context), 1, 5 (unbillable) and 30."""
    return [int(p) for p in seed["projectIds"]]


def assert_bare_404(response: httpx.Response) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == " "


async def start(client: NokoClient, project: int, **body: Any) -> httpx.Response:
    return await client.put(f"/projects/{project}/timer/start", body)


# -- the description line and the seed ------------------------------------------------------


def test_description_names_credentials_context_and_projects(fake: NokoFake) -> None:
    """The first line gives connectProvider's credentials and a project context to time."""
    described = fake.describe("http://127.0.0.1:9001")
    assert described.vendor == "noko"
    assert described.base_url == "http://127.0.0.1:9001"
    assert set(described.credentials) == {"token"}
    seed = described.seed
    assert seed["context"]["type"] == "project"
    assert seed["context"]["id"] == seed["projectIds"][0]
    assert len(seed["projectIds"]) >= 2
    assert seed["otherCredentials"]["token"] != described.credentials["token"]


def test_the_registry_makes_noko_fakes() -> None:
    """`timergate fake noko` finds this fake through the registry."""
    assert create_vendor_fake("noko").vendor == "noko"


async def test_projects_are_seeded_with_their_billing_increments(
    robin: NokoClient, projects: list[int], seed: dict[str, Any]
) -> None:
    """Projects list with Noko's fields, filters, and an archived one; unknown ids are 404."""
    listed = (await robin.get("/projects")).json()
    by_id = {p["id"]: p for p in listed}
    assert set(listed[0]) >= PROJECT_FIELDS
    assert [by_id[p]["billing_increment"] for p in projects] == [15, 1, 5, 30]
    archived = int(seed["archivedProjectId"])
    assert by_id[archived]["enabled"] is False
    unbillable = (await robin.get("/projects", billable="false")).json()
    assert [p["id"] for p in unbillable] == [projects[2]]
    assert [p["id"] for p in (await robin.get("/projects", enabled="false")).json()] == [archived]
    one = await robin.ok("GET", f"/projects/{projects[1]}")
    assert (one["name"], one["billing_increment"]) == ("Support retainer", 1)
    assert_bare_404(await robin.get("/projects/999999"))


# -- authentication ---------------------------------------------------------------------------


def basic(token: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{token}:{password}".encode()).decode()


PRESENTATIONS = {
    "X-NokoToken header": lambda t: ({"X-NokoToken": t}, {}),
    "X-FreckleToken header": lambda t: ({"X-FreckleToken": t}, {}),
    "Authorization: token": lambda t: ({"Authorization": f"token {t}"}, {}),
    "Authorization: Bearer": lambda t: ({"Authorization": f"Bearer {t}"}, {}),
    "noko_token parameter": lambda t: ({}, {"noko_token": t}),
    "freckle_token parameter": lambda t: ({}, {"freckle_token": t}),
    "access_token parameter": lambda t: ({}, {"access_token": t}),
    "Basic x-noko-token": lambda t: ({"Authorization": basic(t, "x-noko-token")}, {}),
    "Basic x-oauth-basic": lambda t: ({"Authorization": basic(t, "x-oauth-basic")}, {}),
    "Basic x-freckle-token": lambda t: ({"Authorization": basic(t, "x-freckle-token")}, {}),
    "Basic blank password": lambda t: ({"Authorization": basic(t, "")}, {}),
}


@pytest.mark.parametrize("presentation", PRESENTATIONS)
async def test_every_documented_way_of_sending_the_token_works(
    http: httpx.AsyncClient, fake: NokoFake, presentation: str
) -> None:
    """Each way Noko (or Freckle before it) documents for sending a token authenticates."""
    token = fake.describe(BASE).credentials["token"]
    headers, params = PRESENTATIONS[presentation](token)
    response = await http.get("/v2/current_user", headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "robin.okafor@example.com"


@pytest.mark.parametrize("presentation", PRESENTATIONS)
async def test_an_unknown_token_is_refused_with_401(
    http: httpx.AsyncClient, presentation: str
) -> None:
    """A wrong token is a 401 however it is sent."""
    headers, params = PRESENTATIONS[presentation]("not-a-token")
    response = await http.get("/v2/timers", headers=headers, params=params)
    assert response.status_code == 401


async def test_no_token_or_a_password_instead_is_refused(http: httpx.AsyncClient) -> None:
    """No credentials at all, or Basic auth with an account password, is a 401."""
    assert (await http.get("/v2/current_user")).status_code == 401
    response = await http.get(
        "/v2/current_user", headers={"Authorization": basic("robin@example.com", "hunter2")}
    )
    assert response.status_code == 401


async def test_the_oauth_token_stops_working_when_it_expires(
    http: httpx.AsyncClient, robin: NokoClient, seed: dict[str, Any], clock: ManualClock
) -> None:
    """The seeded OAuth token is the same user until its expiry, then a 401; tokens go on."""
    bearer = {"Authorization": f"Bearer {seed['oauthCredentials']['token']}"}
    response = await http.get("/v2/current_user", headers=bearer)
    assert response.json()["id"] == (await robin.ok("GET", "/current_user"))["id"]
    expires = datetime.fromisoformat(seed["oauthExpiresAt"])
    clock.advance((expires - clock.now()).total_seconds())
    assert (await http.get("/v2/current_user", headers=bearer)).status_code == 401
    assert (await robin.get("/current_user")).status_code == 200


async def test_a_request_without_user_agent_is_rejected(robin: NokoClient) -> None:
    """Noko requires a User-Agent: without one (or a blank one) nothing is served."""
    del robin.http.headers["User-Agent"]
    assert (await robin.get("/current_user")).status_code == 403
    robin.http.headers["User-Agent"] = " "
    assert (await robin.get("/current_user")).status_code == 403
    robin.http.headers["User-Agent"] = "MyNokoBot/1.0"
    assert (await robin.get("/current_user")).status_code == 200


async def test_current_user_describes_the_token_owner(robin: NokoClient, sam: NokoClient) -> None:
    """The adapter checks credentials with /v2/current_user: it names the token's owner."""
    me = await robin.ok("GET", "/current_user")
    assert set(me) >= USER_FIELDS
    assert (me["first_name"], me["last_name"]) == ("Robin", "Okafor")
    assert me["url"] == f"{BASE}/v2/users/{me['id']}"
    assert (await sam.ok("GET", "/current_user"))["id"] != me["id"]


# -- timers -----------------------------------------------------------------------------------


async def test_start_runs_the_timer_and_says_where_it_lives(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """Start answers 200 with the running timer, every documented field, and a Location."""
    project = projects[0]
    response = await start(robin, project, description="Kick-off #meeting")
    assert response.status_code == 200
    assert response.headers["location"] == f"{BASE}/v2/projects/{project}/timer"
    timer = response.json()
    assert set(timer) == TIMER_FIELDS
    assert (timer["state"], timer["seconds"], timer["date"]) == ("running", 0, TODAY)
    assert timer["description"] == "Kick-off #meeting"
    assert set(timer["user"]) == USER_FIELDS
    assert set(timer["project"]) == PROJECT_FIELDS
    assert timer["project"]["id"] == project
    assert timer["log_url"] == f"{BASE}/v2/projects/{project}/timer/log"
    clock.advance(3723)
    again = await robin.ok("GET", f"/projects/{project}/timer")
    assert (again["id"], again["seconds"], again["formatted_time"]) == (
        timer["id"],
        3723,
        "01:02:03",
    )


async def test_starting_a_timer_pauses_the_running_one(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """One timer runs at a time: starting another pauses the first, which keeps its time."""
    first, second = projects[0], projects[1]
    await start(robin, first)
    clock.advance(60)
    await start(robin, second)
    clock.advance(45)
    paused = await robin.ok("GET", f"/projects/{first}/timer")
    assert (paused["state"], paused["seconds"]) == ("paused", 60)
    listed = (await robin.get("/timers")).json()
    assert [(t["project"]["id"], t["state"], t["seconds"]) for t in listed] == [
        (second, "running", 45),
        (first, "paused", 60),
    ]


async def test_pause_keeps_the_time_and_a_new_start_resumes(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """Paused time stands still; pausing again changes nothing; start resumes the same timer."""
    project = projects[0]
    started = (await start(robin, project)).json()
    clock.advance(30)
    paused = await robin.ok("PUT", f"/projects/{project}/timer/pause")
    assert (paused["state"], paused["seconds"]) == ("paused", 30)
    clock.advance(100)
    assert (await robin.ok("PUT", f"/projects/{project}/timer/pause"))["seconds"] == 30
    resumed = (await start(robin, project)).json()
    assert (resumed["id"], resumed["state"], resumed["seconds"]) == (started["id"], "running", 30)
    clock.advance(10)
    assert (await robin.ok("GET", f"/projects/{project}/timer"))["seconds"] == 40


async def test_a_restart_keeps_the_entry_date(robin: NokoClient, projects: list[int]) -> None:
    """The first start fixes the entry date; a later start cannot move it."""
    project = projects[0]
    first = await start(robin, project, entry_date="2025-12-30")
    assert first.json()["date"] == "2025-12-30"
    await robin.put(f"/projects/{project}/timer/pause")
    again = await start(robin, project, entry_date="2025-11-11")
    assert again.json()["date"] == "2025-12-30"


async def test_edit_creates_a_timer_and_sets_its_description(
    robin: NokoClient, projects: list[int]
) -> None:
    """Editing a missing timer creates it (not running); PUT and PATCH both edit."""
    path = f"/projects/{projects[1]}/timer"
    created = await robin.ok("PUT", path, {"description": "Triage #support"})
    assert (created["state"], created["seconds"]) == ("pending", 0)
    assert created["description"] == "Triage #support"
    edited = await robin.ok("PATCH", path, {"description": "Triage the queue"})
    assert (edited["id"], edited["description"]) == (created["id"], "Triage the queue")
    running = (await start(robin, projects[1])).json()
    assert (running["id"], running["description"]) == (created["id"], "Triage the queue")


async def test_time_can_be_added_and_subtracted_but_not_below_zero(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """add_or_subtract_time takes minutes and seconds, either sign; a timer never goes negative."""
    project = projects[0]
    path = f"/projects/{project}/timer/add_or_subtract_time"
    await start(robin, project)
    clock.advance(20)
    assert (await robin.ok("PUT", path, {"minutes": 2, "seconds": 30}))["seconds"] == 170
    assert (await robin.ok("PUT", path, {"seconds": -70}))["seconds"] == 100
    clock.advance(5)
    after = await robin.ok("PUT", path, {"minutes": -60})
    assert (after["seconds"], after["state"]) == (0, "running")
    clock.advance(5)
    assert (await robin.ok("GET", f"/projects/{project}/timer"))["seconds"] == 5


async def test_adding_time_needs_a_whole_number(robin: NokoClient, projects: list[int]) -> None:
    """No amount, or a malformed one, is Noko's Validation Failed."""
    path = f"/projects/{projects[0]}/timer/add_or_subtract_time"
    await start(robin, projects[0])
    missing = await robin.put(path, {})
    assert missing.status_code == 400
    assert missing.json() == {
        "message": "Validation Failed",
        "errors": [{"resource": "Timer", "field": "minutes", "code": "missing_field"}],
    }
    malformed = await robin.put(path, {"seconds": "soon"})
    assert malformed.json()["errors"] == [
        {"resource": "Timer", "field": "seconds", "code": "invalid"}
    ]


async def test_log_makes_an_entry_rounded_up_with_tags_and_answers_204(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """Logging answers 204 with no body, ends the timer and leaves an entry to find by listing."""
    project = projects[0]  # billing increment 15
    await start(robin, project, description="Design review")
    clock.advance(7 * 60 + 10)
    path = f"/projects/{project}/timer/log"
    logged = await robin.put(path, {"description": "Design review #Design #client-x"})
    assert (logged.status_code, logged.content) == (204, b"")
    assert_bare_404(await robin.get(f"/projects/{project}/timer"))
    newest = await robin.get("/entries", project_ids=str(project), **{"from": TODAY})
    (entry,) = newest.json()
    assert set(entry) == ENTRY_FIELDS
    assert (entry["minutes"], entry["date"], entry["billable"]) == (15, TODAY, True)
    assert entry["description"] == "Design review #Design #client-x"
    # Tags are the account's: "#Design" is the seeded "design" tag, "#client-x" a new one.
    assert [(t["name"], t["formatted_name"]) for t in entry["tags"]] == [
        ("design", "#design"),
        ("client-x", "#client-x"),
    ]
    (seeded,) = (await robin.get("/entries", description="wireframes")).json()
    assert entry["tags"][0]["id"] == seeded["tags"][0]["id"]
    assert set(entry["tags"][0]) == {"id", "name", "billable", "formatted_name", "url"}
    assert entry["created_at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_log_rounds_given_minutes_up_and_takes_an_entry_date(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """Given minutes are also rounded up to the increment; entry_date overrides the timer's."""
    support, workshop = projects[1], projects[3]  # increments 1 and 30
    for project in (support, workshop):
        await start(robin, project)
        clock.advance(5)
        body = {"minutes": 7, "entry_date": "2025-12-24", "description": "Calls"}
        assert (await robin.put(f"/projects/{project}/timer/log", body)).status_code == 204
    entries = (await robin.get("/entries", description="calls")).json()
    assert sorted((e["project"]["id"], e["minutes"], e["date"]) for e in entries) == [
        (support, 7, "2025-12-24"),
        (workshop, 30, "2025-12-24"),
    ]


async def test_a_started_minute_counts_when_logging(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """Without minutes, the elapsed time is rounded up to whole minutes, then to the increment."""
    support = projects[1]  # increment 1
    await start(robin, support, description="Quick fix")
    clock.advance(61)
    await robin.put(f"/projects/{support}/timer/log")
    (entry,) = (await robin.get("/entries", description="quick fix")).json()
    assert entry["minutes"] == 2


async def test_operations_on_a_missing_timer_are_404(
    robin: NokoClient, projects: list[int]
) -> None:
    """Get, pause, add time, log and discard without a timer answer Noko's bare 404."""
    base = f"/projects/{projects[0]}/timer"
    assert_bare_404(await robin.get(base))
    assert_bare_404(await robin.put(f"{base}/pause"))
    assert_bare_404(await robin.put(f"{base}/add_or_subtract_time", {"minutes": 1}))
    assert_bare_404(await robin.put(f"{base}/log"))
    assert_bare_404(await robin.send("DELETE", base))
    await robin.put(base, {"description": "Not started"})
    assert_bare_404(await robin.put(f"{base}/log"))  # a timer never run has nothing to log
    assert_bare_404(await robin.put(f"{base}/log_inbox_entry"))  # "not implemented yet"


async def test_discard_removes_the_timer_and_logs_nothing(
    robin: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """DELETE answers 204; the timer is gone and no entry appears."""
    before = len((await robin.get("/entries")).json())
    await start(robin, projects[0])
    clock.advance(600)
    discarded = await robin.send("DELETE", f"/projects/{projects[0]}/timer")
    assert (discarded.status_code, discarded.content) == (204, b"")
    assert_bare_404(await robin.get(f"/projects/{projects[0]}/timer"))
    assert len((await robin.get("/entries")).json()) == before


async def test_timers_need_a_live_project(robin: NokoClient, seed: dict[str, Any]) -> None:
    """An unknown project is 404; an archived one refuses a timer with a validation error."""
    assert_bare_404(await start(robin, 999999))
    refused = await start(robin, int(seed["archivedProjectId"]))
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"resource": "Timer", "field": "project", "code": "archived_project"}
    ]


async def test_the_timer_list_filters(robin: NokoClient, projects: list[int]) -> None:
    """Timers filter by description text, a comma-separated projects list, and billable."""
    texts = ["Planning", "Team meeting", "Build", "Meeting notes"]
    for project, text in zip(projects, texts, strict=True):
        await start(robin, project, description=text)

    async def listed(**params: str) -> list[int]:
        return [t["project"]["id"] for t in (await robin.get("/timers", **params)).json()]

    assert sorted(await listed(description="meeting")) == sorted([projects[1], projects[3]])
    assert sorted(await listed(projects=f"{projects[0]},{projects[2]}")) == sorted(
        [projects[0], projects[2]]
    )
    assert await listed(billable="false") == [projects[2]]
    assert (await listed())[0] == projects[3]  # the running timer comes first
    assert await listed(description="meeting", billable="false") == []


async def test_the_timer_list_pages_with_link_headers(
    robin: NokoClient, projects: list[int]
) -> None:
    """per_page splits the list; Link names last/next, then first/prev, absolute and followable."""
    for project in projects[:3]:
        await start(robin, project)
    first = await robin.get("/timers", per_page="2")
    assert len(first.json()) == 2
    assert set(first.links) == {"last", "next"}
    assert first.links["next"]["url"].startswith(f"{BASE}/v2/timers?")
    second = await robin.http.get(first.links["next"]["url"], headers={"X-NokoToken": robin.token})
    assert set(second.links) == {"first", "prev"}
    ids = [t["id"] for t in first.json() + second.json()]
    assert len(set(ids)) == 3
    assert "link" not in (await robin.get("/timers/")).headers  # one page: no Link


# -- entries ----------------------------------------------------------------------------------


async def test_creating_an_entry_answers_201_with_location_and_rounds_up(
    robin: NokoClient, projects: list[int]
) -> None:
    """POST /v2/entries rounds minutes up to the project's increment and says where it is."""
    body = {"date": "2025-12-29", "minutes": 20, "project_id": projects[0], "description": "QA"}
    response = await robin.send("POST", "/entries", body)
    assert response.status_code == 201
    entry = response.json()
    assert (entry["minutes"], entry["date"], entry["project"]["id"]) == (
        30,
        "2025-12-29",
        projects[0],
    )
    assert response.headers["location"] == f"{BASE}/v2/entries/{entry['id']}"
    fetched = await robin.http.get(
        response.headers["location"], headers={"X-NokoToken": robin.token}
    )
    assert fetched.json() == entry


async def test_an_entry_may_name_its_project_which_is_created_if_new(robin: NokoClient) -> None:
    """project_name finds a project by name, or creates it with the account's increment."""
    body = {"date": TODAY, "minutes": 10, "project_name": "Side quest"}
    entry = (await robin.send("POST", "/entries", body)).json()
    assert (entry["project"]["name"], entry["minutes"]) == ("Side quest", 15)
    again = await robin.send("POST", "/entries", {**body, "project_name": "side quest"})
    assert again.json()["project"]["id"] == entry["project"]["id"]
    names = [p["name"] for p in (await robin.get("/projects", name="quest")).json()]
    assert names == ["Side quest"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"minutes": 10}, ("date", "missing_field")),
        ({"date": TODAY}, ("minutes", "missing_field")),
        ({"date": "01/02/2026", "minutes": 10}, ("date", "invalid")),
        ({"date": TODAY, "minutes": 0}, ("minutes", "invalid")),
        ({"date": TODAY, "minutes": 10, "project_id": 999999}, ("project_id", "missing")),
        ({"date": TODAY, "minutes": 10, "user_id": 8202}, ("user_id", "insufficent_permissions")),
    ],
)
async def test_a_bad_entry_is_a_validation_failure(
    robin: NokoClient, body: dict[str, Any], error: tuple[str, str]
) -> None:
    """Missing or malformed fields answer Noko's Validation Failed naming the field."""
    response = await robin.send("POST", "/entries", body)
    assert response.status_code == 400
    assert response.json() == {
        "message": "Validation Failed",
        "errors": [{"resource": "Entry", "field": error[0], "code": error[1]}],
    }


async def test_an_entry_is_edited_with_put_or_patch(robin: NokoClient, projects: list[int]) -> None:
    """Edits change only the fields sent; a new description brings its new tags."""
    body = {"date": TODAY, "minutes": 5, "project_id": projects[1], "description": "Call #phone"}
    entry = (await robin.send("POST", "/entries", body)).json()
    path = f"/entries/{entry['id']}"
    edited = await robin.ok("PUT", path, {"minutes": 12, "description": "Call #video"})
    assert (edited["minutes"], edited["date"]) == (12, TODAY)
    assert [t["name"] for t in edited["tags"]] == ["video"]
    moved = await robin.ok("PATCH", path, {"project_id": projects[3], "minutes": 12})
    assert (moved["project"]["id"], moved["minutes"]) == (projects[3], 30)


async def test_a_deleted_entry_is_gone(robin: NokoClient) -> None:
    """DELETE answers 204 (with the {} body clients send); the entry is then 404."""
    entry = (await robin.send("POST", "/entries", {"date": TODAY, "minutes": 5})).json()
    deleted = await robin.send("DELETE", f"/entries/{entry['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_bare_404(await robin.get(f"/entries/{entry['id']}"))
    assert_bare_404(await robin.send("DELETE", f"/entries/{entry['id']}"))


async def test_the_entry_list_filters(robin: NokoClient, projects: list[int]) -> None:
    """Entries filter by project_ids, from/to, ids, description, billable and tag_ids."""
    made = []
    for day, project, text in [
        ("2025-12-01", projects[0], "Alpha #red"),
        ("2025-12-10", projects[2], "Beta #blue"),
        ("2025-12-20", projects[0], "Gamma #red #blue"),
    ]:
        body = {"date": day, "minutes": 30, "project_id": project, "description": text}
        made.append((await robin.send("POST", "/entries", body)).json())
    alpha, beta, gamma = (e["id"] for e in made)

    async def listed(**params: str) -> list[int]:
        window = {"from": "2025-12-01", "to": "2025-12-28"}  # the seeded entries lie outside
        found = (await robin.get("/entries", **{**window, **params})).json()
        return [e["id"] for e in found]

    assert await listed() == [gamma, beta, alpha]  # the most recent date first
    assert await listed(project_ids=str(projects[0])) == [gamma, alpha]
    assert await listed(**{"from": "2025-12-05", "to": "2025-12-15"}) == [beta]
    assert await listed(ids=f"{alpha},{beta}") == [beta, alpha]
    assert await listed(description="gam") == [gamma]
    assert await listed(billable="false") == [beta]
    blue = next(t["id"] for t in made[1]["tags"])
    red = next(t["id"] for t in made[0]["tags"])
    assert await listed(tag_ids=str(blue)) == [gamma, beta]
    assert await listed(tag_ids=f"{blue},{red}") == [gamma]
    bad = await robin.get("/entries", **{"from": "last week"})
    assert bad.json()["errors"] == [{"resource": "Entry", "field": "from", "code": "invalid"}]


async def test_the_entry_list_pages_up_to_1000_a_page(robin: NokoClient) -> None:
    """30 entries a page by default, per_page up to 1000; following Link next visits each once."""
    for day in range(1, 36):
        await robin.send("POST", "/entries", {"date": f"2025-10-{day % 31 + 1:02d}", "minutes": 1})
    total = len((await robin.get("/entries", per_page="1000")).json())
    assert total == 35 + 4  # and Robin's four seeded entries
    assert len((await robin.get("/entries", per_page="5000")).json()) == total
    seen: list[int] = []
    response = await robin.get("/entries")
    assert len(response.json()) == 30
    while True:
        seen += [e["id"] for e in response.json()]
        if "next" not in response.links:
            break
        response = await robin.http.get(
            response.links["next"]["url"], headers={"X-NokoToken": robin.token}
        )
    assert len(seen) == len(set(seen)) == total


# -- bodies and errors ------------------------------------------------------------------------


async def test_bodies_are_json_whatever_their_content_type(
    robin: NokoClient, projects: list[int]
) -> None:
    """JSON with or without a Content-Type, a form body (curl -d), and {} on GET all work."""
    path = f"/v2/projects/{projects[0]}/timer/start"
    token = {"X-NokoToken": robin.token}
    typed = await robin.http.put(path, json={"description": "typed"}, headers=token)
    assert typed.json()["description"] == "typed"
    form = await robin.http.put(path, data={"description": "form"}, headers=token)
    assert form.json()["description"] == "form"
    get_with_body = await robin.http.request("GET", "/v2/timers", content=b"{}", headers=token)
    assert get_with_body.status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{nope", "JSON Parsing Error"), (b"[1, 2]", "Body should be JSON Hash")],
)
async def test_an_unreadable_body_is_a_400_with_noko_message(
    robin: NokoClient, projects: list[int], body: bytes, message: str
) -> None:
    """A body that is not JSON, or not a JSON object, answers Noko's message."""
    response = await robin.http.put(
        f"/v2/projects/{projects[0]}/timer/start",
        content=body,
        headers={"X-NokoToken": robin.token},
    )
    assert (response.status_code, response.json()) == (400, {"message": message})
    assert_bare_404(await robin.get(f"/projects/{projects[0]}/timer"))


async def test_unknown_paths_and_methods_answer_the_bare_404(robin: NokoClient) -> None:
    """Anything Noko does not route is its 404 page, as for a missing object."""
    assert_bare_404(await robin.get("/invoices"))
    assert_bare_404(await robin.send("POST", "/timers"))
    assert_bare_404(await robin.get("/entries/not-a-number"))


async def test_the_fail_switch_makes_noko_answer_an_outage(
    robin: NokoClient, http: httpx.AsyncClient
) -> None:
    """/_fake/control can make every call fail the way an outage does; reset restores it."""
    outage = {"fail_status": 503, "fail_body": "<h1>Down</h1>", "fail_content_type": "text/html"}
    assert (await http.post("/_fake/control", json=outage)).status_code == 200
    down = await robin.get("/timers")
    assert (down.status_code, down.text) == (503, "<h1>Down</h1>")
    await http.post("/_fake/reset")
    assert (await robin.get("/timers")).status_code == 200


# -- one user never sees another's --------------------------------------------------------------


async def test_users_see_only_their_own_timers(
    robin: NokoClient, sam: NokoClient, projects: list[int], clock: ManualClock
) -> None:
    """Sam's paused timer is invisible to Robin; each runs their own timer on a shared project."""
    (sams,) = (await sam.get("/timers")).json()
    assert_bare_404(await robin.get(f"/projects/{sams['project']['id']}/timer"))
    assert (await robin.get("/timers")).json() == []
    await start(robin, projects[0])
    clock.advance(30)
    await start(sam, projects[0])
    robins_timer = await robin.ok("GET", f"/projects/{projects[0]}/timer")
    assert (robins_timer["state"], robins_timer["seconds"]) == ("running", 30)
    sams_timers = {t["project"]["id"]: t for t in (await sam.get("/timers")).json()}
    assert sams_timers[projects[0]]["seconds"] == 0
    assert sams_timers[projects[0]]["id"] != robins_timer["id"]
    # Sam's start paused only Sam's own timers.
    assert (await robin.ok("GET", f"/projects/{projects[0]}/timer"))["state"] == "running"


async def test_users_see_only_their_own_entries(robin: NokoClient, sam: NokoClient) -> None:
    """Another user's entry answers exactly like a missing one, and never shows in a list."""
    (sams,) = (await sam.get("/entries")).json()
    assert_bare_404(await robin.get(f"/entries/{sams['id']}"))
    assert_bare_404(await robin.put(f"/entries/{sams['id']}", {"minutes": 1}))
    assert_bare_404(await robin.send("DELETE", f"/entries/{sams['id']}"))
    assert sams["id"] not in [e["id"] for e in (await robin.get("/entries")).json()]
    assert (await robin.get("/entries", user_ids=str(sams["user"]["id"]))).json() == []
    assert (await sam.ok("GET", f"/entries/{sams['id']}"))["minutes"] == sams["minutes"]


# -- rate limit ---------------------------------------------------------------------------------


async def test_rate_limit_slows_five_excess_requests_then_answers_an_empty_429(
    fake: NokoFake, robin: NokoClient, naps: Naps, clock: ManualClock
) -> None:
    """At 2 requests a second per address, 5 excess requests wait, the next gets an empty 429."""
    fake.control.rate_limit = True
    statuses = [(await robin.get("/timers")).status_code for _ in range(6)]
    assert statuses == [200] * 6
    assert naps.taken == [0.5, 1.0, 1.5, 2.0, 2.5]
    refused = await robin.get("/timers")
    assert (refused.status_code, refused.content) == (429, b"")
    other = httpx.ASGITransport(app=fake.app, client=("10.0.0.2", 40000))
    async with httpx.AsyncClient(transport=other, base_url=BASE) as elsewhere:
        another_address = await NokoClient(elsewhere, robin.token).get("/timers")
    assert another_address.status_code == 200
    clock.advance(3)  # the bucket drains two requests a second
    assert (await robin.get("/timers")).status_code == 200


async def test_without_the_switch_nothing_is_rate_limited(
    robin: NokoClient, naps: Naps, http: httpx.AsyncClient
) -> None:
    """The limit is off by default and can be switched on through /_fake/control."""
    assert all([(await robin.get("/timers")).status_code == 200 for _ in range(10)])
    assert naps.taken == []
    assert (await http.post("/_fake/control", json={"rate_limit": True})).json()["rate_limit"]
    assert [(await robin.get("/timers")).status_code for _ in range(7)][-1] == 429


# -- the command ----------------------------------------------------------------------------------


def test_timergate_fake_noko_prints_its_description_and_serves_it() -> None:
    """`timergate fake noko` prints the JSON line first; its credentials and context work."""
    with timergate_fake("noko") as described:
        assert described["vendor"] == "noko"
        base_url = described["base_url"]
        assert base_url.startswith("http://127.0.0.1:")
        headers = {
            "User-Agent": "timergate-tests",
            "X-NokoToken": described["credentials"]["token"],
        }
        with httpx.Client(base_url=base_url, headers=headers) as http:
            assert http.get("/v2/current_user").status_code == 200
            project = described["seed"]["context"]["id"]
            started = http.put(f"/v2/projects/{project}/timer/start", content=b"{}")
            assert started.json()["state"] == "running"
            assert started.headers["location"] == f"{base_url}/v2/projects/{project}/timer"
            assert http.get("/_fake/control").json()["rate_limit"] is False


def test_timergate_fake_noko_rate_limit_flag_switches_the_limit_on() -> None:
    """`--rate-limit` starts the fake with Noko's rate limit on."""
    with timergate_fake("noko", "--rate-limit") as described:
        control = httpx.get(f"{described['base_url']}/_fake/control").json()
        assert control["rate_limit"] is True
