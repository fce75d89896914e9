"""The Worksection adapter: its timers and saved time, as a person sees them through GraphQL.

Runs against the fake account in-process; "in Worksection" below means a change made in the
account directly, as the person would in Worksection's own app.
"""

from __future__ import annotations

from datetime import date, timedelta

from harness import Handle
from tests.conftest import GraphQLClient
from worksection_support import (
    ENTRIES,
    ENTRY,
    KYIV_DAY,
    OLENA,
    OTHER_TASK,
    RUNNING,
    START,
    STOP_TIMER,
    TARAS,
    TASK,
    WORKSECTION,
    clock,
    fake,
    olena,
    start,
    taras,
    task,
)

from timergate.domain import ManualClock
from timergate.domain.ids import decode_global_id, encode_global_id
from timergate.fakes.worksection import WorksectionFake

__all__ = ["clock", "fake", "olena", "taras"]  # fixtures

UPDATE = """
mutation Update($input: UpdateTimerInput!) { updateTimer(input: $input) { timer { id } } }
"""
TIMER = "query Timer($id: ID!) { timer(id: $id) { id } }"
CANCEL = "mutation Cancel($input: CancelTimerInput!) { cancelTimer(input: $input) { id } }"


async def test_elapsed_time_comes_from_the_timer_value_not_the_start_minute(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """A timer started in Worksection at 22:30:15 shows its true start and elapsed seconds,
    though Worksection gives its start only to the minute."""
    fake.account.start_timer(OLENA, TASK)
    clock.advance(100)
    [timer] = (await alice.data(RUNNING))["runningTimers"]
    assert timer["state"] == "RUNNING" and timer["elapsedSeconds"] == 100
    assert timer["startedAt"] == START.isoformat()
    assert timer["context"] == {"type": "task", "id": TASK, "title": "Onboarding screens"}


async def test_other_peoples_timers_in_the_account_stay_hidden(
    alice: GraphQLClient, bob: GraphQLClient, olena: Handle, taras: Handle, fake: WorksectionFake
) -> None:
    """The admin key sees every timer of the account; each person sees only their own, and
    Taras's timer id under Olena's connection answers like a missing one."""
    fake.account.start_timer(TARAS, OTHER_TASK)
    assert (await alice.data(RUNNING))["runningTimers"] == []
    [his] = (await bob.data(RUNNING))["runningTimers"]
    assert his["context"]["id"] == OTHER_TASK
    native = decode_global_id(his["id"], expected="Timer").native_id
    as_hers = encode_global_id("Timer", str(olena.key), native)
    assert (await alice.data(TIMER, {"id": as_hers}))["timer"] is None
    error = await alice.error(STOP_TIMER, {"input": {"id": as_hers}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert fake.account.running_timer(TARAS) is not None


async def test_starting_while_a_timer_runs_stops_and_saves_it_first(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """Worksection runs one timer per person: the running one (started in Worksection) is
    stopped, its time saved and reported with the exact seconds, and the new one runs."""
    fake.account.start_timer(OLENA, TASK)
    clock.advance(150)
    payload = await start(alice, olena, OTHER_TASK, description="Push copy")
    [stopped] = payload["stoppedTimers"]
    assert stopped["timer"]["state"] == "STOPPED" and stopped["timer"]["elapsedSeconds"] == 150
    entry = stopped["entry"]
    assert entry["durationSeconds"] == 150 and entry["context"]["id"] == TASK
    assert payload["timer"]["context"]["id"] == OTHER_TASK
    assert payload["timer"]["description"] == "Push copy"
    saved = [c for c in fake.account.costs.values() if c.user_id == OLENA]
    assert [(c.task_id, c.minutes, c.is_timer) for c in saved] == [(TASK, 3, True)]
    running = fake.account.running_timer(OLENA)
    assert running is not None and running.task_id == OTHER_TASK


async def test_a_stop_saves_the_description_as_the_comment_with_the_exact_time(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """The stop's entry has the exact span, dated on the account's local day; Worksection
    keeps whole minutes and the comment; timeEntries and timeEntry read the same back."""
    timer = (await start(alice, olena, TASK, description="Review & fixes: 50% done"))["timer"]
    clock.advance(150)
    stop = (await alice.data(STOP_TIMER, {"input": {"id": timer["id"]}}))["stopTimer"]
    entry = stop["entry"]
    assert entry["description"] == "Review & fixes: 50% done"
    assert entry["durationSeconds"] == 150 and entry["date"] == KYIV_DAY
    assert entry["startedAt"] == START.isoformat()
    assert entry["endedAt"] == (START + timedelta(seconds=150)).isoformat()
    [cost] = [c for c in fake.account.costs.values() if c.user_id == OLENA]
    assert (cost.comment, cost.minutes, cost.day) == (
        "Review & fixes: 50% done",
        3,
        date(2026, 3, 3),
    )

    listed = (await alice.data(ENTRIES, {"filter": {"provider": olena.key}}))["timeEntries"]
    assert listed["nodes"] == [entry]
    assert (await alice.data(ENTRY, {"id": entry["id"]}))["timeEntry"] == entry


async def test_a_description_changed_while_running_becomes_the_comment(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """updateTimer keeps the description until the stop, which saves it as the comment."""
    timer = (await start(alice, olena, TASK))["timer"]
    await alice.data(UPDATE, {"input": {"id": timer["id"], "description": "Onboarding copy"}})
    clock.advance(60)
    await alice.data(STOP_TIMER, {"input": {}})
    [cost] = [c for c in fake.account.costs.values() if c.user_id == OLENA]
    assert cost.comment == "Onboarding copy"


async def test_a_cost_edited_in_worksection_shows_worksections_time(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """Once Worksection's minutes differ from what the stop saved, the entry shows them."""
    timer = (await start(alice, olena, TASK))["timer"]
    clock.advance(150)
    entry = (await alice.data(STOP_TIMER, {"input": {"id": timer["id"]}}))["stopTimer"]["entry"]
    cost_id = decode_global_id(entry["id"], expected="TimeEntry").native_id
    fake.account.costs[cost_id].minutes = 60
    edited = (await alice.data(ENTRY, {"id": entry["id"]}))["timeEntry"]
    assert edited["durationSeconds"] == 3600
    assert edited["startedAt"] == START.isoformat()


async def test_costs_entered_by_hand_are_their_persons_entries(
    alice: GraphQLClient, bob: GraphQLClient, olena: Handle, taras: Handle
) -> None:
    """Taras's hand-entered cost is his entry, from the start of its day in the account's
    zone, and filters by task and date; Olena does not see it."""
    by_task = {"filter": {"context": {"type": "task", "id": OTHER_TASK}}}
    listed = (await bob.data(ENTRIES, by_task))["timeEntries"]
    assert listed["totalCount"] == 1
    [entry] = listed["nodes"]
    assert entry["description"] == "API spike" and entry["date"] == "2025-11-20"
    assert entry["durationSeconds"] == 150 * 60
    assert entry["startedAt"] == "2025-11-19T22:00:00+00:00"  # midnight in Kyiv
    outside = {"filter": {"dateFrom": "2025-11-21", "dateTo": "2025-12-31"}}
    assert (await bob.data(ENTRIES, outside))["timeEntries"]["totalCount"] == 0
    other_task = {"filter": {"context": {"type": "task", "id": TASK}}}
    assert (await bob.data(ENTRIES, other_task))["timeEntries"]["totalCount"] == 0
    assert (await alice.data(ENTRIES))["timeEntries"]["totalCount"] == 0
    assert (await alice.data(ENTRY, {"id": entry["id"]}))["timeEntry"] is None


async def test_without_a_time_zone_costs_are_dated_in_the_viewers(
    bob: GraphQLClient, fake: WorksectionFake
) -> None:
    """A connection made without timeZone reads a day as the viewer's (UTC by default)."""
    credentials = fake.describe(WORKSECTION.base_url).seed["otherCredentials"]
    connect = """
    mutation Connect($input: ConnectProviderInput!) { connectProvider(input: $input) { connection { id } } }
    """
    await bob.data(
        connect,
        {"input": {"baseUrl": WORKSECTION.base_url, "credentials": {"worksection": credentials}}},
    )
    [entry] = (await bob.data(ENTRIES))["timeEntries"]["nodes"]
    assert entry["startedAt"] == "2025-11-20T00:00:00+00:00"


async def test_a_timer_stopped_in_worksection_is_gone(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake
) -> None:
    """Stopping it again answers NOT_FOUND; a stop without an id finds nothing to stop."""
    timer = (await start(alice, olena, TASK))["timer"]
    running = fake.account.running_timer(OLENA)
    assert running is not None
    fake.account.stop_timer(running)
    error = await alice.error(STOP_TIMER, {"input": {"id": timer["id"]}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    nothing = (await alice.data(STOP_TIMER, {"input": {}}))["stopTimer"]
    assert nothing == {"timer": None, "entry": None}


async def test_cancel_discards_the_timer_without_saving_time(
    alice: GraphQLClient, olena: Handle, fake: WorksectionFake, clock: ManualClock
) -> None:
    """cancelTimer leaves no timer running and no cost in Worksection."""
    before = dict(fake.account.costs)
    timer = (await start(alice, olena, TASK, description="Wrong task"))["timer"]
    clock.advance(300)
    await alice.data(CANCEL, {"input": {"id": timer["id"]}})
    assert fake.account.running_timer(OLENA) is None
    assert fake.account.costs == before
    assert (await alice.data(RUNNING))["runningTimers"] == []


async def test_task_filters_that_name_no_task_find_nothing(
    alice: GraphQLClient, olena: Handle
) -> None:
    """An unknown task id or another kind of context in a filter is an empty answer."""
    for context in (task("999999"), task("not-a-number"), {"type": "project", "id": "6622"}):
        listed = await alice.data(ENTRIES, {"filter": {"context": context}})
        assert listed["timeEntries"]["totalCount"] == 0
