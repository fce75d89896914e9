"""scripts/audit_dependencies.py fails the build on a known vulnerability, and on an audit it
could not finish only when that is required (under CI by default).

pip-audit itself is replaced by a stand-in that answers as the advisory service would: with a
vulnerability, with nothing, without any record of the packages, or not at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit_dependencies.py"

#: Writes the report given in FAKE_AUDIT_REPORT where --output says and exits as pip-audit does;
#: with no report given, fails the way pip-audit does when its service is out of reach.
STAND_IN = """
import json, os, sys
report = os.environ.get("FAKE_AUDIT_REPORT")
if report is None:
    print("requests.exceptions.ConnectionError: Failed to resolve the service", file=sys.stderr)
    sys.exit(1)
with open(sys.argv[sys.argv.index("--output") + 1], "w") as out:
    out.write(report)
vulnerable = any(d.get("vulns") for d in json.loads(report)["dependencies"])
sys.exit(1 if vulnerable else 0)
"""

CLEAN = {"dependencies": [{"name": "starlette", "version": "1.10.0", "vulns": []}], "fixes": []}
VULNERABLE = {
    "dependencies": [
        {"name": "starlette", "version": "1.10.0", "vulns": []},
        {
            "name": "jinja2",
            "version": "2.4",
            "vulns": [{"id": "PYSEC-2014-8", "fix_versions": ["2.7.2"], "aliases": []}],
        },
    ],
    "fixes": [],
}
NO_RECORDS = {
    "dependencies": [
        {
            "name": "starlette",
            "skip_reason": "Dependency not found on PyPI and could not be audited: starlette",
        }
    ],
    "fixes": [],
}


def audit(
    tmp_path: Path, report: dict[str, Any] | None, **environment: str
) -> subprocess.CompletedProcess[str]:
    stand_in = tmp_path / "pip_audit_stand_in.py"
    stand_in.write_text(STAND_IN)
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "TIMERGATE_AUDIT"}}
    env["TIMERGATE_PIP_AUDIT"] = f"{sys.executable} {stand_in}"
    if report is not None:
        env["FAKE_AUDIT_REPORT"] = json.dumps(report)
    env.update(environment)
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_known_vulnerability_fails_in_and_out_of_ci(tmp_path: Path, ci: str) -> None:
    """A vulnerable dependency fails the run and is named with its advisory and fix."""
    result = audit(tmp_path, VULNERABLE, CI=ci)
    assert result.returncode == 1
    assert "jinja2 2.4: PYSEC-2014-8 (fixed in 2.7.2)" in result.stderr


def test_a_clean_audit_passes_and_says_how_much_it_checked(tmp_path: Path) -> None:
    """With every package checked and none vulnerable, the run goes on."""
    result = audit(tmp_path, CLEAN, CI="true")
    assert result.returncode == 0, result.stderr
    assert "no known vulnerabilities in 1 installed packages" in result.stdout


@pytest.mark.parametrize("report", [None, NO_RECORDS], ids=["unreachable", "no-records"])
def test_an_unfinished_audit_fails_under_ci(tmp_path: Path, report: dict[str, Any] | None) -> None:
    """Under CI=true an audit that could not check every package fails: unchecked is not clean."""
    result = audit(tmp_path, report, CI="true")
    assert result.returncode == 1
    assert "could not be audited" in result.stderr


@pytest.mark.parametrize("report", [None, NO_RECORDS], ids=["unreachable", "no-records"])
def test_an_unfinished_audit_is_skipped_with_a_message_outside_ci(
    tmp_path: Path, report: dict[str, Any] | None
) -> None:
    """Offline, outside CI, the audit says it was skipped and why, and the tests still run."""
    result = audit(tmp_path, report)
    assert result.returncode == 0
    assert "skipped" in result.stderr and "could not be audited" in result.stderr


def test_the_policy_can_be_chosen(tmp_path: Path) -> None:
    """TIMERGATE_AUDIT overrides the default in either direction, or turns the audit off."""
    assert audit(tmp_path, None, CI="true", TIMERGATE_AUDIT="if-reachable").returncode == 0
    assert audit(tmp_path, None, TIMERGATE_AUDIT="required").returncode == 1
    assert audit(tmp_path, VULNERABLE, TIMERGATE_AUDIT="off").returncode == 0
    assert audit(tmp_path, CLEAN, TIMERGATE_AUDIT="sometimes").returncode != 0
