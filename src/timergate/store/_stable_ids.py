"""The SQLite migration that stops ids from being reused.

A plain ``INTEGER PRIMARY KEY`` hands out one more than the largest id in the table, so after
the newest timer, entry or connection is deleted its id names the next one made. A client
still holding the old id (a retried cancel, another device's list, a cached link) would then
act on, or show, a different object. ``AUTOINCREMENT`` never hands an id out twice. SQLite
cannot add it to a table, so each table is rebuilt with the same columns, rows and indexes.
An id freed before this migration ran may still be handed out once; none is after.
"""

from __future__ import annotations

__all__ = ["NEVER_REUSE_IDS"]

NEVER_REUSE_IDS = """
    CREATE TABLE timers_rebuilt (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('RUNNING', 'PAUSED', 'STOPPED')),
        description TEXT,
        context_type TEXT,
        context_id TEXT,
        context_title TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        billable INTEGER NOT NULL,
        accumulated_us INTEGER NOT NULL CHECK (accumulated_us >= 0),
        running_since_us INTEGER,
        started_at_us INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL,
        version INTEGER NOT NULL,
        entry_id INTEGER,
        CHECK ((state = 'RUNNING') = (running_since_us IS NOT NULL))
    );
    INSERT INTO timers_rebuilt SELECT * FROM timers;
    DROP TABLE timers;
    ALTER TABLE timers_rebuilt RENAME TO timers;
    CREATE UNIQUE INDEX timers_one_running_per_user ON timers(user_id) WHERE state = 'RUNNING';
    CREATE INDEX timers_by_user ON timers(user_id, id);

    CREATE TABLE time_entries_rebuilt (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        timer_id INTEGER,
        description TEXT,
        context_type TEXT,
        context_id TEXT,
        context_title TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        billable INTEGER NOT NULL,
        started_at_us INTEGER NOT NULL,
        ended_at_us INTEGER NOT NULL CHECK (ended_at_us >= started_at_us),
        duration_seconds INTEGER NOT NULL CHECK (duration_seconds >= 0),
        date TEXT NOT NULL,
        created_at_us INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL,
        version INTEGER NOT NULL
    );
    INSERT INTO time_entries_rebuilt SELECT * FROM time_entries;
    DROP TABLE time_entries;
    ALTER TABLE time_entries_rebuilt RENAME TO time_entries;
    CREATE INDEX time_entries_by_user ON time_entries(user_id, id);
    CREATE INDEX time_entries_by_user_date ON time_entries(user_id, date);

    CREATE TABLE connections_rebuilt (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        label TEXT,
        base_url TEXT NOT NULL,
        credentials BLOB NOT NULL,
        status TEXT NOT NULL,
        created_at_us INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL
    );
    INSERT INTO connections_rebuilt SELECT * FROM connections;
    -- provider_state moves first: dropping connections would cascade into its rows.
    CREATE TABLE provider_state_rebuilt (
        connection_id INTEGER NOT NULL REFERENCES connections_rebuilt(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (connection_id, key)
    );
    INSERT INTO provider_state_rebuilt SELECT * FROM provider_state;
    DROP TABLE provider_state;
    DROP TABLE connections;
    -- Renaming a table rewrites the foreign keys that name it.
    ALTER TABLE connections_rebuilt RENAME TO connections;
    ALTER TABLE provider_state_rebuilt RENAME TO provider_state;
    CREATE INDEX connections_by_user ON connections(user_id, id);
"""
