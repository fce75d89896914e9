"""Revocation reaches every cache and connection at once.

``timergate token revoke`` runs in another process: it deletes the tokens and appends them to
the store's revocation log in one transaction. Each gateway watches that log (one small
indexed read per poll, a second apart by default) and hands what it finds to its listeners:
the token cache drops the tokens, the sessions close their websockets and end their event
streams. A revocation made inside this process reaches the listeners at once, without waiting
for the poll. Gateways that share a broker also pass revocations on its control channel
(see :class:`~timergate.gateway.Gateway`), so the others act at once too; the log remains
what catches a notice the broker could not carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from timergate.store import TimerStore

__all__ = ["RevocationListener", "Revocations"]

_log = logging.getLogger("timergate.revocations")

#: Called with the SHA-256 hashes of revoked tokens, on the event loop; it must not block.
RevocationListener = Callable[[Sequence[bytes]], None]


class Revocations:
    """Notices of revoked tokens, from this process and from the store's revocation log."""

    def __init__(self, store: TimerStore, *, poll_seconds: float = 1.0) -> None:
        self._store = store
        self._poll_seconds = poll_seconds
        self._listeners: list[RevocationListener] = []
        self._seq = 0
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, listener: RevocationListener) -> Callable[[], None]:
        """Call ``listener`` for every revocation from now on; returns the way to stop."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def notify(self, token_hashes: Sequence[bytes]) -> None:
        """Pass revoked token hashes to every listener (twice is harmless)."""
        if not token_hashes:
            return
        for listener in tuple(self._listeners):
            try:
                listener(token_hashes)
            except Exception:
                _log.exception("a revocation listener failed")

    async def revoke(self, token_hashes: Sequence[bytes]) -> int:
        """Revoke tokens in the store and act on it in this process now; how many existed."""
        revoked = await self._store.revoke_tokens(token_hashes)
        self.notify(token_hashes)
        return revoked

    async def start(self) -> None:
        """Watch the log from its current end (older entries concern no token cached here)."""
        self._seq = await self._store.last_revocation()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def poll(self) -> None:
        """Read the log once and pass on what is new."""
        found = await self._store.revocations_after(self._seq)
        if found:
            self._seq = found[-1].seq
            self.notify([r.token_hash for r in found])

    async def _watch(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.poll()
            except Exception:
                # Log the first failure of a run, not one a second while the store is away.
                if not failing:
                    _log.warning("cannot read the revocation log; retrying", exc_info=True)
                failing = True
            else:
                failing = False
