"""GraphQL output types: thin views of domain objects at one instant."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import strawberry

from timergate import domain
from timergate.domain import Position, TimerState, User, encode_global_id
from timergate.domain.ids import HOLDER
from timergate.graphql.connection_types import ConnectionNode
from timergate.graphql.context import RequestContext

__all__ = [
    "PageInfo",
    "TimeEntryConnection",
    "TimeEntryEdge",
    "TimeEntryNode",
    "TimerConnection",
    "TimerContextNode",
    "TimerEdge",
    "TimerNode",
    "Viewer",
    "decode_cursor",
    "encode_cursor",
]

TimerStateEnum = strawberry.enum(
    TimerState, name="TimerState", description="RUNNING, PAUSED or STOPPED (terminal)."
)

Info = strawberry.Info[RequestContext, None]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_FIRST = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
_CURSOR_LAST = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)


def encode_cursor(item: domain.Timer | domain.TimeEntry) -> str:
    """An opaque cursor: the item's place in a list merged across providers."""
    delta = item.started_at - _EPOCH
    at_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raw = f"p1:{at_us}:{item.provider}:{item.id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> Position | None:
    """The place behind ``cursor``, or ``None`` when it is not one of ours."""
    if len(cursor) > 1024:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, at_us, provider, native = raw.split(":", 3)
        at = _EPOCH + timedelta(microseconds=int(at_us))
    except (ValueError, OverflowError):
        return None
    if version != "p1" or not provider or not native:
        return None
    # Providers step a day or a second past a cursor; near the calendar's ends that would
    # overflow, and no list item of ours starts there.
    if not _CURSOR_FIRST <= at <= _CURSOR_LAST:
        return None
    return Position(at, provider, native)


@strawberry.type(name="TimerContext", description="What the time is for: a task, project, ticket.")
class TimerContextNode:
    type: str
    id: str
    title: str | None

    @staticmethod
    def of(context: domain.TimerContext | None) -> TimerContextNode | None:
        if context is None:
            return None
        return TimerContextNode(type=context.type, id=context.id, title=context.title)


@strawberry.type(name="Timer")
class TimerNode:
    id: strawberry.ID
    provider: str
    state: TimerStateEnum  # type: ignore[valid-type]
    description: str | None
    context: TimerContextNode | None
    tags: list[str]
    billable: bool
    elapsed_seconds: int = strawberry.field(
        description="Seconds run so far, pauses excluded, at the moment of the response."
    )
    started_at: datetime = strawberry.field(description="When the timer was first started.")
    running_since: datetime | None = strawberry.field(
        description="Start of the current running span; null unless RUNNING."
    )
    updated_at: datetime
    version: int = strawberry.field(description="Grows on every change; see expectedVersion.")
    native: strawberry.Private[domain.Timer]
    preloaded_entry: strawberry.Private[domain.TimeEntry | None]

    @classmethod
    def of(
        cls, timer: domain.Timer, now: datetime, entry: domain.TimeEntry | None = None
    ) -> TimerNode:
        details = timer.details
        return cls(
            id=strawberry.ID(encode_global_id("Timer", timer.provider, timer.id)),
            provider=timer.provider,
            state=timer.state,
            description=details.description,
            context=TimerContextNode.of(details.context),
            tags=list(details.tags),
            billable=details.billable,
            elapsed_seconds=domain.elapsed_seconds(timer, now),
            started_at=timer.started_at,
            running_since=timer.running_since,
            updated_at=timer.updated_at,
            version=timer.version,
            native=timer,
            preloaded_entry=entry,
        )

    @strawberry.field(description="The entry this timer recorded when stopped or logged.")
    async def entry(self, info: Info) -> TimeEntryNode | None:
        if self.preloaded_entry is not None:
            return TimeEntryNode.of(self.preloaded_entry)
        if self.native.entry_id is None:
            return None
        ctx = info.context
        entry = await ctx.gateway.reads.entry(ctx.viewer, self.provider, self.native.entry_id)
        return TimeEntryNode.of(entry) if entry else None


@strawberry.type(name="TimeEntry")
class TimeEntryNode:
    id: strawberry.ID
    provider: str
    description: str | None
    context: TimerContextNode | None
    tags: list[str]
    billable: bool
    started_at: datetime
    ended_at: datetime
    duration_seconds: int = strawberry.field(
        description="The recorded time; may differ from endedAt - startedAt (pauses, rounding)."
    )
    date: date = strawberry.field(description="The entry's day in the user's time zone.")
    created_at: datetime
    updated_at: datetime
    version: int
    native: strawberry.Private[domain.TimeEntry]

    @classmethod
    def of(cls, entry: domain.TimeEntry) -> TimeEntryNode:
        details = entry.details
        return cls(
            id=strawberry.ID(encode_global_id("TimeEntry", entry.provider, entry.id)),
            provider=entry.provider,
            description=details.description,
            context=TimerContextNode.of(details.context),
            tags=list(details.tags),
            billable=details.billable,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            duration_seconds=entry.duration_seconds,
            date=entry.date,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            version=entry.version,
            native=entry,
        )

    @strawberry.field(description="The timer that recorded this entry; null if made by hand.")
    async def timer(self, info: Info) -> TimerNode | None:
        if self.native.timer_id is None:
            return None
        ctx = info.context
        timer = await ctx.gateway.reads.timer(ctx.viewer, self.provider, self.native.timer_id)
        return TimerNode.of(timer, ctx.now) if timer else None


@strawberry.type
class Viewer:
    id: strawberry.ID
    name: str
    time_zone: str = strawberry.field(description="IANA name; entries are dated in this zone.")

    @staticmethod
    def of(user: User) -> Viewer:
        return Viewer(
            id=strawberry.ID(encode_global_id("User", HOLDER, user.id)),
            name=user.name,
            time_zone=user.time_zone,
        )

    @strawberry.field(
        description="The viewer's running timer, if any, wherever it lives (a connection that "
        "cannot be reached is reported as an error beside it)."
    )
    async def running_timer(self, info: Info) -> TimerNode | None:
        ctx = info.context
        running = await ctx.gateway.reads.running(ctx.viewer)
        ctx.report(info.path.as_list(), running.failures)
        return TimerNode.of(running.value[0], ctx.now) if running.value else None

    @strawberry.field(description="The viewer's connections to vendors, oldest first.")
    async def connections(self, info: Info) -> list[ConnectionNode]:
        ctx = info.context
        return [ConnectionNode.of(c) for c in await ctx.gateway.connections.of(ctx.viewer)]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class TimerEdge:
    cursor: str
    node: TimerNode


@strawberry.type
class TimerConnection:
    edges: list[TimerEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[TimerNode]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many timers match the filter, on all pages. In timergate's own store "
        "it is exact and, with no filter or only `provider` and `states`, comes from counts kept "
        "with every write, so it costs the same however long the history; other filters count "
        "their matches through an index, so the cost follows the matches, not the history."
    )
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class TimeEntryEdge:
    cursor: str
    node: TimeEntryNode


@strawberry.type
class TimeEntryConnection:
    edges: list[TimeEntryEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[TimeEntryNode]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many entries match the filter, on all pages. In timergate's own store "
        "it is exact and, with no filter or only `provider`, comes from counts kept with every "
        "write, so it costs the same however long the history; other filters count their "
        "matches through an index, so the cost follows the matches, not the history."
    )
    async def total_count(self) -> int:
        return await self.count()


def page_info(cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
