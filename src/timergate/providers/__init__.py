"""Providers: where timers live. ``local`` is timergate's own store; vendors follow."""

from timergate.providers.base import LogRequest, NewEntry, Provider, StartResult, StopResult
from timergate.providers.local import LocalProvider

__all__ = ["LocalProvider", "LogRequest", "NewEntry", "Provider", "StartResult", "StopResult"]
