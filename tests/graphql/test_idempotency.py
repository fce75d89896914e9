"""Idempotency keys: a phone that retries a mutation gets the first answer back, and nothing is
done twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import CREATE_ENTRY, PAUSE, START, STOP, UPDATE_VIEWER
from tests.conftest import GraphQLClient

from fresh_stores import STORE_BACKENDS
from timergate.domain import ManualClock
from timergate.store._sql_store import SQLTransaction

pytestmark = pytest.mark.parametrize("store_url", STORE_BACKENDS, indirect=True)

COUNT = "{ timers { totalCount } timeEntries { totalCount } }"


async def counts(client: GraphQLClient) -> tuple[int, int]:
    data = await client.data(COUNT)
    return data["timers"]["totalCount"], data["timeEntries"]["totalCount"]


async def test_a_retried_start_answers_the_same_timer_and_makes_no_second_one(
    alice: GraphQLClient, clock: ManualClock
) -> None:
    """The same startTimer with the same key, sent again later, answers as the first did."""
    request = {"input": {"description": "On the train", "idempotencyKey": "k-1"}}
    first = await alice.data(START, request)
    clock.advance(5)
    again = await alice.data(START, request)
    assert again["startTimer"]["timer"]["id"] == first["startTimer"]["timer"]["id"]
    assert again["startTimer"]["timer"]["version"] == first["startTimer"]["timer"]["version"]
    assert await counts(alice) == (1, 0)


async def test_concurrent_retries_do_the_work_once(alice: GraphQLClient) -> None:
    """Retries racing each other still make one timer, and all get its id."""
    request = {"input": {"description": "Flaky network", "idempotencyKey": "race"}}
    answers = await asyncio.gather(*(alice.data(START, request) for _ in range(8)))
    assert len({a["startTimer"]["timer"]["id"] for a in answers}) == 1
    assert await counts(alice) == (1, 0)


async def test_a_retried_stop_records_one_entry(alice: GraphQLClient, clock: ManualClock) -> None:
    """A stop retried with its key answers with the same entry; the time is recorded once."""
    timer = (await alice.data(START, {"input": {}}))["startTimer"]["timer"]
    clock.advance(60)
    request = {"input": {"id": timer["id"], "idempotencyKey": "stop-1"}}
    first = await alice.data(STOP, request)
    again = await alice.data(STOP, request)
    assert again["stopTimer"]["entry"]["id"] == first["stopTimer"]["entry"]["id"]
    assert await counts(alice) == (1, 1)


async def test_a_stop_without_an_id_replays_too(alice: GraphQLClient, clock: ManualClock) -> None:
    """stopTimer without an id, retried with its key, answers what the first stop stopped."""
    await alice.data(START, {"input": {}})
    clock.advance(30)
    request = {"input": {"idempotencyKey": "stop-any"}}
    first = await alice.data(STOP, request)
    again = await alice.data(STOP, request)
    assert first["stopTimer"]["timer"] is not None
    assert again["stopTimer"] == first["stopTimer"] | {"timer": again["stopTimer"]["timer"]}
    assert again["stopTimer"]["entry"]["id"] == first["stopTimer"]["entry"]["id"]


async def test_the_same_key_for_another_request_is_refused(alice: GraphQLClient) -> None:
    """Reusing a key with different input answers CONFLICT and changes nothing."""
    await alice.data(START, {"input": {"description": "one", "idempotencyKey": "reused"}})
    error = await alice.error(START, {"input": {"description": "two", "idempotencyKey": "reused"}})
    assert error["extensions"]["code"] == "CONFLICT"
    assert "different request" in error["message"]
    timer = (await alice.data("{ runningTimers { id } }"))["runningTimers"][0]
    other = await alice.error(PAUSE, {"input": {"id": timer["id"], "idempotencyKey": "reused"}})
    assert other["extensions"]["code"] == "CONFLICT"
    assert await counts(alice) == (1, 0)


async def test_keys_belong_to_their_user(alice: GraphQLClient, bob: GraphQLClient) -> None:
    """Another user's key is no concern of mine: the same key string works for both."""
    request: dict[str, Any] = {"input": {"description": "mine", "idempotencyKey": "shared"}}
    mine = await alice.data(START, request)
    theirs = await bob.data(START, request)
    assert mine["startTimer"]["timer"]["id"] != theirs["startTimer"]["timer"]["id"]


async def test_a_refused_request_keeps_no_key(alice: GraphQLClient) -> None:
    """A request refused for bad input keeps nothing: its retry, corrected, runs."""
    bad = {"input": {"startedAt": "2026-01-01T09:00:00Z", "idempotencyKey": "entry-1"}}
    error = await alice.error(CREATE_ENTRY, bad)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    bad["input"]["durationSeconds"] = 600
    await alice.data(CREATE_ENTRY, bad)
    assert await counts(alice) == (0, 1)


async def test_keys_expire_after_a_day(alice: GraphQLClient, clock: ManualClock) -> None:
    """A key older than 24 hours is forgotten: the same request runs again."""
    request = {"input": {"startedAt": "2026-01-01T09:00:00Z", "durationSeconds": 60,
                         "idempotencyKey": "daily"}}  # fmt: skip
    await alice.data(CREATE_ENTRY, request)
    clock.advance(hours=23)
    await alice.data(CREATE_ENTRY, request)
    assert await counts(alice) == (0, 1)
    clock.advance(hours=2)
    await alice.data(CREATE_ENTRY, request)
    assert await counts(alice) == (0, 2)


async def test_other_mutations_take_keys_too(alice: GraphQLClient) -> None:
    """updateViewer answers the first result for a retry with its key."""
    request = {"input": {"timeZone": "Europe/Berlin", "idempotencyKey": "tz"}}
    first = await alice.data(UPDATE_VIEWER, request)
    again = await alice.data(UPDATE_VIEWER, request)
    assert again == first


async def test_a_malformed_key_is_refused(alice: GraphQLClient) -> None:
    """An empty or overlong key answers BAD_USER_INPUT naming the field."""
    for key in ("", " ", "k" * 256):
        error = await alice.error(START, {"input": {"idempotencyKey": key}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.idempotencyKey"}


async def test_the_key_is_kept_with_the_effect_or_not_at_all(
    alice: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If keeping the key fails, the start it came with is rolled back with it."""

    async def broken_settle(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(SQLTransaction, "settle_idempotency", broken_settle)
    body = await alice.execute(START, {"input": {"idempotencyKey": "atomic"}})
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    monkeypatch.undo()
    assert await counts(alice) == (0, 0)
    again = await alice.data(START, {"input": {"idempotencyKey": "atomic"}})
    assert again["startTimer"]["timer"]["state"] == "RUNNING"
