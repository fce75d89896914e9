"""The fake Accelo's activities: where logged time is written and read back."""

from __future__ import annotations

from typing import Any

from accelo_support import AcceloUser

from timergate.domain import ManualClock

TIME_FIELDS = "owner_id,against_type,against_id,date_started,date_ended,billable,nonbillable,time_allocation,visibility,task"


async def log_time(user: AcceloUser, **fields: Any) -> Any:
    """Log time the way a timer's stop would: a note against the timer's object, visible to all."""
    params = {
        "subject": "Write the brief",
        "against_type": "job",
        "against_id": "31",
        "medium": "note",
        "visibility": "all",
        "nonbillable": "1800",
        "date_started": "1767225600",
        "date_ended": "1767227400",
        "_fields": TIME_FIELDS,
    }
    return await user.ok("POST", "/activities", **(params | fields))


async def test_logged_time_reads_back_with_the_adapters_filters(morgan: AcceloUser) -> None:
    """A note with nonbillable seconds comes back, newest first, when filtered by owner and object."""
    first = await log_time(morgan, subject="First")
    second = await log_time(morgan, subject="Second", billable="600", nonbillable="0")
    assert first["nonbillable"] == "1800"
    assert first["time_allocation"] != "0"
    assert (second["billable"], second["nonbillable"]) == ("600", "0")
    found = await morgan.ok(
        "GET", "/activities", _fields=TIME_FIELDS,
        _filters="owner_id(7),against_type(job),against_id(31),time_allocation_not(0),order_by_desc(id)",
    )  # fmt: skip
    assert [activity["subject"] for activity in found] == ["Second", "First"]
    assert found[1]["date_started"] == "1767225600"
    totals = await morgan.ok("GET", "/activities/allocations", _filters="owner_id(7)")
    assert totals == {"billable": "600", "nonbillable": "1800", "charged": "0.00"}


async def test_time_is_dropped_unless_the_activity_is_visible_to_all(morgan: AcceloUser) -> None:
    """As Accelo's docs say, time is logged only with visibility=all; the default private drops it."""
    private = await log_time(morgan, visibility="private")
    assert (private["visibility"], private["nonbillable"], private["time_allocation"]) == (
        "private",
        "0",
        "0",
    )


async def test_billable_time_needs_an_object_that_can_be_billed(morgan: AcceloUser) -> None:
    """Billable seconds against a company are refused; nonbillable ones are fine there."""
    body = await morgan.refused(
        "POST", "/activities", "invalid_request", subject="Call", against_type="company",
        against_id="21", visibility="all", billable="60",
    )  # fmt: skip
    assert "nonbillable" in body["meta"]["message"]
    logged = await log_time(morgan, against_type="company", against_id="21")
    assert logged["nonbillable"] == "1800"


async def test_an_activity_needs_a_subject_and_an_existing_object(morgan: AcceloUser) -> None:
    """Subject and against are required, and the object must exist."""
    await morgan.refused(
        "POST", "/activities", "invalid_request", against_type="job", against_id="31"
    )
    await morgan.refused("POST", "/activities", "invalid_request", subject="No object")
    await morgan.refused(
        "POST",
        "/activities",
        "invalid_request",
        subject="Gone",
        against_type="job",
        against_id="99",
    )
    await morgan.refused(
        "POST", "/activities", "invalid_request", subject="Bad", against_type="job",
        against_id="31", visibility="everyone",
    )  # fmt: skip


async def test_time_against_a_task_is_logged_against_its_job_with_task_id(
    morgan: AcceloUser,
) -> None:
    """task_id links the activity to the task, which _fields=task() expands."""
    logged = await log_time(morgan, task_id="51", _fields="task(),against_type,against_id")
    assert logged["task"] == {"id": "51", "title": "Design the checkout flow"}
    assert (logged["against_type"], logged["against_id"]) == ("job", "31")
    await morgan.refused(
        "POST", "/activities", "invalid_request", subject="x", against_type="job",
        against_id="31", task_id="59",
    )  # fmt: skip


async def test_other_users_private_activities_are_invisible_and_theirs_are_not_mine_to_change(
    morgan: AcceloUser, sam: AcceloUser
) -> None:
    """Another user's private note answers like a missing one; their shared one is read-only to me."""
    mine = await morgan.ok("GET", "/activities", _fields="owner_id,visibility", _limit="100")
    subjects = {activity["subject"] for activity in mine}
    assert "Ask Harbor about label sizes" not in subjects  # Sam's private note
    sams_private = next(
        a
        for a in await sam.ok("GET", "/activities", _fields="visibility")
        if a["visibility"] == "private"
    )
    hidden = await morgan.request("GET", f"/activities/{sams_private['id']}")
    missing = await morgan.request("GET", "/activities/99999")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    shared = next(a for a in mine if a["owner_id"] == "9")
    for method in ("PUT", "DELETE"):
        body = await morgan.refused(
            method, f"/activities/{shared['id']}", "invalid_permission", subject="Mine"
        )
        assert "owner" in body["meta"]["message"]
    assert (await sam.ok("GET", f"/activities/{shared['id']}"))["subject"] == "Scanner wireframes"


async def test_a_confidential_activity_shows_others_a_placeholder(
    morgan: AcceloUser, sam: AcceloUser
) -> None:
    """Others see that a confidential activity exists, not what it says."""
    secret = await log_time(sam, subject="Salary review", visibility="confidential", body="…")
    seen = await morgan.ok("GET", f"/activities/{secret['id']}", _fields="body")
    assert (seen["subject"], seen["body"], seen["confidential"]) == (
        "Confidential activity",
        "",
        "1",
    )
    own = await sam.ok("GET", f"/activities/{secret['id']}")
    assert (own["subject"], own["confidential"]) == ("Salary review", "0")


async def test_the_owner_edits_and_deletes_logged_time(morgan: AcceloUser) -> None:
    """PUT changes subject and seconds (a refused edit changes nothing); DELETE answers the envelope."""
    logged = await log_time(morgan)
    path = f"/activities/{logged['id']}"
    await morgan.refused("PUT", path, "invalid_request", subject="Renamed", visibility="everyone")
    await morgan.refused("PUT", path, "invalid_request", subject="Renamed", nonbillable="-1")
    assert (await morgan.ok("GET", path))["subject"] == "Write the brief"
    edited = await morgan.ok(
        "PUT", path, subject="Renamed", nonbillable="2400", _fields="nonbillable"
    )
    assert (edited["subject"], edited["nonbillable"]) == ("Renamed", "2400")
    assert await morgan.ok("DELETE", path) is None
    await morgan.refused("GET", path, "invalid_request")


async def test_date_filters_select_by_when_time_was_logged(
    morgan: AcceloUser, clock: ManualClock
) -> None:
    """date_logged_after/_before filter on date_started (or creation when there is none)."""
    early = await log_time(
        morgan, subject="Early", date_started="1000000000", date_ended="1000003600"
    )
    late = await log_time(
        morgan, subject="Late", date_started="1600000000", date_ended="1600003600"
    )
    between = await morgan.ok(
        "GET",
        "/activities",
        _filters="date_logged_after(1500000000),date_logged_before(1700000000)",
    )
    assert [a["id"] for a in between] == [late["id"]]
    before = await morgan.ok("GET", "/activities", _filters="date_logged_before(1500000000)")
    assert [a["id"] for a in before] == [early["id"]]
    created_now = await morgan.ok(
        "GET", "/activities", _filters=f"date_created_after({int(clock.now().timestamp()) - 1})"
    )
    assert {a["id"] for a in created_now} == {early["id"], late["id"]}
