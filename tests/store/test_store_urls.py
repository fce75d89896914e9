"""Stores are chosen by URL, and URLs print without their passwords."""

from __future__ import annotations

import pytest

from timergate.store import obscure_url, open_store
from timergate.store.postgres import PostgresTimerStore
from timergate.store.sqlite import SQLiteTimerStore


@pytest.mark.parametrize(
    "url", ["postgresql://tg:s3cret@db.example:5432/timergate", "postgres://tg:s3cret@db/tg"]
)
def test_postgresql_urls_open_the_postgresql_store_and_hide_the_password(url: str) -> None:
    """Both spellings of the scheme pick PostgreSQL; the store's repr never shows the password."""
    store = open_store(url)
    assert isinstance(store, PostgresTimerStore)
    assert "s3cret" not in repr(store)
    assert "tg:***@" in repr(store)


def test_sqlite_urls_open_the_sqlite_store() -> None:
    """sqlite:/// picks the embedded store."""
    assert isinstance(open_store("sqlite:///timergate.db"), SQLiteTimerStore)


def test_an_unknown_scheme_names_the_ones_that_work() -> None:
    """A mistyped scheme is a clear error listing what is accepted."""
    with pytest.raises(ValueError, match=r"sqlite:///.*postgresql://"):
        open_store("mysql://db/timergate")


def test_pool_size_comes_from_the_url_and_stays_out_of_the_connection() -> None:
    """min_size and max_size size the pool; other options go on to the driver."""
    store = open_store("postgresql://db/tg?max_size=25&min_size=0&sslmode=require")
    assert isinstance(store, PostgresTimerStore)
    assert (store.min_size, store.max_size) == (0, 25)
    assert store._dsn == "postgresql://db/tg?sslmode=require"
    default = open_store("postgresql://db/tg")
    assert isinstance(default, PostgresTimerStore)
    assert (default.min_size, default.max_size) == (2, 10)


@pytest.mark.parametrize(
    "query", ["max_size=0", "max_size=ten", "min_size=5&max_size=2", "min_size=-1"]
)
def test_a_pool_that_cannot_work_is_refused(query: str) -> None:
    """Pool sizes that cannot work are refused at start, not at the first request."""
    with pytest.raises(ValueError, match="size"):
        open_store(f"postgresql://db/tg?{query}")


@pytest.mark.parametrize(
    ("url", "printed"),
    [
        ("postgresql://tg:pa%40ss@db:5432/tg", "postgresql://tg:***@db:5432/tg"),
        ("postgresql://db/tg?user=tg&password=pass", "postgresql://db/tg?user=tg&password=***"),
        ("postgresql://tg@db/tg?sslmode=require", "postgresql://tg@db/tg?sslmode=require"),
        ("sqlite:///timergate.db", "sqlite:///timergate.db"),
    ],
)
def test_urls_print_without_passwords(url: str, printed: str) -> None:
    """A password in the authority or the query prints as ***; other URLs print as given."""
    assert obscure_url(url) == printed
