"""Leases: a named job that one gateway instance at a time does, in the SQL both stores share.

A lease is held by one holder (an instance's name) until it expires; the holder renews it
before then, and gives it up when it stops, so another instance takes the job at once. An
instance that dies without giving it up holds it until it expires.
"""

from __future__ import annotations

from datetime import datetime

from timergate.store._sql import SQLStoreBase, to_us

__all__ = ["LEASES_TABLE", "SQLLeases"]

#: The table, as SQLite and PostgreSQL both read it.
LEASES_TABLE = """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at_us BIGINT NOT NULL
    );
"""


class SQLLeases(SQLStoreBase):
    async def claim_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        # One statement: taken when free or expired, renewed when already the holder's; the
        # database's row lock settles two instances claiming at once.
        async with self._write() as db:
            rows = await db.fetch(
                "INSERT INTO leases (name, holder, expires_at_us) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at_us = excluded.expires_at_us "
                "WHERE leases.holder = excluded.holder OR leases.expires_at_us <= ? "
                "RETURNING holder",
                (name, holder, to_us(until), to_us(now)),
            )
        return bool(rows)

    async def release_lease(self, name: str, holder: str) -> None:
        async with self._write() as db:
            await db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
