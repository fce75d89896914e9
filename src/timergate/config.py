"""Settings, read from ``TIMERGATE_*`` environment variables and overridden by CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from timergate.locations import default_database_url

__all__ = ["ENVIRONMENT", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``timergate serve`` can be told; each setting has a flag and a variable."""

    #: The store (default: ``timergate.db`` in the user's data directory, see
    #: :mod:`timergate.locations`).
    database_url: str = field(default_factory=default_database_url)
    broker_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Browser origins allowed to call the API (CORS) and open websockets; none by default.
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    #: Seconds a token lookup is remembered.
    token_cache_seconds: float = 30.0
    #: Seconds a user's list of vendor connections is remembered (a change made through
    #: another instance normally arrives at once through the broker; this bounds a missed one).
    connections_cache_seconds: float = 60.0
    log_level: str = "info"
    access_log: bool = True
    #: Per-message deflate on websockets: less bandwidth, about 46 KiB more memory a connection.
    ws_compression: bool = False
    #: Fernet keys sealing upstream credentials, comma-separated (the first seals).
    secret_key: str | None = field(default=None, repr=False)
    #: Where a generated key is kept when no ``secret_key`` is set (default: beside the
    #: SQLite file).
    secret_key_file: str | None = None
    #: URL prefixes of upstream APIs a connection may use besides the vendors' public ones.
    allowed_upstreams: tuple[str, ...] = field(default_factory=tuple)
    #: Seconds one upstream call may take before it counts as unavailable.
    upstream_timeout_seconds: float = 10.0
    #: Pace calls to each vendor host under its documented rate limit.
    upstream_pacing: bool = True
    #: Seconds between looks at a vendor for changes made outside timergate, while a
    #: subscriber listens (never faster than the vendor's rate limit allows).
    poll_interval_seconds: float = 15.0
    #: Whole seconds a shutdown (SIGTERM) waits for requests in flight before cancelling them.
    shutdown_timeout_seconds: int = 10
    #: Open websockets and event streams (SSE, multipart) one user may hold in one gateway.
    max_connections_per_user: int = 32
    #: Requests, websocket inits and websocket operations per token (``off`` for none).
    rate_limit_per_token: str = "200/second;3000/minute"
    #: Requests without a valid token, per client address (``off`` for none).
    rate_limit_per_address: str = "20/second;300/minute"
    #: Where rate limit counters live: ``memory://`` (this process) or ``redis://HOST:PORT``.
    rate_limit_storage: str = "memory://"
    #: Seconds between reads of the store's revocation log.
    revocation_poll_seconds: float = 1.0
    # What one request may take (README, "Limits"); each must be positive.
    #: Bytes of a request's line and headers (431 past it).
    max_header_bytes: int = 32 * 1024
    #: Seconds for a request's headers to arrive (408 past it).
    header_timeout_seconds: float = 10.0
    #: Seconds for a request's body to arrive once its headers are in (408 past it).
    body_timeout_seconds: float = 30.0
    #: Bytes of a request body, on every route and media type (413 past it).
    max_body_bytes: int = 1 << 20
    #: Nesting below a GraphQL document's top-level fields, fragments written out.
    max_query_depth: int = 10
    #: Aliases in one document.
    max_query_aliases: int = 30
    #: Fields, fragment spreads and inline fragments one document expands to.
    max_query_selections: int = 1000
    #: Lexical tokens in one document.
    max_query_tokens: int = 5000
    #: Start with a user ``demo`` and print its token (reused across restarts).
    demo: bool = False

    def __post_init__(self) -> None:
        for name in _LIMITS:
            if not getattr(self, name) > 0:
                raise ValueError(f"{ENVIRONMENT[name]} must be positive, not {getattr(self, name)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``TIMERGATE_*`` variables, then ``overrides`` that are not ``None``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENVIRONMENT[f.name])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


#: The environment variable behind each setting.
ENVIRONMENT: dict[str, str] = {f.name: f"TIMERGATE_{f.name.upper()}" for f in fields(Settings)}

_LIMITS = (
    "max_header_bytes",
    "header_timeout_seconds",
    "body_timeout_seconds",
    "max_body_bytes",
    "max_query_depth",
    "max_query_aliases",
    "max_query_selections",
    "max_query_tokens",
)


def _parse(name: str, raw: str) -> Any:
    if name in ("port", "shutdown_timeout_seconds") or name.startswith("max_"):
        return _number(name, raw, int)
    if name in (
        "token_cache_seconds",
        "connections_cache_seconds",
        "upstream_timeout_seconds",
        "poll_interval_seconds",
        "revocation_poll_seconds",
        "header_timeout_seconds",
        "body_timeout_seconds",
    ):
        return _number(name, raw, float)
    if name in ("access_log", "ws_compression", "upstream_pacing", "demo"):
        if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"{ENVIRONMENT[name]} must be true or false, not {raw!r}")
        return raw.lower() in ("1", "true", "yes", "on")
    if name in ("allowed_origins", "allowed_upstreams"):
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    return raw


def _number(name: str, raw: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{ENVIRONMENT[name]} must be a number, not {raw!r}") from None
