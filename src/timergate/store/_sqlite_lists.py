"""SQLite's migration 4: lists that stay fast however long a user's history grows.

Every list filter gets an index that starts with the user and ends in the list order (start,
then id); ``timer_counts`` and ``entry_counts`` hold each user's counts, kept by triggers, for
``totalCount``; FTS5 trigram tables, kept by triggers, find text anywhere in descriptions and
context titles, folding case across Unicode. PostgreSQL's migration 4 makes the same indexes
and counts, with pg_trgm for text (``_postgres_migrations.py``).
"""

from __future__ import annotations

__all__ = ["SQLITE_LIST_INDEXES"]

SQLITE_LIST_INDEXES = """
    DROP INDEX timers_by_user;
    DROP INDEX time_entries_by_user;
    CREATE INDEX timers_by_user_started ON timers(user_id, started_at_us, id);
    CREATE INDEX timers_open_by_user ON timers(user_id, started_at_us, id)
        WHERE state IN ('PAUSED', 'RUNNING');
    CREATE INDEX timers_by_user_context
        ON timers(user_id, context_type, context_id, started_at_us, id);
    CREATE INDEX timers_by_user_context_id ON timers(user_id, context_id, started_at_us, id);
    CREATE INDEX timers_by_user_entry ON timers(user_id, entry_id);
    CREATE INDEX time_entries_by_user_started ON time_entries(user_id, started_at_us, id);
    CREATE INDEX time_entries_by_user_context
        ON time_entries(user_id, context_type, context_id, started_at_us, id);
    CREATE INDEX time_entries_by_user_context_id
        ON time_entries(user_id, context_id, started_at_us, id);
    CREATE INDEX time_entries_by_user_timer
        ON time_entries(user_id, timer_id, started_at_us, id);

    CREATE TABLE timer_counts (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        state TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (user_id, provider, state)
    ) WITHOUT ROWID;
    INSERT INTO timer_counts SELECT user_id, provider, state, COUNT(*) FROM timers
        GROUP BY user_id, provider, state;
    CREATE TRIGGER timer_counts_insert AFTER INSERT ON timers BEGIN
        INSERT INTO timer_counts VALUES (NEW.user_id, NEW.provider, NEW.state, 1)
            ON CONFLICT (user_id, provider, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER timer_counts_delete AFTER DELETE ON timers BEGIN
        UPDATE timer_counts SET n = n - 1
            WHERE user_id = OLD.user_id AND provider = OLD.provider AND state = OLD.state;
    END;
    CREATE TRIGGER timer_counts_update AFTER UPDATE OF user_id, provider, state ON timers
    WHEN OLD.user_id IS NOT NEW.user_id OR OLD.provider IS NOT NEW.provider
        OR OLD.state IS NOT NEW.state
    BEGIN
        UPDATE timer_counts SET n = n - 1
            WHERE user_id = OLD.user_id AND provider = OLD.provider AND state = OLD.state;
        INSERT INTO timer_counts VALUES (NEW.user_id, NEW.provider, NEW.state, 1)
            ON CONFLICT (user_id, provider, state) DO UPDATE SET n = n + 1;
    END;

    CREATE TABLE entry_counts (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (user_id, provider)
    ) WITHOUT ROWID;
    INSERT INTO entry_counts SELECT user_id, provider, COUNT(*) FROM time_entries
        GROUP BY user_id, provider;
    CREATE TRIGGER entry_counts_insert AFTER INSERT ON time_entries BEGIN
        INSERT INTO entry_counts VALUES (NEW.user_id, NEW.provider, 1)
            ON CONFLICT (user_id, provider) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER entry_counts_delete AFTER DELETE ON time_entries BEGIN
        UPDATE entry_counts SET n = n - 1
            WHERE user_id = OLD.user_id AND provider = OLD.provider;
    END;
    CREATE TRIGGER entry_counts_update AFTER UPDATE OF user_id, provider ON time_entries
    WHEN OLD.user_id IS NOT NEW.user_id OR OLD.provider IS NOT NEW.provider
    BEGIN
        UPDATE entry_counts SET n = n - 1
            WHERE user_id = OLD.user_id AND provider = OLD.provider;
        INSERT INTO entry_counts VALUES (NEW.user_id, NEW.provider, 1)
            ON CONFLICT (user_id, provider) DO UPDATE SET n = n + 1;
    END;

    CREATE VIRTUAL TABLE timers_text USING fts5(
        description, context_title, content='timers', content_rowid='id', tokenize='trigram'
    );
    INSERT INTO timers_text (timers_text) VALUES ('rebuild');
    CREATE TRIGGER timers_text_insert AFTER INSERT ON timers BEGIN
        INSERT INTO timers_text (rowid, description, context_title)
            VALUES (NEW.id, NEW.description, NEW.context_title);
    END;
    CREATE TRIGGER timers_text_delete AFTER DELETE ON timers BEGIN
        INSERT INTO timers_text (timers_text, rowid, description, context_title)
            VALUES ('delete', OLD.id, OLD.description, OLD.context_title);
    END;
    CREATE TRIGGER timers_text_update AFTER UPDATE OF description, context_title ON timers
    WHEN OLD.description IS NOT NEW.description OR OLD.context_title IS NOT NEW.context_title
    BEGIN
        INSERT INTO timers_text (timers_text, rowid, description, context_title)
            VALUES ('delete', OLD.id, OLD.description, OLD.context_title);
        INSERT INTO timers_text (rowid, description, context_title)
            VALUES (NEW.id, NEW.description, NEW.context_title);
    END;

    CREATE VIRTUAL TABLE time_entries_text USING fts5(
        description, context_title, content='time_entries', content_rowid='id',
        tokenize='trigram'
    );
    INSERT INTO time_entries_text (time_entries_text) VALUES ('rebuild');
    CREATE TRIGGER time_entries_text_insert AFTER INSERT ON time_entries BEGIN
        INSERT INTO time_entries_text (rowid, description, context_title)
            VALUES (NEW.id, NEW.description, NEW.context_title);
    END;
    CREATE TRIGGER time_entries_text_delete AFTER DELETE ON time_entries BEGIN
        INSERT INTO time_entries_text (time_entries_text, rowid, description, context_title)
            VALUES ('delete', OLD.id, OLD.description, OLD.context_title);
    END;
    CREATE TRIGGER time_entries_text_update AFTER UPDATE OF description, context_title
        ON time_entries
    WHEN OLD.description IS NOT NEW.description OR OLD.context_title IS NOT NEW.context_title
    BEGIN
        INSERT INTO time_entries_text (time_entries_text, rowid, description, context_title)
            VALUES ('delete', OLD.id, OLD.description, OLD.context_title);
        INSERT INTO time_entries_text (rowid, description, context_title)
            VALUES (NEW.id, NEW.description, NEW.context_title);
    END;
"""
