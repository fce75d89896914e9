"""timergate: one GraphQL API for timers, kept locally or in time-tracking vendors' APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timergate.config import Settings
from timergate.errors import (
    BadUserInput,
    Conflict,
    InvalidTransition,
    NotFound,
    TimergateError,
    Unauthenticated,
    UnsupportedByProvider,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)

if TYPE_CHECKING:
    from timergate.app import create_app
    from timergate.gateway import Gateway

__version__ = "0.1.0"

__all__ = [
    "BadUserInput",
    "Conflict",
    "Gateway",
    "InvalidTransition",
    "NotFound",
    "Settings",
    "TimergateError",
    "Unauthenticated",
    "UnsupportedByProvider",
    "UpstreamAuthFailed",
    "UpstreamError",
    "UpstreamRateLimited",
    "UpstreamUnavailable",
    "create_app",
]


def __getattr__(name: str) -> Any:
    # The app pulls in the whole GraphQL stack; load it only when asked, so the CLI's token
    # commands start quickly.
    if name == "create_app":
        from timergate.app import create_app

        return create_app
    if name == "Gateway":
        from timergate.gateway import Gateway

        return Gateway
    raise AttributeError(f"module 'timergate' has no attribute {name!r}")
