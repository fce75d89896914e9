"""Graceful shutdown: what the gateway does between SIGTERM and its exit.

    SIGTERM ─► the server stops accepting connections
            ─► Draining.begin(): /readyz answers 503 "draining"; every websocket is closed
               with 1012 (Service Restart: clients reconnect, to another instance behind a
               load balancer); every event stream (SSE, multipart) ends with a SHUTTING_DOWN
               error, so its client subscribes again
            ─► requests in flight finish, for up to ``shutdown_timeout_seconds``; whatever
               still runs then is cancelled
            ─► the lifespan closes the tick clock, vendor connections, broker and store

Transports register what they do at drain time with :meth:`Draining.on_drain`; hooks run in
the order registered (the websocket endpoint registers first, when the app is built).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from inspect import isawaitable

__all__ = ["DrainHook", "Draining"]

_log = logging.getLogger("timergate.shutdown")

#: Called once when draining begins; may be a coroutine function.
DrainHook = Callable[[], Awaitable[None] | None]


class Draining:
    """Whether this instance is shutting down, and who must hear it first."""

    def __init__(self) -> None:
        self.started = False
        self._hooks: dict[int, DrainHook] = {}
        self._keys = itertools.count()

    def on_drain(self, hook: DrainHook) -> Callable[[], None]:
        """Call ``hook`` when draining begins; returns the way to take it back."""
        key = next(self._keys)
        self._hooks[key] = hook

        def remove() -> None:
            self._hooks.pop(key, None)

        return remove

    async def begin(self) -> None:
        """Start draining (once): mark it, then run every hook."""
        if self.started:
            return
        self.started = True
        _log.info("draining: closing websockets and ending event streams")
        for hook in list(self._hooks.values()):
            try:
                result = hook()
                if isawaitable(result):
                    await result
            except Exception:
                _log.exception("a drain hook failed")
