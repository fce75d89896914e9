"""The browser origins allowed to call the API: one list for CORS and for websockets.

Browsers send ``Origin`` in one exact form (lower-case scheme and host, no default port, no
path), and Starlette's CORS middleware compares it with the allowed origins as plain strings.
The websocket handshake compares it the same way, against the same list, so an origin gets
both or neither. The configured origins are normalised to that form once, at start-up
(``https://APP.example.com:443/`` is ``https://app.example.com``); a value that is not an
origin stops start-up.

The ``Host`` header is never consulted: DNS rebinding makes it whatever the attacker's page
says. GraphiQL, served by the gateway itself, opens its websocket from the gateway's own
origin, so the origins of the listen address are allowed too: ``http://HOST:PORT``, and for
a loopback address every loopback name (``localhost``, ``127.0.0.1``, ``[::1]``). A gateway
listening on all interfaces (``0.0.0.0``, ``::``) or behind a proxy cannot know the name
browsers use: list it with ``--allowed-origin``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin

__all__ = ["allowed_browser_origins", "normalize_origins"]

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def normalize_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """``origins`` as browsers send them, sorted; ``ValueError`` for one that is not an origin."""
    return tuple(sorted(normalize_allowed_origins(tuple(origins))))


def allowed_browser_origins(configured: Iterable[str], host: str, port: int) -> tuple[str, ...]:
    """The configured origins and the origins of the listen address ``host:port``."""
    own: list[str] = []
    for name in _own_host_names(host):
        origin = normalize_origin(f"http://{name}:{port}")
        if origin is not None:
            own.append(origin)
    return tuple(dict.fromkeys([*normalize_origins(configured), *own]))


def _own_host_names(host: str) -> tuple[str, ...]:
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return _LOOPBACK_NAMES
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return (name.lower(),) if name else ()  # a host name the gateway was told to use
    if address.is_unspecified:
        return ()
    if address.is_loopback:
        return _LOOPBACK_NAMES
    return (f"[{address}]" if address.version == 6 else str(address),)
