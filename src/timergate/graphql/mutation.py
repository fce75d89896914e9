"""Write operations: check the input, find the provider, dispatch, shape the payload."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from timergate.domain import GlobalId, TimerChanges, Unset
from timergate.domain.entry import EntryChanges
from timergate.domain.limits import check_aware, check_duration_seconds, check_time_zone
from timergate.errors import BadUserInput
from timergate.graphql import inputs
from timergate.graphql.inputs import (
    CancelTimerInput,
    CreateTimeEntryInput,
    DeleteTimeEntryInput,
    LogTimerInput,
    PauseTimerInput,
    StartTimerInput,
    StopTimerInput,
    UpdateTimeEntryInput,
    UpdateTimerInput,
    UpdateViewerInput,
    given,
    optional,
)
from timergate.graphql.types import Info, TimeEntryNode, TimerNode, Viewer
from timergate.providers import LogRequest, NewEntry, Provider

__all__ = ["Mutation"]

T = TypeVar("T")


@strawberry.type
class StartTimerPayload:
    timer: TimerNode
    paused_timers: list[TimerNode] = strawberry.field(
        description="Timers paused to keep one running per user."
    )


@strawberry.type
class PauseTimerPayload:
    timer: TimerNode


@strawberry.type
class StopTimerPayload:
    timer: TimerNode | None = strawberry.field(
        description="Null when no id was given and nothing was running."
    )
    entry: TimeEntryNode | None


@strawberry.type
class LogTimerPayload:
    timer: TimerNode
    entry: TimeEntryNode


@strawberry.type
class CancelTimerPayload:
    id: strawberry.ID


@strawberry.type
class UpdateTimerPayload:
    timer: TimerNode


@strawberry.type
class TimeEntryPayload:
    entry: TimeEntryNode


@strawberry.type
class DeleteTimeEntryPayload:
    id: strawberry.ID


@strawberry.type
class UpdateViewerPayload:
    viewer: Viewer


def _timer_target(info: Info, raw_id: str, field: str = "input.id") -> tuple[Provider, GlobalId]:
    gid = inputs.global_id(raw_id, "Timer", field)
    provider = info.context.gateway.providers.get(gid.provider)
    if provider is None:
        raise inputs.not_found("timer")
    return provider, gid


def _entry_target(info: Info, raw_id: str) -> tuple[Provider, GlobalId]:
    gid = inputs.global_id(raw_id, "TimeEntry", "input.id")
    provider = info.context.gateway.providers.get(gid.provider)
    if provider is None:
        raise inputs.not_found("time entry")
    return provider, gid


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Start a new timer, or resume a PAUSED one (timerId). "
        "Any other running timer of the viewer is paused."
    )
    async def start_timer(self, info: Info, input: StartTimerInput) -> StartTimerPayload:
        ctx = info.context
        user = ctx.viewer
        if given(input.timer_id) and input.timer_id is not None:
            if any(
                given(v) for v in (input.description, input.context, input.tags, input.billable)
            ):
                raise BadUserInput(
                    "Resuming takes only timerId (and expectedVersion); "
                    "change details with updateTimer.",
                    field="input.timerId",
                )
            provider, gid = _timer_target(info, input.timer_id, "input.timerId")
            result = await provider.resume(
                user, gid.native_id, expected_version=optional(input.expected_version)
            )
        else:
            provider = ctx.gateway.provider(input.provider)
            result = await provider.start(user, inputs.details(input))
        return StartTimerPayload(
            timer=TimerNode.of(result.timer, ctx.now),
            paused_timers=[TimerNode.of(t, ctx.now) for t in result.paused],
        )

    @strawberry.mutation(description="Pause a RUNNING timer; pausing a PAUSED one changes nothing.")
    async def pause_timer(self, info: Info, input: PauseTimerInput) -> PauseTimerPayload:
        provider, gid = _timer_target(info, input.id)
        timer = await provider.pause(
            info.context.viewer, gid.native_id, expected_version=optional(input.expected_version)
        )
        return PauseTimerPayload(timer=TimerNode.of(timer, info.context.now))

    @strawberry.mutation(
        description="Stop a timer and record its time as an entry. Without an id, stops the "
        "viewer's running timer if there is one (repeating the call is harmless)."
    )
    async def stop_timer(self, info: Info, input: StopTimerInput | None = None) -> StopTimerPayload:
        ctx = info.context
        user = ctx.viewer
        input = input or StopTimerInput()
        description = inputs.description(input.description, "input.description")
        expected = optional(input.expected_version)
        if optional(input.id) is None:
            provider = ctx.gateway.provider("local")
            result = await provider.stop(
                user, None, description=description, expected_version=expected
            )
        else:
            provider, gid = _timer_target(info, input.id)  # type: ignore[arg-type]
            result = await provider.stop(
                user, gid.native_id, description=description, expected_version=expected
            )
        entry = TimeEntryNode.of(result.entry) if result.entry else None
        timer = TimerNode.of(result.timer, ctx.now, result.entry) if result.timer else None
        return StopTimerPayload(timer=timer, entry=entry)

    @strawberry.mutation(description="Stop a timer, choosing the entry's details.")
    async def log_timer(self, info: Info, input: LogTimerInput) -> LogTimerPayload:
        ctx = info.context
        provider, gid = _timer_target(info, input.id)
        duration: timedelta | None = None
        if optional(input.duration_seconds) is not None:
            duration = check_duration_seconds(
                input.duration_seconds,  # type: ignore[arg-type]
                field="input.durationSeconds",
            )
        billable = inputs.flag(input.billable, "input.billable")
        request = LogRequest(
            description=inputs.description(input.description, "input.description"),
            date=optional(input.date),
            duration=duration,
            billable=None if not isinstance(billable, bool) else billable,
        )
        result = await provider.log(
            ctx.viewer, gid.native_id, request, expected_version=optional(input.expected_version)
        )
        assert result.timer is not None and result.entry is not None
        return LogTimerPayload(
            timer=TimerNode.of(result.timer, ctx.now, result.entry),
            entry=TimeEntryNode.of(result.entry),
        )

    @strawberry.mutation(description="Discard a RUNNING or PAUSED timer; no entry is recorded.")
    async def cancel_timer(self, info: Info, input: CancelTimerInput) -> CancelTimerPayload:
        provider, gid = _timer_target(info, input.id)
        await provider.cancel(
            info.context.viewer, gid.native_id, expected_version=optional(input.expected_version)
        )
        return CancelTimerPayload(id=input.id)

    @strawberry.mutation(description="Edit a timer; elapsedSeconds only while it is PAUSED.")
    async def update_timer(self, info: Info, input: UpdateTimerInput) -> UpdateTimerPayload:
        provider, gid = _timer_target(info, input.id)
        elapsed = (
            inputs.DOMAIN_UNSET
            if not given(input.elapsed_seconds)
            else check_duration_seconds(
                _not_null(input.elapsed_seconds, "input.elapsedSeconds"),
                field="input.elapsedSeconds",
            )
        )
        changes = TimerChanges(
            description=inputs.description(input.description, "input.description"),
            context=inputs.context(input.context, "input.context"),
            tags=inputs.tags(input.tags, "input.tags"),
            billable=inputs.flag(input.billable, "input.billable"),
            elapsed=elapsed,
        )
        timer = await provider.update_timer(
            info.context.viewer,
            gid.native_id,
            changes,
            expected_version=optional(input.expected_version),
        )
        return UpdateTimerPayload(timer=TimerNode.of(timer, info.context.now))

    @strawberry.mutation(description="Record time by hand: a start and an end or a duration.")
    async def create_time_entry(self, info: Info, input: CreateTimeEntryInput) -> TimeEntryPayload:
        ctx = info.context
        provider = ctx.gateway.provider(input.provider)
        details = inputs.details(input)
        entry = await provider.create_entry(
            ctx.viewer,
            NewEntry(
                details=details,
                started_at=input.started_at,
                ended_at=optional(input.ended_at),
                duration_seconds=optional(input.duration_seconds),
                date=optional(input.date),
            ),
        )
        return TimeEntryPayload(entry=TimeEntryNode.of(entry))

    @strawberry.mutation(
        description="Edit an entry; moving its start or end re-derives its duration."
    )
    async def update_time_entry(self, info: Info, input: UpdateTimeEntryInput) -> TimeEntryPayload:
        provider, gid = _entry_target(info, input.id)
        changes = EntryChanges(
            description=inputs.description(input.description, "input.description"),
            context=inputs.context(input.context, "input.context"),
            tags=inputs.tags(input.tags, "input.tags"),
            billable=inputs.flag(input.billable, "input.billable"),
            started_at=_given_not_null(input.started_at, "input.startedAt"),
            ended_at=_given_not_null(input.ended_at, "input.endedAt"),
            duration_seconds=_given_not_null(input.duration_seconds, "input.durationSeconds"),
            date=_given_not_null(input.date, "input.date"),
        )
        entry = await provider.update_entry(
            info.context.viewer,
            gid.native_id,
            changes,
            expected_version=optional(input.expected_version),
        )
        return TimeEntryPayload(entry=TimeEntryNode.of(entry))

    @strawberry.mutation(description="Delete an entry.")
    async def delete_time_entry(
        self, info: Info, input: DeleteTimeEntryInput
    ) -> DeleteTimeEntryPayload:
        provider, gid = _entry_target(info, input.id)
        await provider.delete_entry(
            info.context.viewer, gid.native_id, expected_version=optional(input.expected_version)
        )
        return DeleteTimeEntryPayload(id=input.id)

    @strawberry.mutation(description="Change the viewer's settings, such as the time zone.")
    async def update_viewer(self, info: Info, input: UpdateViewerInput) -> UpdateViewerPayload:
        ctx = info.context
        user = ctx.viewer
        if given(input.time_zone):
            zone = check_time_zone(
                _not_null(input.time_zone, "input.timeZone"), field="input.timeZone"
            )
            user = await ctx.gateway.set_time_zone(user, zone)
        return UpdateViewerPayload(viewer=Viewer.of(user))


def _not_null(value: T | None, field: str) -> T:
    if value is None:
        raise BadUserInput(f"{field} cannot be null; leave it out to keep it.", field=field)
    return value


def _given_not_null(value: T | UnsetType | None, field: str) -> T | Unset:
    """``UNSET`` when left out; refuse an explicit null for a field that needs a value."""
    if isinstance(value, UnsetType):
        return inputs.DOMAIN_UNSET
    checked = _not_null(value, field)
    if isinstance(checked, datetime):
        check_aware(checked, field=field)
    return checked
