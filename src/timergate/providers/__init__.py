"""Providers: where timers live. ``local`` is timergate's own store; each vendor connection is
another (see :mod:`timergate.providers.registry`)."""

from timergate.providers.base import (
    Changed,
    LogRequest,
    NewEntry,
    Provider,
    StartResult,
    StopResult,
)
from timergate.providers.local import LOCAL, LocalProvider

__all__ = [
    "LOCAL",
    "Changed",
    "LocalProvider",
    "LogRequest",
    "NewEntry",
    "Provider",
    "StartResult",
    "StopResult",
]
