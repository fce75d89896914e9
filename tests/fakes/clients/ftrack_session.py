"""Drive a server with ftrack's official Python client (``ftrack-python-api``), unchanged.

Run by tests/fakes/test_ftrack_client.py in the client's own virtual environment:

    python ftrack_session.py '<the fake's description line>'

It times a task the way studio tools do (start_timer, stop_timer, timers made by hand) and
prints one JSON object of what the client saw; the test asserts on it. Client errors that a
step expects are recorded by their class name.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import arrow
import ftrack_api
import ftrack_api.exception


def session(description: dict[str, Any], credentials: dict[str, str], cache: str, **options: Any):
    return ftrack_api.Session(
        server_url=description["base_url"],
        api_user=credentials["apiUser"],
        api_key=credentials["apiKey"],
        auto_connect_event_hub=False,
        schema_cache_path=cache,
        **options,
    )


def error_name(step: Callable[[], Any]) -> str | None:
    """The class of the ftrack error ``step`` raised (and its server exception), or None."""
    try:
        step()
    except ftrack_api.exception.Error as error:
        return f"{type(error).__name__}: {error}"
    return None


def when(value: Any) -> str:
    return arrow.get(value).to("utc").isoformat()


def timer_facts(timer: Any) -> dict[str, Any]:
    context = timer["context"]
    return {
        "id": timer["id"],
        "user_id": timer["user_id"],
        "context": None if context is None else [context.entity_type, context["id"]],
        "name": timer["name"],
        "comment": timer["comment"],
        "start": when(timer["start"]),
    }


def timelog_facts(timelog: Any) -> dict[str, Any]:
    return {
        "id": timelog["id"],
        "user_id": timelog["user_id"],
        "context_id": timelog["context_id"],
        "context_name": None if timelog["context"] is None else timelog["context"]["name"],
        "name": timelog["name"],
        "comment": timelog["comment"],
        "start": when(timelog["start"]),
        "duration": timelog["duration"],
    }


class SchemaCacheUse(logging.Handler):
    """Notices the client's own log line saying it used its cached schemas."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.used = False

    def emit(self, record: logging.LogRecord) -> None:
        self.used = self.used or "Using cached schemas" in record.getMessage()


def run(description: dict[str, Any], cache: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    mine, theirs = description["credentials"], description["seed"]["otherCredentials"]
    task_id = description["seed"]["taskId"]

    s = session(description, mine, cache)
    facts["server_information"] = s.server_information
    user = s.query(f'User where username is "{mine["apiUser"]}"').one()
    task = s.get("Task", task_id)
    facts["task"] = {"name": task["name"], "parent": task["parent"]["name"]}
    facts["timers_before"] = [
        t["id"] for t in s.query(f'Timer where user.username is "{mine["apiUser"]}"')
    ]

    started = user.start_timer(task, comment="Roto, shot 040", name="comp")
    facts["started"] = timer_facts(started)
    facts["second_start"] = error_name(lambda: user.start_timer(task))
    s.rollback()  # the refused Timer stays pending in the session until rolled back
    running = s.query(f"select context.name, start from Timer where user_id is {user['id']}").all()
    facts["running"] = [timer_facts(t) | {"context_name": t["context"]["name"]} for t in running]

    timelog = user.stop_timer()
    facts["stopped"] = timelog_facts(timelog)
    facts["timers_after_stop"] = [t["id"] for t in s.query(f'Timer where user_id = "{user["id"]}"')]
    facts["stop_without_timer"] = error_name(user.stop_timer)

    first = user.start_timer(task)
    forced = user.start_timer(comment="no context", force=True)
    facts["forced"] = {"first": first["id"], "second": timer_facts(forced)}
    user.stop_timer()

    timer = s.create("Timer", {"user": user, "context": task, "comment": "by hand"})
    s.commit()
    facts["created"] = timer_facts(timer)
    timer["comment"] = "edited"
    timer["start"] = arrow.get("2026-03-02T10:00:00+02:00")
    s.commit()
    again = s.query(f'select comment, start from Timer where id is "{timer["id"]}"').one()
    facts["updated"] = {"comment": again["comment"], "start": when(again["start"])}
    s.delete(timer)
    s.commit()
    facts["timers_after_delete"] = [t["id"] for t in s.query("Timer")]

    made = s.create(
        "Timelog",
        {
            "user": user,
            "context": task,
            "start": arrow.get("2026-03-02T07:30:00+01:00"),
            "duration": 5400,
            "comment": "logged by hand",
        },
    )
    s.commit()
    facts["logged_by_hand"] = timelog_facts(made)
    paged = s.query(
        f'select comment, start from Timelog where user_id is "{user["id"]}" order by start',
        page_size=2,
    ).all()
    facts["timelogs_in_pages_of_two"] = [timelog_facts(t) for t in paged]
    between = s.query(
        f'Timelog where user_id is {user["id"]} and start >= "2026-03-02T07:00:00+01:00"'
        ' and start < "2026-03-02T08:00:00+01:00"'
    )
    facts["timelogs_between"] = [t["comment"] for t in between]
    facts["user_timelogs"] = sorted(t["comment"] for t in user["timelogs"])

    cache_use = SchemaCacheUse()
    client_log = logging.getLogger("ftrack_api")
    client_log.addHandler(cache_use)
    client_log.setLevel(logging.DEBUG)
    other = session(description, theirs, cache)
    client_log.setLevel(logging.WARNING)
    facts["schema_cache_reused"] = cache_use.used
    other_user = other.query(f'User where username is "{theirs["apiUser"]}"').one()
    mine_running = user.start_timer(task)
    facts["other_user"] = {
        "timers": [t["id"] for t in other.query("Timer")],
        "timelogs": sorted(t["comment"] for t in other.query("Timelog")),
        "stop": error_name(other_user.stop_timer),
        "own_timer": timer_facts(other_user.start_timer(task)),
    }
    running_now = s.query(f'Timer where user_id is "{user["id"]}"').all()
    facts["mine_while_theirs_runs"] = [mine_running["id"]] == [t["id"] for t in running_now]
    user.stop_timer()
    other_user.stop_timer()
    other.close()
    s.close()

    strict = session(description, mine, cache, strict_api=True)
    facts["strict_bad_query"] = error_name(lambda: strict.query("Timer where start ~ 3").all())
    strict.close()
    facts["wrong_key"] = error_name(
        lambda: session(description, {**mine, "apiKey": "not-the-key"}, cache)
    )
    return facts


def main() -> None:
    # The client logs the errors this script provokes on purpose; keep them off stderr.
    logging.getLogger("ftrack_api").addHandler(logging.NullHandler())
    logging.getLogger("ftrack_api").propagate = False
    description = json.loads(sys.argv[1])
    with tempfile.TemporaryDirectory() as cache:
        facts = run(description, cache)
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
