"""Idempotency keys on vendor timers: a retry never repeats a call whose outcome is known, and
never guesses at one whose answer was lost."""

from __future__ import annotations

from harness import HARNESSES, Handle, connect
from tests.conftest import GraphQLClient
from tests.graphql.support import START

from timergate.fakes.base import Fake

RUNNING = "{ runningTimers { id } }"


async def test_a_retried_vendor_start_answers_the_first_timer(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """A Noko start retried with its key makes one Noko timer and answers it again."""
    noko: Handle = await connect(alice, HARNESSES["noko"], fakes)
    request = {"input": noko.start_input(idempotencyKey="vendor-1")}
    first = await alice.data(START, request)
    again = await alice.data(START, request)
    assert again["startTimer"]["timer"]["id"] == first["startTimer"]["timer"]["id"]
    assert len((await alice.data(RUNNING))["runningTimers"]) == 1


async def test_a_lost_vendor_answer_is_not_repeated(
    alice: GraphQLClient, fakes: dict[str, Fake]
) -> None:
    """When the vendor does not answer, a retry with the same key says the outcome is unknown
    instead of starting a second timer; a new key starts one."""
    noko: Handle = await connect(alice, HARNESSES["noko"], fakes)
    fakes["noko"].control.update({"fail_status": 503})
    error = await alice.error(START, {"input": noko.start_input(idempotencyKey="lost")})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    fakes["noko"].control.reset()
    retry = await alice.error(START, {"input": noko.start_input(idempotencyKey="lost")})
    assert retry["extensions"]["code"] == "CONFLICT"
    assert "answer was lost" in retry["message"]
    fresh = await alice.data(START, {"input": noko.start_input(idempotencyKey="fresh")})
    assert fresh["startTimer"]["timer"]["state"] == "RUNNING"


async def test_a_vendor_refusal_frees_the_key(alice: GraphQLClient, fakes: dict[str, Fake]) -> None:
    """A request the vendor refused outright (nothing happened) may be retried with its key."""
    noko: Handle = await connect(alice, HARNESSES["noko"], fakes)
    fakes["noko"].control.update({"fail_status": 429})
    error = await alice.error(START, {"input": noko.start_input(idempotencyKey="refused")})
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    fakes["noko"].control.reset()
    again = await alice.data(START, {"input": noko.start_input(idempotencyKey="refused")})
    assert again["startTimer"]["timer"]["state"] == "RUNNING"
