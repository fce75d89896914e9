"""Two real ``timergate serve`` processes on one PostgreSQL and one Redis, as
``deploy/docker-compose.yml`` runs them: what is done through one gateway, the other shows.

Each test gets a schema of its own in the PostgreSQL database and a Redis namespace of its
own; without either server the tests skip with the reason (under ``CI=true`` they fail).
Ticks and events arrive on websockets, as a browser behind the load balancer gets them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.live.live_support import EVENTS, TICKS, Person, Socket

from fresh_stores import fresh_store_url
from services import broker_url
from serving import create_tokens, free_port, timergate_serve

TIMER_FIELDS = "id state version description entry { id }"
START = f"""
mutation Start($input: StartTimerInput!) {{
  startTimer(input: $input) {{ timer {{ {TIMER_FIELDS} }} pausedTimers {{ id }} }}
}}
"""
PAUSE = f"mutation($id: ID!) {{ pauseTimer(input: {{id: $id}}) {{ timer {{ {TIMER_FIELDS} }} }} }}"
UPDATE = f"""
mutation($id: ID!, $description: String) {{
  updateTimer(input: {{id: $id, description: $description}}) {{ timer {{ {TIMER_FIELDS} }} }}
}}
"""
STOP = f"""
mutation($id: ID!) {{
  stopTimer(input: {{id: $id}}) {{ timer {{ {TIMER_FIELDS} }} entry {{ id durationSeconds }} }}
}}
"""
ENTRY = """
mutation { createTimeEntry(input: {startedAt: "2026-01-05T09:00:00Z", durationSeconds: 60}) {
  entry { id } } }
"""
RUNNING = "{ runningTimers { id } }"
EVERYTHING = f"""{{
  timers(first: 100) {{ nodes {{ {TIMER_FIELDS} }} }}
  timeEntries(first: 100) {{ nodes {{ id durationSeconds timer {{ id }} }} }}
}}"""
VIEWER = "{ viewer { name } }"


@dataclass(frozen=True)
class Server:
    """One running gateway process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@dataclass
class Deployment:
    """A fresh PostgreSQL schema and Redis namespace, and the gateways started on them."""

    database_url: str
    broker_url: str
    directory: Path
    stack: ExitStack = field(default_factory=ExitStack)

    def start(self, name: str, **environment: str) -> Server:
        """Start gateway ``name`` on the shared store and broker (stopped after the test)."""
        port = free_port()
        env = {
            "TIMERGATE_BROKER_URL": self.broker_url,
            # The tests' clients send faster than any person: no rate limit gets in the way.
            "TIMERGATE_RATE_LIMIT_PER_TOKEN": "off",
            **environment,
        }
        process = self.stack.enter_context(
            timergate_serve(
                port, self.database_url, self.directory / f"{name}.log", environment=env
            )
        )
        return Server(name, port, process)

    def tokens(self, *names: str) -> list[str]:
        return create_tokens(self.database_url, *names)


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    broker = broker_url("redis")
    async with fresh_store_url("postgresql", tmp_path) as database:
        shared = Deployment(database, broker, tmp_path)
        with shared.stack:
            yield shared


@pytest.fixture
async def clients() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """An HTTP client per gateway base URL, made on first use."""
    made: dict[str, httpx.AsyncClient] = {}
    yield made
    for client in made.values():
        await client.aclose()


def person(clients: dict[str, httpx.AsyncClient], server: Server, token: str) -> Person:
    """The token's user, sending requests to ``server``."""
    if server.base_url not in clients:
        clients[server.base_url] = httpx.AsyncClient(base_url=server.base_url, timeout=10)
    return Person(server.name, token, clients[server.base_url])


async def next_event(socket: Socket) -> dict[str, Any]:
    event: dict[str, Any] = (await socket.next("events"))["timerEvents"]
    return event


async def next_tick_of(socket: Socket, timer_id: str) -> dict[str, Any]:
    """The next tick of ``timer_id`` (ticks of other timers are skipped)."""
    while True:
        tick: dict[str, Any] = (await socket.next("ticks"))["timerTicks"]
        if tick["timer"]["id"] == timer_id:
            return tick


async def listening(socket: Socket, user: Person) -> None:
    """Subscribe ``timerTicks`` and ``timerEvents`` as ``user``, and return once events reach
    the subscription: a change made through the user's gateway has arrived."""
    await socket.open(user)
    await socket.subscribe("ticks", TICKS)
    await socket.subscribe("events", EVENTS)
    # The server does not say when a subscription is listening: make changes until one
    # arrives (one made before it listened is not delivered to it).
    for _ in range(3):
        await user.data(ENTRY)
        try:
            event = await next_event(socket)
        except AssertionError:
            continue
        assert event["type"] == "ENTRY_CREATED"
        return
    raise AssertionError(f"the subscription never got an event (close code {socket.ws.close_code})")


async def test_a_subscriber_on_b_sees_ticks_and_events_of_a_timer_started_on_a(
    deployment: Deployment, clients: dict[str, httpx.AsyncClient]
) -> None:
    """Start and pause through A; B's websocket subscriber gets both events, ticks while the
    timer runs (computed by B), and the final tick of the pause."""
    a, b = deployment.start("a"), deployment.start("b")
    (token,) = deployment.tokens("alice")
    on_a, on_b = person(clients, a, token), person(clients, b, token)
    async with Socket.connect(b.ws_url) as socket:
        await listening(socket, on_b)
        # A change through A reaches B's subscriber.
        await on_a.data(ENTRY)
        assert (await next_event(socket))["type"] == "ENTRY_CREATED"

        timer_id = await on_a.start("across instances")
        started = await next_event(socket)
        assert (started["type"], started["timer"]["id"]) == ("STARTED", timer_id)
        first = await next_tick_of(socket, timer_id)
        later = await next_tick_of(socket, timer_id)
        assert not first["final"] and not later["final"]
        assert later["elapsedSeconds"] > first["elapsedSeconds"]
        assert later["timer"]["state"] == "RUNNING"

        await on_a.pause(timer_id)
        paused = await next_event(socket)
        assert (paused["type"], paused["timer"]["state"]) == ("PAUSED", "PAUSED")
        while not (tick := await next_tick_of(socket, timer_id))["final"]:
            pass
        assert tick["timer"]["state"] == "PAUSED"


async def test_concurrent_starts_on_a_and_b_leave_one_running_timer(
    deployment: Deployment, clients: dict[str, httpx.AsyncClient]
) -> None:
    """Starts and resumes of one user, sent at once half to A and half to B, all succeed and
    leave exactly one running timer, which both gateways report."""
    a, b = deployment.start("a"), deployment.start("b")
    (token,) = deployment.tokens("alice")
    gateways = [person(clients, a, token), person(clients, b, token)]
    started: list[str] = []
    for round_ in range(3):
        starts = [gateways[n % 2].start(f"round {round_} start {n}") for n in range(10)]
        # Resumes of timers paused in earlier rounds race the new starts.
        resumes = [gateways[n % 2].resume(timer_id) for n, timer_id in enumerate(started[:4])]
        results = await asyncio.gather(*starts, *resumes)
        started += [r for r in results if r is not None]

        running = [(await g.data(RUNNING))["runningTimers"] for g in gateways]
        assert running[0] == running[1]
        assert len(running[0]) == 1, running[0]
    timers = (await gateways[1].data(EVERYTHING))["timers"]["nodes"]
    assert len(timers) == 30
    assert sorted(t["state"] for t in timers) == ["PAUSED"] * 29 + ["RUNNING"]


# kill -9 of A mid-traffic.

LOAD_CLIENTS = 4
#: A is killed once this many of the clients' mutations have been acknowledged in all.
KILL_AFTER = 40
#: Mutations each client has acknowledged by B afterwards.
AFTER_KILL = 8


@dataclass
class Unanswered:
    """A request sent and never answered: it may or may not have been applied."""

    target: str | None
    description: str | None


@dataclass
class LoadClient:
    """One user sending mutations one after another: start a timer, pause, resume, rename,
    stop; then the next. It remembers what each acknowledged answer said.

    It sends to A until A stops answering, then to B (as a load balancer would).
    """

    number: int
    token: str
    servers: list[Server]
    timers: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    unanswered: list[Unanswered] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)
    _current: str | None = None
    _step: int = 0

    def _next(self) -> tuple[str, dict[str, Any], str | None, str | None]:
        """(query, variables, the timer it acts on, the description of one it creates)."""
        self._step += 1
        if self._current is None:
            description = f"client {self.number} timer {self._step}"
            return START, {"input": {"description": description}}, None, description
        target = self._current
        state = self.timers[target]["state"]
        if state == "PAUSED":
            return START, {"input": {"timerId": target}}, target, None
        choice = self._step % 4
        if choice == 0:
            return PAUSE, {"id": target}, target, None
        if choice == 1:
            return UPDATE, {"id": target, "description": f"renamed {self._step}"}, target, None
        return STOP, {"id": target}, target, None

    def _record(self, data: dict[str, Any]) -> None:
        (payload,) = data.values()
        timer = payload["timer"]
        self.timers[timer["id"]] = timer
        self._current = None if timer["state"] == "STOPPED" else timer["id"]
        if payload.get("entry"):
            self.entries[payload["entry"]["id"]] = payload["entry"]["durationSeconds"]

    async def run(self, kill_a: asyncio.Event, acknowledged: list[int]) -> None:
        server = self.servers[0]
        async with httpx.AsyncClient(timeout=10) as http:
            while self.acknowledged.get("b", 0) < AFTER_KILL:
                query, variables, target, creates = self._next()
                while True:
                    try:
                        response = await http.post(
                            f"{server.base_url}/graphql",
                            json={"query": query, "variables": variables},
                            headers={"Authorization": f"Bearer {self.token}"},
                        )
                    except httpx.ConnectError:
                        # Nothing was sent: A is gone. Send it to B.
                        server = self.servers[1]
                        continue
                    except httpx.TransportError:
                        # Sent, never answered: its outcome is unknown. Leave that timer be.
                        self.unanswered.append(Unanswered(target, creates))
                        self._current = None
                        server = self.servers[1]
                        response = None
                    break
                if response is None:
                    continue
                body = response.json()
                assert "errors" not in body, (server.name, query, body)
                self._record(body["data"])
                self.acknowledged[server.name] = self.acknowledged.get(server.name, 0) + 1
                acknowledged[0] += 1
                if acknowledged[0] >= KILL_AFTER:
                    kill_a.set()

    async def check(self, on_b: Person) -> None:
        """Everything acknowledged is there, as acknowledged, read through B."""
        everything = await on_b.data(EVERYTHING)
        timers = {t["id"]: t for t in everything["timers"]["nodes"]}
        entries = {e["id"]: e for e in everything["timeEntries"]["nodes"]}
        uncertain = {u.target for u in self.unanswered}
        for timer_id, last in self.timers.items():
            if timer_id in uncertain:
                assert timer_id in timers, (self.number, last)
                continue
            assert timers.get(timer_id) == last, (self.number, last, timers.get(timer_id))
        for entry_id, duration in self.entries.items():
            assert entries[entry_id]["durationSeconds"] == duration, (self.number, entry_id)
        # Nothing half done: a stopped timer has its entry; one timer runs at most.
        for timer in timers.values():
            assert (timer["state"] == "STOPPED") == (timer["entry"] is not None), timer
        assert sum(t["state"] == "RUNNING" for t in timers.values()) <= 1
        # A creation never answered is there once or not at all.
        for lost in self.unanswered:
            if lost.description is not None:
                made = [t for t in timers.values() if t["description"] == lost.description]
                assert len(made) <= 1, made


async def test_killing_a_loses_nothing_acknowledged_and_b_keeps_serving(
    deployment: Deployment, clients: dict[str, httpx.AsyncClient]
) -> None:
    """SIGKILL A under traffic: every change A acknowledged reads back from B, the clients go
    on through B, and a subscriber of A reconnects to B and sees its timer tick and change."""
    a, b = deployment.start("a"), deployment.start("b")
    alice, *tokens = deployment.tokens("alice", *(f"load{n}" for n in range(LOAD_CLIENTS)))
    alice_on_a, alice_on_b = person(clients, a, alice), person(clients, b, alice)
    load = [LoadClient(n, token, [a, b]) for n, token in enumerate(tokens)]
    kill_a = asyncio.Event()
    acknowledged = [0]

    async with Socket.connect(a.ws_url) as on_a:
        await listening(on_a, alice_on_a)
        timer_id = await alice_on_a.start("running when A dies")
        assert (await next_event(on_a))["type"] == "STARTED"
        await next_tick_of(on_a, timer_id)

        running = [asyncio.create_task(c.run(kill_a, acknowledged)) for c in load]
        await kill_a.wait()
        a.process.kill()
        assert (await on_a.closed())[0] == 1006  # no close frame: the process is gone
        async with asyncio.timeout(30):
            await asyncio.gather(*running)

    async with Socket.connect(b.ws_url) as on_b:
        await listening(on_b, alice_on_b)
        tick = await next_tick_of(on_b, timer_id)
        assert (tick["final"], tick["timer"]["state"]) == (False, "RUNNING")
        await alice_on_b.pause(timer_id)
        paused = await next_event(on_b)
        assert (paused["type"], paused["timer"]["id"]) == ("PAUSED", timer_id)

    assert sum(c.acknowledged.get("a", 0) for c in load) >= KILL_AFTER - LOAD_CLIENTS
    for client in load:
        await client.check(person(clients, b, client.token))
        assert client.acknowledged["b"] == AFTER_KILL


async def test_a_token_revoked_with_the_gateways_settings_is_refused_by_both_at_once(
    deployment: Deployment, clients: dict[str, httpx.AsyncClient]
) -> None:
    """``timergate token revoke`` run with the gateways' settings reaches both through the
    broker: B answers 401 and both close the token's websockets with 4403, though neither
    looks at the revocation log or forgets a cached token within the hour."""
    slow = {"TIMERGATE_REVOCATION_POLL_SECONDS": "3600", "TIMERGATE_TOKEN_CACHE_SECONDS": "3600"}
    a, b = deployment.start("a", **slow), deployment.start("b", **slow)
    token, other = deployment.tokens("alice", "bob")
    alice_on_a, alice_on_b = person(clients, a, token), person(clients, b, token)
    async with Socket.connect(a.ws_url) as on_a, Socket.connect(b.ws_url) as on_b:
        await listening(on_a, alice_on_a)
        await listening(on_b, alice_on_b)  # B has the token in its cache now

        revoke = [sys.executable, "-m", "timergate", "token", "revoke", token]
        env = {"TIMERGATE_DATABASE_URL": deployment.database_url}
        env["TIMERGATE_BROKER_URL"] = deployment.broker_url
        done = await asyncio.to_thread(_run, revoke, env)
        assert done.returncode == 0, done.stderr

        assert await on_b.closed() == (4403, "Forbidden: the token was revoked")
        assert await on_a.closed() == (4403, "Forbidden: the token was revoked")
    response = await alice_on_b.http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert (await person(clients, b, other).data(VIEWER))["viewer"]["name"] == "bob"


def _run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMERGATE_")}
    return subprocess.run(
        command,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
