"""Store contract: lists run newest first by start, page by cursor, filter, count and search."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from builders import (
    T0,
    after_item,
    all_entries,
    all_timers,
    insert_entries,
    insert_timers,
    make_entry,
    make_timer,
    walk,
)

from fresh_stores import STORE_BACKENDS
from timergate.domain import (
    After,
    EntryFilter,
    TimeEntry,
    Timer,
    TimerContext,
    TimerDetails,
    TimerFilter,
    TimerState,
    User,
)
from timergate.errors import BadUserInput
from timergate.store import TimerStore

pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)


# Lists, filters and counts.


async def test_timers_paginate_newest_first(store: TimerStore, alice: User) -> None:
    """Pages run newest first; has_next and the after cursor walk them without gaps or repeats."""
    made = await insert_timers(
        store, *(make_timer(alice, started_at=T0 + timedelta(hours=i)) for i in range(5))
    )
    newest_first = [t.id for t in reversed(made)]

    first = await store.list_timers(alice.id, TimerFilter(), first=2, after=None)
    assert [t.id for t in first.items] == newest_first[:2] and first.has_next
    second = await store.list_timers(
        alice.id, TimerFilter(), first=2, after=after_item(first.items[-1])
    )
    assert [t.id for t in second.items] == newest_first[2:4] and second.has_next
    third = await store.list_timers(
        alice.id, TimerFilter(), first=2, after=after_item(second.items[-1])
    )
    assert [t.id for t in third.items] == newest_first[4:] and not third.has_next

    exact = await store.list_timers(alice.id, TimerFilter(), first=5, after=None)
    assert len(exact.items) == 5 and not exact.has_next
    assert [t.id for t in await all_timers(store, alice, TimerFilter(), page=1)] == newest_first
    assert first.items[0] == made[-1], "listed timers carry every field"


async def test_entries_paginate_newest_first(store: TimerStore, alice: User) -> None:
    """Entry pages run newest first (one start: the latest id first) with has_next and after."""
    made = await insert_entries(store, *(make_entry(alice) for _ in range(3)))
    page = await store.list_entries(alice.id, EntryFilter(), first=2, after=None)
    assert [e.id for e in page.items] == [made[2].id, made[1].id] and page.has_next
    rest = await store.list_entries(
        alice.id, EntryFilter(), first=2, after=after_item(page.items[-1])
    )
    assert rest.items == [made[0]] and not rest.has_next


@pytest.fixture
async def alices_timers(store: TimerStore, alice: User, bob: User) -> dict[str, Timer]:
    """Alice's timers, with varied states, providers, contexts, starts and texts; and bob's."""
    specs = {
        "running": make_timer(
            alice, state=TimerState.RUNNING, details=TimerDetails(description="Deploy 50% rollout")
        ),
        "percentless": make_timer(
            alice,
            details=TimerDetails(description="Deploy 500 rollout"),
            started_at=T0 + timedelta(days=1),
        ),
        "underscore": make_timer(
            alice,
            details=TimerDetails(
                description="rename snake_case",
                context=TimerContext("issue", "GH-1", "Style"),
            ),
            started_at=T0 + timedelta(days=2),
        ),
        "no-underscore": make_timer(
            alice,
            state=TimerState.STOPPED,
            details=TimerDetails(
                description="rename snakeXcase",
                context=TimerContext("issue", "GH-2", "Style"),
            ),
            started_at=T0 + timedelta(days=3),
        ),
        "titled": make_timer(
            alice,
            state=TimerState.STOPPED,
            details=TimerDetails(context=TimerContext("project", "GH-1", "Quarterly REPORT")),
            started_at=T0 + timedelta(days=4),
            provider="toggl",
        ),
    }
    made = await insert_timers(store, *specs.values())
    await insert_timers(
        store, make_timer(bob, details=TimerDetails(description="Deploy 50% rollout"))
    )
    return dict(zip(specs, made, strict=True))


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (TimerFilter(), ["titled", "no-underscore", "underscore", "percentless", "running"]),
        (TimerFilter(states=(TimerState.RUNNING,)), ["running"]),
        (
            TimerFilter(states=(TimerState.PAUSED, TimerState.RUNNING)),
            ["underscore", "percentless", "running"],
        ),
        (TimerFilter(provider="toggl"), ["titled"]),
        (TimerFilter(provider="local", states=(TimerState.STOPPED,)), ["no-underscore"]),
        (TimerFilter(context_type="issue"), ["no-underscore", "underscore"]),
        (TimerFilter(context_id="GH-1"), ["titled", "underscore"]),
        (TimerFilter(context_type="issue", context_id="GH-1"), ["underscore"]),
        (
            TimerFilter(started_from=T0 + timedelta(days=1)),
            ["titled", "no-underscore", "underscore", "percentless"],
        ),
        (TimerFilter(started_to=T0 + timedelta(days=1)), ["running"]),
        (
            TimerFilter(
                started_from=T0 + timedelta(days=1, microseconds=1),
                started_to=T0 + timedelta(days=3, microseconds=1),
            ),
            ["no-underscore", "underscore"],
        ),
        (TimerFilter(text="%"), ["running"]),
        (TimerFilter(text="50%"), ["running"]),
        (TimerFilter(text="_"), ["underscore"]),
        (TimerFilter(text="snake_c"), ["underscore"]),
        (TimerFilter(text="deploy"), ["percentless", "running"]),
        (TimerFilter(text="report"), ["titled"]),
        (TimerFilter(text="\\"), []),
        (TimerFilter(text="nothing like it"), []),
    ],
    ids=lambda v: repr(v) if isinstance(v, TimerFilter) else None,
)
async def test_timer_filters(
    store: TimerStore,
    alice: User,
    alices_timers: dict[str, Timer],
    f: TimerFilter,
    expected: list[str],
) -> None:
    """Each filter selects the right timers (started range [from, to); % and _ literal), newest
    first, and the count agrees with the list."""
    names = {t.id: name for name, t in alices_timers.items()}
    listed = await all_timers(store, alice, f)
    assert [names[t.id] for t in listed] == expected
    assert await store.count_timers(alice.id, f) == len(expected)


async def test_text_filter_ignores_case_beyond_ascii(store: TimerStore, alice: User) -> None:
    """The text filter matches case-insensitively, as the API promises, for accented letters too."""
    (timer,) = await insert_timers(
        store, make_timer(alice, details=TimerDetails(description="Überarbeitung ÉTÉ"))
    )
    for text in ("überarbeitung", "ÜBERARBEITUNG", "été"):
        listed = await all_timers(store, alice, TimerFilter(text=text))
        assert [t.id for t in listed] == [timer.id], text


@pytest.fixture
async def alices_entries(store: TimerStore, alice: User, bob: User) -> dict[str, TimeEntry]:
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.STOPPED))
    specs = {
        "march-1": make_entry(alice, entry_date=date(2026, 3, 1)),
        "march-2-timer": make_entry(alice, entry_date=date(2026, 3, 2), timer_id=timer.id),
        "march-3": make_entry(
            alice,
            entry_date=date(2026, 3, 3),
            details=TimerDetails(description="100% done_ok"),
            provider="toggl",
        ),
        "april": make_entry(alice, entry_date=date(2026, 4, 1), details=TimerDetails()),
    }
    made = await insert_entries(store, *specs.values())
    await insert_entries(store, make_entry(bob, entry_date=date(2026, 3, 2)))
    return dict(zip(specs, made, strict=True))


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (EntryFilter(), ["april", "march-3", "march-2-timer", "march-1"]),
        (EntryFilter(date_from=date(2026, 3, 2)), ["april", "march-3", "march-2-timer"]),
        (EntryFilter(date_to=date(2026, 3, 2)), ["march-2-timer", "march-1"]),
        (
            EntryFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 3)),
            ["march-3", "march-2-timer"],
        ),
        (EntryFilter(date_from=date(2026, 3, 4), date_to=date(2026, 3, 31)), []),
        (EntryFilter(provider="toggl"), ["march-3"]),
        (EntryFilter(context_type="issue", context_id="GH-12"), ["march-2-timer", "march-1"]),
        (EntryFilter(text="100%"), ["march-3"]),
        (EntryFilter(text="_"), ["march-3"]),
        (EntryFilter(text="SAFARI"), ["march-2-timer", "march-1"]),
        (EntryFilter(timer_id="no-such-timer"), []),
        (EntryFilter(timer_id="\uff11"), []),  # a fullwidth 1 is not timer 1
        (EntryFilter(timer_id="9" * 30), []),
    ],
    ids=lambda v: repr(v) if isinstance(v, EntryFilter) else None,
)
async def test_entry_filters(
    store: TimerStore,
    alice: User,
    alices_entries: dict[str, TimeEntry],
    f: EntryFilter,
    expected: list[str],
) -> None:
    """Each entry filter (dates inclusive, literal % and _) selects the right entries; counts agree."""
    names = {e.id: name for name, e in alices_entries.items()}
    listed = await all_entries(store, alice, f)
    assert [names[e.id] for e in listed] == expected
    assert await store.count_entries(alice.id, f) == len(expected)


async def test_entries_filter_by_timer(
    store: TimerStore, alice: User, alices_entries: dict[str, TimeEntry]
) -> None:
    """Filtering by timer id finds the entry that timer produced, and only that."""
    timer_id = alices_entries["march-2-timer"].timer_id
    assert timer_id is not None
    f = EntryFilter(timer_id=timer_id)
    assert await all_entries(store, alice, f) == [alices_entries["march-2-timer"]]
    assert await store.count_entries(alice.id, f) == 1


# Order and cursors.


async def test_entries_run_by_when_the_work_happened(store: TimerStore, alice: User) -> None:
    """Entries list by start, latest first, whatever order they were made in; ties by id."""
    monday = T0 - timedelta(days=7)
    this_morning = await insert_entries(store, make_entry(alice, started_at=T0))
    typed_in_later = await insert_entries(
        store,
        make_entry(alice, started_at=monday),
        make_entry(alice, started_at=monday + timedelta(hours=3)),
        make_entry(alice, started_at=T0),  # the same start as this morning's: the later id first
    )
    listed = [e.id for e in await all_entries(store, alice, EntryFilter(), page=2)]
    assert listed == [
        typed_in_later[2].id,
        this_morning[0].id,
        typed_in_later[1].id,
        typed_in_later[0].id,
    ]


async def test_timers_run_by_start_whatever_their_ids(store: TimerStore, alice: User) -> None:
    """Timers list by start, latest first, even when a later id started earlier."""
    late, early = await insert_timers(
        store,
        make_timer(alice, started_at=T0),
        make_timer(alice, started_at=T0 - timedelta(microseconds=1)),
    )
    assert [t.id for t in await all_timers(store, alice, TimerFilter(), page=1)] == [
        late.id,
        early.id,
    ]


async def test_entry_cursors_hold_their_place_while_entries_come_and_go(
    store: TimerStore, alice: User
) -> None:
    """Entries added, edited or deleted between pages neither repeat nor hide the others."""
    made = await insert_entries(
        store, *(make_entry(alice, started_at=T0 - timedelta(hours=h)) for h in range(6))
    )
    first = await store.list_entries(alice.id, EntryFilter(), first=2, after=None)
    assert first.items == made[:2]

    newer, older = await insert_entries(
        store,
        make_entry(alice, started_at=T0 + timedelta(days=1)),  # above the cursor: not shown
        make_entry(alice, started_at=T0 - timedelta(hours=4, minutes=30)),  # below it: shown
    )
    cursor_row, moved = made[1], made[3]
    async with store.transaction() as tx:
        await tx.delete_entry(alice.id, cursor_row.id)  # the cursor outlives its row
        moved_to = T0 + timedelta(days=2)  # above the cursor now: no longer to come
        await tx.update_entry(
            replace(moved, started_at=moved_to, ended_at=moved_to + timedelta(hours=1), version=2)
        )

    rest = await walk(
        lambda after: store.list_entries(
            alice.id, EntryFilter(), first=2, after=after or after_item(first.items[-1])
        )
    )
    assert [e.id for e in rest] == [made[2].id, made[4].id, older.id, made[5].id]
    assert newer.id not in {e.id for e in rest}


async def test_timer_cursors_hold_their_place_while_timers_start(
    store: TimerStore, alice: User
) -> None:
    """Timers started between pages do not push the next page's timers back onto it."""
    made = await insert_timers(
        store, *(make_timer(alice, started_at=T0 + timedelta(minutes=m)) for m in range(4))
    )
    first = await store.list_timers(alice.id, TimerFilter(), first=2, after=None)
    await insert_timers(store, make_timer(alice, started_at=T0 + timedelta(hours=1)))
    second = await store.list_timers(
        alice.id, TimerFilter(), first=2, after=after_item(first.items[-1])
    )
    assert [t.id for t in second.items] == [made[1].id, made[0].id]
    assert not second.has_next


@pytest.mark.parametrize("row_id", ["", "abc", "-1", "1.5", "\u0661", "9" * 19, " 1", "\uff11"])
async def test_a_place_naming_no_row_is_refused(
    store: TimerStore, alice: User, row_id: str
) -> None:
    """A cursor whose id could name no row is a clear BAD_USER_INPUT on `after`, in both lists."""
    await insert_entries(store, make_entry(alice))
    with pytest.raises(BadUserInput) as refused:
        await store.list_entries(alice.id, EntryFilter(), first=2, after=After(T0, row_id))
    assert refused.value.field == "after"
    with pytest.raises(BadUserInput):
        await store.list_timers(alice.id, TimerFilter(), first=2, after=After(T0, row_id))


async def test_a_page_after_another_providers_item_goes_by_start_alone(
    store: TimerStore, alice: User
) -> None:
    """After an item of another provider, a page holds what started before it, or also at the
    same instant when that provider sorts first."""
    made = await insert_entries(
        store,
        make_entry(alice, started_at=T0 - timedelta(hours=1)),
        make_entry(alice, started_at=T0),
        make_entry(alice, started_at=T0),
        make_entry(alice, started_at=T0 + timedelta(hours=1)),
    )
    before = await store.list_entries(alice.id, EntryFilter(), first=10, after=After(T0))
    assert before.items == [made[0]]
    at_or_before = await store.list_entries(
        alice.id, EntryFilter(), first=10, after=After(T0, inclusive=True)
    )
    assert at_or_before.items == [made[2], made[1], made[0]]
    timers = await insert_timers(
        store, make_timer(alice, started_at=T0), make_timer(alice, started_at=T0 - timedelta(1))
    )
    listed = await store.list_timers(alice.id, TimerFilter(), first=10, after=After(T0))
    assert listed.items == [timers[1]]


# Counts.


async def test_counts_follow_every_write(store: TimerStore, alice: User, bob: User) -> None:
    """totalCount's kept counts agree with the rows through inserts, state changes, deletes
    and rolled-back transactions, per user, provider and state."""

    async def check() -> None:
        for user in (alice, bob):
            timers = await all_timers(store, user, TimerFilter(), page=50)
            entries = await all_entries(store, user, EntryFilter(), page=50)
            for states in (
                (),
                *((s,) for s in TimerState),
                (TimerState.PAUSED, TimerState.RUNNING),
            ):
                for provider in (None, "local", "toggl"):
                    f = TimerFilter(states=states, provider=provider)
                    expected = [
                        t
                        for t in timers
                        if (not states or t.state in states) and provider in (None, t.provider)
                    ]
                    assert await store.count_timers(user.id, f) == len(expected), f
            for provider in (None, "local", "toggl"):
                expected_entries = [e for e in entries if provider in (None, e.provider)]
                f_entries = EntryFilter(provider=provider)
                assert await store.count_entries(user.id, f_entries) == len(expected_entries)

    await check()
    running, paused, toggl = await insert_timers(
        store,
        make_timer(alice, state=TimerState.RUNNING),
        make_timer(alice),
        make_timer(alice, provider="toggl"),
    )
    await insert_timers(store, make_timer(bob, state=TimerState.STOPPED))
    entries = await insert_entries(
        store, make_entry(alice), make_entry(alice, provider="toggl"), make_entry(bob)
    )
    await check()
    async with store.transaction() as tx:
        await tx.update_timer(replace(running, state=TimerState.PAUSED, running_since=None))
        await tx.update_timer(replace(paused, state=TimerState.RUNNING, running_since=T0))
        await tx.update_timer(replace(toggl, state=TimerState.STOPPED, details=TimerDetails()))
    await check()
    async with store.transaction() as tx:
        await tx.delete_timer(alice.id, running.id)
        await tx.delete_entry(alice.id, entries[0].id)
    await check()
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice))
            await tx.insert_entry(make_entry(alice))
            await tx.delete_timer(alice.id, paused.id)
            raise RuntimeError("rolled back")
    await check()


# Text search.


async def test_text_search_follows_edits_and_deletes(store: TimerStore, alice: User) -> None:
    """An edited description or title is found by its new text only; a deleted row not at all."""
    (timer,) = await insert_timers(
        store, make_timer(alice, details=TimerDetails(description="Quarterly planning"))
    )
    (entry,) = await insert_entries(
        store,
        make_entry(alice, details=TimerDetails(context=TimerContext("task", "1", "Kestrel"))),
    )
    async with store.transaction() as tx:
        await tx.update_timer(
            replace(timer, details=TimerDetails(description="Yearly budget"), version=4)
        )
        await tx.update_entry(
            replace(entry, details=TimerDetails(context=TimerContext("task", "1", "Osprey")))
        )
    for text, timers, entries in (
        ("quarterly", [], []),
        ("yearly bud", [timer.id], []),
        ("kestrel", [], []),
        ("OSPREY", [], [entry.id]),
    ):
        assert [t.id for t in await all_timers(store, alice, TimerFilter(text=text))] == timers
        assert [e.id for e in await all_entries(store, alice, EntryFilter(text=text))] == entries
        assert await store.count_entries(alice.id, EntryFilter(text=text)) == len(entries)

    async with store.transaction() as tx:
        await tx.delete_timer(alice.id, timer.id)
        await tx.delete_entry(alice.id, entry.id)
    assert await all_timers(store, alice, TimerFilter(text="yearly")) == []
    assert await all_entries(store, alice, EntryFilter(text="osprey")) == []


@pytest.mark.parametrize(
    "text", ["ü", "Ü", "üb", "ÜB", "über", "ÜBERARBEITUNG", "été", "ÉTÉ", "Σ", "σοφ", "ΣΟΦΊΑ"]
)
async def test_text_search_ignores_case_across_unicode_at_any_length(
    store: TimerStore, alice: User, bob: User, text: str
) -> None:
    """One, two or many characters, accented or Greek, the text filter ignores case, in both
    lists, and finds only the viewer's rows."""
    details = TimerDetails(description="Überarbeitung", context=TimerContext("t", "1", "Été σοφία"))
    (timer,) = await insert_timers(store, make_timer(alice, details=details))
    (entry,) = await insert_entries(store, make_entry(alice, details=details))
    await insert_timers(store, make_timer(bob, details=details))
    await insert_entries(store, make_entry(bob, details=details))
    await insert_timers(store, make_timer(alice, details=TimerDetails(description="Other")))
    assert [t.id for t in await all_timers(store, alice, TimerFilter(text=text))] == [timer.id]
    assert [e.id for e in await all_entries(store, alice, EntryFilter(text=text))] == [entry.id]
    assert await store.count_timers(alice.id, TimerFilter(text=text)) == 1
