"""The Accelo adapter's timers on the fake deployment: Accelo's two statuses, one running clock,
stop and log written as activities, and the user's time never lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from accelo_connection import USER, Gatekeeper, accelo_provider, credentials_of, envelope

from timergate.domain import ManualClock, TimerChanges, TimerContext, TimerDetails, TimerState
from timergate.errors import BadUserInput, InvalidTransition, NotFound, UpstreamUnavailable
from timergate.fakes.accelo import AcceloFake, create_fake
from timergate.fakes.accelo.account import Timer as FakeTimer
from timergate.providers.accelo import AcceloProvider
from timergate.providers.base import LogRequest

JOB = TimerContext("job", "31", "Website redesign")
ISSUE = TimerContext("issue", "41", "Checkout page times out")
COMPANY = TimerContext("company", "21", "Northwind Traders")
TASK = TimerContext("task", "51", "Design the checkout flow")
MORGAN = 7


@pytest.fixture
def fake(clock: ManualClock) -> AcceloFake:
    return create_fake(now=clock.now)


@pytest.fixture
async def accelo(
    fake: AcceloFake, clock: ManualClock
) -> AsyncIterator[tuple[AcceloProvider, Gatekeeper]]:
    async with accelo_provider(fake, clock, credentials_of(fake)) as opened:
        yield opened


def details(description: str | None = "Write the brief", context: TimerContext | None = JOB):
    return TimerDetails(description=description, context=context)


def activities_of(fake: AcceloFake, staff_id: int = MORGAN) -> list:
    return [a for a in fake.account.activities.values() if a.owner_id == staff_id and a.id > 1003]


async def test_a_start_stops_the_other_running_timer_and_reports_it_paused(
    accelo: tuple[AcceloProvider, Gatekeeper], clock: ManualClock
) -> None:
    """Accelo runs one clock per user: a start reports the timer it stopped as PAUSED with its time."""
    provider, _ = accelo
    first = (await provider.start(USER, details(), clock.now())).timer
    clock.advance(40)
    second = await provider.start(USER, details("Review", ISSUE), clock.now())
    assert second.timer.state is TimerState.RUNNING
    assert [(t.id, t.state, t.accumulated) for t in second.paused] == [
        (first.id, TimerState.PAUSED, timedelta(seconds=40))
    ]
    assert [t.id for t in await provider.running_timers(USER)] == [second.timer.id]


async def test_a_stopped_accelo_timer_with_time_is_paused_and_resumes(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """A timer stopped in Accelo's own app keeps its seconds: it reads as PAUSED and resumes."""
    provider, _ = accelo
    fake.account.timers[150] = FakeTimer(150, MORGAN, "From the web app", "job", 31, 900)
    (timer,) = await provider.open_timers(USER)
    assert (timer.id, timer.state, timer.accumulated) == (
        "150",
        TimerState.PAUSED,
        timedelta(seconds=900),
    )
    assert timer.details.context == JOB and timer.details.description == "From the web app"
    resumed = await provider.resume(USER, "150", clock.now())
    clock.advance(60)
    again = await provider.get_timer(USER, "150")
    assert resumed.timer.state is TimerState.RUNNING
    assert again is not None and again.running_since is not None
    assert again.accumulated + (clock.now() - again.running_since) == timedelta(seconds=960)


async def test_stop_logs_the_time_as_an_activity_visible_to_all_then_deletes_the_timer(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Stopping writes a note owned by the user against the timer's object, billable on a job."""
    provider, _ = accelo
    started = clock.now()
    timer = (await provider.start(USER, details(), started)).timer
    clock.advance(125)
    result = await provider.stop(USER, timer.id, clock.now())
    (activity,) = activities_of(fake)
    assert (activity.subject, activity.against_type, activity.against_id) == (
        "Write the brief",
        "job",
        31,
    )
    assert (activity.medium, activity.visibility, activity.owner_type) == ("note", "all", "staff")
    assert (activity.billable, activity.nonbillable) == (125, 0)
    assert activity.date_started == int(started.timestamp())
    assert int(timer.id) not in fake.account.timers
    assert result.timer is not None and result.timer.state is TimerState.STOPPED
    assert result.entry is not None and result.entry.id == str(activity.id)
    assert result.entry.duration_seconds == 125 and result.entry.details.billable
    assert result.timer.entry_id == result.entry.id


async def test_time_on_a_company_is_non_billable_and_billable_time_there_is_refused(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Accelo bills only issues, jobs, milestones and contracts: asking to bill a company is
    refused and the timer stays; otherwise the time is logged non-billable."""
    provider, _ = accelo
    timer = (await provider.start(USER, details(context=COMPANY), clock.now())).timer
    assert not timer.details.billable
    clock.advance(60)
    with pytest.raises(BadUserInput) as refused:
        await provider.log(USER, timer.id, LogRequest(billable=True), clock.now())
    assert refused.value.field == "input.billable"
    assert int(timer.id) in fake.account.timers and not activities_of(fake)
    result = await provider.log(USER, timer.id, LogRequest(), clock.now())
    (activity,) = activities_of(fake)
    assert (activity.billable, activity.nonbillable) == (0, 60)
    assert result.entry is not None and not result.entry.details.billable


async def test_a_timer_started_non_billable_on_a_job_logs_non_billable_time(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Accelo's timers have no billable flag: the choice is kept in the connection's notes."""
    provider, record = accelo
    chosen = TimerDetails(description="Internal review", context=JOB, billable=False)
    timer = (await provider.start(USER, chosen, clock.now())).timer
    assert not timer.details.billable
    assert record.notes == {"nonbillable_timers": [timer.id]}
    clock.advance(30)
    await provider.stop(USER, timer.id, clock.now())
    (activity,) = activities_of(fake)
    assert (activity.billable, activity.nonbillable) == (0, 30)
    assert record.notes == {}


async def test_log_chooses_subject_seconds_date_and_billable(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """logTimer writes the activity with the chosen subject, rounded seconds, day and billable."""
    provider, _ = accelo
    started = clock.now()
    timer = (await provider.start(USER, details(context=ISSUE), started)).timer
    clock.advance(100)
    day = (started + timedelta(days=-2)).date()
    request = LogRequest(
        description="Triage", date=day, duration=timedelta(minutes=15), billable=False
    )
    result = await provider.log(USER, timer.id, request, clock.now())
    (activity,) = activities_of(fake)
    assert (activity.subject, activity.billable, activity.nonbillable) == ("Triage", 0, 900)
    assert result.entry is not None and result.entry.date == day
    assert result.entry.duration_seconds == 900


async def test_time_on_a_task_goes_to_its_job_with_the_task_linked(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """As Accelo asks, a task's time is logged against the task's job, naming the task."""
    provider, _ = accelo
    timer = (await provider.start(USER, details(context=TASK), clock.now())).timer
    clock.advance(90)
    await provider.stop(USER, timer.id, clock.now())
    (activity,) = activities_of(fake)
    assert (activity.against_type, activity.against_id, activity.task_id) == ("job", 31, 51)
    assert (activity.billable, activity.nonbillable) == (90, 0)


async def test_a_timer_on_nothing_logs_against_the_users_own_record(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """A timer against no object still keeps its time: against the user's staff record."""
    provider, _ = accelo
    timer = (await provider.start(USER, details(context=None), clock.now())).timer
    clock.advance(45)
    await provider.stop(USER, timer.id, clock.now())
    (activity,) = activities_of(fake)
    assert (activity.against_type, activity.against_id, activity.nonbillable) == (
        "staff",
        MORGAN,
        45,
    )


async def test_a_timer_with_no_time_is_removed_without_an_activity(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Stopping a timer that never counted a second writes no empty note."""
    provider, _ = accelo
    timer = (await provider.start(USER, details(), clock.now())).timer
    result = await provider.stop(USER, timer.id, clock.now())
    assert result.entry is None and result.timer is not None
    assert not activities_of(fake) and not fake.account.timers.get(int(timer.id))


def failing_activities(request: httpx.Request) -> httpx.Response | None:
    if request.method == "POST" and request.url.path == "/api/v0/activities":
        return envelope("server_error", "The request failed due to a server error.", code=500)
    return None


async def test_when_the_activity_cannot_be_written_the_timer_stays_with_its_time(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """If Accelo refuses the logged time, nothing is deleted: the timer keeps running."""
    async with accelo_provider(
        fake, clock, credentials_of(fake), fault=failing_activities
    ) as opened:
        provider, record = opened
        timer = (await provider.start(USER, details(), clock.now())).timer
        clock.advance(300)
        with pytest.raises(UpstreamUnavailable):
            await provider.stop(USER, timer.id, clock.now())
        assert record.sent("DELETE", f"/api/v0/timers/{timer.id}") == 0
        kept = await provider.get_timer(USER, timer.id)
        assert kept is not None and kept.state is TimerState.RUNNING
        assert kept.running_since == timer.running_since


def private_activities(request: httpx.Request) -> httpx.Request | None:
    """A deployment (or proxy) that loses the visibility: Accelo then drops the seconds."""
    if request.method != "POST" or request.url.path != "/api/v0/activities":
        return None
    form = [(k, v) for k, v in parse_qsl(request.content.decode()) if k != "visibility"]
    return httpx.Request(
        "POST", request.url, headers={**request.headers}, content=urlencode(form).encode()
    )


async def test_when_accelo_drops_the_seconds_the_timer_stays(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """An activity created without its time is not taken for logged time: the timer stays."""
    async with accelo_provider(
        fake, clock, credentials_of(fake), fault=private_activities
    ) as opened:
        provider, _ = opened
        timer = (await provider.start(USER, details(), clock.now())).timer
        clock.advance(200)
        with pytest.raises(UpstreamUnavailable, match="did not keep the logged time"):
            await provider.stop(USER, timer.id, clock.now())
        assert int(timer.id) in fake.account.timers
        assert not [a for a in activities_of(fake) if a.nonbillable or a.billable]


async def test_when_the_timer_cannot_be_removed_the_error_names_the_logged_entry(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """Time logged but the timer left behind: the error says so, so it is not logged twice."""

    def refuse_delete(request: httpx.Request) -> httpx.Response | None:
        if request.method == "DELETE" and request.url.path.startswith("/api/v0/timers/"):
            return envelope("server_error", code=500)
        return None

    async with accelo_provider(fake, clock, credentials_of(fake), fault=refuse_delete) as opened:
        provider, _ = opened
        timer = (await provider.start(USER, details(), clock.now())).timer
        clock.advance(50)
        with pytest.raises(UpstreamUnavailable) as failed:
            await provider.stop(USER, timer.id, clock.now())
        (activity,) = activities_of(fake)
        assert failed.value.details == {"entryId": str(activity.id)}
        assert "cancel the timer" in failed.value.message


async def test_two_stops_at_once_log_the_time_once(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Stopped from two devices at once, a timer's time is logged once; the other stop finds
    nothing left to stop."""
    provider, _ = accelo
    timer = (await provider.start(USER, details(), clock.now())).timer
    clock.advance(70)
    results = await asyncio.gather(
        provider.stop(USER, timer.id, clock.now()),
        provider.stop(USER, timer.id, clock.now()),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["NotFound", "StopResult"]
    (activity,) = activities_of(fake)
    assert activity.billable == 70


async def test_seconds_are_set_only_on_a_paused_timer(
    accelo: tuple[AcceloProvider, Gatekeeper], clock: ManualClock
) -> None:
    """Setting elapsed time on a running timer is refused before any call; paused, it is set."""
    provider, record = accelo
    timer = (await provider.start(USER, details(), clock.now())).timer
    change = TimerChanges(elapsed=timedelta(minutes=20))
    with pytest.raises(InvalidTransition):
        await provider.update_timer(USER, timer.id, change, clock.now())
    assert record.sent("PUT", f"/api/v0/timers/{timer.id}") == 0
    await provider.pause(USER, timer.id, clock.now())
    updated = await provider.update_timer(USER, timer.id, change, clock.now())
    assert updated.changed and updated.value.accumulated == timedelta(minutes=20)


async def test_update_moves_the_timer_and_refuses_what_accelo_cannot_keep(
    accelo: tuple[AcceloProvider, Gatekeeper], clock: ManualClock
) -> None:
    """Subject and object change; no subject, no object, tags and long subjects are refused."""
    provider, record = accelo
    timer = (await provider.start(USER, details(), clock.now())).timer
    moved = await provider.update_timer(
        USER, timer.id, TimerChanges(description="Fix it", context=ISSUE), clock.now()
    )
    assert (moved.value.details.description, moved.value.details.context) == ("Fix it", ISSUE)
    assert moved.value.version > timer.version
    refusals = {
        "input.description": TimerChanges(description=None),
        "input.context": TimerChanges(context=None),
        "input.tags": TimerChanges(tags=("urgent",)),
    }
    for field, change in refusals.items():
        with pytest.raises(BadUserInput) as refused:
            await provider.update_timer(USER, timer.id, change, clock.now())
        assert refused.value.field == field
    with pytest.raises(BadUserInput, match="at most 255 characters"):
        await provider.update_timer(
            USER, timer.id, TimerChanges(description="x" * 256), clock.now()
        )
    assert record.sent("PUT", f"/api/v0/timers/{timer.id}") == 1


async def test_a_start_needs_a_subject_of_at_most_255_characters(
    accelo: tuple[AcceloProvider, Gatekeeper], clock: ManualClock
) -> None:
    """The context's title stands in for a missing description; with neither, or a subject
    too long, nothing is started."""
    provider, record = accelo
    titled = await provider.start(USER, details(description=None), clock.now())
    assert titled.timer.details.description == "Website redesign"
    untitled = TimerContext("job", "31")
    for bad in (details(None, untitled), details("y" * 256), details(None, None)):
        with pytest.raises(BadUserInput) as refused:
            await provider.start(USER, bad, clock.now())
        assert refused.value.field == "input.description"
    with pytest.raises(BadUserInput) as refused:
        await provider.start(USER, details(context=TimerContext("job", "WEB-1")), clock.now())
    assert refused.value.field == "input.context.id"
    assert record.sent("POST", "/api/v0/timers") == 1


async def test_an_unknown_object_is_refused_with_accelos_words(
    accelo: tuple[AcceloProvider, Gatekeeper], clock: ManualClock
) -> None:
    """Accelo's own validation comes back as BAD_USER_INPUT with its message."""
    provider, _ = accelo
    with pytest.raises(BadUserInput, match="There is no job with id 999"):
        await provider.start(USER, details(context=TimerContext("job", "999")), clock.now())


async def test_another_users_timer_answers_like_a_missing_one(
    fake: AcceloFake, clock: ManualClock
) -> None:
    """Sam's timer (seeded 101) is invisible to Morgan: reads give nothing, writes NOT_FOUND."""
    async with accelo_provider(fake, clock, credentials_of(fake)) as (provider, _):
        assert await provider.get_timer(USER, "101") is None
        assert await provider.get_timer(USER, "no-such-id") is None
        for attempt in (provider.pause, provider.cancel):
            with pytest.raises(NotFound):
                await attempt(USER, "101", clock.now())
        assert await provider.open_timers(USER) == []
    assert 101 in fake.account.timers


async def test_cancel_discards_the_timer_without_logging(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Cancelling removes the timer at Accelo and writes no activity."""
    provider, _ = accelo
    timer = (await provider.start(USER, details(), clock.now())).timer
    clock.advance(10)
    cancelled = await provider.cancel(USER, timer.id, clock.now())
    assert cancelled.id == timer.id
    assert int(timer.id) not in fake.account.timers and not activities_of(fake)


async def test_every_timer_is_read_across_accelos_pages(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake
) -> None:
    """More timers than one page of 100 are all listed (the gateway pages them itself)."""
    provider, record = accelo
    for number in range(200, 305):
        fake.account.timers[number] = FakeTimer(number, MORGAN, f"Timer {number}", "job", 31, 60)
    timers = await provider.open_timers(USER)
    assert sorted(int(t.id) for t in timers) == list(range(200, 305))
    assert record.sent("GET", "/api/v0/timers") == 2
