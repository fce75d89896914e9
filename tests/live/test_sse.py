"""Subscriptions over HTTP streams: server-sent events (Accept: text/event-stream) and multipart."""

from __future__ import annotations

import asyncio
import json

import httpx
from live_support import EVENTS, RECEIVE_TIMEOUT, TICKS, assert_on_boundary, subscribed


async def test_ticks_stream_over_server_sent_events(people) -> None:
    """timerTicks over SSE: whole-second ticks, a final tick on stop, then "complete"."""
    (alice,) = await people("alice")
    timer_id = await alice.start("sse")
    async with subscribed(alice, TICKS, timerId=timer_id) as stream:
        tick = (await stream.next())["timerTicks"]
        assert tick["timer"]["id"] == timer_id
        assert tick["final"] is False
        assert_on_boundary(tick["at"])

        await alice.stop(timer_id)
        final = (await stream.next())["timerTicks"]
        assert final["final"] is True
        assert final["timer"]["state"] == "STOPPED"
        assert (await stream.event())[0] == "complete"


async def test_events_stream_over_server_sent_events(people) -> None:
    """timerEvents over SSE: changes made by another request arrive as "next" events."""
    (alice,) = await people("alice")
    async with subscribed(alice, EVENTS) as stream:
        timer_id = await alice.start("sse events")
        entry_id = await alice.stop(timer_id)
        started, stopped = (
            (await stream.next())["timerEvents"],
            (await stream.next())["timerEvents"],
        )
    assert (started["type"], started["timer"]["id"]) == ("STARTED", timer_id)
    assert (stopped["type"], stopped["timer"]["id"]) == ("STOPPED", timer_id)
    assert stopped["entry"]["id"] == entry_id


async def test_ticks_stream_as_multipart_http(people) -> None:
    """The view's other HTTP stream, multipart subscriptions, carries ticks too."""
    (alice,) = await people("alice")
    timer_id = await alice.start("multipart")
    async with alice.http.stream(
        "POST",
        "/graphql",
        json={"query": TICKS, "variables": {"timerId": timer_id}},
        headers={
            "Authorization": alice.authorization,
            "Accept": 'multipart/mixed;subscriptionSpec="1.0", application/json',
        },
        timeout=httpx.Timeout(5, read=RECEIVE_TIMEOUT),
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/mixed")
        body, parts = "", []
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            async for chunk in response.aiter_text():
                body += chunk
                # Each part ends with the boundary; the text after the last one may be partial.
                parts = [p for p in body.split("--graphql")[:-1] if '"timerTicks"' in p]
                if parts:
                    break
    assert parts, body
    part = parts[0]
    tick = json.loads(part.partition("\r\n\r\n")[2])["payload"]["data"]["timerTicks"]
    assert tick["timer"]["id"] == timer_id
    assert_on_boundary(tick["at"])
