"""Several gateway instances and one user's vendor connections: one instance polls the
vendor for changes made in its own app, renewed credentials reach every instance, and a
cached list of connections does not outlive a lost notice for long."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from instances import Instance, instance, new_user
from services import broker_url
from timergate.config import Settings
from timergate.domain import ManualClock
from timergate.domain.connections import ConnectionStatus
from timergate.domain.control import ConnectionsChanged, ControlMessage
from timergate.domain.events import TimerEvent, TimerEventType, user_channel
from timergate.fakes.accelo import AcceloFake
from timergate.fakes.accelo import create_fake as create_accelo
from timergate.fakes.base import Fake
from timergate.fakes.noko import NokoFake
from timergate.fakes.noko import create_fake as create_noko
from timergate.vault import new_key

CONNECT = """
mutation Connect($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id status } }
}
"""
RUNNING = "{ runningTimers { id } }"
CONNECTIONS = "{ viewer { connections { id status } } }"
START = """
mutation Start($input: StartTimerInput!) { startTimer(input: $input) { timer { id } } }
"""
PAUSE = "mutation Pause($id: ID!) { pauseTimer(input: {id: $id}) { timer { state } } }"
RESUME = """
mutation Resume($input: StartTimerInput!) { startTimer(input: $input) { timer { id } } }
"""
TIMERS_PATH = "/v2/timers"
ACCELO_URL = "http://timergate-demo.api.accelo.test"


class VendorWire(httpx.AsyncBaseTransport):
    """One instance's way to a fake vendor, counting the requests by path."""

    def __init__(self, fake: Fake) -> None:
        self._app = httpx.ASGITransport(app=fake.app)
        self.sent: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent[request.url.path] += 1
        return await self._app.handle_async_request(request)


@pytest.fixture(params=["redis", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """One store and one broker for every instance, and a key to seal credentials with."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'shared.db'}",
        broker_url=broker_url(request.param),
        access_log=False,
        secret_key=new_key(),
        allowed_upstreams=(ACCELO_URL,),
        upstream_pacing=False,
        poll_interval_seconds=0.05,
    )


async def until(condition: Callable[[], bool]) -> None:
    """Wait (a bounded while) for something the gateways do in the background."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it did not happen")


# One poller per user.


class Watching:
    """Two instances whose pollers both watch alice's Noko connection, and the events a
    subscriber of alice hears on each instance."""

    def __init__(self, noko: NokoFake, wires: dict[str, VendorWire]) -> None:
        self.noko = noko
        self.wires = wires
        self.heard: dict[str, list[TimerEvent]] = {name: [] for name in wires}
        self.robin = noko.account.user_for_token(noko.seeded.token)
        self.project = noko.seeded.projects[0].id
        self.instances: dict[str, Instance] = {}
        self.token = ""

    def looks(self, name: str | None = None) -> int:
        """Polls of Noko's timers made so far (by one instance, or all)."""
        names = [name] if name else list(self.wires)
        return sum(self.wires[n].sent[TIMERS_PATH] for n in names)

    async def more_looks(self, name: str | None = None, count: int = 6) -> None:
        """Wait until ``count`` more looks have been made: changes had time to be seen."""
        then = self.looks(name)
        await until(lambda: self.looks(name) >= then + count)

    def published(self, name: str) -> list[TimerEventType]:
        """What a subscriber of alice on instance ``name`` has heard."""
        return [e.type for e in self.heard[name]]


@pytest.fixture
async def watching(settings: Settings) -> AsyncIterator[tuple[Watching, str, AsyncExitStack]]:
    """Alice's subscribers on both instances; which instance polls her, and a way to stop it."""
    noko = create_noko()
    wires = {name: VendorWire(noko) for name in "ab"}
    state = Watching(noko, wires)
    stacks = {name: AsyncExitStack() for name in "ab"}
    async with stacks["a"], stacks["b"]:
        instances = {
            name: await stacks[name].enter_async_context(
                instance(settings, upstream_transport=wires[name])
            )
            for name in "ab"
        }
        user, token = await new_user(instances["a"].gateway, "alice")
        state.instances, state.token = instances, token
        given = {"noko": {"token": noko.seeded.token}}
        await instances["a"].data(token, CONNECT, input={"credentials": given})
        for name, at in instances.items():
            await at.gateway.broker.subscribe(user_channel(user.id), state.heard[name].append)
            await at.gateway.poller.watch(user)
        await until(lambda: state.looks() >= 2)  # the first look learned what is there
        polling = "a" if state.looks("a") else "b"
        yield state, polling, stacks[polling]


async def test_a_change_in_the_vendors_app_is_published_once_however_many_instances_listen(
    watching: tuple[Watching, str, AsyncExitStack],
) -> None:
    """Both instances have subscribers of alice; a timer started in Noko's own app reaches
    each of them as one STARTED event, not one per instance: only one instance polls her."""
    state, polling, _ = watching
    state.noko.account.start_timer(state.robin, state.project)
    await until(lambda: all(state.heard.values()))
    await state.more_looks()

    assert state.published("a") == state.published("b") == [TimerEventType.STARTED]
    assert state.looks("b" if polling == "a" else "a") == 0, "only one instance polls"


async def test_changes_through_either_instance_are_published_once(
    watching: tuple[Watching, str, AsyncExitStack],
) -> None:
    """Changes to a Noko timer made through one instance and then the other are heard once
    each on both: the polling instance does not mistake the other instance's change (whose
    version that instance counts itself) for one made in Noko's own app."""
    state, polling, _ = watching
    first, second = (polling, "b" if polling == "a" else "a")
    key = (await state.instances[first].data(state.token, CONNECTIONS))["viewer"]["connections"][0][
        "id"
    ]
    context = {"type": "project", "id": str(state.project)}
    started = await state.instances[first].data(
        state.token, START, input={"provider": key, "context": context}
    )
    timer_id = started["startTimer"]["timer"]["id"]
    await state.more_looks(polling)
    await state.instances[first].data(state.token, PAUSE, id=timer_id)
    await state.instances[first].data(state.token, RESUME, input={"timerId": timer_id})
    await state.more_looks(polling)
    await state.instances[second].data(state.token, PAUSE, id=timer_id)
    await state.more_looks(polling)

    expected = [
        TimerEventType.STARTED,
        TimerEventType.PAUSED,
        TimerEventType.RESUMED,
        TimerEventType.PAUSED,
    ]
    assert state.published("a") == state.published("b") == expected


async def test_when_the_polling_instance_shuts_down_another_takes_over(
    watching: tuple[Watching, str, AsyncExitStack],
) -> None:
    """The instance that polls alice stops (a deploy): it gives its lease up, the other
    instance polls her from its next look on, and her changes are still published once."""
    state, polling, stop_polling = watching
    other = "b" if polling == "a" else "a"
    assert state.looks(other) == 0
    await stop_polling.aclose()

    await state.more_looks(other, count=2)  # took over; its first look learned
    state.noko.account.start_timer(state.robin, state.project)
    await until(lambda: bool(state.heard[other]))
    await state.more_looks(other)

    assert state.published(other) == [TimerEventType.STARTED]


# Renewed credentials.


async def test_credentials_renewed_through_one_instance_are_used_by_the_others(
    settings: Settings,
) -> None:
    """A renews alice's Accelo token (Accelo retires the old refresh token as it does): B,
    whose open connection held the old pair, opens it again with the new one instead of
    refreshing with a retired token and asking alice to authorise again. A keeps its own."""
    accelo = create_accelo()
    credentials = dict(accelo.describe(ACCELO_URL).credentials)
    async with (
        instance(settings, upstream_transport=VendorWire(accelo)) as a,
        instance(settings, upstream_transport=VendorWire(accelo)) as b,
    ):
        user, token = await new_user(a.gateway, "alice")
        heard = await control_messages(b)
        connected = await a.data(
            token,
            CONNECT,
            input={"baseUrl": ACCELO_URL, "credentials": {"accelo": credentials}},
        )
        key = connected["connectProvider"]["connection"]["id"]
        assert isinstance(await next_message(heard), ConnectionsChanged)  # the new connection
        await b.data(token, RUNNING)  # B has the connection open, with the first token
        renewing = await a.gateway.connections.provider(user, key)

        revoke(accelo, credentials["token"])  # expired on Accelo's side
        await a.data(token, RUNNING)  # A is refused, refreshes, keeps the new pair
        message = await next_message(heard)

        assert isinstance(message, ConnectionsChanged) and message.user_id == user.id
        assert (await b.data(token, RUNNING))["runningTimers"] == []
        assert (await b.data(token, CONNECTIONS))["viewer"]["connections"] == [
            {"id": key, "status": "ACTIVE"}
        ]
        # The instance that renewed keeps its open provider (and what it remembers).
        assert await a.gateway.connections.provider(user, key) is renewing


def revoke(accelo: AcceloFake, token: str) -> None:
    accelo.authority.grants[token].revoked = True


async def control_messages(at: Instance) -> asyncio.Queue[ControlMessage]:
    """Every control message ``at`` hears from now on (after its own listener has acted)."""
    heard: asyncio.Queue[ControlMessage] = asyncio.Queue()
    await at.gateway.broker.subscribe_control(heard.put_nowait)
    return heard


async def next_message(heard: asyncio.Queue[ControlMessage]) -> ControlMessage:
    async with asyncio.timeout(5):
        return await heard.get()


# A lost notice.


async def test_a_cached_list_of_connections_is_read_again_after_a_while(
    settings: Settings,
) -> None:
    """If B misses the notice of a change made elsewhere, it still shows it once its cached
    list is ``connections_cache_seconds`` old: a changed connection's open provider is opened
    again, a removed one is gone."""
    clock = ManualClock()
    noko = create_noko(now=clock.now)
    settings = replace(settings, connections_cache_seconds=60)
    async with (
        instance(settings, clock=clock, upstream_transport=VendorWire(noko)) as a,
        instance(settings, clock=clock, upstream_transport=VendorWire(noko)) as b,
    ):
        user, token = await new_user(a.gateway, "alice")
        heard = await control_messages(b)
        given = {"noko": {"token": noko.seeded.token}}
        await a.data(token, CONNECT, input={"credentials": given})
        await next_message(heard)  # B has acted on the notice of the new connection
        (connection,) = await b.gateway.connections.of(user)
        opened = await b.gateway.connections.provider(user, connection.key)

        # Changed in the store with no notice, as when the broker lost it.
        clock.advance(30)
        await a.gateway.store.update_connection(
            user.id, connection.id, clock.now(), status=ConnectionStatus.AUTH_FAILED
        )
        assert await b.gateway.connections.of(user) == [connection]  # still cached
        clock.advance(31)
        (seen,) = await b.gateway.connections.of(user)
        assert seen.status is ConnectionStatus.AUTH_FAILED
        assert await b.gateway.connections.provider(user, connection.key) is not opened

        assert await a.gateway.store.remove_connection(user.id, connection.id)
        clock.advance(61)
        assert await b.gateway.connections.of(user) == []
