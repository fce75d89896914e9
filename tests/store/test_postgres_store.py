"""What the PostgreSQL store adds to the contract: many instances on one database."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from builders import T0, applied_migrations, insert_timers, make_timer

from fresh_stores import fresh_postgres_database
from timergate.domain import TimerFilter, TimerState, TokenGrant
from timergate.store import open_store, postgres, sqlite

on_postgres = pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)


def test_both_stores_have_the_same_migrations() -> None:
    """Migration N means the same change in both stores, so the two lists stay in step."""
    assert len(sqlite.MIGRATIONS) == len(postgres.MIGRATIONS)


async def admin(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url)


async def test_instances_starting_on_a_new_database_prepare_it_once() -> None:
    """Gateways starting at once on a brand-new database install pg_trgm and migrate, once."""
    async with fresh_postgres_database() as url:
        stores = [open_store(url) for _ in range(3)]
        try:
            await asyncio.gather(*(s.connect() for s in stores))
            (user,) = await stores[1].grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
            await insert_timers(stores[2], make_timer(user))
            assert await stores[0].count_timers(user.id, TimerFilter(text="review")) == 1
        finally:
            await asyncio.gather(*(s.disconnect() for s in stores))
        assert await applied_migrations(url) == list(range(1, len(postgres.MIGRATIONS) + 1))


async def drop_connections(admin_url: str, application_name: str) -> int:
    """What a server restart or failover does to a store: every connection it holds, gone."""
    conn = await admin(admin_url)
    try:
        dropped: int = await conn.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            application_name,
        )
        return dropped
    finally:
        await conn.close()


@on_postgres
async def test_reads_and_writes_go_on_after_the_server_drops_connections(store_url: str) -> None:
    """Connections the server dropped are replaced: the next read and transaction succeed."""
    name = f"timergate-test-{uuid.uuid4().hex[:8]}"
    store = open_store(f"{store_url}&application_name={name}&min_size=3&max_size=3")
    await store.connect()
    try:
        (alice,) = await store.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
        assert await drop_connections(store_url, name) == 3
        (timer,) = await insert_timers(store, make_timer(alice))
        assert await drop_connections(store_url, name) >= 1
        assert await store.get_timer(alice.id, timer.id) == timer
        assert await store.count_timers(alice.id, TimerFilter()) == 1
    finally:
        await store.disconnect()


@on_postgres
async def test_a_users_write_transactions_take_turns_across_instances(store_url: str) -> None:
    """A second instance's transaction for the same user waits for the first to commit, then
    reads what it wrote; another user's transaction does not wait."""
    one, two = open_store(store_url), open_store(store_url)
    await one.connect()
    await two.connect()
    try:
        alice, bob = await one.grant_tokens(
            [TokenGrant("alice", b"a", "tg_a"), TokenGrant("bob", b"b", "tg_b")], T0
        )
        seen_by_second: list[int] = []

        async def second() -> None:
            async with two.transaction() as tx:
                seen_by_second.append(len(await tx.running_timers(alice.id)))

        async with one.transaction() as tx:
            assert await tx.running_timers(alice.id) == []
            waiting = asyncio.create_task(second())
            await until_a_transaction_waits(store_url)
            async with two.transaction() as other:
                await other.insert_timer(make_timer(bob))  # bob's turn is not alice's
            assert not waiting.done()
            await tx.insert_timer(make_timer(alice, state=TimerState.RUNNING))
        await waiting
        assert seen_by_second == [1], "the second transaction read after the first committed"
    finally:
        await one.disconnect()
        await two.disconnect()


async def until_a_transaction_waits(url: str) -> None:
    """Returns once some session waits for an advisory lock; fails after about ten seconds."""
    conn = await admin(url)
    try:
        for _ in range(1000):
            if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND NOT granted AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database()))"
            ):
                return
            await asyncio.sleep(0.01)
        pytest.fail("no transaction came to wait for the user's lock")
    finally:
        await conn.close()
