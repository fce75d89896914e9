"""The wire encoding that carries events and control messages between instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from timergate.broker.wire import WIRE_VERSION, WireFormatError, decode, encode
from timergate.domain import TimeEntry, Timer, TimerContext, TimerDetails, TimerState
from timergate.domain.control import ConnectionsChanged, TokensRevoked
from timergate.domain.events import TimerEvent, TimerEventType

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)

# UTC and fixed offsets: what stores and clients produce. (A zone's ambiguous local times never
# compare equal across zones in Python, so they would make equality a poor check here.)
OFFSETS = st.one_of(
    st.just(UTC),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)
INSTANTS = st.datetimes(timezones=OFFSETS)

CONTEXTS = st.builds(TimerContext, type=st.text(), id=st.text(), title=st.none() | st.text())
DETAILS = st.builds(
    TimerDetails,
    description=st.none() | st.text(),
    context=st.none() | CONTEXTS,
    tags=st.lists(st.text(), max_size=5).map(tuple),
    billable=st.booleans(),
)
TIMERS = st.builds(
    Timer,
    id=st.text(),
    user_id=INT64,
    provider=st.text(),
    state=st.sampled_from(TimerState),
    details=DETAILS,
    accumulated=st.timedeltas(),
    running_since=st.none() | INSTANTS,
    started_at=INSTANTS,
    updated_at=INSTANTS,
    version=INT64,
    entry_id=st.none() | st.text(),
)
ENTRIES = st.builds(
    TimeEntry,
    id=st.text(),
    user_id=INT64,
    provider=st.text(),
    timer_id=st.none() | st.text(),
    details=DETAILS,
    started_at=INSTANTS,
    ended_at=INSTANTS,
    duration_seconds=INT64,
    date=st.dates(),
    created_at=INSTANTS,
    updated_at=INSTANTS,
    version=INT64,
)
EVENTS = st.builds(
    TimerEvent,
    type=st.sampled_from(TimerEventType),
    user_id=INT64,
    at=INSTANTS,
    timer=st.none() | TIMERS,
    entry=st.none() | ENTRIES,
)
CONTROL = st.one_of(
    st.builds(TokensRevoked, st.lists(st.binary(min_size=32, max_size=32)).map(tuple)),
    st.builds(
        ConnectionsChanged,
        user_id=INT64,
        connection_id=st.none() | INT64,
        origin=st.none() | st.text(),
    ),
)


@given(EVENTS)
def test_every_event_field_survives_the_wire(event: TimerEvent) -> None:
    """An event decodes to an equal event, instants to the microsecond with their offsets."""
    data = encode(event)
    decoded = decode(data)
    assert decoded == event
    # Equal instants could still differ in offset; the re-encoding would show it.
    assert encode(decoded) == data


@given(CONTROL)
def test_every_control_message_survives_the_wire(
    message: TokensRevoked | ConnectionsChanged,
) -> None:
    """Token revocations and connection changes decode to what was sent."""
    assert decode(encode(message)) == message


def test_messages_carry_their_format_version() -> None:
    """Every message says which format it is in, so mixed versions can tell each other apart."""
    body = orjson.loads(encode(ConnectionsChanged(1, 2, "gateway-a")))
    assert body == {
        "v": WIRE_VERSION,
        "kind": "connections_changed",
        "user_id": 1,
        "connection_id": 2,
        "origin": "gateway-a",
    }


def test_a_newer_format_version_is_refused() -> None:
    """A message from a newer release is refused whole rather than half understood."""
    data = orjson.dumps({"v": WIRE_VERSION + 1, "kind": "connections_changed", "user_id": 1})
    with pytest.raises(WireFormatError, match="version"):
        decode(data)


def test_unknown_keys_are_ignored() -> None:
    """A later release may add fields under the same version; this one reads past them."""
    data = orjson.dumps(
        {"v": WIRE_VERSION, "kind": "connections_changed", "user_id": 1, "reason": "b"}
    )
    assert decode(data) == ConnectionsChanged(1, None)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"v": 1}',
        b'{"v": 1, "kind": "gossip"}',
        b'{"v": 1, "kind": "connections_changed", "user_id": "7"}',
        b'{"v": 1, "kind": "connections_changed", "user_id": true}',
        b'{"v": 1, "kind": "tokens_revoked", "token_hashes": ["zz"]}',
        b'{"v": 1, "kind": "event", "event": {"type": "EXPLODED", "user_id": 1, "at": "x"}}',
        b'{"v": 1, "kind": "event", "event": {"type": "STARTED", "user_id": 1,'
        b' "at": "2026-01-01T00:00:00"}}',
    ],
)
def test_malformed_messages_are_refused(body: bytes) -> None:
    """Garbage, wrong types, unknown kinds and naive instants are errors, never wrong objects."""
    with pytest.raises(WireFormatError):
        decode(body)


def test_a_naive_instant_cannot_be_sent() -> None:
    """An instant without an offset would mean different times to different readers."""
    event = TimerEvent(TimerEventType.ENTRY_DELETED, 1, datetime(2026, 1, 1))
    with pytest.raises(WireFormatError, match="offset"):
        encode(event)
