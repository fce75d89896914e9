"""A frontend on another origin uses the gateway from a real browser, or is kept out of it.

The frontend (origin A) sends ``Authorization`` and JSON, so Chromium asks the gateway first
with a CORS preflight; only a gateway that lists origin A answers yes. Websockets have no
preflight: the gateway checks their ``Origin`` itself and refuses the handshake.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

RUNNING = "{ viewer { runningTimer { id description } } }"
START = """
mutation Start($description: String!) {
  startTimer(input: {description: $description}) { timer { id } }
}
"""
STOP = "mutation Stop($id: ID!) { stopTimer(input: {id: $id}) { timer { state } } }"


async def test_a_frontend_on_an_allowed_origin_starts_a_timer_with_fetch(
    frontend, gateway_allowing_the_frontend
) -> None:
    """A listed origin passes the preflight and its fetch() starts a timer."""
    gateway = gateway_allowing_the_frontend
    token = gateway.token_for_new_user()
    await frontend.open(gateway, token)
    mark = gateway.log_mark()

    await frontend.page.click("#start")
    await frontend.wait_for("#timer[data-outcome]")

    assert await frontend.attribute("#timer", "data-outcome") == "ok", frontend.problems
    assert await frontend.text("#timer") == "RUNNING: From the browser"
    running = (await gateway.data(token, RUNNING))["viewer"]["runningTimer"]
    assert running == {
        "id": await frontend.attribute("#timer", "data-id"),
        "description": "From the browser",
    }
    log = await gateway.logged(mark, '"POST /graphql HTTP/1.1" 200')
    assert '"OPTIONS /graphql HTTP/1.1" 200' in log, "the browser did not ask first"


async def test_a_frontend_on_an_unlisted_origin_cannot_start_a_timer(
    frontend, closed_gateway
) -> None:
    """Without the origin listed, the preflight fails: fetch() rejects and nothing changes."""
    token = closed_gateway.token_for_new_user()
    await frontend.open(closed_gateway, token)
    mark = closed_gateway.log_mark()

    await frontend.page.click("#start")
    await frontend.wait_for("#timer[data-outcome]")

    assert await frontend.attribute("#timer", "data-outcome") == "failed"
    assert await frontend.text("#timer") == "TypeError: Failed to fetch"
    log = await closed_gateway.logged(mark, '"OPTIONS /graphql HTTP/1.1" 400')
    assert "POST /graphql" not in log, "the browser sent the mutation anyway"
    assert (await closed_gateway.data(token, RUNNING))["viewer"]["runningTimer"] is None


async def test_a_frontend_on_an_allowed_origin_shows_live_ticks(
    frontend, gateway_allowing_the_frontend
) -> None:
    """The page's graphql-ws client shows a running timer's ticks, then its final tick."""
    gateway = gateway_allowing_the_frontend
    token = gateway.token_for_new_user()
    await frontend.open(gateway, token)
    await frontend.wait_for("#live[data-state=connected]")

    timer = (await gateway.data(token, START, description="Ticking"))["startTimer"]["timer"]
    await frontend.wait_for("#ticks li", count=2)
    await gateway.data(token, STOP, id=timer["id"])
    await frontend.wait_for("#ticks li[data-final=true]")

    ticks = await frontend.ticks()
    elapsed = [int(tick["elapsed"]) for tick in ticks]
    assert elapsed == sorted(elapsed) and elapsed[-1] >= 1, ticks
    assert [tick["final"] for tick in ticks] == ["false"] * (len(ticks) - 1) + ["true"]
    assert (await frontend.text("#ticks li:last-child")).endswith("Ticking (stopped)")
    assert await frontend.attribute("#live", "data-state") == "connected", frontend.problems


async def test_a_frontend_on_an_unlisted_origin_gets_no_websocket(
    frontend, frontend_origin, closed_gateway
) -> None:
    """Without the origin listed, the gateway refuses the websocket handshake."""
    token = closed_gateway.token_for_new_user()
    mark = closed_gateway.log_mark()
    await frontend.open(closed_gateway, token)
    await frontend.wait_for("#live[data-state=failed][data-code]")

    # A refused handshake reaches the page as an abnormal close: 1006.
    assert await frontend.text("#live") == "closed (1006)"
    await closed_gateway.logged(mark, f"refused a websocket from origin '{frontend_origin}'")
    assert await frontend.ticks() == []
