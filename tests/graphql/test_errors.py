"""Every refusal carries extensions.code, names what was wrong, and changes nothing."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
from support import (
    CANCEL,
    CREATE_ENTRY,
    DELETE_ENTRY,
    ENTRIES,
    GET_ENTRY,
    GET_TIMER,
    LOG,
    PAUSE,
    START,
    STOP,
    TIMERS,
    UPDATE_ENTRY,
    UPDATE_TIMER,
    UPDATE_VIEWER,
    everything,
    global_id,
    populate,
    start,
)

from timergate.domain import ManualClock

World = dict[str, str]
Variables = Callable[[World], dict[str, Any]]

LONG = "x" * 2001
TOO_MANY_TAGS = [f"tag{n}" for n in range(21)]
MISSING_TIMER = global_id("Timer", "local", 999_999)
#: Shaped like a cursor of ours, but naming no row a store could key on.
# Well-formed, but naming no row a store could hold.
FORGED_CURSOR = base64.urlsafe_b64encode(b"p1:0:local:abc").rstrip(b"=").decode()
OLD_CURSOR = base64.urlsafe_b64encode(b"after:7").rstrip(b"=").decode()
MISSING_ENTRY = global_id("TimeEntry", "local", 999_999)


def inp(**fields: Any) -> Variables:
    """``{"input": fields}``; a field given as ``"@name"`` takes the world's id ``name``."""

    def build(world: World) -> dict[str, Any]:
        return {
            "input": {
                k: world[v[1:]] if isinstance(v, str) and v.startswith("@") else v
                for k, v in fields.items()
            }
        }

    return build


def args(**values: Any) -> Variables:
    return lambda world: values


def case(*values: Any, id: str) -> tuple[Any, ...]:
    """One row of a table of refusals: its name, then what the test needs."""
    return (id, *values)


BAD_INPUTS = [
    # startTimer
    case(START, inp(description=""), "input.description", id="start-empty-description"),
    case(START, inp(description="  \n "), "input.description", id="start-blank-description"),
    case(START, inp(description=LONG), "input.description", id="start-long-description"),
    case(START, inp(tags=TOO_MANY_TAGS), "input.tags", id="start-too-many-tags"),
    case(START, inp(tags=["ok", " "]), "input.tags[1]", id="start-blank-tag"),
    case(START, inp(tags=["t" * 51]), "input.tags[0]", id="start-long-tag"),
    case(START, inp(provider="toggl"), "input.provider", id="start-unknown-provider"),
    case(
        START, inp(context={"type": "", "id": "1"}), "input.context.type", id="start-context-type"
    ),
    case(START, inp(context={"type": "t", "id": " "}), "input.context.id", id="start-context-id"),
    case(START, inp(billable=None), "input.billable", id="start-null-billable"),
    case(START, inp(timerId="nope"), "input.timerId", id="resume-malformed-id"),
    case(START, inp(timerId="@entry"), "input.timerId", id="resume-with-an-entry-id"),
    case(START, inp(timerId="@paused", description="x"), "input.timerId", id="resume-with-details"),
    # pauseTimer
    case(PAUSE, inp(id="nope"), "input.id", id="pause-malformed-id"),
    case(PAUSE, inp(id="@manual"), "input.id", id="pause-with-an-entry-id"),
    # stopTimer
    case(STOP, inp(id="%%%"), "input.id", id="stop-malformed-id"),
    case(STOP, inp(description=""), "input.description", id="stop-empty-description"),
    case(
        STOP, inp(id="@running", description=LONG), "input.description", id="stop-long-description"
    ),
    # logTimer
    case(LOG, inp(id="@running", durationSeconds=-1), "input.durationSeconds", id="log-negative"),
    case(
        LOG,
        inp(id="@running", durationSeconds=367 * 24 * 3600),
        "input.durationSeconds",
        id="log-over-a-year",
    ),
    case(LOG, inp(id="@running", description=LONG), "input.description", id="log-long-description"),
    case(LOG, inp(id="@running", billable=None), "input.billable", id="log-null-billable"),
    case(LOG, inp(id="bad"), "input.id", id="log-malformed-id"),
    # cancelTimer
    case(CANCEL, inp(id="bad"), "input.id", id="cancel-malformed-id"),
    # updateTimer
    case(
        UPDATE_TIMER,
        inp(id="@paused", elapsedSeconds=-5),
        "input.elapsedSeconds",
        id="update-negative-elapsed",
    ),
    case(
        UPDATE_TIMER,
        inp(id="@paused", elapsedSeconds=None),
        "input.elapsedSeconds",
        id="update-null-elapsed",
    ),
    case(UPDATE_TIMER, inp(id="@running", tags=TOO_MANY_TAGS), "input.tags", id="update-many-tags"),
    case(
        UPDATE_TIMER,
        inp(id="@running", description=""),
        "input.description",
        id="update-empty-description",
    ),
    case(
        UPDATE_TIMER,
        inp(id="@running", context={"type": "t", "id": "1", "title": "x" * 301}),
        "input.context.title",
        id="update-long-context-title",
    ),
    case(UPDATE_TIMER, inp(id="bad"), "input.id", id="update-malformed-id"),
    # createTimeEntry
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00Z", durationSeconds=-60),
        "input.durationSeconds",
        id="create-negative-duration",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00Z", endedAt="2026-01-01T09:59:59Z"),
        "input.endedAt",
        id="create-ends-before-start",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00", durationSeconds=60),
        "input.startedAt",
        id="create-start-without-offset",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00Z", endedAt="2026-01-01T11:00:00"),
        "input.endedAt",
        id="create-end-without-offset",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00Z"),
        "input.endedAt",
        id="create-neither-end-nor-duration",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2024-01-01T00:00:00Z", endedAt="2026-01-01T00:00:00Z"),
        "input.endedAt",
        id="create-spans-over-a-year",
    ),
    case(
        CREATE_ENTRY,
        inp(provider="harvest", startedAt="2026-01-01T10:00:00Z", durationSeconds=60),
        "input.provider",
        id="create-unknown-provider",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00Z", durationSeconds=60, description=LONG),
        "input.description",
        id="create-long-description",
    ),
    case(
        CREATE_ENTRY,
        inp(startedAt="2026-01-01T10:00:00Z", durationSeconds=60, tags=TOO_MANY_TAGS),
        "input.tags",
        id="create-too-many-tags",
    ),
    # updateTimeEntry
    case(
        UPDATE_ENTRY,
        inp(id="@manual", endedAt="2025-12-30T07:00:00Z"),
        "input.endedAt",
        id="update-entry-ends-before-start",
    ),
    case(
        UPDATE_ENTRY,
        inp(id="@manual", startedAt="2025-12-30T07:00:00"),
        "input.startedAt",
        id="update-entry-start-without-offset",
    ),
    case(
        UPDATE_ENTRY,
        inp(id="@manual", durationSeconds=-1),
        "input.durationSeconds",
        id="update-entry-negative-duration",
    ),
    case(
        UPDATE_ENTRY,
        inp(id="@manual", startedAt=None),
        "input.startedAt",
        id="update-entry-null-start",
    ),
    case(
        UPDATE_ENTRY,
        inp(id="@manual", description=LONG),
        "input.description",
        id="update-entry-long-description",
    ),
    case(UPDATE_ENTRY, inp(id="bad"), "input.id", id="update-entry-malformed-id"),
    case(UPDATE_ENTRY, inp(id="@paused"), "input.id", id="update-entry-with-a-timer-id"),
    # deleteTimeEntry
    case(DELETE_ENTRY, inp(id="bad"), "input.id", id="delete-entry-malformed-id"),
    case(DELETE_ENTRY, inp(id="@stopped"), "input.id", id="delete-entry-with-a-timer-id"),
    # updateViewer
    case(UPDATE_VIEWER, inp(timeZone="Mars/Olympus"), "input.timeZone", id="bad-zone"),
    case(UPDATE_VIEWER, inp(timeZone="+02:00"), "input.timeZone", id="offset-zone"),
    case(UPDATE_VIEWER, inp(timeZone=None), "input.timeZone", id="null-zone"),
    # queries
    case(TIMERS, args(first=0), "first", id="timers-first-0"),
    case(TIMERS, args(first=101), "first", id="timers-first-101"),
    case(TIMERS, args(after="not a cursor"), "after", id="timers-bad-cursor"),
    case(TIMERS, args(after="@@@"), "after", id="timers-cursor-garbage"),
    case(TIMERS, args(after=MISSING_TIMER), "after", id="timers-an-id-as-cursor"),
    case(TIMERS, args(after=FORGED_CURSOR), "after", id="timers-forged-cursor"),
    case(
        TIMERS, args(filter={"provider": "toggl"}), "filter.provider", id="timers-unknown-provider"
    ),
    case(
        TIMERS,
        args(filter={"startedFrom": "2026-01-01T00:00:00"}),
        "filter.startedFrom",
        id="timers-from-without-offset",
    ),
    case(
        TIMERS,
        args(filter={"startedTo": "2026-01-01T00:00:00"}),
        "filter.startedTo",
        id="timers-to-without-offset",
    ),
    case(ENTRIES, args(first=-1), "first", id="entries-first-negative"),
    case(ENTRIES, args(first=1000), "first", id="entries-first-1000"),
    case(ENTRIES, args(after="xyz"), "after", id="entries-bad-cursor"),
    case(ENTRIES, args(after=FORGED_CURSOR), "after", id="entries-forged-cursor"),
    # A cursor from before lists ran by start named a row by id alone.
    case(ENTRIES, args(after=OLD_CURSOR), "after", id="entries-cursor-without-a-start"),
    case(ENTRIES, args(filter={"timerId": "bad"}), "filter.timerId", id="entries-bad-timer-id"),
    case(
        ENTRIES,
        args(filter={"provider": "toggl"}),
        "filter.provider",
        id="entries-unknown-provider",
    ),
    case(GET_TIMER, args(id="bad"), "id", id="timer-malformed-id"),
    case(GET_TIMER, args(id=MISSING_ENTRY), "id", id="timer-with-an-entry-id"),
    case(GET_ENTRY, args(id="bad"), "id", id="entry-malformed-id"),
]


async def test_bad_input_is_refused_and_changes_nothing(
    alice, clock: ManualClock, subtests: pytest.Subtests
) -> None:
    """Malformed or out-of-range input answers BAD_USER_INPUT naming the field; data stays."""
    world = await populate(alice, clock)
    for name, query, variables, field in BAD_INPUTS:
        with subtests.test(name):
            before = await everything(alice)
            error = await alice.error(query, variables(world))
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
            assert error["message"]
            assert await everything(alice) == before


async def test_the_limits_themselves_are_accepted(alice) -> None:
    """A 2000-character description and 20 tags are within the limits."""
    tags = [f"tag{n}" for n in range(20)]
    timer = await start(alice, description="d" * 2000, tags=tags)
    assert len(timer["description"]) == 2000
    assert timer["tags"] == tags


async def test_a_variable_of_the_wrong_type_is_bad_user_input(alice) -> None:
    """A variable GraphQL cannot coerce is refused before anything runs."""
    body = await alice.execute(TIMERS, {"first": "ten"})
    assert "data" not in body or body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_a_malformed_datetime_is_bad_user_input(alice) -> None:
    """A startedAt that is not ISO 8601 is refused."""
    before = await everything(alice)
    body = await alice.execute(
        CREATE_ENTRY, {"input": {"startedAt": "yesterday", "durationSeconds": 60}}
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert await everything(alice) == before


NOT_FOUND = [
    case(START, inp(timerId=MISSING_TIMER), id="resume"),
    case(PAUSE, inp(id=MISSING_TIMER), id="pause"),
    case(STOP, inp(id=MISSING_TIMER), id="stop"),
    case(LOG, inp(id=MISSING_TIMER), id="log"),
    case(CANCEL, inp(id=MISSING_TIMER), id="cancel"),
    case(UPDATE_TIMER, inp(id=MISSING_TIMER, description="x"), id="update"),
    case(PAUSE, inp(id=global_id("Timer", "toggl", 1)), id="pause-other-provider"),
    case(UPDATE_ENTRY, inp(id=MISSING_ENTRY, description="x"), id="update-entry"),
    case(DELETE_ENTRY, inp(id=MISSING_ENTRY), id="delete-entry"),
    case(
        DELETE_ENTRY, inp(id=global_id("TimeEntry", "clockify", "abc")), id="delete-other-provider"
    ),
]


async def test_acting_on_a_missing_object_is_not_found(
    alice, clock: ManualClock, subtests: pytest.Subtests
) -> None:
    """A well-formed id that names nothing answers NOT_FOUND and changes nothing."""
    world = await populate(alice, clock)
    for name, query, variables in NOT_FOUND:
        with subtests.test(name):
            before = await everything(alice)
            error = await alice.error(query, variables(world))
            assert error["extensions"] == {"code": "NOT_FOUND"}
            assert await everything(alice) == before


async def test_reading_a_missing_object_is_null(alice) -> None:
    """timer(id) and timeEntry(id) answer null, without an error, for ids naming nothing."""
    for query, missing in (
        (GET_TIMER, MISSING_TIMER),
        (GET_TIMER, global_id("Timer", "toggl", 7)),
        (GET_ENTRY, MISSING_ENTRY),
    ):
        data = await alice.data(query, {"id": missing})
        assert next(iter(data.values())) is None


async def test_a_cancelled_timer_cannot_be_acted_on(alice, clock: ManualClock) -> None:
    """After cancelTimer the id answers NOT_FOUND."""
    timer = await start(alice)
    await alice.data(CANCEL, {"input": {"id": timer["id"]}})
    for query in (PAUSE, CANCEL, STOP, LOG):
        error = await alice.error(query, {"input": {"id": timer["id"]}})
        assert error["extensions"] == {"code": "NOT_FOUND"}


ON_A_STOPPED_TIMER = [
    case(PAUSE, inp(id="@stopped"), id="pause"),
    case(START, inp(timerId="@stopped"), id="resume"),
    case(STOP, inp(id="@stopped"), id="stop"),
    case(LOG, inp(id="@stopped", durationSeconds=5), id="log"),
    case(CANCEL, inp(id="@stopped"), id="cancel"),
    case(UPDATE_TIMER, inp(id="@stopped", description="late"), id="update"),
]


async def test_a_stopped_timer_refuses_every_transition(
    alice, clock: ManualClock, subtests: pytest.Subtests
) -> None:
    """STOPPED is terminal: INVALID_TRANSITION with the state, and nothing changes."""
    world = await populate(alice, clock)
    for name, query, variables in ON_A_STOPPED_TIMER:
        with subtests.test(name):
            before = await everything(alice)
            error = await alice.error(query, variables(world))
            assert error["extensions"] == {"code": "INVALID_TRANSITION", "state": "STOPPED"}
            assert "STOPPED" in error["message"]
            assert await everything(alice) == before


STALE = [
    case(PAUSE, inp(id="@running", expectedVersion=0), "running", id="pause"),
    case(START, inp(timerId="@paused", expectedVersion=1), "paused", id="resume"),
    case(STOP, inp(id="@running", expectedVersion=7), "running", id="stop"),
    case(STOP, inp(expectedVersion=7), "running", id="stop-the-running-one"),
    case(LOG, inp(id="@paused", expectedVersion=1), "paused", id="log"),
    case(CANCEL, inp(id="@paused", expectedVersion=1), "paused", id="cancel"),
    case(UPDATE_TIMER, inp(id="@running", tags=["x"], expectedVersion=2), "running", id="update"),
    case(
        UPDATE_ENTRY,
        inp(id="@manual", description="x", expectedVersion=2),
        "manual",
        id="update-entry",
    ),
    case(DELETE_ENTRY, inp(id="@entry", expectedVersion=0), "entry", id="delete-entry"),
]


async def test_a_stale_expected_version_is_a_conflict(
    alice, clock: ManualClock, subtests: pytest.Subtests
) -> None:
    """expectedVersion that is not the current one answers CONFLICT with currentVersion."""
    world = await populate(alice, clock)
    for name, query, variables, target in STALE:
        with subtests.test(name):
            before = await everything(alice)
            versions = {
                node["id"]: node["version"]
                for node in before["timers"]["nodes"] + before["timeEntries"]["nodes"]
            }
            error = await alice.error(query, variables(world))
            assert error["extensions"] == {
                "code": "CONFLICT",
                "currentVersion": versions[world[target]],
            }
            assert await everything(alice) == before


async def test_the_current_expected_version_is_accepted(alice, clock: ManualClock) -> None:
    """A mutation naming the version it read goes through, and the next one needs the new one."""
    timer = await start(alice)
    paused = await alice.data(PAUSE, {"input": {"id": timer["id"], "expectedVersion": 1}})
    assert paused["pauseTimer"]["timer"]["version"] == 2
    error = await alice.error(UPDATE_TIMER, {"input": {"id": timer["id"], "expectedVersion": 1}})
    assert error["extensions"] == {"code": "CONFLICT", "currentVersion": 2}
    done = await alice.data(LOG, {"input": {"id": timer["id"], "expectedVersion": 2}})
    assert done["logTimer"]["timer"]["version"] == 3


ANONYMOUS = [
    case("{ viewer { id } }", {}, id="viewer"),
    case(TIMERS, {}, id="timers"),
    case(ENTRIES, {}, id="entries"),
    case("{ runningTimers { id } }", {}, id="running"),
    case(GET_TIMER, {"id": MISSING_TIMER}, id="timer"),
    case(START, {"input": {}}, id="start"),
    case(STOP, {}, id="stop"),
    case(
        CREATE_ENTRY,
        {"input": {"startedAt": "2026-01-01T00:00:00Z", "durationSeconds": 1}},
        id="create-entry",
    ),
    case(UPDATE_VIEWER, {"input": {"timeZone": "UTC"}}, id="update-viewer"),
]


async def test_without_a_token_everything_is_unauthenticated(
    anonymous, alice, clock: ManualClock, subtests: pytest.Subtests
) -> None:
    """No Authorization header: HTTP 401 with UNAUTHENTICATED, as for a wrong token, before
    anything runs."""
    await populate(alice, clock)
    for name, query, variables in ANONYMOUS:
        with subtests.test(name):
            before = await everything(alice)
            response = await anonymous.post(query, variables)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            body = response.json()
            assert "data" not in body
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
            assert "Authorization" in body["errors"][0]["message"]
            assert await everything(alice) == before


@pytest.mark.parametrize(
    "header",
    ["Bearer tg_not-a-real-token", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "tg_no_scheme"],
)
async def test_a_bad_token_is_refused_with_401(http, alice, header: str) -> None:
    """An Authorization header that names no user answers HTTP 401 with WWW-Authenticate."""
    response = await http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "data" not in body


async def test_unexpected_failures_are_masked_and_logged(
    alice, gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug answers INTERNAL_SERVER_ERROR without its details; the log keeps them."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk says: /var/secret/path is cursed")

    monkeypatch.setattr(gateway.connections.local, "start", broken)
    with caplog.at_level(logging.ERROR):
        response = await alice.post(START, {"input": {"description": "x"}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [{"code": "INTERNAL_SERVER_ERROR"}]
    assert "cursed" not in response.text
    assert "RuntimeError" not in response.text
    assert "/var/secret/path is cursed" in caplog.text
    assert await alice.data("{ timers { totalCount } }") == {"timers": {"totalCount": 0}}


@pytest.mark.parametrize("token", [True, False], ids=["with-token", "without-token"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_datetime_literal_past_the_calendar_is_a_validation_error(
    alice, token: bool, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A literal the DateTime parser overflows on (24:00 on 9999-12-31) is the client's error:
    GRAPHQL_VALIDATION_FAILED, and nothing in the server log for anyone to flood."""
    query = '{ timers(filter: {startedFrom: "9999-12-31T24:00:00Z"}) { totalCount } }'
    headers = {"Authorization": f"Bearer {alice.token}"} if token else {}
    with caplog.at_level(logging.WARNING):
        if method == "POST":
            response = await alice.http.post("/graphql", json={"query": query}, headers=headers)
        else:
            response = await alice.http.get("/graphql", params={"query": query}, headers=headers)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "DateTime" in errors[0]["message"]
    assert caplog.records == []
