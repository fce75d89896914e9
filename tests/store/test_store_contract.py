"""The contract every TimerStore keeps, run against each store in STORE_BACKENDS.

Each test gets an empty store of its own (``tests/fresh_stores.py``); PostgreSQL tests skip with
the reason when the server does not answer, and fail instead under CI=true.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import pytest
from builders import (
    FULL_DETAILS,
    T0,
    insert_entries,
    insert_timers,
    integrity_errors,
    make_entry,
    make_timer,
)

from fresh_stores import STORE_BACKENDS
from timergate.domain import (
    EntryFilter,
    TimerContext,
    TimerDetails,
    TimerFilter,
    TimerState,
    TokenGrant,
    User,
)
from timergate.domain.connections import ConnectionStatus, ProviderKind
from timergate.providers import LocalProvider
from timergate.store import TimerStore, open_store

pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)


async def test_ids_of_deleted_objects_are_never_handed_out_again(
    store: TimerStore, alice: User
) -> None:
    """Deleting the newest timer, entry or connection frees no id: a client still holding the
    old id (a retried cancel, another device's list) must never reach a newer object."""
    (timer,) = await insert_timers(store, make_timer(alice))
    (entry,) = await insert_entries(store, make_entry(alice))
    connection = await store.add_connection(
        alice.id, ProviderKind.NOKO, None, "http://noko.test", b"sealed", T0
    )
    async with store.transaction() as tx:
        await tx.delete_timer(alice.id, timer.id)
        await tx.delete_entry(alice.id, entry.id)
    assert await store.remove_connection(alice.id, connection.id)

    (next_timer,) = await insert_timers(store, make_timer(alice))
    (next_entry,) = await insert_entries(store, make_entry(alice))
    next_connection = await store.add_connection(
        alice.id, ProviderKind.NOKO, None, "http://noko.test", b"sealed", T0
    )
    assert int(next_timer.id) > int(timer.id)
    assert int(next_entry.id) > int(entry.id)
    assert next_connection.id > connection.id


# Round trips.


@pytest.mark.parametrize(
    ("state", "details"),
    [
        (TimerState.RUNNING, FULL_DETAILS),
        (TimerState.PAUSED, TimerDetails()),
        (TimerState.STOPPED, TimerDetails(context=TimerContext("project", "p1"))),
    ],
    ids=["running-full", "paused-empty", "stopped-untitled-context"],
)
async def test_timer_round_trips_every_field(
    store: TimerStore, alice: User, state: TimerState, details: TimerDetails
) -> None:
    """A stored timer reads back field for field, to the microsecond, None fields included."""
    draft = make_timer(alice, state=state, details=details)
    (stored,) = await insert_timers(store, draft)
    assert stored.id and stored.id.isdigit()
    assert stored == replace(draft, id=stored.id)
    loaded = await store.get_timer(alice.id, stored.id)
    assert loaded == stored
    assert loaded is not None
    assert loaded.started_at.utcoffset() == timedelta(0)
    assert loaded.details.tags == details.tags  # a tuple, in order
    async with store.transaction() as tx:
        assert await tx.get_timer(alice.id, stored.id) == stored


async def test_timer_update_and_delete(store: TimerStore, alice: User) -> None:
    """An updated timer reads back as written; a deleted one is gone."""
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
    (entry,) = await insert_entries(store, make_entry(alice, timer_id=timer.id))
    stopped = replace(
        timer,
        state=TimerState.STOPPED,
        running_since=None,
        accumulated=timedelta(seconds=5400, microseconds=1),
        details=TimerDetails(description=None, tags=("x",), billable=True),
        updated_at=T0 + timedelta(hours=3, microseconds=5),
        version=timer.version + 1,
        entry_id=entry.id,
    )
    async with store.transaction() as tx:
        await tx.update_timer(stopped)
    assert await store.get_timer(alice.id, timer.id) == stopped
    assert await store.running_timers(alice.id) == []

    async with store.transaction() as tx:
        await tx.delete_timer(alice.id, timer.id)
    assert await store.get_timer(alice.id, timer.id) is None
    assert await store.get_entry(alice.id, entry.id) == entry, "the entry outlives its timer"


@pytest.mark.parametrize("details", [FULL_DETAILS, TimerDetails()], ids=["full", "empty"])
async def test_entry_round_trips_every_field(
    store: TimerStore, alice: User, details: TimerDetails
) -> None:
    """A stored entry reads back field for field, to the microsecond, None fields included."""
    draft = make_entry(alice, details=details, timer_id=None)
    (stored,) = await insert_entries(store, draft)
    assert stored == replace(draft, id=stored.id)
    assert await store.get_entry(alice.id, stored.id) == stored


async def test_entry_update_and_delete(store: TimerStore, alice: User) -> None:
    """An edited entry reads back as written; deleting it unlinks the timer it came from."""
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.STOPPED))
    (entry,) = await insert_entries(store, make_entry(alice, timer_id=timer.id))
    async with store.transaction() as tx:
        await tx.update_timer(replace(timer, entry_id=entry.id))
    edited = replace(
        entry,
        details=TimerDetails(description="Edited", context=None, tags=(), billable=True),
        ended_at=entry.ended_at + timedelta(microseconds=1),
        duration_seconds=0,
        date=date(2025, 12, 31),
        updated_at=entry.updated_at + timedelta(days=1),
        version=2,
    )
    async with store.transaction() as tx:
        await tx.update_entry(edited)
    assert await store.get_entry(alice.id, entry.id) == edited

    async with store.transaction() as tx:
        await tx.delete_entry(alice.id, entry.id)
        assert await tx.get_entry(alice.id, entry.id) is None
    assert await store.get_entry(alice.id, entry.id) is None
    unlinked = await store.get_timer(alice.id, timer.id)
    assert unlinked is not None and unlinked.entry_id is None


# Scoping.


async def test_reads_are_scoped_to_the_user(store: TimerStore, alice: User, bob: User) -> None:
    """Another user's timer or entry reads as missing, in every read, in and out of a transaction."""
    (timer,) = await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
    (entry,) = await insert_entries(store, make_entry(alice, timer_id=timer.id))

    assert await store.get_timer(bob.id, timer.id) is None
    assert await store.get_entry(bob.id, entry.id) is None
    assert await store.running_timers(bob.id) == []
    assert (await store.list_timers(bob.id, TimerFilter(), first=10, after=None)).items == []
    assert (await store.list_entries(bob.id, EntryFilter(), first=10, after=None)).items == []
    assert await store.count_timers(bob.id, TimerFilter()) == 0
    assert await store.count_entries(bob.id, EntryFilter()) == 0
    async with store.transaction() as tx:
        assert await tx.get_timer(bob.id, timer.id) is None
        assert await tx.get_entry(bob.id, entry.id) is None
        assert await tx.running_timers(bob.id) == []
        await tx.delete_timer(bob.id, timer.id)
        await tx.delete_entry(bob.id, entry.id)
    assert await store.get_timer(alice.id, timer.id) == timer, "bob cannot delete alice's timer"
    assert await store.get_entry(alice.id, entry.id) == entry, "nor her entry"


@pytest.mark.parametrize(
    "bad_id", ["", "abc", "-1", "1.0", " 1", "+1", "99999999999999999999999", "\u0661", "\uff11"]
)
async def test_ids_that_name_no_row_read_as_missing(
    store: TimerStore, alice: User, bad_id: str
) -> None:
    """A malformed or out-of-range id (a non-ASCII digit too) is not found, never a driver error."""
    (timer,) = await insert_timers(store, make_timer(alice))
    (entry,) = await insert_entries(store, make_entry(alice))
    assert (timer.id, entry.id) == ("1", "1"), "ids the bad ones could be mistaken for"
    assert await store.get_timer(alice.id, bad_id) is None
    assert await store.get_entry(alice.id, bad_id) is None
    async with store.transaction() as tx:
        assert await tx.get_timer(alice.id, bad_id) is None
        assert await tx.get_entry(alice.id, bad_id) is None


# Integrity and transactions.


async def test_database_refuses_a_second_running_timer(
    store: TimerStore, store_url: str, alice: User, bob: User
) -> None:
    """Even code that skips the provider's rule cannot store two RUNNING timers for one user."""
    (first,) = await insert_timers(store, make_timer(alice, state=TimerState.RUNNING))
    with pytest.raises(integrity_errors(store_url)):
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice, details=TimerDetails(description="paused")))
            await tx.insert_timer(make_timer(alice, state=TimerState.RUNNING))
    assert await store.running_timers(alice.id) == [first]
    assert await store.count_timers(alice.id, TimerFilter()) == 1, (
        "the whole transaction rolled back"
    )

    (bobs,) = await insert_timers(store, make_timer(bob, state=TimerState.RUNNING))
    assert await store.running_timers(bob.id) == [bobs], "the rule is per user"


async def test_resuming_into_a_second_running_timer_is_refused(
    store: TimerStore, store_url: str, alice: User
) -> None:
    """Updating a paused timer to RUNNING beside a running one is refused too."""
    running, paused = await insert_timers(
        store, make_timer(alice, state=TimerState.RUNNING), make_timer(alice)
    )
    resumed = replace(paused, state=TimerState.RUNNING, running_since=T0, version=4)
    with pytest.raises(integrity_errors(store_url)):
        async with store.transaction() as tx:
            await tx.update_timer(resumed)
    assert await store.get_timer(alice.id, paused.id) == paused
    assert await store.running_timers(alice.id) == [running]


async def test_failed_transaction_is_rolled_back(store: TimerStore, alice: User) -> None:
    """Everything a transaction wrote is undone when it raises, and the store stays usable."""
    (kept,) = await insert_timers(store, make_timer(alice))

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice))
            await tx.insert_entry(make_entry(alice))
            await tx.update_timer(replace(kept, version=99))
            await tx.delete_timer(alice.id, kept.id)
            raise Boom
    assert await store.get_timer(alice.id, kept.id) == kept
    assert await store.count_timers(alice.id, TimerFilter()) == 1
    assert await store.count_entries(alice.id, EntryFilter()) == 0

    (after,) = await insert_timers(store, make_timer(alice))
    assert await store.get_timer(alice.id, after.id) == after


async def test_cancelled_transaction_is_rolled_back(store: TimerStore, alice: User) -> None:
    """A request cancelled midway through a transaction leaves nothing behind."""
    started = asyncio.Event()

    async def slow_write() -> None:
        async with store.transaction() as tx:
            await tx.insert_timer(make_timer(alice))
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(slow_write())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.count_timers(alice.id, TimerFilter()) == 0
    (timer,) = await insert_timers(store, make_timer(alice))
    assert await store.get_timer(alice.id, timer.id) == timer


# Users and tokens.


async def test_grant_tokens_creates_users_once(store: TimerStore) -> None:
    """Granting creates each user once, maps every token hash to its user, and keeps the user."""
    alice1, alice2, bob = await store.grant_tokens(
        [
            TokenGrant("alice", b"a1", "tg_a1"),
            TokenGrant("alice", b"a2", "tg_a2"),
            TokenGrant("bob", b"b1", "tg_b1"),
        ],
        T0,
    )
    assert alice1 == alice2 and alice1.id != bob.id
    assert (alice1.name, alice1.time_zone, alice1.created_at) == ("alice", "UTC", T0)
    (alice3,) = await store.grant_tokens(
        [TokenGrant("alice", b"a3", "tg_a3")], T0 + timedelta(days=1)
    )
    assert alice3 == alice1, "a later grant keeps the user and its creation time"

    for token_hash, user in ((b"a1", alice1), (b"a2", alice1), (b"a3", alice1), (b"b1", bob)):
        assert await store.user_for_token(token_hash) == user
    assert await store.user_for_token(b"unknown") is None


async def test_grant_tokens_is_all_or_nothing(store: TimerStore, store_url: str) -> None:
    """A batch with a token hash already granted records none of its grants."""
    await store.grant_tokens([TokenGrant("alice", b"dup", "tg_dup")], T0)
    with pytest.raises(integrity_errors(store_url)):
        await store.grant_tokens(
            [TokenGrant("carol", b"c1", "tg_c1"), TokenGrant("bob", b"dup", "tg_dup")], T0
        )
    assert await store.user_for_token(b"c1") is None
    holder = await store.user_for_token(b"dup")
    assert holder is not None and holder.name == "alice"


async def test_revoked_tokens_name_nobody_and_only_those_go(store: TimerStore) -> None:
    """Revoking counts the tokens that existed; the user and their other tokens stay."""
    (user, _) = await store.grant_tokens(
        [TokenGrant("dora", b"d1", "tg_d1"), TokenGrant("dora", b"d2", "tg_d2")], T0
    )
    assert await store.revoke_tokens([b"d1", b"never-granted"]) == 1
    assert await store.user_for_token(b"d1") is None
    assert await store.user_for_token(b"d2") == user
    assert await store.revoke_tokens([b"d1"]) == 0


async def test_revocations_are_logged_in_order_for_other_instances(
    store: TimerStore, store_url: str
) -> None:
    """Each revoked token enters the revocation log once; another instance reads it after a seq."""
    await store.grant_tokens(
        [TokenGrant("erin", b"e1", "tg_e1"), TokenGrant("erin", b"e2", "tg_e2")], T0
    )
    start = await store.last_revocation()
    assert await store.revocations_after(start) == []
    await store.revoke_tokens([b"e1", b"never-granted"])
    await store.revoke_tokens([b"e1", b"e2"])
    other = open_store(store_url)
    await other.connect()
    try:
        logged = await other.revocations_after(start)
        assert [r.token_hash for r in logged] == [b"e1", b"e2"]
        assert logged[0].seq < logged[1].seq == await other.last_revocation()
        assert await other.revocations_after(logged[0].seq) == logged[1:]
    finally:
        await other.disconnect()


async def test_connections_belong_to_their_user_and_keep_sealed_credentials(
    store: TimerStore, alice: User, bob: User
) -> None:
    """A vendor connection reads back as added, only for its user; its status, provider state
    and sealed credentials change as asked; removing it removes its state."""
    later = T0 + timedelta(seconds=1, microseconds=1)
    made = await store.add_connection(
        alice.id, ProviderKind.NOKO, "Work", "https://api.nokotime.com", b"sealed-1", T0
    )
    assert (made.user_id, made.kind, made.label, made.status) == (
        alice.id,
        ProviderKind.NOKO,
        "Work",
        ConnectionStatus.ACTIVE,
    )
    assert made.created_at == made.updated_at == T0
    assert await store.list_connections(alice.id) == [made]
    assert await store.get_connection(alice.id, made.id) == (made, b"sealed-1")
    assert await store.list_connections(bob.id) == []
    assert await store.get_connection(bob.id, made.id) is None
    assert (
        await store.update_connection(bob.id, made.id, later, status=ConnectionStatus.ACTIVE)
        is None
    )

    failed = await store.update_connection(
        alice.id, made.id, later, status=ConnectionStatus.AUTH_FAILED
    )
    assert failed == replace(made, status=ConnectionStatus.AUTH_FAILED, updated_at=later)
    renewed = await store.update_connection(alice.id, made.id, later, sealed_credentials=b"s-2")
    assert renewed == failed
    assert await store.get_connection(alice.id, made.id) == (failed, b"s-2")

    await store.put_provider_state(made.id, "paused", '{"at": 1}')
    await store.put_provider_state(made.id, "paused", '{"at": 2}')
    assert await store.get_provider_state(made.id, "paused") == '{"at": 2}'
    await store.put_provider_state(made.id, "paused", None)
    assert await store.get_provider_state(made.id, "paused") is None

    assert await store.reseal_credentials(lambda old: b"re:" + old) == 1
    assert await store.get_connection(alice.id, made.id) == (failed, b"re:s-2")

    await store.put_provider_state(made.id, "paused", "x")
    assert not await store.remove_connection(bob.id, made.id)
    assert await store.remove_connection(alice.id, made.id)
    assert await store.list_connections(alice.id) == []
    assert await store.get_provider_state(made.id, "paused") is None


async def test_set_time_zone(store: TimerStore, alice: User, bob: User) -> None:
    """Setting a user's time zone is returned, read back by token, and touches no one else."""
    updated = await store.set_time_zone(alice.id, "Europe/Berlin")
    assert updated == replace(alice, time_zone="Europe/Berlin")
    assert await store.user_for_token(b"alice-hash") == updated
    assert await store.user_for_token(b"bob-hash") == bob


# Concurrency.


def _provider(store: TimerStore) -> LocalProvider:
    return LocalProvider(store)


async def test_concurrent_starts_leave_one_running_timer(store: TimerStore, alice: User) -> None:
    """Twenty starts at once for one user end with twenty timers, exactly one of them RUNNING."""
    provider = _provider(store)
    results = await asyncio.gather(
        *(provider.start(alice, TimerDetails(description=f"#{i}"), T0) for i in range(20))
    )
    running = await store.running_timers(alice.id)
    assert len(running) == 1
    assert await store.count_timers(alice.id, TimerFilter()) == 20
    assert await store.count_timers(alice.id, TimerFilter(states=(TimerState.PAUSED,))) == 19
    assert sum(len(r.paused) for r in results) == 19, "each start paused the one before it"


async def test_two_store_instances_racing_starts_leave_one_running_timer(
    store_url: str,
) -> None:
    """Two gateway processes on one database, starting timers at once, leave one RUNNING."""
    one, two = open_store(store_url), open_store(store_url)
    await one.connect()
    await two.connect()
    try:
        (alice,) = await one.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
        providers = [_provider(one), _provider(two)]
        await asyncio.gather(
            *(
                providers[i % 2].start(alice, TimerDetails(description=f"#{i}"), T0)
                for i in range(20)
            )
        )
        for s in (one, two):
            assert len(await s.running_timers(alice.id)) == 1
            assert await s.count_timers(alice.id, TimerFilter()) == 20
    finally:
        await one.disconnect()
        await two.disconnect()


# Leases.


async def test_a_lease_is_one_holders_until_it_expires_or_is_given_up(store: TimerStore) -> None:
    """A held lease is refused to others; its holder renews it; once expired, or given up by
    its holder (and only its holder), another instance takes it."""
    minute = timedelta(minutes=1)
    assert await store.claim_lease("poll:7", "a", T0, T0 + minute)
    assert not await store.claim_lease("poll:7", "b", T0 + minute / 2, T0 + 2 * minute)
    assert await store.claim_lease("poll:8", "b", T0, T0 + minute)  # another lease is free
    assert await store.claim_lease("poll:7", "a", T0 + minute / 2, T0 + 2 * minute)  # renewed
    assert not await store.claim_lease("poll:7", "b", T0 + minute, T0 + 3 * minute)

    assert await store.claim_lease("poll:7", "b", T0 + 2 * minute, T0 + 3 * minute)  # expired
    assert not await store.claim_lease("poll:7", "a", T0 + 2 * minute, T0 + 3 * minute)

    await store.release_lease("poll:7", "a")  # not a's to give up
    assert not await store.claim_lease("poll:7", "a", T0 + 2 * minute, T0 + 3 * minute)
    await store.release_lease("poll:7", "b")
    assert await store.claim_lease("poll:7", "a", T0 + 2 * minute, T0 + 3 * minute)


async def test_instances_claiming_one_lease_at_once_get_one_holder(store_url: str) -> None:
    """Two store instances (two gateways) claiming the same free lease at once: one wins."""
    one, two = open_store(store_url), open_store(store_url)
    await one.connect()
    await two.connect()
    try:
        until = T0 + timedelta(minutes=1)
        claims = [
            s.claim_lease(f"poll:{n // 2}", f"{name}", T0, until)
            for n in range(20)
            for s, name in ((one, "one"), (two, "two"))
        ]
        won = await asyncio.gather(*claims)
        # Ten leases, each claimed twice by each instance: exactly one instance holds each.
        for lease in range(10):
            by_one = won[4 * lease] or won[4 * lease + 2]
            by_two = won[4 * lease + 1] or won[4 * lease + 3]
            assert by_one != by_two, lease
    finally:
        await one.disconnect()
        await two.disconnect()
