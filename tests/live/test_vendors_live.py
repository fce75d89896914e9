"""Every vendor through real processes: `timergate fake VENDOR` and `timergate serve`; a user
connects with what the fake printed, starts a timer, watches it tick over a websocket, and
stops it into an entry. (Noko and Accelo have fuller end-to-end tests of their own.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_support import TICKS, LiveServer, Person, Socket, running_server

from serving import timergate_fake
from timergate.vault import new_key

#: Each vendor: how connectProvider names its credentials.
VENDORS = {"ftrack": "ftrack", "seventime": "sevenTime", "worksection": "worksection"}

CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id status } }
}
"""
STOP = """
mutation Stop($id: ID!) { stopTimer(input: {id: $id}) { timer { state } entry { id provider } } }
"""


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, dict[str, Any]]]:
    with ExitStack() as stack:
        yield {vendor: stack.enter_context(timergate_fake(vendor)) for vendor in VENDORS}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, fakes: dict[str, dict[str, Any]]
) -> Iterator[LiveServer]:
    with running_server(
        tmp_path_factory.mktemp("vendors-live"),
        TIMERGATE_ALLOWED_UPSTREAMS=",".join(f["base_url"] for f in fakes.values()),
        TIMERGATE_SECRET_KEY=new_key(),
    ) as live:
        yield live


@pytest.mark.parametrize("vendor", sorted(VENDORS))
async def test_a_vendor_timer_ticks_over_a_websocket_and_stops_into_an_entry(
    vendor: str, server: LiveServer, fakes: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Connect, start on the fake's seeded context, see ticks, stop: the time is an entry."""
    fake = fakes[vendor]
    (token,) = server.create_tokens(f"{vendor}-user")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        person = Person(vendor, token, http)
        connected = await person.data(
            CONNECT,
            input={
                "baseUrl": fake["base_url"],
                "credentials": {VENDORS[vendor]: fake["credentials"]},
            },
        )
        key = connected["connectProvider"]["connection"]["id"]
        timer_id = await person.start(provider=key, context=fake["seed"]["context"])
        async with Socket.connect(server.ws_url) as socket:
            await socket.open(person)
            await socket.subscribe("ticks", TICKS, timerId=timer_id)
            tick = (await socket.next("ticks", within=5))["timerTicks"]
            assert tick["timer"]["id"] == timer_id and tick["timer"]["provider"] == key
            assert tick["timer"]["state"] == "RUNNING"
            stopped = await person.data(STOP, id=timer_id)
            assert stopped["stopTimer"]["timer"]["state"] == "STOPPED"
            # Ticks go on while the stop is under way (a paced vendor takes seconds), then the
            # final one.
            for _ in range(30):
                final = (await socket.next("ticks", within=5))["timerTicks"]
                if final["final"]:
                    break
            assert final["final"] is True
    entry = stopped["stopTimer"]["entry"]
    assert entry is not None and entry["provider"] == key
