"""The real PostgreSQL and Redis the suite may use, and what happens when they are missing.

Their URLs default to this machine's services (``.ci/run`` starts them) and can be moved with
``TIMERGATE_TEST_POSTGRES_URL`` and ``TIMERGATE_TEST_REDIS_URL``. A test that needs one that
does not answer is skipped with the reason, except under ``CI=true``, where it fails instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

__all__ = [
    "BROKER_SERVERS",
    "POSTGRES_URL",
    "REDIS_URL",
    "broker_url",
    "namespaced",
    "require_service",
]

POSTGRES_URL = os.environ.get(
    "TIMERGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TIMERGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: The servers a networked broker runs on, by the name tests are parametrised with.
BROKER_SERVERS = {"redis": REDIS_URL, "postgresql": POSTGRES_URL}


def require_service(url: str) -> str:
    """``url`` if its server accepts connections; otherwise skip (fail under CI=true)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        with socket.create_connection((host, port or 0), timeout=2):
            return url
    except OSError as exc:
        reason = f"{parts.scheme} at {host}:{port} is not reachable ({exc})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true the tests that need it must run")
    pytest.skip(reason)


def namespaced(url: str) -> str:
    """``url`` with a broker namespace of its own, so no other test or run hears it."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}namespace=t{uuid.uuid4().hex[:12]}"


def broker_url(kind: str) -> str:
    """A fresh broker URL on the ``redis`` or ``postgresql`` server (skipped if it is away)."""
    return namespaced(require_service(BROKER_SERVERS[kind]))
