"""The SQL of vendor connections, shared by the SQL stores (SQLite and PostgreSQL alike).

A connection's credentials arrive sealed (see :mod:`timergate.vault`) and are stored as they
arrive; the store never sees them in the clear. ``CONNECTIONS_TABLE`` is SQLite's migration;
PostgreSQL's makes the same tables in its own types (``_postgres_migrations.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from timergate.domain.connections import Connection, ConnectionStatus, ProviderKind
from timergate.store._sql import SQLStoreBase, from_us, to_us

__all__ = ["CONNECTIONS_TABLE", "CONNECTION_COLUMNS", "SQLConnections", "connection_from_row"]

CONNECTIONS_TABLE = """
    CREATE TABLE connections (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        label TEXT,
        base_url TEXT NOT NULL,
        credentials BLOB NOT NULL,
        status TEXT NOT NULL,
        created_at_us INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL
    );
    CREATE INDEX connections_by_user ON connections(user_id, id);
    CREATE TABLE provider_state (
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (connection_id, key)
    );
"""

CONNECTION_COLUMNS = "id, user_id, kind, label, base_url, status, created_at_us, updated_at_us"


def connection_from_row(row: Sequence[Any]) -> Connection:
    return Connection(
        id=row[0],
        user_id=row[1],
        kind=ProviderKind(row[2]),
        label=row[3],
        base_url=row[4],
        status=ConnectionStatus(row[5]),
        created_at=from_us(row[6]),
        updated_at=from_us(row[7]),
    )


class SQLConnections(SQLStoreBase):
    """Vendor connections and their providers' state, in the SQL both stores speak."""

    async def add_connection(
        self,
        user_id: int,
        kind: ProviderKind,
        label: str | None,
        base_url: str,
        sealed_credentials: bytes,
        now: datetime,
    ) -> Connection:
        at = to_us(now)
        async with self._write() as db:
            rows = await db.fetch(
                "INSERT INTO connections (user_id, kind, label, base_url, credentials, status, "
                "created_at_us, updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                f"RETURNING {CONNECTION_COLUMNS}",
                (user_id, kind.value, label, base_url, sealed_credentials, "ACTIVE", at, at),
            )
        return connection_from_row(rows[0])

    async def list_connections(self, user_id: int) -> list[Connection]:
        rows = await self._reader().fetch(
            f"SELECT {CONNECTION_COLUMNS} FROM connections WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [connection_from_row(r) for r in rows]

    async def get_connection(
        self, user_id: int, connection_id: int
    ) -> tuple[Connection, bytes] | None:
        rows = await self._reader().fetch(
            f"SELECT {CONNECTION_COLUMNS}, credentials FROM connections "
            "WHERE id = ? AND user_id = ?",
            (connection_id, user_id),
        )
        return (connection_from_row(rows[0]), bytes(rows[0][-1])) if rows else None

    async def update_connection(
        self,
        user_id: int,
        connection_id: int,
        now: datetime,
        *,
        status: ConnectionStatus | None = None,
        sealed_credentials: bytes | None = None,
    ) -> Connection | None:
        async with self._write() as db:
            rows = await db.fetch(
                "UPDATE connections SET status = COALESCE(?, status), "
                "credentials = COALESCE(?, credentials), updated_at_us = ? "
                f"WHERE id = ? AND user_id = ? RETURNING {CONNECTION_COLUMNS}",
                (
                    status.value if status else None,
                    sealed_credentials,
                    to_us(now),
                    connection_id,
                    user_id,
                ),
            )
        return connection_from_row(rows[0]) if rows else None

    async def remove_connection(self, user_id: int, connection_id: int) -> bool:
        async with self._write() as db:
            rows = await db.fetch(
                "DELETE FROM connections WHERE id = ? AND user_id = ? RETURNING id",
                (connection_id, user_id),
            )
        return bool(rows)

    async def get_provider_state(self, connection_id: int, key: str) -> str | None:
        rows = await self._reader().fetch(
            "SELECT value FROM provider_state WHERE connection_id = ? AND key = ?",
            (connection_id, key),
        )
        return str(rows[0][0]) if rows else None

    async def put_provider_state(self, connection_id: int, key: str, value: str | None) -> None:
        async with self._write() as db:
            if value is None:
                await db.execute(
                    "DELETE FROM provider_state WHERE connection_id = ? AND key = ?",
                    (connection_id, key),
                )
            else:
                await db.execute(
                    "INSERT INTO provider_state (connection_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (connection_id, key) DO UPDATE SET value = excluded.value",
                    (connection_id, key, value),
                )

    async def reseal_credentials(self, reseal: Callable[[bytes], bytes]) -> int:
        async with self._write() as db:
            rows = await db.fetch("SELECT id, credentials FROM connections", ())
            for row in rows:
                await db.execute(
                    "UPDATE connections SET credentials = ? WHERE id = ?",
                    (reseal(bytes(row[1])), row[0]),
                )
        return len(rows)
