"""Timer stores, chosen by URL scheme: ``sqlite:///path.db`` or ``postgresql://…``."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from timergate.store.base import StoreTransaction, TimerStore

__all__ = ["StoreTransaction", "TimerStore", "obscure_url", "open_store"]


def open_store(url: str) -> TimerStore:
    """The store for ``url``; its driver is imported only when its scheme is used."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from timergate.store.sqlite import SQLiteTimerStore

        return SQLiteTimerStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from timergate.store.postgres import PostgresTimerStore
        except ImportError as exc:
            raise ValueError(
                f"{scheme}:// needs asyncpg: pip install 'timergate[postgres]' ({exc})"
            ) from exc
        return PostgresTimerStore(url)
    raise ValueError(
        f"unsupported store URL scheme {scheme!r}: use sqlite:///path/to/file.db "
        "or postgresql://user:password@host/database"
    )


def obscure_url(url: str) -> str:
    """``url`` with any password (in the authority or the query) as ``***``, safe to print."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    in_query = any(key == "password" for key, _ in query)
    if parts.password is None and not in_query:
        return url  # as given: a round trip would turn sqlite:///x into sqlite:/x
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1))
    if in_query:
        masked = [(k, "***" if k == "password" else v) for k, v in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return parts.geturl()
