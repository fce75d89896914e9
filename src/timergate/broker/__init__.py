"""Brokers, chosen by URL scheme: ``memory://`` (one process), ``redis://`` and ``postgresql://``
(every instance sharing the URL). Each driver is imported only when its scheme is used."""

from __future__ import annotations

from urllib.parse import urlsplit

from timergate.broker.base import (
    Broker,
    BrokerUnavailable,
    ControlListener,
    Gap,
    Listener,
    Unsubscribe,
)

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "ControlListener",
    "Gap",
    "Listener",
    "Unsubscribe",
    "open_broker",
]


def open_broker(url: str) -> Broker:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from timergate.broker.memory import MemoryBroker

        return MemoryBroker(url)
    if scheme in ("redis", "rediss"):
        try:
            from timergate.broker.redis import RedisBroker
        except ImportError as exc:
            raise ValueError(_missing("redis", url)) from exc
        return RedisBroker(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from timergate.broker.postgres import PostgresBroker
        except ImportError as exc:
            raise ValueError(_missing("postgres", url)) from exc
        return PostgresBroker(url)
    raise ValueError(
        f"unsupported broker URL scheme {scheme!r}: use memory://, redis://HOST:PORT or "
        "postgresql://USER@HOST:PORT/DATABASE"
    )


def _missing(extra: str, url: str) -> str:
    scheme = urlsplit(url).scheme
    return f"the {scheme}:// broker needs its driver: pip install 'timergate[{extra}]'"
