"""Capabilities are checked before anything is sent upstream."""

from __future__ import annotations

from timergate.domain.connections import Support, TimerOperation
from timergate.errors import UnsupportedByProvider
from timergate.providers.base import Provider

__all__ = ["require"]

_VERBS = {
    TimerOperation.START: "start timers",
    TimerOperation.RESUME: "resume timers",
    TimerOperation.PAUSE: "pause timers",
    TimerOperation.STOP: "stop timers",
    TimerOperation.LOG: "log timers",
    TimerOperation.CANCEL: "cancel timers",
    TimerOperation.UPDATE: "edit timers",
    TimerOperation.CREATE_ENTRY: "record time entries by hand",
    TimerOperation.UPDATE_ENTRY: "edit time entries",
    TimerOperation.DELETE_ENTRY: "delete time entries",
    TimerOperation.LIST_ENTRIES: "list time entries",
}


def require(provider: Provider, operation: TimerOperation) -> None:
    """Refuse ``operation`` before any call when ``provider`` cannot do it."""
    capability = provider.capabilities[operation]
    if capability.support is Support.UNSUPPORTED:
        why = f" ({capability.note})" if capability.note else ""
        raise UnsupportedByProvider(
            f"{provider.name} cannot {_VERBS[operation]}{why}.",
            provider=provider.key,
            operation=operation.value,
        )
