"""One running timer per user, as the local provider and its store keep it.

Random runs of starts, resumes, pauses and stops by a few users, each on a fresh SQLite store:
after every step each user has at most one running timer, a start or resume runs the timer it
names, and the timer it displaced is the one reported as paused.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timergate.auth import hash_token
from timergate.domain import TimerDetails, TimerState, TokenGrant, User
from timergate.providers import LocalProvider
from timergate.store import open_store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

#: (operation, user, which of that user's timers): the index wraps round what exists.
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["start", "resume", "pause", "stop"]),
        st.sampled_from(["ann", "ben"]),
        st.integers(0, 7),
    ),
    min_size=1,
    max_size=20,
)


async def _running(provider: LocalProvider, user: User) -> list[str]:
    return [t.id for t in await provider.running_timers(user)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
async def test_a_user_never_has_two_running_timers(steps: list[tuple[str, str, int]]) -> None:
    """Whatever the order of operations, the provider keeps at most one timer running per user
    and reports the timer a start or resume paused."""
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(f"sqlite:///{Path(directory) / 'one-running.db'}")
        await store.connect()
        try:
            provider = LocalProvider(store)
            ann, ben = await store.grant_tokens(
                [
                    TokenGrant("ann", hash_token("tg_ann"), "tg_ann"),
                    TokenGrant("ben", hash_token("tg_ben"), "tg_ben"),
                ],
                T0,
            )
            users = {"ann": ann, "ben": ben}
            timers: dict[str, list[str]] = {"ann": [], "ben": []}
            for n, (operation, name, index) in enumerate(steps):
                user, now = users[name], T0 + timedelta(minutes=n)
                before = await _running(provider, user)
                mine = timers[name]
                if operation == "start" or not mine:
                    started = await provider.start(user, TimerDetails(), now)
                    mine.append(started.timer.id)
                    assert [t.id for t in started.paused] == before
                    assert await _running(provider, user) == [started.timer.id]
                    continue
                timer_id = mine[index % len(mine)]
                stopped = (await provider.get_timer(user, timer_id)).state is TimerState.STOPPED  # type: ignore[union-attr]
                if stopped:
                    continue  # a stopped timer refuses every transition (tests/domain)
                if operation == "resume":
                    resumed = await provider.resume(user, timer_id, now)
                    displaced = [i for i in before if i != timer_id]
                    assert [t.id for t in resumed.paused] == displaced
                    assert await _running(provider, user) == [timer_id]
                elif operation == "pause":
                    await provider.pause(user, timer_id, now)
                else:
                    await provider.stop(user, timer_id, now)
                for each in users.values():
                    assert len(await _running(provider, each)) <= 1
        finally:
            await store.disconnect()
