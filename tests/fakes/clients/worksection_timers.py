"""Drive a Worksection server with the official client's timer calls; print what it saw.

Runs in the client's own virtual environment (see ``client_venvs.py``). Reads JSON on stdin:
``base_url``, ``access_token``, ``other_access_token``, ``admin_key``, ``task_id``. Prints one
JSON object of observations; the test asserts on them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from worksection import Client, ResponseException, UnauthorizedException


def refusal(call: Any) -> str:
    """The message of the exception a call raises, or a note that it did not raise."""
    try:
        call()
    except ResponseException as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def main() -> None:
    given = json.load(sys.stdin)
    base, task = given["base_url"], int(given["task_id"])
    me = Client(base).set_access_token(given["access_token"])
    other = Client(base).set_access_token(given["other_access_token"])
    admin = Client(base).set_api_key(given["admin_key"])
    seen: dict[str, Any] = {}

    seen["profile"] = me.user.profile().to_dict()
    seen["timer_before"] = me.user.timer()
    me.user.start_timer(task)
    running = me.user.timer()
    seen["timer_running"] = None if running is None else running.to_dict()
    seen["second_start"] = refusal(lambda: me.user.start_timer(task))
    seen["other_user_timer"] = other.user.timer()
    seen["admin_timers"] = [t.to_dict() for t in admin.timers.all()]
    me.user.stop_timer("Wrote the onboarding copy")
    seen["timer_after_stop"] = me.user.timer()
    seen["stop_again"] = refusal(lambda: me.user.stop_timer())
    seen["my_timer_costs"] = [c.to_dict() for c in me.costs.list({"is_timer": 1})]

    me.user.start_timer(task)
    me.user.discard_timer()
    seen["timer_after_discard"] = me.user.timer()
    seen["discard_again"] = refusal(lambda: me.user.discard_timer())

    other.user.start_timer(task)
    timers = admin.timers.all()
    admin.timers.stop(timers[0].id)
    seen["timers_after_admin_stop"] = [t.to_dict() for t in admin.timers.all()]
    seen["admin_stop_again"] = refusal(lambda: admin.timers.stop(timers[0].id))
    admin_costs = admin.costs.list({"id_task": task, "is_timer": 1})
    seen["admin_timer_costs"] = [c.to_dict() for c in admin_costs]

    seen["wrong_key"] = refusal(lambda: Client(base).set_api_key("wrong").timers.all())
    try:
        Client(base).set_access_token("not-a-token").user.timer()
        seen["wrong_token"] = "no error"
    except UnauthorizedException as exc:
        seen["wrong_token"] = f"UnauthorizedException: {exc}"
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
