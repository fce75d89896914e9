"""timergate: one GraphQL API for timers, kept locally or in time-tracking vendors' APIs."""

__version__ = "0.1.0"
