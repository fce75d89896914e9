"""Fresh, empty stores for tests: a SQLite file, or a new PostgreSQL schema per test.

PostgreSQL is the database at ``TIMERGATE_TEST_POSTGRES_URL`` (default: the trust-auth server on
127.0.0.1:5432, database ``test``). Each test gets a schema of its own there (the store URL
sets ``search_path``), dropped afterwards, so tests never see each other's rows; a schema costs
milliseconds where a database costs most of a second. pg_trgm is installed once, in ``public``,
as an administrator would. Tests of what happens in a whole new database use
:func:`fresh_postgres_database`. When the server does not answer, PostgreSQL tests skip with the
reason, except under ``CI=true``, where they fail: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

__all__ = [
    "POSTGRES_ENV",
    "STORE_BACKENDS",
    "fresh_postgres_database",
    "fresh_store_url",
    "postgres_server_url",
]

STORE_BACKENDS = ("sqlite", "postgresql")
POSTGRES_ENV = "TIMERGATE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

_unreachable: dict[str, str] = {}
_prepared: set[str] = set()


def postgres_server_url() -> str:
    return os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(reason)


async def _admin_connection(server: str) -> Any:
    try:
        import asyncpg
    except ImportError:
        _unavailable("asyncpg is not installed: pip install -e '.[test]'")
    if server in _unreachable:
        _unavailable(_unreachable[server])
    try:
        return await asyncpg.connect(server, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _unreachable[server] = f"PostgreSQL at {server} ({POSTGRES_ENV}) does not answer: {exc}"
        _unavailable(_unreachable[server])


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    server = postgres_server_url()
    name = f"timergate_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield urlsplit(server)._replace(path=f"/{name}").geturl()
    finally:
        admin = await _admin_connection(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def _postgres_schema() -> AsyncIterator[str]:
    server = postgres_server_url()
    name = f"timergate_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection(server)
    try:
        if server not in _prepared:
            await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            _prepared.add(server)
        await admin.execute(f'CREATE SCHEMA "{name}"')
        parts = urlsplit(server)
        query = "&".join(filter(None, [parts.query, f"search_path={name},public"]))
        yield parts._replace(query=query).geturl()
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.close()


@asynccontextmanager
async def fresh_store_url(backend: str, directory: Path) -> AsyncIterator[str]:
    """The URL of an empty store of ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'timergate.db'}"
    elif backend == "postgresql":
        async with _postgres_schema() as url:
            yield url
    else:  # pragma: no cover - a typo in a parametrisation
        raise ValueError(f"no store backend {backend!r}")
