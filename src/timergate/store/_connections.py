"""The SQL of vendor connections, shared by the SQL stores (SQLite and PostgreSQL alike).

A connection's credentials arrive sealed (see :mod:`timergate.vault`) and are stored as they
arrive; the store never sees them in the clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from timergate.domain.connections import Connection, ConnectionStatus, ProviderKind
from timergate.store._sql import from_us

__all__ = ["CONNECTIONS_TABLE", "CONNECTION_COLUMNS", "connection_from_row"]

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
