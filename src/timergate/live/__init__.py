"""Live updates: one tick scheduler per process, and feeds to each subscriber."""

from timergate.live.feeds import MAX_PENDING_EVENTS, EventFeed, Tick, TickFeed
from timergate.live.scheduler import TickScheduler

__all__ = ["MAX_PENDING_EVENTS", "EventFeed", "Tick", "TickFeed", "TickScheduler"]
