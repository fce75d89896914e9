"""Tick writes go out at once when the socket has room, and finish later when it has not."""

from __future__ import annotations

import asyncio

import pytest

from timergate.graphql.eager_send import finish, send_now


class FlowControlledSocket:
    """An ASGI ``send`` that waits while the socket is full, like uvicorn's."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent: list[dict[str, str]] = []

    async def send(self, message: dict[str, str]) -> None:
        await self.writable.wait()
        self.sent.append(message)


async def test_a_writable_socket_takes_the_message_without_a_task() -> None:
    """With room in the socket the send completes inside the call; nothing is left over."""
    socket = FlowControlledSocket()
    assert send_now(socket.send, {"text": "tick"}) is None
    assert socket.sent == [{"text": "tick"}]


async def test_a_full_socket_hands_the_send_over_and_it_finishes_when_room_comes() -> None:
    """A send that must wait is returned suspended; finishing it delivers the same message."""
    socket = FlowControlledSocket()
    socket.writable.clear()
    suspended = send_now(socket.send, {"text": "tick"})
    assert suspended is not None
    assert socket.sent == []
    writer = asyncio.create_task(finish(suspended))
    await asyncio.sleep(0.01)
    assert socket.sent == []
    socket.writable.set()
    await asyncio.wait_for(writer, 1)
    assert socket.sent == [{"text": "tick"}]


async def test_cancelling_the_finisher_unwinds_the_waiting_send() -> None:
    """A connection closing while a send waits leaves no waiter behind and sends nothing."""
    socket = FlowControlledSocket()
    socket.writable.clear()
    suspended = send_now(socket.send, {"text": "tick"})
    assert suspended is not None
    writer = asyncio.create_task(finish(suspended))
    await asyncio.sleep(0.01)
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    socket.writable.set()
    await asyncio.sleep(0)
    assert socket.sent == []


async def test_a_send_that_fails_raises_to_the_caller() -> None:
    """A peer that vanished surfaces as the send's own exception, at once or when finished."""

    async def gone(message: dict[str, str]) -> None:
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        send_now(gone, {"text": "tick"})

    waiting = asyncio.Event()

    async def gone_later(message: dict[str, str]) -> None:
        await waiting.wait()
        raise ConnectionResetError("peer went away")

    suspended = send_now(gone_later, {"text": "tick"})
    assert suspended is not None
    waiting.set()
    with pytest.raises(ConnectionResetError):
        await finish(suspended)
