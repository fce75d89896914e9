"""Seven Time timers through timergate: what they run on, the time logs they leave, and the
pause, resume and cancel timergate builds from Seven Time's start and stop without losing or
inventing time. The fake Seven Time runs in this process, on the test's clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from seventime_support import ANNA, CUSTOMER, PROJECT, TASK, connect, fake_of
from tests.conftest import GraphQLClient
from tests.graphql.support import (
    CANCEL,
    CREATE_ENTRY,
    DELETE_ENTRY,
    ENTRIES,
    START,
    STOP,
    UPDATE_TIMER,
    get_timer,
    pause,
    start,
    stop,
)

from timergate.domain import ManualClock
from timergate.domain.connections import connection_id
from timergate.fakes.base import Fake
from timergate.gateway import Gateway
from timergate.providers.seventime_entries import TimeLogEntries

PROJECT_CONTEXT = {"type": "project", "id": PROJECT}
CUSTOMER_CONTEXT = {"type": "customer", "id": CUSTOMER}


async def start_on(
    client: GraphQLClient,
    connection: str,
    context: dict[str, str] = PROJECT_CONTEXT,
    **extra: Any,
) -> dict[str, Any]:
    return await start(client, provider=connection, context=context, **extra)


async def entries(client: GraphQLClient, **filter: Any) -> list[dict[str, Any]]:
    data = await client.data(ENTRIES, {"filter": filter, "first": 100})
    nodes: list[dict[str, Any]] = data["timeEntries"]["edges"]
    return [edge["node"] for edge in nodes]


async def test_a_timer_runs_on_its_object_and_what_that_belongs_to(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """A timer on a task runs at Seven Time on the task, its project and its customer (so its
    time log is priced and reported with them); its context is the task, titled."""
    connection = await connect(alice)
    timer = await start_on(alice, connection, {"type": "task", "id": TASK})
    assert timer["context"] == {"type": "task", "id": TASK, "title": "Rivning badrum"}
    (running,) = fake_of(fakes).account.timers.values()
    assert running.user == ANNA
    assert running.context == {"task": TASK, "project": PROJECT, "customer": CUSTOMER}


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"type": "ticket", "id": PROJECT}, "input.context.type"),
        ({"type": "project", "id": "65f1a2b3c4d5e6f708192c99"}, "input.context.id"),
        ({"type": "project", "id": "../users"}, "input.context.id"),
    ],
)
async def test_a_context_naming_no_seven_time_object_is_refused(
    alice: GraphQLClient, fakes: dict[str, Fake], context: dict[str, str], field: str
) -> None:
    """A context that is no Seven Time object is refused, naming the field; nothing starts."""
    connection = await connect(alice)
    error = await alice.error(START, {"input": {"provider": connection, "context": context}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert fake_of(fakes).account.timers == {}


STOP_WITH_ENTRY = """
mutation Stop($input: StopTimerInput) {
  stopTimer(input: $input) {
    timer { state elapsedSeconds entry { id } }
    entry { id startedAt endedAt durationSeconds billable }
  }
}
"""


async def test_stop_answers_the_time_log_with_its_exact_span(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """The entry is Seven Time's time log: its span to the millisecond, its seconds from the
    two timestamps, billable as Seven Time priced it."""
    connection = await connect(alice)
    timer = await start_on(alice, connection)
    clock.advance(5400.25)
    data = await alice.data(STOP_WITH_ENTRY, {"input": {"id": timer["id"]}})
    stopped = data["stopTimer"]
    (log,) = fake_of(fakes).account.time_logs.values()
    entry = stopped["entry"]
    assert entry["startedAt"] == log.started.isoformat()
    assert entry["endedAt"] == log.ended.isoformat()
    assert entry["durationSeconds"] == 5400
    assert entry["billable"] is True
    assert stopped["timer"]["state"] == "STOPPED"
    assert stopped["timer"]["elapsedSeconds"] == 5400
    assert stopped["timer"]["entry"]["id"] == entry["id"]


async def test_a_second_start_pauses_the_running_timer_keeping_its_time_as_a_time_log(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Seven Time refuses a second timer, so starting another pauses the running one: its
    time so far is saved as a time log and it is reported among pausedTimers."""
    connection = await connect(alice)
    first = await start_on(alice, connection)
    clock.advance(60)
    data = await alice.data(START, {"input": {"provider": connection, "context": CUSTOMER_CONTEXT}})
    (paused,) = data["startTimer"]["pausedTimers"]
    assert (paused["id"], paused["state"], paused["elapsedSeconds"]) == (first["id"], "PAUSED", 60)
    account = fake_of(fakes).account
    assert [t.context for t in account.timers.values()] == [{"customer": CUSTOMER}]
    assert [e["durationSeconds"] for e in await entries(alice)] == [60]


async def test_pause_and_resume_leave_one_time_log_per_stretch(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A paused and resumed timer keeps one id and counts only its running time; Seven Time
    holds one time log per running stretch, the stop answering with the last; nothing
    runs at Seven Time while paused."""
    connection = await connect(alice)
    timer = await start_on(alice, connection)
    clock.advance(60)
    await pause(alice, timer["id"])
    assert fake_of(fakes).account.timers == {}
    clock.advance(3600)
    resumed = await alice.data(START, {"input": {"timerId": timer["id"]}})
    assert resumed["startTimer"]["timer"]["id"] == timer["id"]
    (running,) = fake_of(fakes).account.timers.values()
    assert running.context == {"project": PROJECT, "customer": CUSTOMER}
    clock.advance(30)
    assert (await get_timer(alice, timer["id"]) or {})["elapsedSeconds"] == 90
    stopped = await stop(alice, timer["id"])
    assert stopped["timer"]["elapsedSeconds"] == 90
    assert stopped["entry"]["durationSeconds"] == 30
    assert sorted(e["durationSeconds"] for e in await entries(alice)) == [30, 60]


async def test_a_paused_timer_survives_the_connection_being_reopened(
    alice: GraphQLClient, gateway: Gateway, clock: ManualClock
) -> None:
    """What Seven Time cannot keep (the pause) is kept by the gateway, not in memory: a
    reopened connection (say after a restart) still shows the timer paused and resumes it."""
    connection = await connect(alice)
    timer = await start_on(alice, connection, description="Pipes")
    clock.advance(60)
    paused = await pause(alice, timer["id"])
    user = await gateway.authenticator.authenticate(alice.token or "")
    assert user is not None
    gateway.connections.forget(user.id, connection_id(connection))
    again = await get_timer(alice, timer["id"])
    assert again is not None
    assert (again["state"], again["elapsedSeconds"], again["description"]) == (
        "PAUSED",
        60,
        "Pipes",
    )
    assert again["version"] == paused["version"]
    resumed = await alice.data(START, {"input": {"timerId": timer["id"]}})
    assert resumed["startTimer"]["timer"]["state"] == "RUNNING"


async def test_cancel_deletes_exactly_the_time_logs_the_timer_saved(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """Cancelling a timer that was paused and resumed leaves none of its time at Seven Time,
    and every other time log where it was."""
    connection = await connect(alice)
    earlier = await start_on(alice, connection, CUSTOMER_CONTEXT)
    clock.advance(120)
    kept = (await stop(alice, earlier["id"]))["entry"]
    timer = await start_on(alice, connection)
    clock.advance(60)
    await pause(alice, timer["id"])
    await alice.data(START, {"input": {"timerId": timer["id"]}})
    clock.advance(30)
    await alice.data(CANCEL, {"input": {"id": timer["id"]}})
    account = fake_of(fakes).account
    assert account.timers == {}
    assert [e["id"] for e in await entries(alice)] == [kept["id"]]
    assert await get_timer(alice, timer["id"]) is None


async def test_cancel_is_refused_when_a_saved_stretch_was_changed_in_seven_time(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """A stretch's time log edited in Seven Time since the pause is someone's work: cancel
    refuses to delete it, with a reason, and the timer stays paused with its time."""
    connection = await connect(alice)
    timer = await start_on(alice, connection)
    clock.advance(60)
    await pause(alice, timer["id"])
    account = fake_of(fakes).account
    (log_id,) = account.time_logs
    log = account.time_logs[log_id]
    account.time_logs[log_id] = replace(log, ended=log.ended + timedelta(minutes=15))
    error = await alice.error(CANCEL, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    assert log_id in error["message"]
    assert log_id in account.time_logs
    after = await get_timer(alice, timer["id"])
    assert after is not None and (after["state"], after["elapsedSeconds"]) == ("PAUSED", 60)


async def test_a_stop_with_a_description_is_refused_and_the_timer_keeps_running(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """Seven Time's stop saves no description: asking for one is refused before anything is
    sent, rather than dropped."""
    connection = await connect(alice)
    timer = await start_on(alice, connection)
    error = await alice.error(STOP, {"input": {"id": timer["id"], "description": "Done"}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.description"
    assert len(fake_of(fakes).account.timers) == 1


async def test_edits_keep_description_and_tags_and_refuse_what_seven_time_holds(
    alice: GraphQLClient, clock: ManualClock
) -> None:
    """Description and tags are timergate's to change (each edit a new version); the objects
    and the time are Seven Time's, and editing them is refused."""
    connection = await connect(alice)
    timer = await start_on(alice, connection, description="Draft")
    edited = await alice.data(
        UPDATE_TIMER, {"input": {"id": timer["id"], "description": "Final", "tags": ["x"]}}
    )
    after = edited["updateTimer"]["timer"]
    assert (after["description"], after["tags"]) == ("Final", ["x"])
    assert after["version"] > timer["version"]
    for change, field in (
        ({"context": CUSTOMER_CONTEXT}, "input.context"),
        ({"billable": False}, "input.billable"),
    ):
        error = await alice.error(UPDATE_TIMER, {"input": {"id": timer["id"], **change}})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            field,
        )
    clock.advance(60)
    await pause(alice, timer["id"])
    error = await alice.error(UPDATE_TIMER, {"input": {"id": timer["id"], "elapsedSeconds": 5}})
    assert error["extensions"]["field"] == "input.elapsedSeconds"
    assert (await get_timer(alice, timer["id"]) or {})["elapsedSeconds"] == 60


async def test_deleting_an_entry_deletes_its_time_log_but_not_a_paused_timers_stretch(
    alice: GraphQLClient, fakes: dict[str, Fake], clock: ManualClock
) -> None:
    """deleteTimeEntry deletes the time log at Seven Time; a stretch of a paused timer is
    refused, pointing at the timer, since the timer's time rests on it."""
    connection = await connect(alice)
    done = await start_on(alice, connection)
    clock.advance(60)
    entry = (await stop(alice, done["id"]))["entry"]
    await alice.data(DELETE_ENTRY, {"input": {"id": entry["id"]}})
    assert fake_of(fakes).account.time_logs == {}
    timer = await start_on(alice, connection)
    clock.advance(60)
    await pause(alice, timer["id"])
    (stretch,) = await entries(alice)
    error = await alice.error(DELETE_ENTRY, {"input": {"id": stretch["id"]}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["timerId"] == timer["id"]
    assert len(fake_of(fakes).account.time_logs) == 1


async def test_entries_read_through_seven_times_pages(
    alice: GraphQLClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Time logs spread over many Seven Time pages list newest first, each once, across the
    gateway's own pages, and filter by object and date."""
    monkeypatch.setattr(TimeLogEntries, "page_size", 2)
    connection = await connect(alice)
    made = []
    for i in range(5):
        context = PROJECT_CONTEXT if i % 2 == 0 else CUSTOMER_CONTEXT
        timer = await start_on(alice, connection, context)
        clock.advance(60 * (i + 1))
        made.append((await stop(alice, timer["id"]))["entry"]["id"])
        clock.advance(days=1)
    seen: list[str] = []
    after = None
    while True:
        data = await alice.data(ENTRIES, {"first": 2, "after": after})
        page = data["timeEntries"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == made[::-1]
    on_project = await entries(alice, context=PROJECT_CONTEXT)
    assert [e["id"] for e in on_project] == [made[4], made[2], made[0]]
    recent = await entries(alice, dateFrom="2026-01-04")
    assert [e["id"] for e in recent] == [made[4], made[3]]


async def test_what_seven_time_cannot_do_is_refused_before_any_call(alice: GraphQLClient) -> None:
    """Entries by hand are not written to Seven Time: UNSUPPORTED_BY_PROVIDER, naming it."""
    connection = await connect(alice)
    error = await alice.error(
        CREATE_ENTRY,
        {
            "input": {
                "provider": connection,
                "context": PROJECT_CONTEXT,
                "startedAt": "2026-01-01T08:00:00Z",
                "durationSeconds": 600,
            }
        },
    )
    assert error["extensions"]["code"] == "UNSUPPORTED_BY_PROVIDER"
    assert error["extensions"]["operation"] == "CREATE_ENTRY"
