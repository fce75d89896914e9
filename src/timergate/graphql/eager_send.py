"""Send an ASGI message at once when the socket can take it, without a task.

A tick goes to thousands of sockets each second. Awaiting each send from its own task costs a
task wake-up, a future and a handle per socket per tick, and those allocations, alive across
the whole fan-out, feed the cyclic garbage collector's slowest passes. Most sockets are
writable, and then the server's ``send`` finishes without ever suspending; so the coroutine is
stepped here directly, and only one that does suspend (a slow reader) is handed to a task to
finish. (Python 3.12's eager tasks do the same with a task object per send.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from starlette.types import Message, Send

__all__ = ["Suspended", "finish", "send_now"]


class Suspended:
    """A send that could not finish at once: the coroutine and what it waits for."""

    __slots__ = ("coroutine", "waiting_for")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_for: Any) -> None:
        self.coroutine = coroutine
        self.waiting_for = waiting_for


def send_now(send: Send, message: Message) -> Suspended | None:
    """Run ``send(message)`` until it finishes (``None``) or first suspends (:class:`Suspended`).

    Exceptions the send raises (a vanished peer) propagate to the caller.
    """
    awaitable = send(message)
    coroutine = awaitable if isinstance(awaitable, Coroutine) else _wait(awaitable)
    try:
        waiting_for = coroutine.send(None)
    except StopIteration:
        return None
    return Suspended(coroutine, waiting_for)


async def _wait(awaitable: Awaitable[None]) -> None:
    await awaitable


async def finish(suspended: Suspended) -> None:
    """Drive a :class:`Suspended` send to its end, as a task would have."""
    coroutine, waiting_for = suspended.coroutine, suspended.waiting_for
    while True:
        try:
            if waiting_for is None:
                await asyncio.sleep(0)  # a bare yield: give the loop one turn
            else:
                # The future still carries the "blocking" mark of the yield nobody took;
                # a task clears it on taking the future, and so must we.
                waiting_for._asyncio_future_blocking = False
                await waiting_for
        except BaseException as exc:
            # Deliver the failure (or our own cancellation) where the send is waiting.
            try:
                waiting_for = coroutine.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting_for = coroutine.send(None)
        except StopIteration:
            return
