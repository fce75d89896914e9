"""The websocket's fast tick renderer gives exactly what executing the selection gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from graphql import (
    DocumentNode,
    ExecutionResult,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)
from live_support import TICKS, Socket, instant
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from timergate import domain
from timergate.graphql.schema import build_schema
from timergate.graphql.subscription import TickNode
from timergate.graphql.tick_render import compile_tick_renderer
from timergate.live import Tick

#: Every TimerTick field, and every Timer field but ``entry``: aliases, a named fragment, an
#: inline fragment, and ``__typename`` at each level.
EVERYTHING = """
subscription Watch($id: ID) {
  clock: timerTicks(timerId: $id, intervalSeconds: 1) {
    __typename
    seconds: elapsedSeconds
    at
    ... on TimerTick { final }
    timer { ...Everything }
  }
}
fragment Everything on Timer {
  __typename id provider state description
  context { __typename type id title what: title }
  tags billable elapsedSeconds startedAt runningSince updatedAt version
}
"""

START = datetime(2024, 3, 31, 0, 59, 58, 250_000, tzinfo=UTC)


def ticks() -> dict[str, Tick]:
    """A timer running, paused and stopped, as the scheduler and the broker make ticks."""
    running = domain.new_timer(
        user_id=1,
        provider="local",
        details=domain.TimerDetails(
            description="Close the books",
            context=domain.TimerContext("task", "T-7", "Quarter end"),
            tags=("finance", "q1"),
            billable=False,
        ),
        now=START,
        timer_id="42",
    )
    at = START.replace(microsecond=0) + timedelta(seconds=3)
    paused_at = START + timedelta(seconds=90, microseconds=5)
    paused = domain.pause(running, paused_at)
    bare = domain.new_timer(
        user_id=1, provider="local", details=domain.TimerDetails(), now=START, timer_id="43"
    )
    stopped, _ = domain.stop(bare, START + timedelta(hours=2), time_zone="Europe/Berlin")
    return {
        "running": Tick(running, domain.elapsed_seconds(running, at), at),
        "paused": Tick(paused, domain.elapsed_seconds(paused, paused_at), paused_at, final=True),
        "stopped": Tick(stopped, 7200, stopped.updated_at, final=True),
    }


def operation_of(document: DocumentNode) -> OperationDefinitionNode:
    (operation,) = (d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return operation


def executed(document: DocumentNode, tick: Tick) -> ExecutionResult:
    """What graphql-core makes of one tick event: the subscription field resolves to it."""
    schema = build_schema()._schema
    assert validate(schema, document) == []
    result = execute(
        schema,
        document,
        root_value=TickNode.of(tick),
        variable_values={"id": None},
        executor_class=StrawberryGraphQLCoreExecutionContext,
    )
    assert isinstance(result, ExecutionResult)
    return result


@pytest.mark.parametrize("name", ["running", "paused", "stopped"])
def test_the_fast_renderer_equals_execution(name: str) -> None:
    """For a running, a paused and a stopped timer, rendered and executed ticks are equal."""
    tick = ticks()[name]
    document = parse(EVERYTHING)
    plan = compile_tick_renderer(document, operation_of(document))
    assert plan is not None, "a plain selection must be rendered without execution"
    key, root, render = plan
    assert key == "clock"
    assert root.name.value == "timerTicks"

    result = executed(document, tick)
    assert result.errors is None
    assert render(tick) == result.data
    # The same keys in the same order, too: the encoded responses are byte for byte equal.
    assert orjson.dumps(render(tick)) == orjson.dumps(result.data)
    assert result.data is not None and set(result.data["clock"]) == {
        "__typename",
        "seconds",
        "at",
        "final",
        "timer",
    }


def test_a_selection_reaching_the_timers_entry_is_left_to_execution() -> None:
    """timer { entry { id } } needs a resolver, so the renderer declines it."""
    document = parse("subscription { timerTicks { elapsedSeconds timer { id entry { id } } } }")
    assert compile_tick_renderer(document, operation_of(document)) is None
    # The same selection without entry is rendered.
    plain = parse(TICKS)
    assert compile_tick_renderer(plain, operation_of(plain)) is not None


async def test_rendered_and_executed_ticks_arrive_identical(server, people) -> None:
    """Over the websocket, a fast-path tick and an executed tick of the same instant match."""
    (alice,) = await people("alice")
    timer_id = await alice.start("side by side", tags=["a", "b"])
    # A directive sends the same selection through graphql-core instead.
    executed_ticks = TICKS.replace("elapsedSeconds at", "elapsedSeconds @include(if: true) at")
    document = parse(executed_ticks)
    assert compile_tick_renderer(document, operation_of(document)) is None
    async with Socket.connect(server.ws_url) as ws:
        await ws.open(alice)
        await ws.subscribe("rendered", TICKS, timerId=timer_id)
        await ws.subscribe("executed", executed_ticks, timerId=timer_id)
        rendered = [await ws.next("rendered") for _ in range(2)]
        executed_ = [await ws.next("executed") for _ in range(2)]

    by_instant = {instant(t["timerTicks"]["at"]): t for t in rendered}
    matched = [
        (by_instant[instant(t["timerTicks"]["at"])], t)
        for t in executed_
        if instant(t["timerTicks"]["at"]) in by_instant
    ]
    assert matched, (rendered, executed_)
    for fast, slow in matched:
        assert fast == slow
