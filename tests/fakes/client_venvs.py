"""Virtual environments for vendors' official client libraries, built once and then reused.

Such clients pin old dependencies, so each gets its own environment under ``.cache/clients/``
(gitignored), never the product's. An environment is rebuilt when its requirements file
changes. Without a package index (no network) the test needing it is skipped, except under
CI=true, where it fails instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["CLIENTS", "client_python"]

CLIENTS = Path(__file__).resolve().parent / "clients"
_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "clients"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the official client tests must run)")
    pytest.skip(reason)


def client_python(vendor: str, requirements: Path) -> Path:
    """The Python of ``vendor``'s client environment, with ``requirements`` installed."""
    venv = _CACHE / vendor
    python = venv / "bin" / "python"
    stamp = venv / "requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    try:
        result = subprocess.run(
            [*install, "-r", str(requirements)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        result = None
    if result is None or result.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        detail = "timed out" if result is None else result.stderr.strip()[-800:]
        _unavailable(f"cannot install {vendor}'s client from {requirements.name}: {detail}")
    stamp.write_text(digest)
    return python
