"""What the broker tests share (a module of its own: conftest modules are not importable by
name when several test folders are collected at once)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from timergate.broker import Broker, open_broker

#: The longest a test waits for one message.
RECEIVE_TIMEOUT = 5.0
#: The longest a test waits for a broker to notice a lost connection and come back.
RECONNECT_TIMEOUT = 20.0


async def connected(url: str) -> Broker:
    broker = open_broker(url)
    await broker.connect()
    return broker


class Inbox:
    """A listener that keeps what it is given, and where it was called."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.threads: set[int] = set()
        self.loops: set[int] = set()

    def __call__(self, message: Any) -> None:
        self.threads.add(threading.get_ident())
        self.loops.add(id(asyncio.get_running_loop()))
        self.queue.put_nowait(message)

    async def next(self) -> Any:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            return await self.queue.get()

    def pending(self) -> list[Any]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items
