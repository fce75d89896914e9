"""The fake ftrack over HTTP, the way an adapter and ftrack's clients call ``POST /api``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from serving import timergate_fake
from timergate.domain import ManualClock
from timergate.fakes.ftrack import FtrackFake, create_fake

BASE_URL = "http://ftrack.test"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ref(entity_type: str, id_: str) -> dict[str, str]:
    return {"__entity_type__": entity_type, "id": id_}


def when(value: str) -> dict[str, str]:
    return {"__type__": "datetime", "value": value}


@dataclass
class Ftrack:
    """Posts batches of operations to the fake as one of its users."""

    http: httpx.AsyncClient
    credentials: dict[str, str]

    async def post(
        self, body: Any, *, credentials: dict[str, str] | None = None, strict: bool = False
    ) -> httpx.Response:
        who = credentials or self.credentials
        headers = {
            "ftrack-user": who["apiUser"],
            "ftrack-api-key": who["apiKey"],
            "ftrack-strict-api": "true" if strict else "false",
        }
        return await self.http.post("/api", json=body, headers=headers)

    async def call(self, *operations: dict[str, Any], **options: Any) -> list[Any]:
        """The results of a batch that must succeed."""
        response = await self.post(list(operations), **options)
        assert response.status_code == 200, response.text
        results = response.json()
        assert isinstance(results, list), results
        return results

    async def fail(self, *operations: dict[str, Any], **options: Any) -> dict[str, Any]:
        """The error object of a batch that must fail (non-strict: HTTP 200)."""
        response = await self.post(list(operations), **options)
        assert response.status_code == 200, response.text
        error: dict[str, Any] = response.json()
        assert set(error) == {"exception", "content", "error_code"}, error
        return error

    async def query(self, expression: str, **options: Any) -> dict[str, Any]:
        (result,) = await self.call({"action": "query", "expression": expression}, **options)
        assert result["action"] == "query"
        return result


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(clock: ManualClock) -> FtrackFake:
    return create_fake(now=clock.now)


@pytest.fixture
def seed(fake: FtrackFake) -> dict[str, Any]:
    return fake.describe(BASE_URL).seed


@pytest.fixture
def other(seed: dict[str, Any]) -> dict[str, str]:
    credentials: dict[str, str] = seed["otherCredentials"]
    return credentials


@pytest.fixture
async def ftrack(fake: FtrackFake) -> AsyncIterator[Ftrack]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield Ftrack(http, fake.describe(BASE_URL).credentials)


async def my_user_id(ftrack: Ftrack, credentials: dict[str, str] | None = None) -> str:
    username = (credentials or ftrack.credentials)["apiUser"]
    result = await ftrack.query(
        f'select id from User where username is "{username}"', credentials=credentials
    )
    user_id: str = result["data"][0]["id"]
    return user_id


def create_timer(**data: Any) -> dict[str, Any]:
    return {"action": "create", "entity_type": "Timer", "entity_data": data}


def create_timelog(**data: Any) -> dict[str, Any]:
    return {"action": "create", "entity_type": "Timelog", "entity_data": data}


# Connecting


async def test_server_information_passes_the_python_clients_checks(ftrack: Ftrack) -> None:
    """A version of at least 3.3.11, timezone support on, and a storage scenario."""
    (information,) = await ftrack.call({"action": "query_server_information"})
    assert tuple(int(p) for p in information["version"].split(".")) >= (3, 3, 11)
    assert information["is_timezone_support_enabled"] is True
    assert information["storage_scenario"] == {"scenario": "ftrack.automatic", "data": {}}


async def test_the_schema_hash_is_the_clients_hash_of_the_schemas(ftrack: Ftrack) -> None:
    """ftrack's Python client reuses its schema cache only when these hashes agree."""
    information, schemas = await ftrack.call(
        {"action": "query_server_information"}, {"action": "query_schemas"}
    )
    digest = hashlib.md5(json.dumps(schemas, sort_keys=True).encode()).hexdigest()
    assert information["schema_hash"] == digest


async def test_the_javascript_client_may_ask_for_chosen_server_values(ftrack: Ftrack) -> None:
    """query_server_information with ``values`` answers those values."""
    (information,) = await ftrack.call(
        {"action": "query_server_information", "values": ["is_timezone_support_enabled"]}
    )
    assert information == {"is_timezone_support_enabled": True}


async def test_schemas_describe_timers_and_timelogs_as_ftrack_does(ftrack: Ftrack) -> None:
    """Timer has no duration; Timelog has; references name served schemas; Location is there."""
    (schemas,) = await ftrack.call({"action": "query_schemas"})
    by_id = {schema["id"]: schema for schema in schemas}
    assert {"Location", "User", "Context", "Project", "Task", "Timer", "Timelog"} <= set(by_id)
    timer = by_id["Timer"]
    assert set(timer["properties"]) == {
        "id",
        "name",
        "comment",
        "start",
        "context_id",
        "user_id",
        "context",
        "user",
    }
    assert timer["properties"]["id"]["default"] == "{uid}"
    assert timer["properties"]["start"] == {"type": "string", "format": "date-time"}
    assert timer["properties"]["user"] == {"$ref": "User"}
    assert timer["properties"]["context"] == {"$ref": "Context"}
    assert timer["primary_key"] == ["id"]
    assert timer["default_projections"] == ["id"]
    assert by_id["Timelog"]["properties"]["duration"] == {"type": "number"}
    assert by_id["Timelog"]["system_projections"] == ["user_id", "context_id"]
    assert by_id["User"]["properties"]["timelogs"] == {
        "type": "array",
        "items": {"$ref": "Timelog"},
    }
    for schema in schemas:
        for fragment in schema["properties"].values():
            target = fragment.get("$ref") or fragment.get("items", {}).get("$ref")
            assert target is None or target in by_id, (schema["id"], target)


async def test_a_wrong_api_key_is_refused_with_ftracks_error(ftrack: Ftrack) -> None:
    """InvalidCredentialsError at HTTP 200, whatever the batch asks, and no key echoed."""
    wrong = {**ftrack.credentials, "apiKey": "0000-not-the-key"}
    for credentials in (wrong, {"apiUser": "nobody", "apiKey": ftrack.credentials["apiKey"]}):
        error = await ftrack.fail({"action": "query_server_information"}, credentials=credentials)
        assert error["exception"] == "InvalidCredentialsError"
        assert "ftrack-api-key" in error["content"]
        assert "0000-not-the-key" not in error["content"]
    response = await ftrack.http.post("/api", json=[{"action": "query_schemas"}])
    assert response.json()["exception"] == "InvalidCredentialsError"


async def test_strict_mode_answers_errors_with_4xx_statuses(ftrack: Ftrack) -> None:
    """With ftrack-strict-api: true the same error objects come with 401, 403 and 400."""
    cases = [
        ({**ftrack.credentials, "apiKey": "wrong"}, {"action": "query_schemas"}, 401),
        (None, {"action": "create", "entity_type": "Project", "entity_data": {}}, 403),
        (None, {"action": "query", "expression": "Timer where"}, 400),
    ]
    for credentials, operation, status in cases:
        response = await ftrack.post([operation], credentials=credentials, strict=True)
        assert response.status_code == status
        assert set(response.json()) == {"exception", "content", "error_code"}


async def test_a_body_that_is_not_an_array_of_operations_is_refused(ftrack: Ftrack) -> None:
    """A JSON object, an unknown action, or no JSON at all each answer a ValidationError."""
    assert (await ftrack.post({"action": "query_schemas"})).json()["exception"] == "ValidationError"
    error = await ftrack.fail({"action": "explode"})
    assert error["exception"] == "ValidationError" and "explode" in error["content"]
    response = await ftrack.http.post(
        "/api",
        content=b"[not json",
        headers={"ftrack-user": ftrack.credentials["apiUser"], **_key(ftrack)},
    )
    assert response.json()["exception"] == "ValidationError"


def _key(ftrack: Ftrack) -> dict[str, str]:
    return {"ftrack-api-key": ftrack.credentials["apiKey"]}


# Timers


async def test_a_timer_without_a_start_starts_now(
    ftrack: Ftrack, seed: dict[str, Any], clock: ManualClock
) -> None:
    """As the client's start_timer sends no start, the server fills it with its clock."""
    user_id = await my_user_id(ftrack)
    clock.advance(seconds=12.75)
    (created,) = await ftrack.call(
        create_timer(user=ref("User", user_id), context=ref("Task", seed["taskId"]), comment="")
    )
    assert created["action"] == "create"
    timer = created["data"]
    assert timer["__entity_type__"] == "Timer"
    assert timer["start"] == when("2026-03-02T09:00:12")  # whole seconds, naive UTC
    assert timer["user_id"] == user_id
    assert timer["context_id"] == seed["taskId"]
    assert (timer["comment"], timer["name"]) == ("", None)
    assert "duration" not in timer
    found = await ftrack.query(
        "select start, context.name, user.username from Timer "
        f'where user.username is "{ftrack.credentials["apiUser"]}"'
    )
    (row,) = found["data"]
    assert row["id"] == timer["id"]
    assert row["context"] == {
        "__entity_type__": "Task",
        "id": seed["taskId"],
        "name": "Compositing",
        "context_type": "task",
        "project_id": row["context"]["project_id"],
        "object_type_id": row["context"]["object_type_id"],
    }
    assert row["user"]["username"] == ftrack.credentials["apiUser"]
    assert found["metadata"] == {"next": {"offset": None}}


async def test_a_client_side_id_and_an_explicit_start_are_kept(ftrack: Ftrack) -> None:
    """The Python client sends its own uuid in entity_key and entity_data; start may be set."""
    user_id = await my_user_id(ftrack)
    timer_id = "0f2b6a34-8f1e-4d9b-9a6e-5b8f0d1c2e3f"
    (created,) = await ftrack.call(
        {
            "action": "create",
            "entity_type": "Timer",
            "entity_key": [timer_id],
            "entity_data": {
                "__entity_type__": "Timer",
                "id": timer_id,
                "user": ref("User", user_id),
                "start": when("2026-03-02T10:15:00+02:00"),
                "name": "dailies",
            },
        }
    )
    assert created["data"]["id"] == timer_id
    assert created["data"]["start"] == when("2026-03-02T08:15:00")
    assert created["data"]["context_id"] is None


async def test_datetimes_arrive_with_offsets_z_or_naive_and_leave_as_utc(ftrack: Ftrack) -> None:
    """Python sends +00:00 offsets, JavaScript .000Z, older tools naive UTC: all mean one instant."""
    user_id = await my_user_id(ftrack)
    sent = ["2026-03-02T11:00:00+02:00", "2026-03-02T09:00:00.000Z", "2026-03-02T09:00:00"]
    results = await ftrack.call(
        *(create_timelog(user_id=user_id, start=when(v), duration=60) for v in sent),
        create_timelog(user_id=user_id, start="2026-03-02T09:00:00Z", duration=60),
    )
    assert {r["data"]["start"]["value"] for r in results} == {"2026-03-02T09:00:00"}


async def test_a_timelog_without_a_user_is_the_callers(
    ftrack: Ftrack, other: dict[str, str]
) -> None:
    """Timelog's user is optional in ftrack's schema; left out, it is whoever logs it."""
    (created,) = await ftrack.call(
        create_timelog(start=when("2026-03-02T08:00:00"), duration=60), credentials=other
    )
    assert created["data"]["user_id"] == await my_user_id(ftrack, other)


async def test_a_second_timer_of_a_user_is_a_duplicate_entry(
    ftrack: Ftrack, other: dict[str, str]
) -> None:
    """One timer per user: DuplicateEntryError, which the official client turns NotUnique."""
    user_id = await my_user_id(ftrack)
    await ftrack.call(create_timer(user_id=user_id))
    error = await ftrack.fail(create_timer(user_id=user_id))
    assert error["exception"] == "DuplicateEntryError"
    assert len((await ftrack.query("Timer"))["data"]) == 1
    other_id = await my_user_id(ftrack, other)
    await ftrack.call(create_timer(user_id=other_id), credentials=other)


async def test_stopping_writes_a_timelog_and_deletes_the_timer_in_one_batch(
    ftrack: Ftrack, seed: dict[str, Any], clock: ManualClock
) -> None:
    """The batch stop_timer sends: create the Timelog, delete the Timer; results in order."""
    user_id = await my_user_id(ftrack)
    (created,) = await ftrack.call(
        create_timer(user_id=user_id, context_id=seed["taskId"], comment="comp")
    )
    timer = created["data"]
    clock.advance(minutes=95)
    logged, deleted = await ftrack.call(
        create_timelog(
            user_id=user_id,
            context_id=timer["context_id"],
            comment=timer["comment"],
            name=timer["name"],
            start=timer["start"],
            duration=95 * 60,
        ),
        {"action": "delete", "entity_type": "Timer", "entity_key": [timer["id"]]},
    )
    assert logged["action"] == "create"
    assert logged["data"]["duration"] == 95 * 60
    assert logged["data"]["start"] == when("2026-03-02T09:00:00")
    assert deleted == {"action": "delete", "data": True}
    assert (await ftrack.query("Timer"))["data"] == []
    found = await ftrack.query(
        f"select duration, comment from Timelog where id is {logged['data']['id']}"
    )
    assert [(t["duration"], t["comment"]) for t in found["data"]] == [(5700, "comp")]


async def test_a_failing_operation_undoes_its_whole_batch(ftrack: Ftrack) -> None:
    """Operations before the failure in the same request do not happen either."""
    user_id = await my_user_id(ftrack)
    before = len((await ftrack.query("Timelog"))["data"])
    error = await ftrack.fail(
        create_timelog(user_id=user_id, start=when("2026-03-02T08:00:00"), duration=60),
        create_timer(user_id=user_id, context_id="00000000-0000-4000-8000-000000000000"),
    )
    assert error["exception"] == "ValidationError"
    assert "00000000-0000-4000-8000-000000000000" in error["content"]
    assert len((await ftrack.query("Timelog"))["data"]) == before
    assert (await ftrack.query("Timer"))["data"] == []


async def test_an_update_answers_what_changed(ftrack: Ftrack, seed: dict[str, Any]) -> None:
    """Update takes scalars, references and datetimes; ids cannot change."""
    user_id = await my_user_id(ftrack)
    (created,) = await ftrack.call(create_timer(user_id=user_id))
    key = [created["data"]["id"]]
    (updated,) = await ftrack.call(
        {
            "action": "update",
            "entity_type": "Timer",
            "entity_key": key,
            "entity_data": {
                "__entity_type__": "Timer",
                "comment": "plates",
                "context": ref("Task", seed["taskId"]),
                "start": when("2026-03-02T08:30:00+00:00"),
            },
        }
    )
    assert updated == {
        "action": "update",
        "data": {
            "__entity_type__": "Timer",
            "id": key[0],
            "comment": "plates",
            "context_id": seed["taskId"],
            "start": when("2026-03-02T08:30:00"),
        },
    }
    error = await ftrack.fail(
        {"action": "update", "entity_type": "Timer", "entity_key": key, "entity_data": {"id": "x"}}
    )
    assert error["exception"] == "ValidationError"


async def test_deleting_a_missing_timer_is_an_error(ftrack: Ftrack) -> None:
    """delete of an id that does not exist names the id."""
    error = await ftrack.fail(
        {"action": "delete", "entity_type": "Timer", "entity_key": ["no-such-timer"]}
    )
    assert error["exception"] == "ValidationError"
    assert "no-such-timer" in error["content"]


async def test_writes_are_checked_against_the_schema(ftrack: Ftrack) -> None:
    """The seed's Timer duration, a wrong type, a missing Timelog start each get a clear error."""
    user_id = await my_user_id(ftrack)
    bad = [
        create_timer(user_id=user_id, duration=3600),
        create_timer(user_id=user_id, comment=12),
        create_timer(user_id=user_id, start="yesterday-ish"),
        create_timer(user=ref("Task", user_id)),
        create_timelog(user_id=user_id, duration=60),
        create_timer(comment="nobody's"),
        {"action": "create", "entity_type": "Timerr", "entity_data": {}},
    ]
    for operation in bad:
        error = await ftrack.fail(operation)
        assert error["exception"] == "ValidationError", (operation, error)
    assert (await ftrack.query("Timer"))["data"] == []


async def test_users_projects_and_tasks_are_read_only(ftrack: Ftrack, seed: dict[str, Any]) -> None:
    """An API user may not create, change or delete them: PermissionError."""
    operations = [
        {"action": "create", "entity_type": "Task", "entity_data": {"name": "New"}},
        {
            "action": "update",
            "entity_type": "Task",
            "entity_key": [seed["taskId"]],
            "entity_data": {"name": "Renamed"},
        },
        {"action": "delete", "entity_type": "User", "entity_key": [await my_user_id(ftrack)]},
    ]
    for operation in operations:
        assert (await ftrack.fail(operation))["exception"] == "PermissionError"


# Queries


async def test_queries_page_by_offset_limit_and_metadata_next(ftrack: Ftrack) -> None:
    """offset/limit cut pages; metadata.next.offset says where the next starts, None at the end."""
    user_id = await my_user_id(ftrack)
    await ftrack.call(
        *(
            create_timelog(user_id=user_id, start=when(f"2026-03-0{day}T09:00:00"), duration=day)
            for day in range(1, 6)
        )
    )
    expression = (
        f"select duration from Timelog where user_id is {user_id} "
        'and start > "2026-01-01T00:00:00" order by start descending'
    )
    pages, offset = [], 0
    while offset is not None:
        result = await ftrack.query(f"{expression} offset {offset} limit 2")
        pages.append([t["duration"] for t in result["data"]])
        offset = result["metadata"]["next"]["offset"]
    assert pages == [[5, 4], [3, 2], [1]]


async def test_criteria_follow_ftracks_query_language(ftrack: Ftrack, seed: dict[str, Any]) -> None:
    """is and =, quoted and bare ids, in, like, and/or/not, parentheses, none, has and any."""
    user_id = await my_user_id(ftrack)
    name = ftrack.credentials["apiUser"]

    async def comments(criteria: str) -> list[str]:
        result = await ftrack.query(f"select comment from Timelog where {criteria} order by start")
        return [t["comment"] for t in result["data"]]

    roto, lookdev = "Roto cleanup, shots 010-030", "Lookdev review notes"
    assert await comments(f'user.username is "{name}"') == [roto, lookdev]
    assert await comments(f"user_id = {user_id}") == [roto, lookdev]
    assert await comments(f'context_id is "{seed["taskId"]}"') == [roto]
    assert await comments(f"context_id in ({seed['taskId']}, nothing)") == [roto]
    assert await comments(f'context_id not_in ("{seed["taskId"]}")') == [lookdev]
    assert await comments('comment like "%REVIEW%"') == [lookdev]
    assert await comments('comment not_like "roto%"') == [lookdev]
    assert await comments('context.name is "Lighting" or duration >= 10800') == [roto, lookdev]
    assert (
        await comments('(context.name is "Lighting" or duration > 10800) and not name is none')
        == []
    )
    assert await comments('name is none and context.parent.name is "nightfall"') == [roto, lookdev]
    assert await comments('start after "2024-03-04T10:00:00+01:00"') == [lookdev]
    assert await comments('start before "2024-03-04 10:00:00"') == [roto]
    assert await comments('start <= "2024-03-04T09:00:00Z"') == [roto]
    assert await comments('context has (name is "Compositing")') == [roto]
    users = await ftrack.query("select username from User where timelogs any (duration > 7200)")
    assert [u["username"] for u in users["data"]] == [name]
    idle = await ftrack.query("select username from User where not timelogs any ()")
    assert [u["username"] for u in idle["data"]] == [seed["otherCredentials"]["apiUser"]]


async def test_a_related_entity_comes_as_its_concrete_type(
    ftrack: Ftrack, seed: dict[str, Any]
) -> None:
    """Contexts are queried as Context and answered as Task or Project, nested as asked."""
    result = await ftrack.query(
        "select name, parent.name from Context "
        f'where id is "{seed["taskId"]}" or children any (id is "{seed["taskId"]}")'
        " order by context_type"
    )
    project, task = result["data"]
    assert (project["__entity_type__"], project["name"]) == ("Project", "nightfall")
    assert project["parent"] is None
    assert (task["__entity_type__"], task["name"]) == ("Task", "Compositing")
    assert task["parent"] == {
        "__entity_type__": "Project",
        "id": project["id"],
        "context_type": "show",
        "name": "nightfall",
    }
    with_project = await ftrack.query(
        f"select project.full_name from Task where id is {task['id']}"
    )
    assert with_project["data"][0]["project"]["full_name"] == "Nightfall"


async def test_a_query_without_select_answers_default_projections(ftrack: Ftrack) -> None:
    """``Task`` alone answers context_type, id and name, as the schema's defaults say."""
    result = await ftrack.query("Task where name is Compositing")
    (task,) = result["data"]
    assert {"context_type", "id", "name"} <= set(task)
    assert task["__entity_type__"] == "Task"


async def test_bad_queries_say_what_is_wrong(ftrack: Ftrack) -> None:
    """Syntax errors are ParseErrors; unknown types and attributes are ValidationErrors."""
    cases = {
        "select id from Timer where start ~ 3": ("ParseError", "Failed to parse"),
        "select id from Timer where (id is 1": ("ParseError", "Failed to parse"),
        "select id from Timers": ("ValidationError", "Timers"),
        "select duration from Timer": ("ValidationError", "duration"),
        "select id from Timer where user.nickname is x": ("ValidationError", "nickname"),
        'select id from Timer where start > "soon"': ("ValidationError", "soon"),
        "select id from User order by timelogs.start": ("ValidationError", "timelogs"),
    }
    for expression, (exception, words) in cases.items():
        error = await ftrack.fail({"action": "query", "expression": expression})
        assert error["exception"] == exception, (expression, error)
        assert words in error["content"], (expression, error)


# Two users


async def test_one_user_never_sees_anothers_timers_or_timelogs(
    ftrack: Ftrack, other: dict[str, str]
) -> None:
    """Queries, the user's timelogs collection, and ids of the other user's records all miss."""
    user_id = await my_user_id(ftrack)
    (created,) = await ftrack.call(create_timer(user_id=user_id, comment="mine"))
    timer_id = created["data"]["id"]
    assert (await ftrack.query("Timer", credentials=other))["data"] == []
    seen = await ftrack.query(
        f"select timelogs.comment from User where id is {user_id}", credentials=other
    )
    assert seen["data"][0]["timelogs"] == []
    theirs = await ftrack.query("select comment from Timelog", credentials=other)
    assert [t["comment"] for t in theirs["data"]] == ["Blocking pass"]
    for action, data in (("update", {"comment": "theirs"}), ("delete", None)):
        operation = {"action": action, "entity_type": "Timer", "entity_key": [timer_id]}
        missing = {**operation, "entity_key": ["no-such-id"]}
        if data is not None:
            operation["entity_data"] = missing["entity_data"] = data
        error = await ftrack.fail(operation, credentials=other)
        absent = await ftrack.fail(missing, credentials=other)
        assert error["exception"] == absent["exception"]
        assert error["content"].replace(timer_id, "no-such-id") == absent["content"]
    mine = await ftrack.query(f"select comment from Timer where id is {timer_id}")
    assert [t["comment"] for t in mine["data"]] == ["mine"]


async def test_nobody_writes_timers_for_someone_else(ftrack: Ftrack, other: dict[str, str]) -> None:
    """Creating a Timer or Timelog naming another user is a PermissionError."""
    user_id = await my_user_id(ftrack)
    for operation in (
        create_timer(user_id=user_id),
        create_timelog(user_id=user_id, start=when("2026-03-02T08:00:00"), duration=1),
    ):
        error = await ftrack.fail(operation, credentials=other)
        assert error["exception"] == "PermissionError"
    assert (await ftrack.query("Timer"))["data"] == []


# Switches and the command


async def test_the_rate_limit_switch_changes_nothing_as_ftrack_documents_none(
    ftrack: Ftrack, fake: FtrackFake
) -> None:
    """ftrack documents no request rate limit, so calls in a burst all succeed."""
    fake.control.rate_limit = True
    for _ in range(20):
        await ftrack.call({"action": "query_server_information"})


async def test_the_fault_switches_make_the_server_answer_garbage(
    ftrack: Ftrack, fake: FtrackFake
) -> None:
    """/_fake/control can make /api answer an HTML error page, as a proxy in front might."""
    page = "<html><body>502 Bad Gateway</body></html>"
    response = await ftrack.http.post(
        "/_fake/control",
        json={"fail_status": 502, "fail_body": page, "fail_content_type": "text/html"},
    )
    assert response.status_code == 200
    failed = await ftrack.post([{"action": "query_server_information"}])
    assert (failed.status_code, failed.text) == (502, page)
    await ftrack.http.post("/_fake/reset")
    await ftrack.call({"action": "query_server_information"})


def test_timergate_fake_ftrack_prints_how_to_connect() -> None:
    """The command's first line has the base URL, credentials and a startable Task context."""
    with timergate_fake("ftrack") as description:
        assert description["vendor"] == "ftrack"
        seed = description["seed"]
        assert seed["context"] == {
            "type": "Task",
            "id": seed["taskId"],
            "title": "Nightfall / Compositing",
        }
        assert set(description["credentials"]) == {"apiUser", "apiKey"}
        assert set(seed["otherCredentials"]) == {"apiUser", "apiKey"}
        credentials = description["credentials"]
        response = httpx.post(
            f"{description['base_url']}/api",
            json=[{"action": "query", "expression": f"Task where id is {seed['taskId']}"}],
            headers={
                "ftrack-user": credentials["apiUser"],
                "ftrack-api-key": credentials["apiKey"],
            },
            timeout=5,
        )
        (result,) = response.json()
        assert result["data"][0]["name"] == "Compositing"
