"""The fake Accelo's timers, driven as Accelo's clients drive them, and ``timergate fake accelo``."""

from __future__ import annotations

from typing import Any

import httpx
from accelo_support import AcceloUser, token_request

from serving import timergate_fake
from timergate.domain import ManualClock

ALL = "_ALL"


async def new_timer(user: AcceloUser, subject: str = "Write the brief", **fields: Any) -> Any:
    params = {"subject": subject, "against_type": "job", "against_id": "31", "_fields": ALL}
    return await user.ok("POST", "/timers", **(params | fields))


def test_timergate_fake_accelo_prints_a_working_description() -> None:
    """`timergate fake accelo` prints a description whose token, base URL and context work."""
    with timergate_fake("accelo") as description:
        assert description["vendor"] == "accelo"
        assert set(description["credentials"]) == {
            "token",
            "clientId",
            "clientSecret",
            "refreshToken",
        }
        seed = description["seed"]
        assert seed["context"]["type"] == seed["againstType"]
        assert seed["context"]["id"] == seed["againstId"]
        headers = {"Authorization": f"Bearer {description['credentials']['token']}"}
        api = description["base_url"] + "/api/v0"
        whoami = httpx.get(api + "/staff/whoami", headers=headers, timeout=5).json()
        assert whoami["response"]["id"] == seed["staffId"]
        form = {
            "subject": "Against the seeded context",
            "against_type": seed["againstType"],
            "against_id": seed["againstId"],
            "auto_start": "1",
            "_fields": "against_title,status",
        }
        created = httpx.post(api + "/timers", data=form, headers=headers, timeout=5).json()
        assert created["meta"]["status"] == "ok"
        assert created["response"]["against_title"] == seed["context"]["title"]
        assert created["response"]["status"] == "running"


async def test_auto_start_runs_the_timer_and_seconds_follow_the_clock(
    morgan: AcceloUser, clock: ManualClock
) -> None:
    """A timer created with auto_start=1 runs, and its seconds grow with the clock."""
    timer = await new_timer(morgan, auto_start="1")
    assert (timer["status"], timer["seconds"]) == ("running", "0")
    clock.advance(95)
    fetched = await morgan.ok("GET", f"/timers/{timer['id']}", _fields="status")
    assert (fetched["status"], fetched["seconds"]) == ("running", "95")


async def test_a_timer_created_without_auto_start_is_stopped_with_its_seconds(
    morgan: AcceloUser, clock: ManualClock
) -> None:
    """Without auto_start a new timer is stopped and holds the seconds it was given."""
    timer = await new_timer(morgan, seconds="600")
    assert (timer["status"], timer["seconds"]) == ("stopped", "600")
    clock.advance(60)
    assert (await morgan.ok("GET", f"/timers/{timer['id']}"))["seconds"] == "600"


async def test_auto_start_stops_the_users_other_running_timers_only(
    morgan: AcceloUser, sam: AcceloUser, clock: ManualClock
) -> None:
    """auto_start stops the user's running timers (keeping their time), never another user's."""
    first = await new_timer(morgan, "First", auto_start="1")
    theirs = await new_timer(sam, "Theirs", auto_start="1")
    clock.advance(30)
    second = await new_timer(morgan, "Second", auto_start="1")
    clock.advance(10)
    mine = await morgan.ok("GET", "/timers", _fields="status")
    assert {t["id"]: (t["status"], t["seconds"]) for t in mine} == {
        first["id"]: ("stopped", "30"),
        second["id"]: ("running", "10"),
    }
    assert (await sam.ok("GET", f"/timers/{theirs['id']}", _fields="status"))["status"] == "running"


async def test_pause_keeps_the_seconds_and_start_resumes(
    morgan: AcceloUser, clock: ManualClock
) -> None:
    """pause stops the clock and keeps the seconds; start runs it on from there."""
    timer = await new_timer(morgan, auto_start="1")
    clock.advance(40)
    paused = await morgan.ok("PUT", f"/timers/{timer['id']}/pause", _fields="status")
    assert (paused["status"], paused["seconds"]) == ("stopped", "40")
    clock.advance(1000)
    resumed = await morgan.ok("POST", f"/timers/{timer['id']}/start", _fields="status")
    assert (resumed["status"], resumed["seconds"]) == ("running", "40")
    clock.advance(5)
    assert (await morgan.ok("GET", f"/timers/{timer['id']}"))["seconds"] == "45"


async def test_start_stops_the_users_running_timer(morgan: AcceloUser, clock: ManualClock) -> None:
    """Starting a stopped timer stops the one that was running, so one clock runs."""
    running = await new_timer(morgan, "Running", auto_start="1")
    waiting = await new_timer(morgan, "Waiting")
    clock.advance(20)
    await morgan.ok("PUT", f"/timers/{waiting['id']}/start")
    states = await morgan.ok("GET", "/timers", _fields="status")
    assert {t["id"]: t["status"] for t in states} == {
        running["id"]: "stopped",
        waiting["id"]: "running",
    }


async def test_update_changes_subject_and_object_with_put_or_post(morgan: AcceloUser) -> None:
    """PUT (and POST, as the docs' sample sends) updates the subject and the object timed."""
    timer = await new_timer(morgan)
    updated = await morgan.ok(
        "PUT", f"/timers/{timer['id']}", subject="Triage", against_type="issue", against_id="41",
        _fields="against_type,against_id,against_title",
    )  # fmt: skip
    assert updated["subject"] == "Triage"
    assert (updated["against_type"], updated["against_id"]) == ("issue", "41")
    assert updated["against_title"] == "Checkout page times out"
    posted = await morgan.ok("POST", f"/timers/{timer['id']}", subject="Triage again")
    assert posted["subject"] == "Triage again"


async def test_seconds_change_only_on_a_stopped_timer(
    morgan: AcceloUser, clock: ManualClock
) -> None:
    """Setting seconds on a running timer is refused and changes nothing; on a stopped one it sets them."""
    timer = await new_timer(morgan, auto_start="1")
    clock.advance(10)
    body = await morgan.refused(
        "PUT", f"/timers/{timer['id']}", "invalid_request", seconds="5", subject="Renamed"
    )
    assert "stopped" in body["meta"]["message"]
    unchanged = await morgan.ok("GET", f"/timers/{timer['id']}")
    assert (unchanged["subject"], unchanged["seconds"]) == ("Write the brief", "10")
    await morgan.ok("PUT", f"/timers/{timer['id']}/pause")
    assert (await morgan.ok("PUT", f"/timers/{timer['id']}", seconds="3600"))["seconds"] == "3600"


async def test_delete_and_cancel_answer_the_envelope_and_remove_the_timer(
    morgan: AcceloUser,
) -> None:
    """DELETE, PUT/POST …/cancel and _method=delete all remove the timer and answer {meta, response}."""
    for method, suffix, extra in (
        ("DELETE", "", {}),
        ("PUT", "/cancel", {}),
        ("POST", "/cancel", {}),
        ("GET", "", {"_method": "delete"}),
    ):
        timer = await new_timer(morgan)
        answer = await morgan.request(method, f"/timers/{timer['id']}{suffix}", **extra)
        assert answer.status_code == 200
        assert answer.json() == {
            "meta": {
                "status": "ok",
                "message": "Everything executed as expected.",
                "more_info": "https://api.accelo.com/docs/#status-codes",
            },
            "response": None,
        }
        await morgan.refused("GET", f"/timers/{timer['id']}", "invalid_request")


async def test_subject_missing_blank_or_too_long_is_refused(morgan: AcceloUser) -> None:
    """A timer needs a subject of at most 255 characters; nothing is created otherwise."""
    await morgan.refused("POST", "/timers", "invalid_request")
    await morgan.refused("POST", "/timers", "invalid_request", subject="   ")
    body = await morgan.refused("POST", "/timers", "invalid_request", subject="x" * 256)
    assert "255" in body["meta"]["message"]
    assert await morgan.ok("GET", "/timers") == []


async def test_unknown_objects_and_bad_values_are_refused(morgan: AcceloUser) -> None:
    """A missing object, a lone against_id, bad seconds or auto_start each get invalid_request."""
    for params in (
        {"against_type": "job", "against_id": "999"},
        {"against_type": "spaceship", "against_id": "31"},
        {"against_id": "31"},
        {"seconds": "ten"},
        {"seconds": "-5"},
        {"auto_start": "yes please"},
    ):
        await morgan.refused("POST", "/timers", "invalid_request", subject="Bad", **params)
    assert await morgan.ok("GET", "/timers") == []


async def test_another_users_timer_answers_exactly_like_a_missing_one(
    morgan: AcceloUser, sam: AcceloUser
) -> None:
    """Every call on another user's timer answers as for an id that does not exist."""
    theirs = await new_timer(sam, "Sam's", auto_start="1")
    for method, suffix in (("GET", ""), ("PUT", ""), ("PUT", "/pause"), ("DELETE", "")):
        other = await morgan.request(method, f"/timers/{theirs['id']}{suffix}", subject="Mine now")
        missing = await morgan.request(method, f"/timers/999999{suffix}", subject="Mine now")
        assert (other.status_code, other.json()) == (missing.status_code, missing.json())
        assert other.status_code == 400
    assert await morgan.ok("GET", "/timers", _filters=f"staff({sam_id(theirs)})") == []
    still = await sam.ok("GET", f"/timers/{theirs['id']}", _fields="status")
    assert (still["subject"], still["status"]) == ("Sam's", "running")


def sam_id(timer: dict[str, Any]) -> str:
    staff_id: str = timer["staff_id"]
    return staff_id


async def test_json_bodies_with_numbers_are_accepted(morgan: AcceloUser) -> None:
    """A JSON body (numbers as numbers) works as the form body does; answers still carry strings."""
    answer = await morgan.http.post(
        "/api/v0/timers",
        json={"subject": "From JSON", "against_type": "job", "against_id": 31, "seconds": 90},
        headers={"Authorization": f"Bearer {morgan.token}"},
    )
    timer = answer.json()["response"]
    assert (timer["subject"], timer["seconds"]) == ("From JSON", "90")


async def test_timers_refuse_a_service_applications_token(
    http: httpx.AsyncClient, description: dict[str, Any]
) -> None:
    """A client_credentials token is refused by every timer call with invalid_permission."""
    service = description["seed"]["serviceApplication"]
    grant = await token_request(
        http, service["clientId"], service["clientSecret"],
        grant_type="client_credentials", scope="write(all)",
    )  # fmt: skip
    robot = AcceloUser(http, grant.json()["access_token"])
    for method, path in (("GET", "/timers"), ("POST", "/timers"), ("GET", "/timers/101")):
        body = await robot.refused(method, path, "invalid_permission", subject="Robot")
        assert "service applications" in body["meta"]["message"]
    assert (await robot.request("GET", "/timers")).status_code == 403
