"""The store under test (see ``fresh_stores.py``) and two users in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from builders import T0

from timergate.domain import TokenGrant, User
from timergate.store import TimerStore, open_store


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[TimerStore]:
    s = open_store(store_url)
    await s.connect()
    yield s
    await s.disconnect()


@pytest.fixture
async def alice(store: TimerStore) -> User:
    (user,) = await store.grant_tokens([TokenGrant("alice", b"alice-hash", "tg_alic")], T0)
    return user


@pytest.fixture
async def bob(store: TimerStore) -> User:
    (user,) = await store.grant_tokens([TokenGrant("bob", b"bob-hash", "tg_bob0")], T0)
    return user
