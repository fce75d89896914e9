"""Timer stores, chosen by URL scheme: ``sqlite:///path.db`` (later ``postgresql://…``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from timergate.store.base import StoreTransaction, TimerStore

__all__ = ["StoreTransaction", "TimerStore", "obscure_url", "open_store"]


def open_store(url: str) -> TimerStore:
    """The store for ``url``; its driver is imported only when its scheme is used."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from timergate.store.sqlite import SQLiteTimerStore

        return SQLiteTimerStore(url)
    raise ValueError(f"unsupported store URL scheme {scheme!r}: use sqlite:///path/to/file.db")


def obscure_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe to print and log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
