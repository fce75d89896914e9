"""Upstream credentials, encrypted at rest.

Credentials are sealed with Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography``
package) before they reach the store, and opened only in memory when a connection's provider
is built. The key comes from ``TIMERGATE_SECRET_KEY`` (one or more Fernet keys, comma-separated)
or, for a single instance, from a key file that is generated on first use with 0600
permissions.

Rotation: put a new key first in ``TIMERGATE_SECRET_KEY`` and keep the old ones after it (new
seals use the first key; every listed key opens), run ``timergate secret-key reencrypt``, then
drop the old keys.

A sealed value also names the user and vendor it belongs to, so a ciphertext copied onto
another row of the store does not open there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["CredentialVault", "VaultError", "new_key"]


class VaultError(Exception):
    """A key is missing or malformed, or a sealed value does not open with any key."""


def new_key() -> str:
    """A fresh key for ``TIMERGATE_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


class CredentialVault:
    """Seals and opens credentials with the first of ``keys`` (every key opens)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError("no secret key given")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode("ascii")) for key in keys])
        except (ValueError, UnicodeEncodeError) as exc:
            raise VaultError(
                "a secret key is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with 'timergate secret-key new'"
            ) from exc

    @classmethod
    def from_settings(cls, secret_key: str | None, key_file: str | None) -> CredentialVault:
        """The vault for the configured keys, or for the key file (generated if missing)."""
        if secret_key:
            return cls([k for k in secret_key.split(",") if k.strip()])
        if key_file is None:
            raise VaultError(
                "set TIMERGATE_SECRET_KEY (every instance sharing a store needs the same key)"
            )
        return cls([_key_from_file(Path(key_file))])

    def seal(self, owner: Mapping[str, Any], credentials: Mapping[str, Any]) -> bytes:
        """``credentials`` encrypted, bound to ``owner`` (e.g. the user id and vendor)."""
        plain = json.dumps({"owner": dict(owner), "credentials": dict(credentials)})
        return self._fernet.encrypt(plain.encode("utf-8"))

    def open(self, owner: Mapping[str, Any], sealed: bytes) -> dict[str, Any]:
        """The credentials sealed for ``owner``; :class:`VaultError` if they don't open."""
        try:
            plain = json.loads(self._fernet.decrypt(sealed))
        except (InvalidToken, ValueError) as exc:
            raise VaultError("stored credentials do not open with the configured keys") from exc
        if plain.get("owner") != dict(owner):
            raise VaultError("stored credentials belong to another connection")
        credentials: dict[str, Any] = plain["credentials"]
        return credentials

    def reseal(self, sealed: bytes) -> bytes:
        """``sealed`` encrypted again with the first key (for rotation)."""
        try:
            return self._fernet.rotate(sealed)
        except InvalidToken as exc:
            raise VaultError("stored credentials do not open with the configured keys") from exc


def _key_from_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not each write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(new_key() + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise VaultError(f"the key file {path} is readable by others (mode {mode:o}); chmod 600 it")
    key = path.read_text().strip()
    if not key:
        raise VaultError(f"the key file {path} is empty")
    return key
