"""Event brokers, chosen by URL scheme: ``memory://`` (later ``redis://``, ``postgresql://``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from timergate.broker.base import Broker, Listener, Unsubscribe

__all__ = ["Broker", "Listener", "Unsubscribe", "open_broker"]


def open_broker(url: str) -> Broker:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from timergate.broker.memory import MemoryBroker

        return MemoryBroker(url)
    raise ValueError(f"unsupported broker URL scheme {scheme!r}: use memory://")
