"""Write operations: check the input, find the provider, dispatch, shape the payload."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from timergate.domain import GlobalId, TimerChanges, Unset, User
from timergate.domain.entry import EntryChanges
from timergate.domain.limits import (
    check_date,
    check_duration_seconds,
    check_instant,
    check_time_zone,
)
from timergate.errors import BadUserInput
from timergate.graphql import inputs
from timergate.graphql.connections import ConnectionMutation
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
from timergate.providers import LogRequest, NewEntry
from timergate.service import StartOutcome

__all__ = ["Mutation"]

T = TypeVar("T")


@strawberry.type(name="StoppedTimer")
class StoppedTimerNode:
    timer: TimerNode
    entry: TimeEntryNode | None = strawberry.field(
        description="The entry keeping the stopped timer's time (null if its vendor records "
        "time where timergate cannot read it back)."
    )


@strawberry.type
class StartTimerPayload:
    timer: TimerNode
    paused_timers: list[TimerNode] = strawberry.field(
        description="Timers paused to keep one running per user, wherever they live."
    )
    stopped_timers: list[StoppedTimerNode] = strawberry.field(
        description="Timers stopped instead of paused (their provider cannot pause), with "
        "the entries that keep their time."
    )

    @staticmethod
    def of(outcome: StartOutcome, now: datetime) -> StartTimerPayload:
        return StartTimerPayload(
            timer=TimerNode.of(outcome.timer, now),
            paused_timers=[TimerNode.of(t, now) for t in outcome.paused],
            stopped_timers=[
                StoppedTimerNode(
                    timer=TimerNode.of(s.timer, now, s.entry),
                    entry=TimeEntryNode.of(s.entry) if s.entry else None,
                )
                for s in outcome.stopped
                if s.timer is not None
            ],
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


def _timer_id(raw_id: str, field: str = "input.id") -> GlobalId:
    return inputs.global_id(raw_id, "Timer", field)


def _entry_id(raw_id: str) -> GlobalId:
    return inputs.global_id(raw_id, "TimeEntry", "input.id")


@strawberry.type
class Mutation(ConnectionMutation):
    @strawberry.mutation(
        description="Start a new timer, or resume a PAUSED one (timerId). The viewer's other "
        "running timer, wherever it lives, is paused (or stopped, if its provider cannot "
        "pause); if that fails, nothing is started."
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
            gid = _timer_id(input.timer_id, "input.timerId")
            outcome = await ctx.gateway.timers.resume(
                user,
                gid.provider,
                gid.native_id,
                expected_version=optional(input.expected_version),
                idempotency=inputs.idempotency(input, "startTimer"),
            )
        else:
            details = inputs.details(input)
            outcome = await ctx.gateway.timers.start(
                user, input.provider, details, idempotency=inputs.idempotency(input, "startTimer")
            )
        return StartTimerPayload.of(outcome, ctx.now)

    @strawberry.mutation(description="Pause a RUNNING timer; pausing a PAUSED one changes nothing.")
    async def pause_timer(self, info: Info, input: PauseTimerInput) -> PauseTimerPayload:
        ctx = info.context
        gid = _timer_id(input.id)
        timer = await ctx.gateway.timers.pause(
            ctx.viewer,
            gid.provider,
            gid.native_id,
            expected_version=optional(input.expected_version),
            idempotency=inputs.idempotency(input, "pauseTimer"),
        )
        return PauseTimerPayload(timer=TimerNode.of(timer, ctx.now))

    @strawberry.mutation(
        description="Stop a timer and record its time as an entry. Without an id, stops the "
        "viewer's running timer, wherever it lives, if there is one (repeating the call is "
        "harmless)."
    )
    async def stop_timer(self, info: Info, input: StopTimerInput | None = None) -> StopTimerPayload:
        ctx = info.context
        user = ctx.viewer
        input = input or StopTimerInput()
        description = inputs.description(input.description, "input.description")
        expected = optional(input.expected_version)
        raw_id = optional(input.id)
        gid = _timer_id(raw_id) if raw_id is not None else None
        outcome = await ctx.gateway.timers.stop(
            user,
            gid.provider if gid else None,
            gid.native_id if gid else None,
            description=description,
            expected_version=expected,
            idempotency=inputs.idempotency(input, "stopTimer"),
        )
        ctx.report(info.path.as_list(), outcome.failures)
        result = outcome.result
        entry = TimeEntryNode.of(result.entry) if result.entry else None
        timer = TimerNode.of(result.timer, ctx.now, result.entry) if result.timer else None
        return StopTimerPayload(timer=timer, entry=entry)

    @strawberry.mutation(description="Stop a timer, choosing the entry's details.")
    async def log_timer(self, info: Info, input: LogTimerInput) -> LogTimerPayload:
        ctx = info.context
        gid = _timer_id(input.id)
        duration: timedelta | None = None
        if optional(input.duration_seconds) is not None:
            duration = check_duration_seconds(
                input.duration_seconds,  # type: ignore[arg-type]
                field="input.durationSeconds",
            )
        billable = inputs.flag(input.billable, "input.billable")
        entry_date = optional(input.date)
        request = LogRequest(
            description=inputs.description(input.description, "input.description"),
            date=None if entry_date is None else check_date(entry_date, field="input.date"),
            duration=duration,
            billable=None if not isinstance(billable, bool) else billable,
        )
        result = await ctx.gateway.timers.log(
            ctx.viewer,
            gid.provider,
            gid.native_id,
            request,
            expected_version=optional(input.expected_version),
            idempotency=inputs.idempotency(input, "logTimer"),
        )
        assert result.timer is not None and result.entry is not None
        return LogTimerPayload(
            timer=TimerNode.of(result.timer, ctx.now, result.entry),
            entry=TimeEntryNode.of(result.entry),
        )

    @strawberry.mutation(description="Discard a RUNNING or PAUSED timer; no entry is recorded.")
    async def cancel_timer(self, info: Info, input: CancelTimerInput) -> CancelTimerPayload:
        gid = _timer_id(input.id)
        await info.context.gateway.timers.cancel(
            info.context.viewer,
            gid.provider,
            gid.native_id,
            expected_version=optional(input.expected_version),
            idempotency=inputs.idempotency(input, "cancelTimer"),
        )
        return CancelTimerPayload(id=input.id)

    @strawberry.mutation(description="Edit a timer; elapsedSeconds only while it is PAUSED.")
    async def update_timer(self, info: Info, input: UpdateTimerInput) -> UpdateTimerPayload:
        gid = _timer_id(input.id)
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
        timer = await info.context.gateway.timers.update_timer(
            info.context.viewer,
            gid.provider,
            gid.native_id,
            changes,
            expected_version=optional(input.expected_version),
            idempotency=inputs.idempotency(input, "updateTimer"),
        )
        return UpdateTimerPayload(timer=TimerNode.of(timer, info.context.now))

    @strawberry.mutation(description="Record time by hand: a start and an end or a duration.")
    async def create_time_entry(self, info: Info, input: CreateTimeEntryInput) -> TimeEntryPayload:
        ctx = info.context
        details = inputs.details(input)
        ended_at, entry_date = optional(input.ended_at), optional(input.date)
        entry = await ctx.gateway.timers.create_entry(
            ctx.viewer,
            input.provider,
            NewEntry(
                details=details,
                started_at=check_instant(input.started_at, field="input.startedAt"),
                ended_at=None
                if ended_at is None
                else check_instant(ended_at, field="input.endedAt"),
                duration_seconds=optional(input.duration_seconds),
                date=None if entry_date is None else check_date(entry_date, field="input.date"),
            ),
            idempotency=inputs.idempotency(input, "createTimeEntry"),
        )
        return TimeEntryPayload(entry=TimeEntryNode.of(entry))

    @strawberry.mutation(
        description="Edit an entry; moving its start or end re-derives its duration."
    )
    async def update_time_entry(self, info: Info, input: UpdateTimeEntryInput) -> TimeEntryPayload:
        gid = _entry_id(input.id)
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
        entry = await info.context.gateway.timers.update_entry(
            info.context.viewer,
            gid.provider,
            gid.native_id,
            changes,
            expected_version=optional(input.expected_version),
            idempotency=inputs.idempotency(input, "updateTimeEntry"),
        )
        return TimeEntryPayload(entry=TimeEntryNode.of(entry))

    @strawberry.mutation(description="Delete an entry.")
    async def delete_time_entry(
        self, info: Info, input: DeleteTimeEntryInput
    ) -> DeleteTimeEntryPayload:
        gid = _entry_id(input.id)
        await info.context.gateway.timers.delete_entry(
            info.context.viewer,
            gid.provider,
            gid.native_id,
            expected_version=optional(input.expected_version),
            idempotency=inputs.idempotency(input, "deleteTimeEntry"),
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
            viewer = user
            user = await ctx.gateway.keys.run(
                user,
                inputs.idempotency(input, "updateViewer"),
                User,
                lambda: ctx.gateway.set_time_zone(viewer, zone),
            )
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
        return check_instant(checked, field=field)  # type: ignore[return-value]
    if isinstance(checked, date):
        return check_date(checked, field=field)  # type: ignore[return-value]
    return checked
