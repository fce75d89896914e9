"""The README's curl tour, run as a new user would: twice, against `serve --demo`, restarted.

The tour's shell block is taken from README.md as it stands; only the token placeholder and
the port change. Each run must answer every step without an error, and the restarted demo
must hand out the same token (so the second run is the same user, on the same store).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from serving import free_port, timergate_serve

README = Path(__file__).resolve().parents[2] / "README.md"


def tour() -> str:
    """The shell block under '## A quick tour with curl'."""
    text = README.read_text()
    section = text[text.index("## A quick tour with curl") :]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def demo_token(log: Path) -> tuple[str, str]:
    """The token `serve --demo` printed, and how it described it."""
    text = log.read_text()
    described = re.search(r"timergate: demo user token, (.*):\n", text)
    token = re.search(r"timergate:   (tg_\S+)", text)
    assert described and token, text
    return token.group(1), described.group(1)


def run_tour(port: int, token: str) -> list[dict]:
    script = tour()
    assert "TOKEN=tg_..." in script and "localhost:8000" in script
    script = script.replace("TOKEN=tg_...", f"TOKEN={token}").replace(
        "localhost:8000", f"localhost:{port}"
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_tour_works_twice_on_one_store(tmp_path: Path) -> None:
    """Every step of the tour answers data without errors, on a first and on a second run
    against the same store after a restart; the demo token is the same both times."""
    database = f"sqlite:///{tmp_path / 'tour.db'}"
    answers = []
    tokens = []
    for run in range(2):
        port = free_port()
        log = tmp_path / f"serve-{run}.log"
        with timergate_serve(port, database, log, environment={"TIMERGATE_DEMO": "true"}):
            token, described = demo_token(log)
            tokens.append(token)
            assert described.startswith("new" if run == 0 else "the same as last time")
            answers.append(run_tour(port, token))
    assert tokens[0] == tokens[1]
    for run, steps in enumerate(answers, start=1):
        assert len(steps) == 5, steps
        for step in steps:
            assert "errors" not in step, (run, step)
        started, paused, resumed, stopped, entries = (s["data"] for s in steps)
        assert started["startTimer"]["timer"]["state"] == "RUNNING"
        assert paused["pauseTimer"]["timer"]["state"] == "PAUSED"
        assert resumed["startTimer"]["timer"]["state"] == "RUNNING"
        assert stopped["stopTimer"]["timer"]["state"] == "STOPPED"
        assert entries["timeEntries"]["totalCount"] == run
        assert len(entries["timeEntries"]["edges"]) == run
