"""Killed with SIGKILL mid-traffic, again and again, the store loses nothing it acknowledged.

Several clients (four users of their own, two sharing a fifth) send about a thousand
mutations to a real ``timergate serve``. The server is killed with SIGKILL at random moments
and restarted on the same SQLite file. Each client remembers what was acknowledged and which
requests died unanswered. Afterwards: every acknowledged change is there, nothing
unacknowledged is half there (a stop without its entry, an entry without its stopped timer),
no user has two running timers, and SQLite's integrity check passes.

Every client touches only objects it created, and stops touching one once a request about it
went unanswered (its outcome is unknown), so what it remembers stays exact.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from serving import create_tokens, free_port, timergate_serve

MUTATIONS = 1000
KILLS = 6
OWN_USERS = 4
SHARING_CLIENTS = 2

TIMER_FIELDS = "id state description version entry { id }"
ENTRY_FIELDS = "id description version durationSeconds timer { id }"
START = (
    "mutation($i: StartTimerInput!) { startTimer(input: $i) { "
    f"timer {{ {TIMER_FIELDS} }} pausedTimers {{ {TIMER_FIELDS} }} }} }}"
)
PAUSE = (
    f"mutation($i: PauseTimerInput!) {{ pauseTimer(input: $i) {{ timer {{ {TIMER_FIELDS} }} }} }}"
)
STOP = f"mutation($i: StopTimerInput) {{ stopTimer(input: $i) {{ timer {{ {TIMER_FIELDS} }} }} }}"
UPDATE = (
    f"mutation($i: UpdateTimerInput!) {{ updateTimer(input: $i) {{ timer {{ {TIMER_FIELDS} }} }} }}"
)
CANCEL = "mutation($i: CancelTimerInput!) { cancelTimer(input: $i) { id } }"
CREATE_ENTRY = f"mutation($i: CreateTimeEntryInput!) {{ createTimeEntry(input: $i) {{ entry {{ {ENTRY_FIELDS} }} }} }}"
UPDATE_ENTRY = f"mutation($i: UpdateTimeEntryInput!) {{ updateTimeEntry(input: $i) {{ entry {{ {ENTRY_FIELDS} }} }} }}"
DELETE_ENTRY = "mutation($i: DeleteTimeEntryInput!) { deleteTimeEntry(input: $i) { id } }"
TIMERS_PAGE = f"""query($after: String) {{
  timers(first: 100, after: $after) {{
    nodes {{ {TIMER_FIELDS} elapsedSeconds entry {{ id durationSeconds timer {{ id }} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
ENTRIES_PAGE = f"""query($after: String) {{
  timeEntries(first: 100, after: $after) {{
    nodes {{ {ENTRY_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


class Server:
    """The server's lifecycle as the clients see it: up (with a base URL) or down."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.base = ""
        self.sent = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def take_turn(self) -> bool:
        """Count one more mutation about to be sent; False once enough have been."""
        with self.lock:
            if self.sent >= MUTATIONS:
                self.done.set()
                return False
            self.sent += 1
            return True


@dataclass
class Tracked:
    """What a client knows of one object it created, from acknowledged answers only."""

    kind: str  # "timer" or "entry"
    last: dict[str, Any]  # the object as the last acknowledged answer showed it
    gone: bool = False  # an acknowledged cancel or delete
    uncertain: bool = False  # a request about it went unanswered
    #: Something this client did not see an answer to may have paused it: a start or resume
    #: that went unanswered, or (for a shared user) the other client's.
    may_be_paused: bool = False


@dataclass
class Client:
    name: str
    token: str
    shares_user: bool
    rng: random.Random
    objects: dict[str, Tracked] = field(default_factory=dict)
    #: Descriptions of creations whose answer never came: they may or may not exist.
    unanswered_creations: set[str] = field(default_factory=set)
    #: Every description this client ever sent.
    descriptions: set[str] = field(default_factory=set)
    acknowledged: int = 0
    unanswered: int = 0
    refused: list[Any] = field(default_factory=list)
    counter: int = 0

    def label(self) -> str:
        self.counter += 1
        text = f"{self.name}-{self.counter}"
        self.descriptions.add(text)
        return text

    def live(self, kind: str, *states: str) -> list[str]:
        return [
            key
            for key, obj in self.objects.items()
            if obj.kind == kind
            and not obj.gone
            and not obj.uncertain
            and (not states or obj.last.get("state") in states)
        ]

    def next_mutation(self) -> tuple[str, dict[str, Any], str | None, str | None]:
        """(query, input, id of the object it acts on, description of what it creates)."""
        open_timers = self.live("timer", "RUNNING", "PAUSED")
        entries = [k for k in self.live("entry") if self.objects[k].last["timer"] is None]
        choices = ["start", "entry"]
        if open_timers:
            choices += ["pause", "resume", "stop", "stop", "update", "cancel"]
        if entries:
            choices += ["edit_entry", "delete_entry"]
        action = self.rng.choice(choices)
        if action == "start":
            text = self.label()
            return START, {"description": text}, None, text
        if action == "entry":
            text = self.label()
            return (
                CREATE_ENTRY,
                {"startedAt": "2026-01-05T09:00:00Z", "durationSeconds": 60, "description": text},
                None,
                text,
            )
        if action in {"edit_entry", "delete_entry"}:
            target = self.rng.choice(entries)
            if action == "delete_entry":
                return DELETE_ENTRY, {"id": target}, target, None
            return UPDATE_ENTRY, {"id": target, "description": self.label()}, target, None
        target = self.rng.choice(open_timers)
        if action == "pause":
            return PAUSE, {"id": target}, target, None
        if action == "resume":
            return START, {"timerId": target}, target, None
        if action == "stop":
            return STOP, {"id": target}, target, None
        if action == "cancel":
            return CANCEL, {"id": target}, target, None
        return UPDATE, {"id": target, "description": self.label()}, target, None

    def _remember(self, kind: str, obj: dict[str, Any]) -> None:
        tracked = self.objects.setdefault(obj["id"], Tracked(kind, obj))
        tracked.last = obj
        tracked.may_be_paused = self.shares_user

    def record(self, target: str | None, data: dict[str, Any]) -> None:
        """Remember what an acknowledged answer says."""
        (payload,) = data.values()
        if "timer" in payload:
            self._remember("timer", payload["timer"])
            for paused in payload.get("pausedTimers", []):
                if paused["id"] in self.objects:  # not the other client's, for a shared user
                    self._remember("timer", paused)
        elif "entry" in payload:
            self._remember("entry", payload["entry"])
        else:  # cancel or delete: the object is gone
            assert target is not None
            self.objects[target].gone = True

    def lost_answer(self, query: str, target: str | None, creates: str | None) -> None:
        """A request went out and no answer came back: it may or may not have been applied."""
        self.unanswered += 1
        if target is not None:
            self.objects[target].uncertain = True
        if creates is not None:
            self.unanswered_creations.add(creates)
        if query == START:  # a start or resume pauses whatever ran
            for key in self.live("timer", "RUNNING"):
                self.objects[key].may_be_paused = True

    def run(self, server: Server) -> None:
        http = httpx.Client(timeout=10.0)
        try:
            while server.take_turn():
                query, values, target, creates = self.next_mutation()
                while True:
                    server.up.wait()
                    try:
                        response = http.post(
                            f"{server.base}/graphql",
                            json={"query": query, "variables": {"i": values}},
                            headers={"Authorization": f"Bearer {self.token}"},
                        )
                        break
                    except httpx.ConnectError:
                        # Nothing was sent; the server is down. Send it again once it is up.
                        http.close()
                        http = httpx.Client(timeout=10.0)
                        time.sleep(0.01)
                    except httpx.TransportError:
                        self.lost_answer(query, target, creates)
                        http.close()
                        http = httpx.Client(timeout=10.0)
                        response = None
                        break
                if response is None:
                    continue
                body = response.json() if response.status_code == 200 else None
                if body is None or body.get("errors"):
                    self.refused.append((query, values, response.status_code, response.text))
                    continue
                self.acknowledged += 1
                self.record(target, body["data"])
        finally:
            http.close()


def _pages(base: str, token: str, query: str, key: str) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": query, "variables": {"after": after}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
        body = response.json()
        assert "errors" not in body, body
        page = body["data"][key]
        yield from page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def _check_user(base: str, clients: list[Client], seed: int) -> None:
    """One user's objects after all the crashes, against what their clients remember."""
    token = clients[0].token
    timers = {t["id"]: t for t in _pages(base, token, TIMERS_PAGE, "timers")}
    entries = {e["id"]: e for e in _pages(base, token, ENTRIES_PAGE, "timeEntries")}
    why = f"(seed {seed}, user of {[c.name for c in clients]})"

    # Nothing half applied: a stopped timer and its entry exist together, linked both ways,
    # and the entry records the time the timer ran; an open timer has no entry.
    for timer in timers.values():
        entry = timer["entry"]
        if timer["state"] == "STOPPED":
            assert entry is not None, (timer, why)
            assert entry["timer"] == {"id": timer["id"]}, (timer, why)
            assert entry["durationSeconds"] == timer["elapsedSeconds"], (timer, why)
            assert entry["id"] in entries, (timer, why)
        else:
            assert entry is None, (timer, why)
    for entry in entries.values():
        if entry["timer"] is not None:
            timer = timers.get(entry["timer"]["id"])
            assert timer is not None and timer["state"] == "STOPPED", (entry, why)
            assert timer["entry"]["id"] == entry["id"], (entry, why)
    assert sum(t["state"] == "RUNNING" for t in timers.values()) <= 1, why

    # Only what was sent exists: every description is one a client of this user sent.
    sent = set().union(*(c.descriptions for c in clients))
    for obj in [*timers.values(), *entries.values()]:
        assert obj["description"] in sent, (obj, why)

    # Every acknowledged change is there, as acknowledged (or moved on by an unanswered one).
    for client in clients:
        for key, tracked in client.objects.items():
            found = (timers if tracked.kind == "timer" else entries).get(key)
            if tracked.gone:
                assert found is None, (key, why)
                continue
            if tracked.uncertain:
                continue
            assert found is not None, (key, tracked.last, why)
            last = tracked.last
            assert found["description"] == last["description"], (found, last, why)
            if tracked.kind == "entry":
                assert found["version"] == last["version"], (found, last, why)
            elif tracked.may_be_paused and last["state"] != "STOPPED":
                assert found["version"] >= last["version"], (found, last, why)
                assert found["state"] in {"RUNNING", "PAUSED"}, (found, last, why)
            else:
                assert (found["version"], found["state"]) == (last["version"], last["state"]), (
                    found,
                    last,
                    why,
                )
        # A creation never answered is there or not, but only once.
        for text in client.unanswered_creations:
            assert sum(o["description"] == text for o in [*timers.values(), *entries.values()]) <= 1


def test_acknowledged_mutations_survive_repeated_sigkills(tmp_path: Path) -> None:
    """Crash after crash, the SQLite file keeps every acknowledged mutation whole, nothing
    unacknowledged in part, one running timer per user at most, and its integrity."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    path = tmp_path / "crash.db"
    database = f"sqlite:///{path}"
    names = [f"user{n}" for n in range(OWN_USERS)] + ["shared"] * SHARING_CLIENTS
    tokens = create_tokens(database, *names)
    clients = [
        Client(f"c{n}", token, name == "shared", random.Random(rng.randrange(2**32)))
        for n, (name, token) in enumerate(zip(names, tokens, strict=True))
    ]
    # Kill when these many mutations have been handed out, a little after, mid-request.
    kill_points = sorted(rng.sample(range(50, MUTATIONS - 50), KILLS))

    server = Server()
    threads = [threading.Thread(target=c.run, args=(server,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for run, kill_at in enumerate([*kill_points, None]):
        port = free_port()
        with timergate_serve(port, database, tmp_path / f"server-{run}.log", crash=True):
            server.base = f"http://127.0.0.1:{port}"
            server.up.set()
            if kill_at is None:
                server.done.wait(timeout=120)
                for thread in threads:
                    thread.join(timeout=60)
                break
            while server.sent < kill_at and any(t.is_alive() for t in threads):
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.02))
            server.up.clear()
        # Left the block: the server was killed with SIGKILL, mid-traffic.
    assert not any(t.is_alive() for t in threads), f"clients still running (seed {seed})"

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []

    port = free_port()
    with timergate_serve(port, database, tmp_path / "server-check.log"):
        base = f"http://127.0.0.1:{port}"
        for name in dict.fromkeys(names):
            _check_user(base, [c for c, n in zip(clients, names, strict=True) if n == name], seed)

    refused = [r for c in clients for r in c.refused]
    assert refused == [], f"mutations refused (seed {seed}): {refused[:3]}"
    assert sum(c.acknowledged for c in clients) > MUTATIONS // 2, seed
    assert sum(c.unanswered for c in clients) <= KILLS * len(clients), seed
