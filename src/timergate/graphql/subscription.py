"""Subscriptions: live ticks of running timers, and every change to the viewer's timers.

These resolvers serve every transport Strawberry runs (SSE, and any selection the websocket
fast path does not render itself); the websocket endpoint renders plain tick selections
without executing them per tick, with the same results.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from timergate.domain.events import TimerEvent, TimerEventType
from timergate.errors import ShuttingDown, TimergateError
from timergate.graphql import inputs
from timergate.graphql.types import Info, TimeEntryNode, TimerNode
from timergate.live.feeds import EventFeed, Tick, TickFeed
from timergate.live.subscriptions import EventSubscription, TickSubscription

__all__ = ["EventsMissed", "SlowConsumer", "Subscription", "TickNode", "TimerEventNode"]

TimerEventTypeEnum = strawberry.enum(TimerEventType, name="TimerEventType")


class SlowConsumer(TimergateError):
    """The subscriber read too slowly and events piled up past the bound."""

    code = "SLOW_CONSUMER"


class EventsMissed(TimergateError):
    """The gateway lost its broker for a while; events of that time cannot be replayed."""

    code = "EVENTS_MISSED"


@strawberry.type(name="TimerTick")
class TickNode:
    timer: TimerNode
    elapsed_seconds: int = strawberry.field(description="Elapsed time at `at`.")
    at: datetime = strawberry.field(
        description="A whole second of wall-clock time (UTC); for a final tick, the change's instant."
    )
    final: bool = strawberry.field(
        description="True for the last tick of a run: the timer paused, stopped or was cancelled."
    )

    @staticmethod
    def of(tick: Tick) -> TickNode:
        return TickNode(
            timer=TimerNode.of(tick.timer, tick.at),
            elapsed_seconds=tick.elapsed_seconds,
            at=tick.at,
            final=tick.final,
        )


@strawberry.type(name="TimerEvent")
class TimerEventNode:
    type: TimerEventTypeEnum  # type: ignore[valid-type]
    timer: TimerNode | None = strawberry.field(
        description="The timer after the change (as it was, for CANCELLED)."
    )
    entry: TimeEntryNode | None = strawberry.field(
        description="The entry created, changed or deleted, if any."
    )
    at: datetime

    @staticmethod
    def of(event: TimerEvent) -> TimerEventNode:
        return TimerEventNode(
            type=event.type,
            timer=TimerNode.of(event.timer, event.at, event.entry) if event.timer else None,
            entry=TimeEntryNode.of(event.entry) if event.entry else None,
            at=event.at,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Ticks of a running timer (timerId) or of all the viewer's running timers, "
        "every intervalSeconds (1 to 3600) on wall-clock boundaries; a final tick when a timer "
        "pauses, stops or is cancelled. A timerId stream completes when its timer stops or "
        "is cancelled, and idles while it is paused."
    )
    async def timer_ticks(
        self, info: Info, timer_id: strawberry.ID | None = None, interval_seconds: int = 1
    ) -> AsyncGenerator[TickNode, None]:
        ctx = info.context
        ready = asyncio.Event()
        feed = TickFeed(ready.set)
        target = inputs.global_id(timer_id, "Timer", "timerId") if timer_id is not None else None
        subscription = await TickSubscription.open(
            ctx.gateway,
            ctx.viewer,
            feed,
            timer_id=target.native_id if target else None,
            provider=target.provider if target else None,
            interval=interval_seconds,
        )
        draining = ctx.gateway.draining
        stop_waking = draining.on_drain(ready.set)
        try:
            while True:
                await ready.wait()
                ready.clear()
                for tick in feed.take():
                    yield TickNode.of(tick)
                if feed.ended:
                    return
                if draining.started:
                    raise ShuttingDown()
        finally:
            stop_waking()
            await subscription.close()

    @strawberry.subscription(
        description="Every change to the viewer's timers and entries, whatever caused it."
    )
    async def timer_events(self, info: Info) -> AsyncGenerator[TimerEventNode, None]:
        ctx = info.context
        ready = asyncio.Event()

        def wake() -> None:
            ready.set()
            if feed.overflowed and ctx.on_slow_consumer is not None:
                ctx.on_slow_consumer()

        feed = EventFeed(wake)
        subscription = await EventSubscription.open(ctx.gateway, ctx.viewer, feed)
        draining = ctx.gateway.draining
        stop_waking = draining.on_drain(ready.set)
        try:
            while True:
                await ready.wait()
                ready.clear()
                for event in feed.take():
                    yield TimerEventNode.of(event)
                if feed.overflowed:
                    raise SlowConsumer(
                        "Too many undelivered events: this subscriber reads too slowly. "
                        "Resubscribe and re-read the current state."
                    )
                if feed.missed:
                    raise EventsMissed(
                        "This gateway lost its connection to the event broker for a while, "
                        "so changes made meanwhile were not delivered: re-read the current "
                        "state and subscribe again."
                    )
                if draining.started:
                    raise ShuttingDown()
        finally:
            stop_waking()
            await subscription.close()
