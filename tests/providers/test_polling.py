"""Polling a vendor for changes made in its own app: published once, and a change made through
the gateway is not published a second time by the poller."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from harness import HARNESSES, Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import PAUSE, START

from timergate.config import Settings
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.fakes.base import Fake
from timergate.gateway import Gateway


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, poll_interval_seconds=0.05)


async def watch(gateway: Gateway, token: str) -> tuple[list[TimerEvent], object]:
    user = await gateway.authenticator.authenticate(token)
    assert user is not None
    seen: list[TimerEvent] = []
    unsubscribe = await gateway.broker.subscribe(user_channel(user.id), seen.append)
    unwatch = await gateway.poller.watch(user)
    return seen, (unsubscribe, unwatch)


async def looks(seconds: float = 0.8) -> None:
    await asyncio.sleep(seconds)  # several poll intervals of 0.05 s


async def test_changes_through_the_gateway_are_published_once(
    alice: GraphQLClient, gateway: Gateway, fakes: dict[str, Fake]
) -> None:
    """A pause made through the gateway reaches subscribers once, however often it is polled."""
    noko: Handle = await connect(alice, HARNESSES["noko"], fakes)
    seen, (unsubscribe, unwatch) = await watch(gateway, alice.token or "")
    try:
        timer = (await alice.data(START, {"input": noko.start_input()}))["startTimer"]["timer"]
        await looks()
        await alice.data(PAUSE, {"input": {"id": timer["id"]}})
        await looks()
    finally:
        unwatch()  # type: ignore[operator]
        await unsubscribe()  # type: ignore[operator]
    assert [e.type for e in seen] == [TimerEventType.STARTED, TimerEventType.PAUSED]


async def test_a_change_in_the_vendors_own_app_is_published(
    alice: GraphQLClient, gateway: Gateway, fakes: dict[str, Fake]
) -> None:
    """A timer paused in Noko itself reaches subscribers as PAUSED, once."""
    noko: Handle = await connect(alice, HARNESSES["noko"], fakes)
    seen, (unsubscribe, unwatch) = await watch(gateway, alice.token or "")
    try:
        await alice.data(START, {"input": noko.start_input()})
        await looks()
        project = noko.contexts[0]["id"]
        user = next(iter(u for u in fakes["noko"].account.users.values()))  # type: ignore[attr-defined]
        fakes["noko"].account.pause_timer(user, int(project))  # type: ignore[attr-defined]
        await looks()
    finally:
        unwatch()  # type: ignore[operator]
        await unsubscribe()  # type: ignore[operator]
    assert [e.type for e in seen] == [TimerEventType.STARTED, TimerEventType.PAUSED]
