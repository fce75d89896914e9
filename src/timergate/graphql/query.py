"""Read operations; every one is scoped to the viewer."""

from __future__ import annotations

from functools import partial

import strawberry

from timergate.domain import EntryFilter as StoreEntryFilter
from timergate.domain import TimerFilter as StoreTimerFilter
from timergate.domain.limits import check_aware
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


def _page_args(first: int, after: str | None) -> str | None:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(
            f"first must be between 1 and {MAX_PAGE_SIZE} (got {first}).", field="first"
        )
    if after is None:
        return None
    native = decode_cursor(after)
    if native is None:
        raise BadUserInput(
            "after is not a cursor from this API; use pageInfo.endCursor.", field="after"
        )
    return native


def _timer_filter(f: TimerFilter | None) -> StoreTimerFilter:
    if f is None:
        return StoreTimerFilter()
    for name, value in (("startedFrom", f.started_from), ("startedTo", f.started_to)):
        if value is not None:
            check_aware(value, field=f"filter.{name}")
    return StoreTimerFilter(
        states=tuple(f.states or ()),
        provider=f.provider,
        context_type=f.context.type if f.context else None,
        context_id=f.context.id if f.context else None,
        started_from=f.started_from,
        started_to=f.started_to,
        text=f.text,
    )


def _entry_filter(f: TimeEntryFilter | None) -> StoreEntryFilter:
    if f is None:
        return StoreEntryFilter()
    timer_id = None
    if f.timer_id is not None:
        timer_id = inputs.global_id(f.timer_id, "Timer", "filter.timerId").native_id
    return StoreEntryFilter(
        provider=f.provider,
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
        provider = ctx.gateway.providers.get(gid.provider)
        timer = await provider.get_timer(ctx.viewer, gid.native_id) if provider else None
        return TimerNode.of(timer, ctx.now) if timer else None

    @strawberry.field(
        description="The viewer's timers, newest first: by `startedAt`, latest first, then by id. "
        "A cursor holds its timer's place in that order, so timers started while you page "
        "never shift or repeat the pages that follow."
    )
    async def timers(
        self,
        info: Info,
        filter: TimerFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TimerConnection:
        ctx = info.context
        cursor = _page_args(first, after)
        store_filter = _timer_filter(filter)
        provider = ctx.gateway.provider(store_filter.provider or "local", field="filter.provider")
        page = await provider.list_timers(ctx.viewer, store_filter, first=first, after=cursor)
        cursors = [encode_cursor(page.cursor(i)) for i in range(len(page.items))]
        return TimerConnection(
            edges=[
                TimerEdge(cursor=c, node=TimerNode.of(t, ctx.now))
                for c, t in zip(cursors, page.items, strict=True)
            ],
            page_info=page_info(cursors, page.has_next, after),
            count=partial(provider.count_timers, ctx.viewer, store_filter),
        )

    @strawberry.field(description="The viewer's running timers (at most one per provider).")
    async def running_timers(self, info: Info) -> list[TimerNode]:
        ctx = info.context
        timers = await ctx.gateway.provider("local").running_timers(ctx.viewer)
        return [TimerNode.of(t, ctx.now) for t in timers]

    @strawberry.field(description="One of the viewer's time entries; null if none by that id.")
    async def time_entry(self, info: Info, id: strawberry.ID) -> TimeEntryNode | None:
        ctx = info.context
        gid = inputs.global_id(id, "TimeEntry", "id")
        provider = ctx.gateway.providers.get(gid.provider)
        entry = await provider.get_entry(ctx.viewer, gid.native_id) if provider else None
        return TimeEntryNode.of(entry) if entry else None

    @strawberry.field(
        description="The viewer's time entries as a timesheet reads, by when the work happened: "
        "`startedAt`, latest first, then by id (an entry typed in today for last Monday sits "
        "with last Monday). A cursor holds its entry's place in that order, so entries added "
        "or edited while you page never shift or repeat the pages that follow."
    )
    async def time_entries(
        self,
        info: Info,
        filter: TimeEntryFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TimeEntryConnection:
        ctx = info.context
        cursor = _page_args(first, after)
        store_filter = _entry_filter(filter)
        provider = ctx.gateway.provider(store_filter.provider or "local", field="filter.provider")
        page = await provider.list_entries(ctx.viewer, store_filter, first=first, after=cursor)
        cursors = [encode_cursor(page.cursor(i)) for i in range(len(page.items))]
        return TimeEntryConnection(
            edges=[
                TimeEntryEdge(cursor=c, node=TimeEntryNode.of(e))
                for c, e in zip(cursors, page.items, strict=True)
            ],
            page_info=page_info(cursors, page.has_next, after),
            count=partial(provider.count_entries, ctx.viewer, store_filter),
        )
