"""What every resolver gets as ``info.context``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from timergate.domain import User
from timergate.errors import TimergateError, Unauthenticated
from timergate.gateway import Gateway

if TYPE_CHECKING:
    from timergate.sessions import LiveConnection, Session

__all__ = ["RequestContext"]


@dataclass(slots=True)
class RequestContext:
    """One request (or one websocket connection): who asks, and the instant it is answered at.

    Every ``elapsedSeconds`` in one response is computed at ``now``, so they agree.
    """

    gateway: Gateway
    user: User | None
    now: datetime
    request: Any = None
    response: Any = None
    #: The websocket ``connection_init`` payload, where authentication travels.
    connection_params: dict[str, Any] | None = None
    #: Called when a subscriber's events pile up past the bound (closes its websocket).
    on_slow_consumer: Callable[[], None] | None = None
    #: Errors of providers that failed while the answer went on without them; each transport
    #: adds them to the response's ``errors`` beside the data.
    partial_errors: list[GraphQLError] = field(default_factory=list)
    #: Who asks, with which token, from where (see :mod:`timergate.sessions`).
    session: Session | None = None
    #: The registration of a websocket or event stream: revoking its token ends it.
    live_connection: LiveConnection | None = None

    def report(self, path: Iterable[str | int], failures: Iterable[TimergateError]) -> None:
        """Add ``failures`` as errors at ``path`` (the field answered without them)."""
        at = list(path)
        for failure in failures:
            self.partial_errors.append(
                GraphQLError(failure.message, path=at, extensions=failure.extensions())
            )

    @property
    def viewer(self) -> User:
        if self.user is None:
            raise Unauthenticated(
                "Authentication required: send the header 'Authorization: Bearer <token>' "
                "(an operator creates one with 'timergate token create --user NAME')."
            )
        return self.user
