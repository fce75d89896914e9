"""The timer service: between the API and the providers (see :mod:`timergate.service.timers`)."""

from timergate.service.connections import ConnectionService
from timergate.service.reads import Partial, Reads
from timergate.service.room import StartOutcome
from timergate.service.timers import StopOutcome, TimerService

__all__ = ["ConnectionService", "Partial", "Reads", "StartOutcome", "StopOutcome", "TimerService"]
