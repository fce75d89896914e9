"""Connections to vendors' timer APIs, and what each provider can do.

A user connects a vendor account once; from then on its timers are one more *provider* of
the user's timers, beside timergate's own store. Every provider declares, for each timer
operation, whether it does it natively, emulates it from other calls, or cannot do it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from timergate.domain.ids import HOLDER, InvalidGlobalId, decode_global_id, encode_global_id

__all__ = [
    "Capabilities",
    "Capability",
    "Connection",
    "ConnectionStatus",
    "ProviderKind",
    "Support",
    "TimerOperation",
    "capabilities",
    "connection_id",
    "connection_key",
]


class ProviderKind(enum.StrEnum):
    """The vendors timergate can drive."""

    NOKO = "NOKO"
    ACCELO = "ACCELO"
    FTRACK = "FTRACK"
    SEVEN_TIME = "SEVEN_TIME"
    WORKSECTION = "WORKSECTION"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    #: The vendor refused the stored credentials; connect again with new ones.
    AUTH_FAILED = "AUTH_FAILED"
    #: The access token expired and could not be refreshed; authorise again.
    NEEDS_REAUTHORIZATION = "NEEDS_REAUTHORIZATION"


class TimerOperation(enum.StrEnum):
    START = "START"
    RESUME = "RESUME"
    PAUSE = "PAUSE"
    STOP = "STOP"
    LOG = "LOG"
    CANCEL = "CANCEL"
    UPDATE = "UPDATE"
    CREATE_ENTRY = "CREATE_ENTRY"
    UPDATE_ENTRY = "UPDATE_ENTRY"
    DELETE_ENTRY = "DELETE_ENTRY"
    LIST_ENTRIES = "LIST_ENTRIES"


class Support(enum.StrEnum):
    NATIVE = "NATIVE"
    #: Composed from other calls of the vendor's API; the capability's note says how.
    EMULATED = "EMULATED"
    UNSUPPORTED = "UNSUPPORTED"


@dataclass(frozen=True, slots=True)
class Capability:
    operation: TimerOperation
    support: Support
    note: str | None = None


#: Every operation's support, in :class:`TimerOperation` order.
Capabilities = Mapping[TimerOperation, Capability]


def capabilities(
    native: tuple[TimerOperation, ...] = (),
    emulated: Mapping[TimerOperation, str] | None = None,
    notes: Mapping[TimerOperation, str] | None = None,
) -> Capabilities:
    """A capability table: ``native`` and ``emulated`` operations (with how), the rest
    unsupported (``notes`` may say why)."""
    emulated = emulated or {}
    notes = notes or {}
    table: dict[TimerOperation, Capability] = {}
    for operation in TimerOperation:
        if operation in native:
            table[operation] = Capability(operation, Support.NATIVE, notes.get(operation))
        elif operation in emulated:
            table[operation] = Capability(operation, Support.EMULATED, emulated[operation])
        else:
            table[operation] = Capability(operation, Support.UNSUPPORTED, notes.get(operation))
    return MappingProxyType(table)


@dataclass(frozen=True, slots=True)
class Connection:
    """One user's account at one vendor. Its credentials are kept apart, encrypted."""

    id: int
    user_id: int
    kind: ProviderKind
    label: str | None
    base_url: str
    status: ConnectionStatus
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> str:
        """The provider key of this connection's timers and entries (in their global ids)."""
        return connection_key(self.id)


def connection_key(connection_id: int) -> str:
    """The opaque id clients see for a connection; also the ``provider`` of its objects."""
    return encode_global_id("Connection", HOLDER, connection_id)


def connection_id(key: str) -> int | None:
    """The row id behind a connection key, or ``None`` when ``key`` is not one."""
    try:
        gid = decode_global_id(key, expected="Connection")
    except InvalidGlobalId:
        return None
    if gid.provider != HOLDER or not gid.native_id.isascii() or not gid.native_id.isdigit():
        return None
    return int(gid.native_id)
