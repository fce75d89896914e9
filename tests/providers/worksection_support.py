"""Fixtures and queries of the Worksection adapter tests: the fake account on a clock set just
past midnight in Kyiv, alice connected as Olena, and bob as Taras."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from harness import HARNESSES, Handle, connect
from tests.conftest import GraphQLClient

from timergate.domain import ManualClock
from timergate.fakes.base import Fake
from timergate.fakes.worksection import WorksectionFake

WORKSECTION = HARNESSES["worksection"]
# 22:30:15 UTC is 00:30 the next day in Kyiv (UTC+2 in early March): the account's day
# differs from the UTC one, and the start is not on a whole minute.
START = datetime(2026, 3, 2, 22, 30, 15, tzinfo=UTC)
KYIV_DAY = "2026-03-03"
OLENA, TARAS = "3993", "5514"
TASK, OTHER_TASK, CLOSED_TASK = "330090", "330142", "330201"

TIMER_FIELDS = "id provider state description context { type id title } elapsedSeconds startedAt"
ENTRY_FIELDS = "id provider description context { type id } startedAt endedAt durationSeconds date"

START_TIMER = f"""
mutation Start($input: StartTimerInput!) {{
  startTimer(input: $input) {{
    timer {{ {TIMER_FIELDS} }}
    stoppedTimers {{ timer {{ id state elapsedSeconds }} entry {{ {ENTRY_FIELDS} }} }}
  }}
}}
"""
STOP_TIMER = f"""
mutation Stop($input: StopTimerInput) {{
  stopTimer(input: $input) {{ timer {{ id state elapsedSeconds }} entry {{ {ENTRY_FIELDS} }} }}
}}
"""
RUNNING = f"{{ runningTimers {{ {TIMER_FIELDS} }} }}"
ENTRIES = f"""
query Entries($filter: TimeEntryFilter) {{
  timeEntries(filter: $filter, first: 100) {{ totalCount nodes {{ {ENTRY_FIELDS} }} }}
}}
"""
ENTRY = f"query Entry($id: ID!) {{ timeEntry(id: $id) {{ {ENTRY_FIELDS} }} }}"
CONNECTIONS = "{ viewer { connections { id status } } }"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(fakes: dict[str, Fake]) -> WorksectionFake:
    made = fakes["worksection"]
    assert isinstance(made, WorksectionFake)
    return made


@pytest.fixture
async def olena(alice: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    """alice's connection to the fake account, as its owner Olena."""
    return await connect(alice, WORKSECTION, fakes)


@pytest.fixture
async def taras(bob: GraphQLClient, fakes: dict[str, Fake]) -> Handle:
    """bob's connection to the same account, as Taras."""
    return await connect(bob, WORKSECTION, fakes, other=True)


def task(task_id: str) -> dict[str, str]:
    return {"type": "task", "id": task_id}


async def start(client: GraphQLClient, handle: Handle, task_id: str, **extra: Any) -> Any:
    variables = {"input": {"provider": handle.key, "context": task(task_id), **extra}}
    return (await client.data(START_TIMER, variables))["startTimer"]


async def connection_status(client: GraphQLClient, *, unlike: str = "ACTIVE") -> str:
    """The viewer's one connection's status, once it is no longer ``unlike`` (the gateway
    records a new status in the background; a bounded number of looks)."""
    status = unlike
    for _ in range(100):
        connections = (await client.data(CONNECTIONS))["viewer"]["connections"]
        status = connections[0]["status"]
        if status != unlike:
            break
        await asyncio.sleep(0.01)
    return status
