"""Running a mutation once per idempotency key.

Where the effect lands in timergate's own store, the key and its result are written in the
effect's own transaction (:data:`PENDING_KEY` tells the local provider what to record), so a
crash leaves both or neither. Where the effect lands at a vendor, no transaction spans both:
the key is claimed first (a retry meanwhile answers CONFLICT), the result recorded after, and
a vendor that does not answer leaves the key UNKNOWN rather than free, because the call may
have taken effect: a retry then says so instead of repeating it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from timergate.domain import Clock, User
from timergate.domain.codec import from_jsonable, to_jsonable
from timergate.domain.idempotency import (
    IDEMPOTENCY_TTL,
    PENDING_KEY,
    IdempotencyKey,
    IdempotencyRecord,
    KeyState,
    PendingKey,
    Replay,
)
from timergate.errors import Conflict, UpstreamUnavailable
from timergate.store import TimerStore

__all__ = ["Idempotency", "check_record"]

T = TypeVar("T")


def check_record(record: IdempotencyRecord, key: IdempotencyKey) -> None:
    """Refuse a key used for another request, or one whose first attempt is not settled."""
    if record.fingerprint != key.fingerprint or record.operation != key.operation:
        raise Conflict(
            "This idempotencyKey was already used for a different request "
            f"({record.operation}); send a new key with a new request."
        )
    if record.state is KeyState.PENDING:
        raise Conflict(
            "A request with this idempotencyKey is still being processed; retry in a moment."
        )
    if record.state is KeyState.UNKNOWN:
        raise Conflict(
            "The first request with this idempotencyKey reached the vendor, but its answer "
            "was lost: read your timers to see whether it took effect, then retry with a new "
            "key if it did not."
        )


class Idempotency:
    """Keys and their results, kept in the store for :data:`IDEMPOTENCY_TTL`."""

    def __init__(self, store: TimerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _record(self, user: User, key: IdempotencyKey, now: datetime) -> IdempotencyRecord:
        return IdempotencyRecord(
            user_id=user.id,
            key=key.key,
            operation=key.operation,
            fingerprint=key.fingerprint,
            state=KeyState.PENDING,
            result=None,
            created_at=now,
        )

    async def run(
        self,
        user: User,
        key: IdempotencyKey | None,
        kind: type[T],
        action: Callable[[], Awaitable[T]],
        *,
        in_store: Callable[[Any], T] | None = None,
    ) -> T:
        """``action()`` once for ``key``; a retry gets the first result back.

        ``in_store``: the effect lands in timergate's own store, whose provider records the
        key in the effect's own transaction; this turns that provider's result into the
        ``kind`` that is kept and replayed.
        """
        if key is None:
            return await action()
        now = self._clock.now()
        found = await self._store.get_idempotency(user.id, key.key, now - IDEMPOTENCY_TTL)
        if found is not None:
            return self._replay(found, key, kind)
        record = self._record(user, key, now)
        if in_store is not None:
            return await self._atomically(record, key, kind, action, in_store)
        claimed = await self._store.claim_idempotency(record, now - IDEMPOTENCY_TTL)
        if claimed is not None:
            return self._replay(claimed, key, kind)
        try:
            result = await action()
        except UpstreamUnavailable:
            await self._store.settle_idempotency(user.id, key.key, KeyState.UNKNOWN, None)
            raise
        except BaseException:
            await self._store.release_idempotency(user.id, key.key)
            raise
        await self._store.settle_idempotency(user.id, key.key, KeyState.DONE, _text(result))
        return result

    async def _atomically(
        self,
        record: IdempotencyRecord,
        key: IdempotencyKey,
        kind: type[T],
        action: Callable[[], Awaitable[T]],
        outcome_of: Callable[[Any], T],
    ) -> T:
        pending = PendingKey(record, lambda result: _text(outcome_of(result)))
        token = PENDING_KEY.set(pending)
        try:
            result = await action()
        except Replay as replay:
            return self._replay(replay.record, key, kind)
        finally:
            PENDING_KEY.reset(token)
        if not pending.recorded:
            # The effect did not land in the store after all (a stop that found the running
            # timer at a vendor): keep the result now.
            done = replace(record, state=KeyState.DONE, result=_text(result))
            await self._store.claim_idempotency(done, record.created_at - IDEMPOTENCY_TTL)
        return result

    def _replay(self, record: IdempotencyRecord, key: IdempotencyKey, kind: type[T]) -> T:
        check_record(record, key)
        assert record.result is not None
        return from_jsonable(kind, json.loads(record.result))


def _text(value: Any) -> str:
    return json.dumps(to_jsonable(value), separators=(",", ":"))
