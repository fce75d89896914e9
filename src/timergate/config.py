"""Settings, read from ``TIMERGATE_*`` environment variables and overridden by CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["ENVIRONMENT", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///timergate.db"
    broker_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Browser origins allowed to call the API (CORS) and open websockets; none by default.
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    #: Seconds a token lookup is remembered.
    token_cache_seconds: float = 30.0
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
    #: Seconds between looks at a vendor for changes made outside timergate, while a
    #: subscriber listens (never faster than the vendor's rate limit allows).
    poll_interval_seconds: float = 15.0
    #: Whole seconds a shutdown (SIGTERM) waits for requests in flight before cancelling them.
    shutdown_timeout_seconds: int = 10

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


def _parse(name: str, raw: str) -> Any:
    if name in ("port", "shutdown_timeout_seconds"):
        return int(raw)
    if name in (
        "token_cache_seconds",
        "upstream_timeout_seconds",
        "poll_interval_seconds",
    ):
        return float(raw)
    if name in ("access_log", "ws_compression"):
        if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"{ENVIRONMENT[name]} must be true or false, not {raw!r}")
        return raw.lower() in ("1", "true", "yes", "on")
    if name in ("allowed_origins", "allowed_upstreams"):
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    return raw
