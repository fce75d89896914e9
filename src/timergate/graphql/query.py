"""Read operations; every one is scoped to the viewer."""

from __future__ import annotations

import strawberry

from timergate.domain import EntryFilter as DomainEntryFilter
from timergate.domain import Position
from timergate.domain import TimerFilter as DomainTimerFilter
from timergate.errors import BadUserInput
from timergate.graphql import inputs
from timergate.graphql.inputs import TimeEntryFilter, TimerFilter
from timergate.graphql.types import (
    Info,
    TimeEntryConnection,
    TimeEntryEdge,
    TimeEntryNode,
    TimerConnection,
    TimerEdge,
    TimerNode,
    Viewer,
    decode_cursor,
    encode_cursor,
    page_info,
)

__all__ = ["MAX_PAGE_SIZE", "Query"]

MAX_PAGE_SIZE = 100


def _page_args(first: int, after: str | None) -> Position | None:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(
            f"first must be between 1 and {MAX_PAGE_SIZE} (got {first}).", field="first"
        )
    if after is None:
        return None
    position = decode_cursor(after)
    if position is None:
        raise BadUserInput(
            "after is not a cursor from this API; use pageInfo.endCursor.", field="after"
        )
    return position


def _timer_filter(f: TimerFilter | None) -> DomainTimerFilter:
    if f is None:
        return DomainTimerFilter()
    # The domain's filter refuses instants and dates out of range (BadUserInput, by field).
    return DomainTimerFilter(
        states=tuple(f.states or ()),
        provider=f.provider,
        context_type=f.context.type if f.context else None,
        context_id=f.context.id if f.context else None,
        started_from=f.started_from,
        started_to=f.started_to,
        text=f.text,
    )


def _entry_filter(f: TimeEntryFilter | None) -> DomainEntryFilter:
    if f is None:
        return DomainEntryFilter()
    timer_id = None
    provider = f.provider
    if f.timer_id is not None:
        gid = inputs.global_id(f.timer_id, "Timer", "filter.timerId")
        if provider is not None and provider != gid.provider:
            raise BadUserInput(
                "filter.timerId is a timer of another provider than filter.provider.",
                field="filter.timerId",
            )
        timer_id, provider = gid.native_id, gid.provider
    return DomainEntryFilter(
        provider=provider,
        context_type=f.context.type if f.context else None,
        context_id=f.context.id if f.context else None,
        date_from=f.date_from,
        date_to=f.date_to,
        text=f.text,
        timer_id=timer_id,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated user.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer.of(info.context.viewer)

    @strawberry.field(description="One of the viewer's timers; null if there is none by that id.")
    async def timer(self, info: Info, id: strawberry.ID) -> TimerNode | None:
        ctx = info.context
        gid = inputs.global_id(id, "Timer", "id")
        timer = await ctx.gateway.reads.timer(ctx.viewer, gid.provider, gid.native_id)
        return TimerNode.of(timer, ctx.now) if timer else None

    @strawberry.field(
        description="The viewer's timers across every provider, newest first (by when they "
        "started). A connection that cannot be reached is left out and reported as an error "
        "beside the data."
    )
    async def timers(
        self,
        info: Info,
        filter: TimerFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TimerConnection:
        ctx = info.context
        position = _page_args(first, after)
        domain_filter = _timer_filter(filter)
        reads = ctx.gateway.reads
        page = await reads.timers(ctx.viewer, domain_filter, first=first, after=position)
        path = info.path.as_list()
        ctx.report(path, page.failures)
        edges = [
            TimerEdge(cursor=encode_cursor(t), node=TimerNode.of(t, ctx.now))
            for t in page.value.items
        ]

        async def count() -> int:
            counted = await reads.count_timers(ctx.viewer, domain_filter)
            ctx.report([*path, "totalCount"], counted.failures)
            return counted.value

        return TimerConnection(
            edges=edges,
            page_info=page_info([e.cursor for e in edges], page.value.has_next, after),
            count=count,
        )

    @strawberry.field(
        description="The viewer's running timers, wherever they live (one at most, unless a "
        "vendor's own app started another)."
    )
    async def running_timers(self, info: Info) -> list[TimerNode]:
        ctx = info.context
        running = await ctx.gateway.reads.running(ctx.viewer)
        ctx.report(info.path.as_list(), running.failures)
        return [TimerNode.of(t, ctx.now) for t in running.value]

    @strawberry.field(description="One of the viewer's time entries; null if none by that id.")
    async def time_entry(self, info: Info, id: strawberry.ID) -> TimeEntryNode | None:
        ctx = info.context
        gid = inputs.global_id(id, "TimeEntry", "id")
        entry = await ctx.gateway.reads.entry(ctx.viewer, gid.provider, gid.native_id)
        return TimeEntryNode.of(entry) if entry else None

    @strawberry.field(
        description="The viewer's time entries across every provider that lists them, newest "
        "first by when the work started, then by id, as a timesheet reads (an entry typed in "
        "today for last Monday sits with last Monday). A cursor holds its entry's place in "
        "that order, so entries added or edited while you page neither repeat nor hide the "
        "ones still to come. A connection that cannot be reached is left out and reported as "
        "an error beside the data."
    )
    async def time_entries(
        self,
        info: Info,
        filter: TimeEntryFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TimeEntryConnection:
        ctx = info.context
        position = _page_args(first, after)
        domain_filter = _entry_filter(filter)
        reads = ctx.gateway.reads
        page = await reads.entries(ctx.viewer, domain_filter, first=first, after=position)
        path = info.path.as_list()
        ctx.report(path, page.failures)
        edges = [
            TimeEntryEdge(cursor=encode_cursor(e), node=TimeEntryNode.of(e))
            for e in page.value.items
        ]

        async def count() -> int:
            counted = await reads.count_entries(ctx.viewer, domain_filter)
            ctx.report([*path, "totalCount"], counted.failures)
            return counted.value

        return TimeEntryConnection(
            edges=edges,
            page_info=page_info([e.cursor for e in edges], page.value.has_next, after),
            count=count,
        )
