"""What every resolver gets as ``info.context``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from timergate.domain import User
from timergate.errors import Unauthenticated
from timergate.gateway import Gateway

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

    @property
    def viewer(self) -> User:
        if self.user is None:
            raise Unauthenticated(
                "Authentication required: send the header 'Authorization: Bearer <token>' "
                "(an operator creates one with 'timergate token create --user NAME')."
            )
        return self.user
