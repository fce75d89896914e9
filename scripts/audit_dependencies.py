"""Audit the installed dependencies with pip-audit; a known vulnerability fails the run.

Run by scripts/test.sh with the test environment's Python. Three outcomes:

- pip-audit reports a vulnerability: exit 1, always.
- every installed package was checked and none is vulnerable: exit 0.
- the advisory service could not be reached, or had no record of some packages (a mirror
  without vulnerability data answers like that), so the audit is incomplete: what happens
  then is ``TIMERGATE_AUDIT``'s choice:
    ``required`` (the default under ``CI=true``): exit 1, an unchecked build must not pass;
    ``if-reachable`` (the default elsewhere): say so and exit 0, so work goes on offline;
    ``off``: skip the audit altogether.

``TIMERGATE_PIP_AUDIT`` replaces the pip-audit command (the tests use a stand-in for it).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MODES = ("required", "if-reachable", "off")


def _mode() -> str:
    default = "required" if os.environ.get("CI", "").lower() == "true" else "if-reachable"
    mode = os.environ.get("TIMERGATE_AUDIT", default) or default
    if mode not in MODES:
        sys.exit(f"audit: TIMERGATE_AUDIT must be one of {', '.join(MODES)} (got {mode!r})")
    return mode


def _command(report: Path) -> list[str]:
    given = os.environ.get("TIMERGATE_PIP_AUDIT")
    base = shlex.split(given) if given else [sys.executable, "-m", "pip_audit"]
    # The project itself is installed editable and is not on any index: leave it out.
    options = ["--skip-editable", "--progress-spinner", "off", "--format", "json"]
    return [*base, *options, "--output", str(report)]


def _incomplete(mode: str, why: str) -> int:
    if mode == "required":
        print(f"audit: FAILED, the dependencies could not be audited: {why}", file=sys.stderr)
        print(
            "audit: set TIMERGATE_AUDIT=if-reachable to let an unaudited build pass.",
            file=sys.stderr,
        )
        return 1
    print(f"audit: skipped, the dependencies could not be audited: {why}", file=sys.stderr)
    return 0


def _vulnerabilities(report: dict[str, Any]) -> list[str]:
    found = []
    for dependency in report.get("dependencies", []):
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            found.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})"
            )
    return found


def main() -> int:
    mode = _mode()
    if mode == "off":
        print("audit: off (TIMERGATE_AUDIT=off)", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        result = subprocess.run(
            _command(report_path), capture_output=True, text=True, timeout=600, check=False
        )
        report = json.loads(report_path.read_text()) if report_path.exists() else None
    if report is None:
        # pip-audit stops before writing a report when it cannot reach its service.
        lines = (result.stderr or result.stdout).strip().splitlines()
        return _incomplete(mode, lines[-1] if lines else f"pip-audit exited {result.returncode}")
    vulnerabilities = _vulnerabilities(report)
    if vulnerabilities:
        print("audit: FAILED, installed dependencies with known vulnerabilities:", file=sys.stderr)
        for line in vulnerabilities:
            print(f"  {line}", file=sys.stderr)
        return 1
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    if skipped:
        example = skipped[0]["skip_reason"]
        return _incomplete(
            mode,
            f"the advisory service had no record of {len(skipped)} of {len(dependencies)} "
            f"installed packages (e.g. {example})",
        )
    if result.returncode != 0:
        return _incomplete(mode, f"pip-audit exited {result.returncode}: {result.stderr.strip()}")
    print(f"audit: no known vulnerabilities in {len(dependencies)} installed packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
