#!/usr/bin/env bash
# Install what the tests need into .venv (Playwright when Chromium is here, the Node.js test
# clients when npm is here), audit the installed dependencies for known vulnerabilities, then
# run the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# Playwright (some 165 MB) only where the browser tests can run: beside Debian's Chromium.
extras=test
if [ -x /usr/bin/chromium ]; then
  extras=test,browser
else
  echo "scripts/test.sh: /usr/bin/chromium not found; the browser tests will be skipped" >&2
fi
.venv/bin/python -m pip install --quiet -e ".[$extras]"

if command -v npm >/dev/null 2>&1 && [ -f tests/js/package-lock.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
else
  echo "scripts/test.sh: npm not found; the Node.js client tests will be skipped" >&2
fi

# A known vulnerability in what was just installed fails the run (see the script for what
# happens when the advisory service cannot be reached: under CI=true that fails too).
.venv/bin/python scripts/audit_dependencies.py

exec .venv/bin/python -m pytest "$@"
