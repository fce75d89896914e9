"""The errors timergate raises, and the codes clients see.

Every error a client may see is a :class:`TimergateError`; the GraphQL layer turns it into
``extensions.code`` and a message a person can act on. Anything else is a bug: it is masked
for clients and logged for operators.

    TimergateError
    ├── BadUserInput            BAD_USER_INPUT          (carries the offending field)
    ├── Unauthenticated         UNAUTHENTICATED
    ├── RateLimited             RATE_LIMITED            (carries retry_after seconds)
    ├── TooManyConnections      TOO_MANY_CONNECTIONS    (carries the limit)
    ├── NotFound                NOT_FOUND
    ├── InvalidTransition       INVALID_TRANSITION      (carries the current state)
    ├── Conflict                CONFLICT                (carries the current version)
    ├── UnsupportedByProvider   UNSUPPORTED_BY_PROVIDER (carries the provider and operation)
    ├── BrokerUnavailable       UNAVAILABLE             (live updates cannot be had right now)
    ├── ShuttingDown            SHUTTING_DOWN           (this instance is stopping: reconnect)
    └── UpstreamError                                   (carries the provider, where known)
        ├── UpstreamUnavailable     UPSTREAM_UNAVAILABLE
        ├── UpstreamAuthFailed      UPSTREAM_AUTH_FAILED
        └── UpstreamRateLimited     UPSTREAM_RATE_LIMITED  (carries retry_after seconds)

Any error may carry more ``extensions`` fields through :meth:`TimergateError.with_details`
(say, which timer a failure is about).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

__all__ = [
    "BadUserInput",
    "BrokerUnavailable",
    "Conflict",
    "InvalidTransition",
    "NotFound",
    "RateLimited",
    "ShuttingDown",
    "TimergateError",
    "TooManyConnections",
    "Unauthenticated",
    "UnsupportedByProvider",
    "UpstreamAuthFailed",
    "UpstreamError",
    "UpstreamRateLimited",
    "UpstreamUnavailable",
]


class TimergateError(Exception):
    """Base of every error whose message is safe and useful to show a client."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {}

    def with_details(self, **details: Any) -> Self:
        """This error, with ``details`` added to its ``extensions``."""
        self.details.update(details)
        return self

    def extensions(self) -> dict[str, Any]:
        """The ``extensions`` object of the GraphQL error this becomes."""
        return {"code": self.code, **self.details}


class BadUserInput(TimergateError):
    """An argument is malformed or out of range; ``field`` names it (e.g. ``input.description``)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def extensions(self) -> dict[str, Any]:
        ext = super().extensions()
        if self.field is not None:
            ext["field"] = self.field
        return ext


class Unauthenticated(TimergateError):
    code = "UNAUTHENTICATED"


class RateLimited(TimergateError):
    """The client sent more than its limit allows; it may retry after ``retry_after`` seconds."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "retryAfter": self.retry_after}


class TooManyConnections(TimergateError):
    """The user already holds as many open websockets and event streams as allowed."""

    code = "TOO_MANY_CONNECTIONS"

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "limit": self.limit}


class NotFound(TimergateError):
    """No such object for this user (another user's object answers the same)."""

    code = "NOT_FOUND"


class InvalidTransition(TimergateError):
    """The timer's current state does not allow the operation."""

    code = "INVALID_TRANSITION"

    def __init__(self, message: str, *, state: str) -> None:
        super().__init__(message)
        self.state = state

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "state": self.state}


class Conflict(TimergateError):
    """The client's expected version is stale (someone changed the object meanwhile), or an
    idempotency key was reused for another request."""

    code = "CONFLICT"

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version

    def extensions(self) -> dict[str, Any]:
        ext = super().extensions()
        if self.current_version is not None:
            ext["currentVersion"] = self.current_version
        return ext


class UnsupportedByProvider(TimergateError):
    """The provider cannot do this operation at all; nothing was sent upstream."""

    code = "UNSUPPORTED_BY_PROVIDER"

    def __init__(self, message: str, *, provider: str, operation: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.operation = operation

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "provider": self.provider, "operation": self.operation}


class BrokerUnavailable(TimergateError):
    """The event broker cannot be reached now; the gateway reconnects by itself, so retry."""

    code = "UNAVAILABLE"

    def __init__(
        self,
        message: str = "Live updates are unavailable for a moment: this gateway cannot reach "
        "its event broker. Retry in a few seconds.",
    ) -> None:
        super().__init__(message)


class ShuttingDown(TimergateError):
    """This gateway instance is stopping; another instance (or this one, restarted) answers."""

    code = "SHUTTING_DOWN"

    def __init__(
        self,
        message: str = "This gateway instance is shutting down: subscribe again (another "
        "instance, or this one once restarted, will answer) and re-read what you show.",
    ) -> None:
        super().__init__(message)


class UpstreamError(TimergateError):
    """A vendor API failed; subclasses say how. ``provider`` names the connection."""

    code = "UPSTREAM_UNAVAILABLE"

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider

    def extensions(self) -> dict[str, Any]:
        ext = super().extensions()
        if self.provider is not None:
            ext.setdefault("provider", self.provider)
        return ext


class UpstreamUnavailable(UpstreamError):
    """The vendor is down, slow, unreachable, or answered something unreadable."""

    code = "UPSTREAM_UNAVAILABLE"


class UpstreamAuthFailed(UpstreamError):
    """The vendor refused the connection's credentials."""

    code = "UPSTREAM_AUTH_FAILED"


class UpstreamRateLimited(UpstreamError):
    code = "UPSTREAM_RATE_LIMITED"

    def __init__(
        self, message: str, *, retry_after: float | None = None, provider: str | None = None
    ) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        ext = super().extensions()
        if self.retry_after is not None:
            ext["retryAfter"] = self.retry_after
        return ext
