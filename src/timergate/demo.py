"""``serve --demo``: one token for the user ``demo`` per store, the same across restarts.

The store keeps only tokens' hashes, so the demo token itself is kept in a file readable by
its owner only (see :func:`timergate.locations.demo_token_file`). A restart reuses it while
the store still knows it; otherwise a new one is made, the old one revoked, and the file
rewritten. Either way a GraphiQL tab that kept the token keeps working, and restarts do not
pile up valid tokens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from timergate.auth import TOKEN_PREFIX, hash_token, new_token
from timergate.domain import TokenGrant, utc_now
from timergate.locations import demo_token_file
from timergate.store import open_store

__all__ = ["DEMO_USER", "DemoToken", "demo_token"]

DEMO_USER = "demo"


@dataclass(frozen=True, slots=True)
class DemoToken:
    token: str
    #: Where the token is kept for the next ``--demo``.
    path: Path
    #: True when the token is the one the previous ``--demo`` printed.
    reused: bool
    #: True when a token kept from before no longer worked (it is revoked, if it existed).
    replaced: bool = False

    def describe(self) -> str:
        """How this token came about, for the person who started the demo."""
        if self.reused:
            return f"the same as last time (kept in {self.path})"
        if self.replaced:
            return f"new: the one kept in {self.path} was unknown to this store or revoked"
        return f"new (kept in {self.path} for the next --demo)"


async def demo_token(database_url: str) -> DemoToken:
    """The demo user's token for the store at ``database_url``: reused, or made anew."""
    path = demo_token_file(database_url)
    kept = path.read_text().strip() if path.is_file() else ""
    store = open_store(database_url)
    await store.connect()
    try:
        if kept:
            user = await store.user_for_token(hash_token(kept))
            if user is not None and user.name == DEMO_USER:
                return DemoToken(kept, path, reused=True)
        token = new_token()
        grant = TokenGrant(DEMO_USER, hash_token(token), token[: len(TOKEN_PREFIX) + 4])
        await store.grant_tokens([grant], utc_now())
        if kept:
            # Whatever it still names (say, a user renamed by hand), it is no demo token now.
            await store.revoke_tokens([hash_token(kept)])
    finally:
        await store.disconnect()
    _write_private(path, token)
    return DemoToken(token, path, reused=False, replaced=bool(kept))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text + "\n")
    os.chmod(path, 0o600)  # a file that existed keeps its mode through O_CREAT
