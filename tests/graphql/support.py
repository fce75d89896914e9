"""The operations the GraphQL tests send, and small helpers that send them as one user."""

from __future__ import annotations

import base64
from typing import Any, Protocol

TIMER = """
fragment TimerFields on Timer {
  id provider state description context { type id title } tags billable
  elapsedSeconds startedAt runningSince updatedAt version
}
"""

ENTRY = """
fragment EntryFields on TimeEntry {
  id provider description context { type id title } tags billable
  startedAt endedAt durationSeconds date createdAt updatedAt version
}
"""

START = (
    """
mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) { timer { ...TimerFields } pausedTimers { ...TimerFields } }
}
"""
    + TIMER
)

PAUSE = (
    """
mutation Pause($input: PauseTimerInput!) { pauseTimer(input: $input) { timer { ...TimerFields } } }
"""
    + TIMER
)

STOP = (
    """
mutation Stop($input: StopTimerInput) {
  stopTimer(input: $input) { timer { ...TimerFields } entry { ...EntryFields } }
}
"""
    + TIMER
    + ENTRY
)

LOG = (
    """
mutation Log($input: LogTimerInput!) {
  logTimer(input: $input) { timer { ...TimerFields entry { id } } entry { ...EntryFields } }
}
"""
    + TIMER
    + ENTRY
)

CANCEL = """
mutation Cancel($input: CancelTimerInput!) { cancelTimer(input: $input) { id } }
"""

UPDATE_TIMER = (
    """
mutation UpdateTimer($input: UpdateTimerInput!) {
  updateTimer(input: $input) { timer { ...TimerFields } }
}
"""
    + TIMER
)

CREATE_ENTRY = (
    """
mutation CreateEntry($input: CreateTimeEntryInput!) {
  createTimeEntry(input: $input) { entry { ...EntryFields } }
}
"""
    + ENTRY
)

UPDATE_ENTRY = (
    """
mutation UpdateEntry($input: UpdateTimeEntryInput!) {
  updateTimeEntry(input: $input) { entry { ...EntryFields } }
}
"""
    + ENTRY
)

DELETE_ENTRY = """
mutation DeleteEntry($input: DeleteTimeEntryInput!) { deleteTimeEntry(input: $input) { id } }
"""

UPDATE_VIEWER = """
mutation UpdateViewer($input: UpdateViewerInput!) {
  updateViewer(input: $input) { viewer { id name timeZone } }
}
"""

GET_TIMER = (
    """
query GetTimer($id: ID!) { timer(id: $id) { ...TimerFields } }
"""
    + TIMER
)

GET_ENTRY = (
    """
query GetEntry($id: ID!) { timeEntry(id: $id) { ...EntryFields } }
"""
    + ENTRY
)

TIMERS = (
    """
query Timers($filter: TimerFilter, $first: Int! = 20, $after: String) {
  timers(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...TimerFields } }
    nodes { id }
  }
}
"""
    + TIMER
)

ENTRIES = (
    """
query Entries($filter: TimeEntryFilter, $first: Int! = 20, $after: String) {
  timeEntries(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...EntryFields } }
    nodes { id }
  }
}
"""
    + ENTRY
)

#: Everything a user has, to show that a refused request changed nothing.
EVERYTHING = (
    """
query Everything {
  viewer { id name timeZone runningTimer { id } }
  runningTimers { id }
  timers(first: 100) { totalCount nodes { ...TimerFields entry { id } } }
  timeEntries(first: 100) { totalCount nodes { ...EntryFields timer { id } } }
}
"""
    + TIMER
    + ENTRY
)


class Client(Protocol):
    """The part of ``conftest.GraphQLClient`` the helpers use."""

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...
    async def error(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]: ...


async def start(client: Client, **input: Any) -> dict[str, Any]:
    """Start a new timer; the timer as the payload shows it."""
    data = await client.data(START, {"input": input})
    timer: dict[str, Any] = data["startTimer"]["timer"]
    return timer


async def pause(client: Client, timer_id: str) -> dict[str, Any]:
    data = await client.data(PAUSE, {"input": {"id": timer_id}})
    timer: dict[str, Any] = data["pauseTimer"]["timer"]
    return timer


async def stop(client: Client, timer_id: str, **input: Any) -> dict[str, Any]:
    """Stop a timer; the ``stopTimer`` payload (timer and entry)."""
    data = await client.data(STOP, {"input": {"id": timer_id, **input}})
    payload: dict[str, Any] = data["stopTimer"]
    return payload


async def get_timer(client: Client, timer_id: str) -> dict[str, Any] | None:
    data = await client.data(GET_TIMER, {"id": timer_id})
    timer: dict[str, Any] | None = data["timer"]
    return timer


async def create_entry(client: Client, **input: Any) -> dict[str, Any]:
    data = await client.data(CREATE_ENTRY, {"input": input})
    entry: dict[str, Any] = data["createTimeEntry"]["entry"]
    return entry


async def get_entry(client: Client, entry_id: str) -> dict[str, Any] | None:
    data = await client.data(GET_ENTRY, {"id": entry_id})
    entry: dict[str, Any] | None = data["timeEntry"]
    return entry


async def everything(client: Client) -> dict[str, Any]:
    """A snapshot of all the user's data."""
    return await client.data(EVERYTHING)


def global_id(kind: str, provider: str, native: str | int) -> str:
    """A well-formed id in the gateway's format (for ids that name nothing)."""
    raw = f"{kind}:{provider}:{native}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def populate(client: Client, clock: Any) -> dict[str, str]:
    """Give the user one timer in each state, a timer's entry and a hand-made entry."""
    stopped = await start(client, description="stopped", tags=["done"])
    clock.advance(60)
    entry = (await stop(client, stopped["id"]))["entry"]
    paused = await start(client, description="paused")
    clock.advance(30)
    await pause(client, paused["id"])
    running = await start(client, description="running")
    clock.advance(15)
    manual = await create_entry(
        client, startedAt="2025-12-30T08:00:00Z", durationSeconds=600, description="manual"
    )
    return {
        "running": running["id"],
        "paused": paused["id"],
        "stopped": stopped["id"],
        "entry": entry["id"],
        "manual": manual["id"],
    }
