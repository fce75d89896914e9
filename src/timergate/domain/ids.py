"""Opaque global ids: which kind of object, which provider holds it, and its id there.

A global id is URL-safe base64 of ``kind:provider:native``. Clients treat it as opaque; the
gateway uses the provider part to route a request to the provider that owns the object.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

__all__ = ["HOLDER", "GlobalId", "InvalidGlobalId", "Kind", "decode_global_id", "encode_global_id"]

Kind = Literal["Timer", "TimeEntry", "User", "Connection"]
_KINDS: frozenset[str] = frozenset({"Timer", "TimeEntry", "User", "Connection"})
#: The provider part of ids of what timergate itself holds whatever the provider: users and
#: connections.
HOLDER = "timergate"
_MAX_LENGTH = 512


class InvalidGlobalId(ValueError):
    """The text is not a global id of the expected kind."""


@dataclass(frozen=True, slots=True)
class GlobalId:
    kind: Kind
    provider: str
    native_id: str

    def __str__(self) -> str:
        return encode_global_id(self.kind, self.provider, self.native_id)


def encode_global_id(kind: Kind, provider: str, native_id: str | int) -> str:
    raw = f"{kind}:{provider}:{native_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_global_id(value: str, *, expected: Kind) -> GlobalId:
    """Parse ``value``; raise :class:`InvalidGlobalId` unless it is a ``expected`` id."""
    if not value or len(value) > _MAX_LENGTH:
        raise InvalidGlobalId(f"{value!r} is not a {expected} id")
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidGlobalId(f"{value!r} is not a {expected} id") from exc
    kind, sep, rest = raw.partition(":")
    provider, sep2, native = rest.partition(":")
    if not sep or not sep2 or kind not in _KINDS or not provider or not native:
        raise InvalidGlobalId(f"{value!r} is not a {expected} id")
    if kind != expected:
        raise InvalidGlobalId(f"{value!r} is a {kind} id, not a {expected} id")
    # The decoder skips stray characters and padding; one object must have one id.
    if encode_global_id(expected, provider, native) != value:
        raise InvalidGlobalId(f"{value!r} is not a {expected} id")
    return GlobalId(expected, provider, native)
