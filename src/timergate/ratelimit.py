"""Rate limits per token and per client address, counted by the ``limits`` library.

Each limit is a string such as ``100/second;3000/minute`` (every part must hold), or ``off``.
The counters live where the storage URL says: ``memory://`` keeps them in this process;
``redis://host:6379`` (the ``redis`` extra) shares them between gateways. Counting uses the
sliding window counter: a steady rate, with no double burst at a window's edge.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter as AsyncLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter as SyncLimiter

from timergate.errors import RateLimited

__all__ = ["RateLimiter", "parse_rate_limit"]

_log = logging.getLogger("timergate.ratelimit")

_OFF = ("", "off", "none")


def parse_rate_limit(text: str, *, setting: str) -> tuple[RateLimitItem, ...]:
    """The parts of a limit such as ``100/second;3000/minute``; none for ``off``."""
    if text.strip().lower() in _OFF:
        return ()
    try:
        return tuple(parse_many(text))
    except ValueError:
        raise ValueError(
            f"{setting}: {text!r} is not a rate limit; write it as '100/second;3000/minute' "
            "(any of second, minute, hour, day), or 'off'"
        ) from None


class RateLimiter:
    """Counts requests by token and by address; raises :class:`RateLimited` past a limit."""

    def __init__(self, storage_url: str, *, per_token: str, per_address: str) -> None:
        self.per_token = parse_rate_limit(per_token, setting="rate_limit_per_token")
        self.per_address = parse_rate_limit(per_address, setting="rate_limit_per_address")
        scheme = urlsplit(storage_url).scheme
        self._sync: SyncLimiter | None = None
        self._async: AsyncLimiter | None = None
        self._pool: Any = None
        if scheme == "memory":
            # In-process counters never wait on I/O; the synchronous storage also expires keys
            # off the event loop, where the asynchronous one walks every key on each hit.
            self._sync = SyncLimiter(storage_from_string("memory://"))
        elif scheme in ("redis", "rediss"):
            try:
                from redis.asyncio import ConnectionPool
            except ImportError:
                raise ValueError(
                    f"rate limit storage {scheme}:// needs the redis extra: "
                    "pip install 'timergate[redis]'"
                ) from None
            # Our own pool (redis-py, the driver of timergate[redis]), so shutdown can close it.
            self._pool = ConnectionPool.from_url(storage_url)
            storage = storage_from_string(
                f"async+{storage_url}",
                implementation="redispy",
                connection_pool=self._pool,
                wrap_exceptions=True,
            )
            self._async = AsyncLimiter(storage)
        else:
            raise ValueError(
                f"unsupported rate limit storage URL scheme {scheme!r}: "
                "use memory:// or redis://HOST:PORT"
            )
        self._storage_failing = False

    async def aclose(self) -> None:
        """Close the storage's connections (none for ``memory://``)."""
        if self._pool is not None:
            await self._pool.aclose()

    async def hit_token(self, token_hash: bytes) -> None:
        """Count one request made with this token (its SHA-256 hash)."""
        if self.per_token:
            await self._hit(self.per_token, "token", token_hash[:16].hex())

    async def hit_address(self, address: str) -> None:
        """Count one request from ``address`` without a valid token."""
        if self.per_address:
            await self._hit(self.per_address, "address", address)

    async def _hit(self, items: tuple[RateLimitItem, ...], kind: str, key: str) -> None:
        for item in items:
            if await self._allowed(item, kind, key):
                continue
            retry_after = await self._retry_after(item, kind, key)
            who = "this token" if kind == "token" else "this address without a valid token"
            raise RateLimited(
                f"Too many requests from {who} (limit {item}); retry in {retry_after} s.",
                retry_after=retry_after,
            )

    async def _allowed(self, item: RateLimitItem, kind: str, key: str) -> bool:
        if self._sync is not None:
            return self._sync.hit(item, kind, key)
        assert self._async is not None
        try:
            allowed = await self._async.hit(item, kind, key)
        except StorageError:
            # A limiter that cannot count must not take the gateway down with it.
            if not self._storage_failing:
                _log.warning("rate limit storage failed; not limiting", exc_info=True)
            self._storage_failing = True
            return True
        self._storage_failing = False
        return allowed

    async def _retry_after(self, item: RateLimitItem, kind: str, key: str) -> int:
        if self._sync is not None:
            reset = self._sync.get_window_stats(item, kind, key).reset_time
        else:
            assert self._async is not None
            try:
                reset = (await self._async.get_window_stats(item, kind, key)).reset_time
            except StorageError:
                reset = time.time() + 1
        return max(1, math.ceil(reset - time.time()))
