"""Time entries on Accelo: the user's activities with logged time, read back across Accelo's
pages and filters, and written, edited and deleted as activities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from accelo_connection import USER, Gatekeeper, accelo_provider, credentials_of

from timergate.domain import EntryFilter, ManualClock, TimerContext, TimerDetails
from timergate.domain.entry import EntryChanges
from timergate.domain.queries import After
from timergate.errors import BadUserInput, NotFound
from timergate.fakes.accelo import AcceloFake, create_fake
from timergate.fakes.accelo.account import Activity
from timergate.providers.accelo import AcceloProvider
from timergate.providers.base import NewEntry

JOB = TimerContext("job", "31", "Website redesign")
COMPANY = TimerContext("company", "21", "Northwind Traders")
MORGAN, SAM = 7, 9


@pytest.fixture
def fake(clock: ManualClock) -> AcceloFake:
    return create_fake(now=clock.now)


@pytest.fixture
async def accelo(
    fake: AcceloFake, clock: ManualClock
) -> AsyncIterator[tuple[AcceloProvider, Gatekeeper]]:
    async with accelo_provider(fake, clock, credentials_of(fake)) as opened:
        yield opened


def logged(fake: AcceloFake, activity_id: int, owner: int, started: datetime, seconds: int) -> None:
    """An activity with logged time, as Accelo's own app would have written it."""
    at = int(started.timestamp())
    fake.account.activities[activity_id] = Activity(
        id=activity_id,
        subject=f"Logged {activity_id}",
        against_type="job",
        against_id=31,
        owner_type="staff",
        owner_id=owner,
        date_created=at,
        date_modified=at,
        visibility="all",
        date_started=at,
        date_ended=at + seconds,
        billable=seconds,
        allocation_id=activity_id,
    )


async def test_entries_are_the_users_own_activities_with_time(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """A note without time and another user's logged time are no entries of this user."""
    provider, _ = accelo
    logged(fake, 2001, MORGAN, clock.now() - timedelta(hours=3), 1800)
    logged(fake, 2002, SAM, clock.now() - timedelta(hours=2), 600)
    page = await provider.list_entries(USER, EntryFilter(), first=10, after=None)
    (entry,) = page.items
    assert (entry.id, entry.duration_seconds, entry.details.context) == ("2001", 1800, JOB)
    assert entry.details.billable and entry.started_at == clock.now() - timedelta(hours=3)
    assert await provider.count_entries(USER, EntryFilter()) == 1
    assert await provider.get_entry(USER, "2002") is None
    assert await provider.get_entry(USER, "1001") is None, "a note without time is no entry"


async def test_entries_page_newest_first_across_accelos_pages(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Over 100 entries are paged newest first without gaps or repeats, and counted by Accelo."""
    provider, record = accelo
    start = clock.now() - timedelta(days=30)
    for n in range(130):
        logged(fake, 3000 + n, MORGAN, start + timedelta(hours=n), 60)
    seen: list[str] = []
    after: After | None = None
    while True:
        page = await provider.list_entries(USER, EntryFilter(), first=50, after=after)
        seen += [e.id for e in page.items]
        if not page.has_next:
            break
        last = page.items[-1]
        after = After(last.started_at, last.id)
    assert seen == [str(3000 + n) for n in reversed(range(130))]
    assert await provider.count_entries(USER, EntryFilter()) == 130
    assert record.sent("GET", "/api/v0/activities/count") == 1


async def test_filters_by_day_in_the_users_time_zone_and_by_object(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake
) -> None:
    """Dates are the user's days; a context filter selects the object the time is against."""
    provider, _ = accelo
    tokyo = replace(USER, time_zone="Asia/Tokyo")
    # 23:30 UTC on 1 March is 08:30 on 2 March in Tokyo.
    logged(fake, 2101, MORGAN, datetime(2026, 3, 1, 23, 30, tzinfo=UTC), 600)
    logged(fake, 2102, MORGAN, datetime(2026, 3, 1, 10, 0, tzinfo=UTC), 600)
    second = EntryFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
    page = await provider.list_entries(tokyo, second, first=10, after=None)
    assert [e.id for e in page.items] == ["2101"]
    assert await provider.count_entries(tokyo, second) == 1
    on_company = EntryFilter(context_type="company", context_id="21")
    assert (await provider.list_entries(USER, on_company, first=10, after=None)).items == []
    on_job = EntryFilter(context_type="job", context_id="31", text="2102")
    assert [
        e.id for e in (await provider.list_entries(USER, on_job, first=10, after=None)).items
    ] == ["2102"]
    assert await provider.count_entries(USER, on_job) == 1


async def test_an_entry_by_hand_is_an_activity_and_billable_follows_the_object(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """createTimeEntry writes a note visible to all; on a company its time is non-billable."""
    provider, _ = accelo
    start = clock.now() - timedelta(hours=2)
    entry = await provider.create_entry(
        USER,
        NewEntry(TimerDetails("Call with Northwind", COMPANY), start, duration_seconds=1200),
        clock.now(),
    )
    activity = fake.account.activities[int(entry.id)]
    assert (activity.visibility, activity.nonbillable, activity.billable) == ("all", 1200, 0)
    assert entry.details.context == COMPANY and not entry.details.billable
    with pytest.raises(BadUserInput) as refused:
        await provider.update_entry(USER, entry.id, EntryChanges(billable=True), clock.now())
    assert refused.value.field == "input.billable"
    with pytest.raises(BadUserInput) as refused:
        await provider.create_entry(
            USER,
            NewEntry(TimerDetails("Tagged", JOB, tags=("a",)), start, duration_seconds=60),
            clock.now(),
        )
    assert refused.value.field == "input.tags"


async def test_editing_an_entry_changes_the_activity(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """Subject, duration and billable change in place; moving the time elsewhere is refused."""
    provider, _ = accelo
    logged(fake, 2201, MORGAN, clock.now() - timedelta(hours=1), 1800)
    clock.advance(5)
    edited = await provider.update_entry(
        USER,
        "2201",
        EntryChanges(description="Design review", duration_seconds=2700, billable=False),
        clock.now(),
    )
    activity = fake.account.activities[2201]
    assert (activity.subject, activity.billable, activity.nonbillable) == ("Design review", 0, 2700)
    assert edited.changed and edited.value.version > int(
        (clock.now() - timedelta(seconds=5)).timestamp()
    )
    same = await provider.update_entry(
        USER, "2201", EntryChanges(description="Design review"), clock.now()
    )
    assert not same.changed
    with pytest.raises(BadUserInput) as refused:
        await provider.update_entry(USER, "2201", EntryChanges(context=COMPANY), clock.now())
    assert refused.value.field == "input.context"


async def test_deleting_an_entry_removes_only_the_users_own(
    accelo: tuple[AcceloProvider, Gatekeeper], fake: AcceloFake, clock: ManualClock
) -> None:
    """deleteTimeEntry removes the user's activity; another user's answers NOT_FOUND."""
    provider, _ = accelo
    logged(fake, 2301, MORGAN, clock.now() - timedelta(hours=1), 600)
    deleted = await provider.delete_entry(USER, "2301", clock.now())
    assert deleted.id == "2301" and 2301 not in fake.account.activities
    with pytest.raises(NotFound):
        await provider.delete_entry(USER, "1002", clock.now())
    assert 1002 in fake.account.activities


async def test_entries_by_timer_are_none(accelo: tuple[AcceloProvider, Gatekeeper]) -> None:
    """Accelo's activities do not say which timer made them: a timerId filter finds nothing."""
    provider, record = accelo
    by_timer = EntryFilter(timer_id="102")
    assert (await provider.list_entries(USER, by_timer, first=5, after=None)).items == []
    assert await provider.count_entries(USER, by_timer) == 0
    assert record.sent("GET", "/api/v0/activities") == 0
