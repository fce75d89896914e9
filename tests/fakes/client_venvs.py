"""Virtual environments holding vendors' own client libraries, for fidelity tests.

Vendor clients pin old dependencies, so each gets its own venv under ``.cache/clients/<name>``
(gitignored), built once and reused while its requirements file is unchanged. Scripts in
``tests/fakes/clients/`` run in it as subprocesses. Without network outside CI the test skips
with the reason; under ``CI=true`` a failed build fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CLIENTS", "client_python", "run_client_script"]

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = Path(__file__).resolve().parent / "clients"
CACHE = ROOT / ".cache" / "clients"


def client_python(name: str) -> Path:
    """The venv python with ``clients/<name>-requirements.txt`` installed (built if needed)."""
    requirements = (CLIENTS / f"{name}-requirements.txt").read_text()
    home = CACHE / name
    python = home / "bin" / "python"
    stamp = home / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == requirements:
        return python
    try:
        venv.EnvBuilder(clear=True, with_pip=True).create(home)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run(
            [*pip, "-r", str(CLIENTS / f"{name}-requirements.txt")],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        reason = f"cannot build the {name} client venv in {home}: {detail.strip()[-400:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    stamp.write_text(requirements)
    return python


def run_client_script(name: str, script: str, arguments: dict[str, Any]) -> Any:
    """Run ``clients/<script>`` with the client's venv; it reads JSON on stdin, prints JSON."""
    python = client_python(name)
    result = subprocess.run(
        [str(python), str(CLIENTS / script)],
        input=json.dumps(arguments),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr}"
    return json.loads(result.stdout)
