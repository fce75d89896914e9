"""Run the real ``timergate`` command for tests: a server on a loopback port, and tokens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

__all__ = ["create_tokens", "free_port", "timergate_fake", "timergate_serve"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def create_tokens(database_url: str, *names: str) -> list[str]:
    """A new token for each user name, made by ``timergate token create``."""
    users = [arg for name in names for arg in ("--user", name)]
    command = [sys.executable, "-m", "timergate", "token", "create", *users]
    result = subprocess.run(
        [*command, "--database", database_url],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tokens = result.stdout.split()
    assert len(tokens) == len(names), result.stdout
    return tokens


@contextmanager
def timergate_serve(
    port: int,
    database_url: str,
    log: Path,
    *,
    access_log: bool = False,
    environment: dict[str, str] | None = None,
    deadline: float = 15.0,
    crash: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``timergate serve``, wait until /healthz answers, yield its process, and stop it
    on the way out.

    ``TIMERGATE_*`` variables of the test run are dropped; ``environment`` adds the server's own.
    With ``crash`` the server is killed with SIGKILL, so no shutdown code runs.
    """
    command = [sys.executable, "-m", "timergate", "serve", "--port", str(port)]
    command += ["--database", database_url]
    if not access_log:
        command.append("--no-access-log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMERGATE_")}
    env.update(environment or {})
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_healthy(port, process, log, time.monotonic() + deadline)
        yield process
    finally:
        if crash:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_healthy(
    port: int, process: subprocess.Popen[bytes], log: Path, deadline: float
) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"timergate serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"timergate serve did not answer /healthz in time:\n{log.read_text()}")


@contextmanager
def timergate_fake(vendor: str, *args: str, deadline: float = 15.0) -> Iterator[dict[str, Any]]:
    """Run ``timergate fake VENDOR`` on a free port; yield the JSON object it prints first."""
    command = [sys.executable, "-m", "timergate", "fake", vendor, "--port", "0", *args]
    # A file, not a pipe: an unread pipe could fill up and stall the fake.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        with _stopping(process):
            yield _description(vendor, process, errors, deadline)


@contextmanager
def _stopping(process: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        # An unclosed pipe is a ResourceWarning, which the suite turns into an error.
        if process.stdout is not None:
            process.stdout.close()


def _description(
    vendor: str, process: subprocess.Popen[str], errors: IO[bytes], deadline: float
) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=5)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
        pytest.fail(f"timergate fake {vendor} printed nothing; stderr:\n{stderr}")
    description: dict[str, Any] = json.loads(line)
    base_url = description["base_url"]
    end = time.monotonic() + deadline
    while True:
        try:
            httpx.get(f"{base_url}/_fake/control", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > end or process.poll() is not None:
                pytest.fail(f"timergate fake {vendor} did not answer at {base_url}")
            time.sleep(0.05)
    return description
