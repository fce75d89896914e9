"""ftrack's official Python client (``ftrack-python-api`` from PyPI) works against the fake.

The client runs unchanged in its own virtual environment (tests/fakes/clients/), against
``timergate fake ftrack`` on a loopback port, and reports what it saw as JSON.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from typing import Any

import pytest
from client_venvs import CLIENTS, client_python

from serving import timergate_fake


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    """What the client saw while timing the seeded task as two users."""
    python = client_python("ftrack")
    with timergate_fake("ftrack") as description:
        result = subprocess.run(
            [str(python), str(CLIENTS / "ftrack_session.py"), json.dumps(description)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    report["description"] = description
    return report


def test_a_session_opens_and_accepts_the_server(facts: dict[str, Any]) -> None:
    """Session() checks the version and timezone support and builds its types from our schemas."""
    information = facts["server_information"]
    assert information["is_timezone_support_enabled"] is True
    assert tuple(int(p) for p in information["version"].split(".")) >= (3, 3, 11)
    assert facts["task"] == {"name": "Compositing", "parent": "nightfall"}


def test_a_second_session_reuses_the_cached_schemas(facts: dict[str, Any]) -> None:
    """The served schema_hash matches the client's hash of its cache, so it asks only once."""
    assert facts["schema_cache_reused"] is True


def test_start_timer_creates_a_timer_the_server_starts(facts: dict[str, Any]) -> None:
    """user.start_timer(task) sends no start: the server fills it, and the timer is queryable."""
    user_id = facts["running"][0]["user_id"]
    seed = facts["description"]["seed"]
    assert facts["timers_before"] == []
    started = facts["started"]
    assert started["context"] == ["Task", seed["taskId"]]
    assert (started["name"], started["comment"]) == ("comp", "Roto, shot 040")
    assert datetime.fromisoformat(started["start"]).utcoffset().total_seconds() == 0
    assert facts["running"] == [started | {"user_id": user_id, "context_name": "Compositing"}]


def test_a_second_start_is_refused_as_not_unique(facts: dict[str, Any]) -> None:
    """The server's DuplicateEntryError becomes the client's NotUniqueError."""
    assert facts["second_start"].startswith("NotUniqueError")


def test_stop_timer_writes_a_timelog_and_deletes_the_timer(facts: dict[str, Any]) -> None:
    """user.stop_timer() commits a Timelog from the Timer and the Timer's deletion together."""
    started, stopped = facts["started"], facts["stopped"]
    assert stopped["context_id"] == facts["description"]["seed"]["taskId"]
    assert stopped["context_name"] == "Compositing"
    assert (stopped["name"], stopped["comment"]) == ("comp", "Roto, shot 040")
    assert stopped["start"] == started["start"]
    assert 0 <= stopped["duration"] < 60
    assert facts["timers_after_stop"] == []
    assert facts["stop_without_timer"].startswith("NoResultFoundError")


def test_force_start_stops_the_running_timer_first(facts: dict[str, Any]) -> None:
    """start_timer(force=True) logs the running timer and starts one without a context."""
    forced = facts["forced"]
    assert forced["second"]["id"] != forced["first"]
    assert forced["second"]["context"] is None
    assert forced["second"]["comment"] == "no context"


def test_a_timer_made_by_hand_is_created_updated_and_deleted(facts: dict[str, Any]) -> None:
    """session.create/commit, attribute edits (a start with an offset) and session.delete."""
    assert facts["created"]["comment"] == "by hand"
    assert facts["created"]["context"] == ["Task", facts["description"]["seed"]["taskId"]]
    assert facts["updated"] == {"comment": "edited", "start": "2026-03-02T08:00:00+00:00"}
    assert facts["timers_after_delete"] == []


def test_timelogs_page_filter_by_datetimes_and_collect_on_the_user(facts: dict[str, Any]) -> None:
    """Paging by metadata.next.offset, order by, datetime criteria with offsets, user.timelogs."""
    made = facts["logged_by_hand"]
    assert made["start"] == "2026-03-02T06:30:00+00:00"
    assert made["duration"] == 5400
    paged = facts["timelogs_in_pages_of_two"]
    comments = {t["comment"] for t in paged}
    assert len(paged) == 6  # two seeded, three from stops, one by hand
    assert {"Roto cleanup, shots 010-030", "Lookdev review notes", "logged by hand"} <= comments
    starts = [t["start"] for t in paged]
    assert starts == sorted(starts)
    assert facts["timelogs_between"] == ["logged by hand"]
    assert facts["user_timelogs"] == sorted(t["comment"] for t in paged)


def test_the_other_user_sees_none_of_my_timers_or_timelogs(facts: dict[str, Any]) -> None:
    """A second user's session sees only their own; their timer leaves mine running."""
    other = facts["other_user"]
    assert other["timers"] == []
    assert other["timelogs"] == ["Blocking pass"]
    assert other["stop"].startswith("NoResultFoundError")
    assert other["own_timer"]["user_id"] != facts["running"][0]["user_id"]
    assert facts["mine_while_theirs_runs"] is True


def test_errors_reach_the_client_in_both_modes(facts: dict[str, Any]) -> None:
    """A bad query in strict mode and a wrong API key both arrive as ftrack ServerErrors."""
    assert facts["strict_bad_query"].startswith("ServerError: Server reported error: ParseError(")
    assert "InvalidCredentialsError" in facts["wrong_key"]
    assert "not-the-key" not in facts["wrong_key"]
