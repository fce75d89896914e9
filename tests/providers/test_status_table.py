"""The README's table of errors is what the gateway answers: every code, both media types.

Each row of the table (code, status for ``application/json``, status for
``application/graphql-response+json``) has scenarios here that make the gateway answer it, run
once with each ``Accept``; the table lists exactly the rows these scenarios produce, and every
code the gateway can answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import HARNESSES, FakeRouter, Forward, connect
from starlette.applications import Starlette
from tests.conftest import GraphQLClient

from timergate.app import create_app
from timergate.config import Settings
from timergate.domain import ManualClock
from timergate.errors import TimergateError
from timergate.fakes.base import Fake
from timergate.graphql.subscription import EventsMissed, SlowConsumer
from timergate.sessions import Session

README = Path(__file__).resolve().parents[2] / "README.md"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

START = "mutation($input: StartTimerInput!) { startTimer(input: $input) { timer { id } } }"
PAUSE = "mutation($input: PauseTimerInput!) { pauseTimer(input: $input) { timer { id } } }"
STOP = "mutation($input: StopTimerInput) { stopTimer(input: $input) { timer { id } } }"
CREATE_ENTRY = (
    "mutation($input: CreateTimeEntryInput!) { createTimeEntry(input: $input) { entry { id } } }"
)
TICKS = "subscription { timerTicks { elapsedSeconds } }"


def readme_rows() -> set[tuple[str, int, int]]:
    """``(code, json status, graphql-response status)`` for each row of the README's table."""
    text = README.read_text()
    table = text[text.index("### Errors") :].split("\n\n| `extensions.code`", 1)[1]
    rows = set()
    for line in table.split("\n\n", 1)[0].splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.add((cells[0].strip("`"), int(cells[2]), int(cells[3])))
    return rows


class Scenes:
    """What the scenarios need: the app, a client per user, the fakes behind the gateway."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        app: Starlette,
        alice: GraphQLClient,
        fakes: dict[str, Fake],
        router: FakeRouter,
        settings: Settings,
        clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.http, self.app, self.alice, self.fakes, self.router = http, app, alice, fakes, router
        self.settings, self.clock, self.monkeypatch = settings, clock, monkeypatch

    async def post(
        self, accept: str, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        auth = {"Authorization": f"Bearer {self.alice.token}"}
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**auth, "Accept": accept, **headers},
        )

    async def timer(self) -> str:
        data = await self.alice.data(START, {"input": {"description": "x"}})
        timer_id: str = data["startTimer"]["timer"]["id"]
        return timer_id

    async def upstream_failure(self, accept: str, status: int) -> httpx.Response:
        """Start a Noko timer while Noko answers ``status``."""
        noko = await connect(self.alice, HARNESSES["noko"], self.fakes)

        async def fail(request: httpx.Request, forward: Forward) -> httpx.Response:
            return httpx.Response(status, headers={"Retry-After": "7"}, json={"message": "no"})

        for _ in range(10):  # whatever retries the adapter makes meet the same answer
            self.router.intercept(lambda r: r.url.host == HARNESSES["noko"].host, fail)
        return await self.post(accept, START, {"input": noko.start_input()})

    async def with_settings(self, accept: str, run: Scene, **changes: Any) -> httpx.Response:
        """``run`` against a second app whose settings differ by ``changes``."""
        settings = replace(
            self.settings,
            database_url=self.settings.database_url.replace(".db", "-other.db"),
            **changes,
        )
        app = create_app(settings, clock=self.clock)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://timergate.test"
            ) as http,
        ):
            from tests.conftest import make_token

            token = await make_token(app.state.gateway, "carol")
            other = Scenes(
                http, app, GraphQLClient(http, token), self.fakes, self.router, settings,
                self.clock, self.monkeypatch,
            )  # fmt: skip
            return await run(other, accept)


Scene = Callable[[Scenes, str], Awaitable[httpx.Response]]


async def _not_json(s: Scenes, accept: str) -> httpx.Response:
    return await s.http.post(
        "/graphql",
        content=b"{not json",
        headers={"Content-Type": "application/json", "Accept": accept},
    )


async def _too_large(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, "{ viewer { name } }" + " " * (1 << 20))


async def _subscription_as_json(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, TICKS)


async def _mutation_over_get(s: Scenes, accept: str) -> httpx.Response:
    return await s.http.get(
        "/graphql",
        params={"query": "mutation { stopTimer { timer { id } } }"},
        headers={"Authorization": f"Bearer {s.alice.token}", "Accept": accept},
    )


async def _put(s: Scenes, accept: str) -> httpx.Response:
    return await s.http.put("/graphql", json={"query": "{ viewer { name } }"})


async def _no_token(s: Scenes, accept: str) -> httpx.Response:
    return await s.http.post(
        "/graphql", json={"query": "{ viewer { name } }"}, headers={"Accept": accept}
    )


async def _wrong_token(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, "{ viewer { name } }", Authorization="Bearer tg_nobody")


async def _rate_limited(s: Scenes, accept: str) -> httpx.Response:
    async def twice(other: Scenes, accept: str) -> httpx.Response:
        await other.post(accept, "{ viewer { name } }")
        return await other.post(accept, "{ viewer { name } }")

    return await s.with_settings(accept, twice, rate_limit_per_token="1/minute")


async def _too_many_connections(s: Scenes, accept: str) -> httpx.Response:
    async def second_stream(other: Scenes, accept: str) -> httpx.Response:
        sessions = other.app.state.sessions
        session = await sessions.authenticate(f"Bearer {other.alice.token}", "127.0.0.1")
        held = sessions.open(Session(session.user, session.token_hash, "127.0.0.1"))
        try:
            return await other.post(f"text/event-stream, {accept}", TICKS)
        finally:
            held.release()

    return await s.with_settings(accept, second_stream, max_connections_per_user=1)


async def _parse_failed(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, "{ viewer {")


async def _validation_failed(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, "{ nonsense }")


async def _variable_of_wrong_type(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, START, {"input": {"tags": 5}})


async def _argument_out_of_range(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, START, {"input": {"description": "x" * 2001}})


async def _not_found(s: Scenes, accept: str) -> httpx.Response:
    return await s.post(accept, PAUSE, {"input": {"id": "VGltZXI6bG9jYWw6OTk5OTk5"}})


async def _invalid_transition(s: Scenes, accept: str) -> httpx.Response:
    timer_id = await s.timer()
    await s.alice.data(STOP, {"input": {"id": timer_id}})
    return await s.post(accept, PAUSE, {"input": {"id": timer_id}})


async def _conflict(s: Scenes, accept: str) -> httpx.Response:
    timer_id = await s.timer()
    return await s.post(accept, PAUSE, {"input": {"id": timer_id, "expectedVersion": 99}})


async def _unsupported(s: Scenes, accept: str) -> httpx.Response:
    seventime = await connect(s.alice, HARNESSES["seventime"], s.fakes)
    entry = {"provider": seventime.key, "startedAt": "2026-01-01T08:00:00Z", "durationSeconds": 60}
    return await s.post(accept, CREATE_ENTRY, {"input": entry})


async def _upstream_auth(s: Scenes, accept: str) -> httpx.Response:
    return await s.upstream_failure(accept, 401)


async def _upstream_rate_limited(s: Scenes, accept: str) -> httpx.Response:
    return await s.upstream_failure(accept, 429)


async def _upstream_unavailable(s: Scenes, accept: str) -> httpx.Response:
    return await s.upstream_failure(accept, 503)


async def _internal(s: Scenes, accept: str) -> httpx.Response:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    with s.monkeypatch.context() as patch:
        patch.setattr(s.app.state.gateway.connections.local, "start", broken)
        return await s.post(accept, START, {"input": {}})


#: (code, status for application/json, status for application/graphql-response+json): scenes.
SCENARIOS: dict[tuple[str, int, int], list[Scene]] = {
    ("BAD_REQUEST", 400, 400): [_not_json],
    ("BAD_REQUEST", 413, 413): [_too_large],
    ("BAD_REQUEST", 200, 400): [_subscription_as_json],
    ("METHOD_NOT_ALLOWED", 405, 405): [_mutation_over_get, _put],
    ("UNAUTHENTICATED", 401, 401): [_no_token, _wrong_token],
    ("RATE_LIMITED", 429, 429): [_rate_limited],
    ("TOO_MANY_CONNECTIONS", 429, 429): [_too_many_connections],
    ("GRAPHQL_PARSE_FAILED", 200, 400): [_parse_failed],
    ("GRAPHQL_VALIDATION_FAILED", 200, 400): [_validation_failed],
    ("BAD_USER_INPUT", 200, 400): [_variable_of_wrong_type],
    ("BAD_USER_INPUT", 200, 200): [_argument_out_of_range],
    ("NOT_FOUND", 200, 200): [_not_found],
    ("INVALID_TRANSITION", 200, 200): [_invalid_transition],
    ("CONFLICT", 200, 200): [_conflict],
    ("UNSUPPORTED_BY_PROVIDER", 200, 200): [_unsupported],
    ("UPSTREAM_AUTH_FAILED", 200, 200): [_upstream_auth],
    ("UPSTREAM_RATE_LIMITED", 200, 200): [_upstream_rate_limited],
    ("UPSTREAM_UNAVAILABLE", 200, 200): [_upstream_unavailable],
    ("INTERNAL_SERVER_ERROR", 200, 200): [_internal],
}

CASES = [
    pytest.param(row, scene, accept, id=f"{row[0]}-{scene.__name__[1:]}-{accept.split('/')[1]}")
    for row, scenes in SCENARIOS.items()
    for scene in scenes
    for accept in (JSON, GRAPHQL_RESPONSE)
]


def test_the_readme_lists_every_code_with_its_statuses() -> None:
    """The README's table has exactly the rows the scenarios below check, and names every code
    of the error hierarchy and of the HTTP layer."""
    assert readme_rows() == set(SCENARIOS)
    codes, pending = set(), [TimergateError]
    while pending:
        kind = pending.pop()
        codes.add(kind.code)
        pending.extend(kind.__subclasses__())
    # The codes that end a subscription rather than answer a request have their own sentence.
    text = " ".join(README.read_text().split())
    sentence = text[text.index("Four codes end a subscription") :].split("re-read.")[0]
    ending = set(re.findall(r"`([A-Z_]+)`", sentence))
    assert ending == {"UNAVAILABLE", "SHUTTING_DOWN", "EVENTS_MISSED", SlowConsumer.code}
    codes |= {EventsMissed.code}
    assert codes <= {code for code, _, _ in readme_rows()} | ending


@pytest.mark.parametrize(("row", "scene", "accept"), CASES)
async def test_each_code_answers_its_status_in_the_type_asked_for(
    row: tuple[str, int, int],
    scene: Scene,
    accept: str,
    http: httpx.AsyncClient,
    app: Starlette,
    alice: GraphQLClient,
    fakes: dict[str, Fake],
    router: FakeRouter,
    settings: Settings,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scenario answers the row's status for its media type, in that media type, with the
    row's code."""
    code, json_status, response_status = row
    scenes = Scenes(http, app, alice, fakes, router, settings, clock, monkeypatch)
    response = await scene(scenes, accept)
    expected_type = accept if scene is not _put else JSON  # a PUT here asks for no type
    assert response.status_code == (json_status if accept == JSON else response_status)
    assert response.headers["content-type"].split(";")[0] == expected_type
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes == [code], response.text
    if code == "UNAUTHENTICATED":
        assert response.headers["www-authenticate"] == "Bearer"
    if code == "RATE_LIMITED":
        assert int(response.headers["retry-after"]) >= 1
    if code == "METHOD_NOT_ALLOWED":
        assert response.headers["allow"] in ("POST", "GET, POST")
    if re.match(r"UPSTREAM_", code):
        assert response.json()["errors"][0]["extensions"]["provider"]
