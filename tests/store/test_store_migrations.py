"""Store contract: migrations apply once, at connect, whoever connects first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from builders import (
    T0,
    all_entries,
    all_timers,
    applied_migrations,
    insert_entries,
    insert_timers,
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
)
from timergate.store import open_store, postgres, sqlite

pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)


# Migrations and connections.


async def test_connect_applies_migrations_once(store_url: str) -> None:
    """A fresh database is migrated on connect; reconnecting applies nothing twice."""
    first = open_store(store_url)
    await first.connect()
    (user,) = await first.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
    (timer,) = await insert_timers(first, make_timer(user))
    await first.disconnect()
    versions = await applied_migrations(store_url)
    assert versions and versions == list(range(1, len(versions) + 1))

    for _ in range(2):
        again = open_store(store_url)
        await again.connect()
        assert await again.get_timer(user.id, timer.id) == timer
        await again.disconnect()
    assert await applied_migrations(store_url) == versions


async def test_store_refuses_work_before_connect(store_url: str) -> None:
    """Using a store before connect() is a clear error, not a hang or a crash elsewhere."""
    s = open_store(store_url)
    with pytest.raises(RuntimeError, match="connect"):
        await s.get_timer(1, "1")
    with pytest.raises(RuntimeError, match="connect"):
        async with s.transaction():
            pass


async def test_instances_starting_at_once_migrate_once(store_url: str) -> None:
    """Gateways starting together on an empty store all come up; each migration runs once."""
    stores = [open_store(store_url) for _ in range(4)]
    try:
        await asyncio.gather(*(s.connect() for s in stores))
        (user,) = await stores[0].grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
        for s in stores:
            assert await s.user_for_token(b"h") == user
    finally:
        await asyncio.gather(*(s.disconnect() for s in stores))
    versions = await applied_migrations(store_url)
    assert versions == list(range(1, len(sqlite.MIGRATIONS) + 1))


async def test_upgrading_a_first_schema_store_keeps_rows_and_indexes_them(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store made by the first release upgrades in place: its rows are counted, searchable
    and listed in start order at once."""
    module = sqlite if store_url.startswith("sqlite") else postgres
    with monkeypatch.context() as first_release:
        first_release.setattr(module, "MIGRATIONS", module.MIGRATIONS[:1])
        old = open_store(store_url)
        await old.connect()
        (alice,) = await old.grant_tokens([TokenGrant("alice", b"h", "tg_")], T0)
        late, early = await insert_timers(
            old,
            make_timer(alice, state=TimerState.RUNNING, details=TimerDetails("Kestrel survey")),
            make_timer(alice, started_at=T0 - timedelta(days=1)),
        )
        (entry,) = await insert_entries(
            old, make_entry(alice, details=TimerDetails(context=TimerContext("t", "1", "Osprey")))
        )
        await old.disconnect()
    assert await applied_migrations(store_url) == [1]

    upgraded = open_store(store_url)
    await upgraded.connect()
    try:
        assert await upgraded.count_timers(alice.id, TimerFilter()) == 2
        assert await upgraded.count_timers(alice.id, TimerFilter(states=(TimerState.PAUSED,))) == 1
        assert await upgraded.count_entries(alice.id, EntryFilter()) == 1
        found = await all_timers(upgraded, alice, TimerFilter(text="kestrel"))
        assert [t.id for t in found] == [late.id]
        assert await all_entries(upgraded, alice, EntryFilter(text="OSPREY")) == [entry]
        listed = await all_timers(upgraded, alice, TimerFilter())
        assert [t.id for t in listed] == [late.id, early.id]
    finally:
        await upgraded.disconnect()
