"""Where timergate keeps its files unless told otherwise, whatever directory a command runs in.

The default store is a SQLite file in the user's data directory, as ``platformdirs`` finds it
(``~/.local/share/timergate`` on Linux, ``$XDG_DATA_HOME`` when set; ``~/Library/Application
Support/timergate`` on macOS; ``%LOCALAPPDATA%\\timergate`` on Windows), so ``serve`` and
``token create`` run from two directories still share one store. The files that belong to a
store (the generated key sealing vendor credentials, the demo token) live beside its SQLite
file, so they follow the store wherever ``--database`` points.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

__all__ = ["data_directory", "default_database_url", "demo_token_file", "key_file_beside"]

KEY_FILE_NAME = "timergate.key"


def data_directory() -> Path:
    """The user's data directory for timergate (not created here)."""
    return Path(platformdirs.user_data_dir("timergate", appauthor=False))


def default_database_url() -> str:
    """``sqlite:///`` and the absolute path of ``timergate.db`` in the data directory."""
    return f"sqlite:///{(data_directory() / 'timergate.db').as_posix()}"


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite file a store URL names (as the store opens it), or None for other stores."""
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        return None
    return Path(parts.path[1:] if parts.path.startswith("/") else parts.path)


def key_file_beside(database_url: str) -> Path | None:
    """Where a single instance keeps its generated key: ``timergate.key`` beside its SQLite
    file. None for a shared store, whose instances must all get ``TIMERGATE_SECRET_KEY``."""
    database = sqlite_file(database_url)
    return None if database is None else database.with_name(KEY_FILE_NAME)


def demo_token_file(database_url: str) -> Path:
    """Where ``serve --demo`` keeps the demo user's token for this store, to reuse it.

    Beside a SQLite file, named after it; for other stores, in the data directory, named
    after a hash of the URL (so two stores never share one).
    """
    database = sqlite_file(database_url)
    if database is not None:
        return database.with_name(database.name + ".demo-token")
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return data_directory() / f"demo-token-{digest}"
