"""A user starts, pauses, resumes, stops, logs, cancels and edits timers."""

from __future__ import annotations

from datetime import UTC, datetime

from support import (
    CANCEL,
    LOG,
    START,
    STOP,
    UPDATE_TIMER,
    UPDATE_VIEWER,
    get_entry,
    get_timer,
    pause,
    start,
    stop,
)

from timergate.domain import ManualClock


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_new_timer_runs_with_the_details_given(alice, clock: ManualClock) -> None:
    """startTimer records description, context, tags and billable, and runs from now."""
    timer = await start(
        alice,
        description="Write the release notes",
        context={"type": "task", "id": "T-42", "title": "Release 1.0"},
        tags=["docs", "release"],
        billable=False,
    )
    assert timer["state"] == "RUNNING"
    assert timer["provider"] == "local"
    assert timer["description"] == "Write the release notes"
    assert timer["context"] == {"type": "task", "id": "T-42", "title": "Release 1.0"}
    assert timer["tags"] == ["docs", "release"]
    assert timer["billable"] is False
    assert timer["elapsedSeconds"] == 0
    assert at(timer["startedAt"]) == clock.now()
    assert at(timer["runningSince"]) == clock.now()
    assert timer["version"] == 1


async def test_a_timer_started_without_details_gets_the_defaults(alice) -> None:
    """Left-out details are empty and the time is billable."""
    timer = await start(alice)
    assert timer["description"] is None
    assert timer["context"] is None
    assert timer["tags"] == []
    assert timer["billable"] is True


async def test_tags_are_trimmed_and_repeats_dropped(alice) -> None:
    """Tags keep their first spelling, once each, without surrounding blanks."""
    timer = await start(alice, tags=[" docs", "docs ", "ops"], description="  padded  ")
    assert timer["tags"] == ["docs", "ops"]
    assert timer["description"] == "padded"


async def test_elapsed_time_follows_the_clock(alice, clock: ManualClock) -> None:
    """elapsedSeconds is derived from the start instant, not counted up."""
    timer = await start(alice)
    clock.advance(90)
    read = await get_timer(alice, timer["id"])
    assert read is not None
    assert read["elapsedSeconds"] == 90
    assert read["state"] == "RUNNING"


async def test_paused_time_is_not_counted(alice, clock: ManualClock) -> None:
    """Time spent PAUSED does not add to elapsedSeconds; resuming counts on from there."""
    timer = await start(alice)
    clock.advance(60)
    paused = await pause(alice, timer["id"])
    assert paused["state"] == "PAUSED"
    assert paused["elapsedSeconds"] == 60
    assert paused["runningSince"] is None

    clock.advance(300)
    assert (await get_timer(alice, timer["id"]))["elapsedSeconds"] == 60  # type: ignore[index]

    data = await alice.data(START, {"input": {"timerId": timer["id"]}})
    resumed = data["startTimer"]["timer"]
    assert resumed["state"] == "RUNNING"
    assert at(resumed["runningSince"]) == clock.now()
    assert resumed["startedAt"] == timer["startedAt"]
    clock.advance(30)
    assert (await get_timer(alice, timer["id"]))["elapsedSeconds"] == 90  # type: ignore[index]


async def test_pausing_a_paused_timer_changes_nothing(alice, clock: ManualClock) -> None:
    """A repeated pause is not an error and does not touch the timer."""
    timer = await start(alice)
    clock.advance(10)
    first = await pause(alice, timer["id"])
    clock.advance(10)
    second = await pause(alice, timer["id"])
    assert second == first


async def test_resuming_a_running_timer_changes_nothing(alice, clock: ManualClock) -> None:
    """startTimer with the id of the RUNNING timer leaves it as it is."""
    timer = await start(alice)
    clock.advance(5)
    data = await alice.data(START, {"input": {"timerId": timer["id"]}})
    assert data["startTimer"]["pausedTimers"] == []
    assert data["startTimer"]["timer"]["version"] == timer["version"]
    assert data["startTimer"]["timer"]["runningSince"] == timer["runningSince"]


async def test_starting_a_timer_pauses_the_running_one(alice, clock: ManualClock) -> None:
    """One timer runs per user: a new start pauses the other and reports it."""
    first = await start(alice, description="first")
    clock.advance(10)
    data = await alice.data(START, {"input": {"description": "second"}})
    second = data["startTimer"]["timer"]
    paused = data["startTimer"]["pausedTimers"]
    assert [t["id"] for t in paused] == [first["id"]]
    assert paused[0]["state"] == "PAUSED"
    assert paused[0]["elapsedSeconds"] == 10
    assert paused[0]["version"] == first["version"] + 1

    view = await alice.data("{ runningTimers { id } viewer { runningTimer { id } } }")
    assert view["runningTimers"] == [{"id": second["id"]}]
    assert view["viewer"]["runningTimer"] == {"id": second["id"]}


async def test_resuming_a_timer_pauses_the_running_one(alice, clock: ManualClock) -> None:
    """Resuming is starting too: the other running timer is paused and reported."""
    first = await start(alice, description="first")
    clock.advance(10)
    second = await start(alice, description="second")  # pauses first
    clock.advance(20)
    data = await alice.data(START, {"input": {"timerId": first["id"]}})
    assert data["startTimer"]["timer"]["state"] == "RUNNING"
    paused = data["startTimer"]["pausedTimers"]
    assert [(t["id"], t["state"], t["elapsedSeconds"]) for t in paused] == [
        (second["id"], "PAUSED", 20)
    ]
    running = await alice.data("{ runningTimers { id } }")
    assert running["runningTimers"] == [{"id": first["id"]}]


async def test_stopping_records_the_elapsed_time_as_an_entry(alice, clock: ManualClock) -> None:
    """stopTimer ends the timer and records an entry with its elapsed time, pauses excluded."""
    timer = await start(alice, description="Review", tags=["code"], billable=False)
    clock.advance(90)
    await pause(alice, timer["id"])
    clock.advance(600)
    await alice.data(START, {"input": {"timerId": timer["id"]}})
    clock.advance(30)

    payload = await stop(alice, timer["id"])
    stopped, entry = payload["timer"], payload["entry"]
    assert stopped["state"] == "STOPPED"
    assert stopped["elapsedSeconds"] == 120
    assert stopped["runningSince"] is None
    assert entry["durationSeconds"] == 120
    assert entry["startedAt"] == timer["startedAt"]
    assert at(entry["endedAt"]) == clock.now()
    assert entry["description"] == "Review"
    assert entry["tags"] == ["code"]
    assert entry["billable"] is False
    assert entry["date"] == "2026-01-01"

    clock.advance(1000)
    later = await alice.data(
        "query($id: ID!) { timer(id: $id) { state elapsedSeconds entry { id } } }",
        {"id": timer["id"]},
    )
    assert later["timer"] == {
        "state": "STOPPED",
        "elapsedSeconds": 120,
        "entry": {"id": entry["id"]},
    }
    linked = await alice.data(
        "query($id: ID!) { timeEntry(id: $id) { timer { id } } }", {"id": entry["id"]}
    )
    assert linked["timeEntry"]["timer"] == {"id": timer["id"]}


async def test_stopping_can_set_the_description(alice, clock: ManualClock) -> None:
    """A description given to stopTimer goes on the timer and its entry."""
    timer = await start(alice, description="draft")
    clock.advance(5)
    payload = await stop(alice, timer["id"], description="Final words")
    assert payload["timer"]["description"] == "Final words"
    assert payload["entry"]["description"] == "Final words"


async def test_stop_without_an_id_stops_the_running_timer_once(alice, clock: ManualClock) -> None:
    """stopTimer with no input stops the viewer's running timer; repeating it is harmless."""
    timer = await start(alice)
    clock.advance(42)
    first = await alice.data(STOP)
    assert first["stopTimer"]["timer"]["id"] == timer["id"]
    assert first["stopTimer"]["timer"]["state"] == "STOPPED"
    assert first["stopTimer"]["entry"]["durationSeconds"] == 42

    second = await alice.data(STOP)
    assert second["stopTimer"] == {"timer": None, "entry": None}
    entries = await alice.data("{ timeEntries { totalCount } }")
    assert entries["timeEntries"]["totalCount"] == 1


async def test_stop_without_an_id_leaves_paused_timers_alone(alice, clock: ManualClock) -> None:
    """With nothing RUNNING, stopTimer without an id does nothing, even if a timer is PAUSED."""
    timer = await start(alice)
    clock.advance(5)
    await pause(alice, timer["id"])
    data = await alice.data(STOP, {"input": {}})
    assert data["stopTimer"] == {"timer": None, "entry": None}
    assert (await get_timer(alice, timer["id"]))["state"] == "PAUSED"  # type: ignore[index]


async def test_logging_chooses_the_entry_details(alice, clock: ManualClock) -> None:
    """logTimer stops the timer and records the given description, date, duration, billable."""
    timer = await start(alice, description="meeting", billable=True)
    clock.advance(1790)
    data = await alice.data(
        LOG,
        {
            "input": {
                "id": timer["id"],
                "description": "Weekly planning",
                "date": "2025-12-31",
                "durationSeconds": 1800,
                "billable": False,
            }
        },
    )
    logged, entry = data["logTimer"]["timer"], data["logTimer"]["entry"]
    assert logged["state"] == "STOPPED"
    assert logged["elapsedSeconds"] == 1790
    assert logged["entry"] == {"id": entry["id"]}
    assert entry["description"] == "Weekly planning"
    assert entry["date"] == "2025-12-31"
    assert entry["durationSeconds"] == 1800
    assert entry["billable"] is False
    assert await get_entry(alice, entry["id"]) == entry


async def test_logging_without_choices_records_like_stop(alice, clock: ManualClock) -> None:
    """Left-out logTimer fields take the timer's details and elapsed time."""
    timer = await start(alice, description="as is", billable=False)
    clock.advance(75)
    await pause(alice, timer["id"])
    clock.advance(100)
    data = await alice.data(LOG, {"input": {"id": timer["id"]}})
    entry = data["logTimer"]["entry"]
    assert entry["description"] == "as is"
    assert entry["billable"] is False
    assert entry["durationSeconds"] == 75
    assert entry["date"] == "2026-01-01"


async def test_a_cancelled_timer_is_gone(alice, clock: ManualClock) -> None:
    """cancelTimer discards the timer: no entry, not readable, not listed, not running."""
    timer = await start(alice)
    clock.advance(30)
    data = await alice.data(CANCEL, {"input": {"id": timer["id"]}})
    assert data["cancelTimer"] == {"id": timer["id"]}
    assert await get_timer(alice, timer["id"]) is None
    lists = await alice.data(
        "{ runningTimers { id } timers { totalCount } timeEntries { totalCount } }"
    )
    assert lists == {
        "runningTimers": [],
        "timers": {"totalCount": 0},
        "timeEntries": {"totalCount": 0},
    }


async def test_a_paused_timer_can_be_cancelled(alice, clock: ManualClock) -> None:
    """cancelTimer takes PAUSED timers too."""
    timer = await start(alice)
    await pause(alice, timer["id"])
    await alice.data(CANCEL, {"input": {"id": timer["id"]}})
    assert await get_timer(alice, timer["id"]) is None


async def test_editing_a_timer_changes_its_details(alice, clock: ManualClock) -> None:
    """updateTimer sets description, context, tags and billable; null clears a field."""
    timer = await start(alice, description="old", tags=["a"])
    clock.advance(10)
    data = await alice.data(
        UPDATE_TIMER,
        {
            "input": {
                "id": timer["id"],
                "description": None,
                "context": {"type": "project", "id": "P1"},
                "tags": ["b", "c"],
                "billable": False,
            }
        },
    )
    updated = data["updateTimer"]["timer"]
    assert updated["description"] is None
    assert updated["context"] == {"type": "project", "id": "P1", "title": None}
    assert updated["tags"] == ["b", "c"]
    assert updated["billable"] is False
    assert updated["version"] == timer["version"] + 1
    assert at(updated["updatedAt"]) == clock.now()
    assert updated["state"] == "RUNNING"
    assert await get_timer(alice, timer["id"]) == updated


async def test_an_edit_that_changes_nothing_keeps_the_version(alice) -> None:
    """Sending the values a timer already has is not a change."""
    timer = await start(alice, description="same", tags=["x"])
    data = await alice.data(
        UPDATE_TIMER, {"input": {"id": timer["id"], "description": "same", "tags": ["x"]}}
    )
    assert data["updateTimer"]["timer"] == timer


async def test_elapsed_time_can_be_set_while_paused(alice, clock: ManualClock) -> None:
    """updateTimer.elapsedSeconds corrects a PAUSED timer; it counts on from there."""
    timer = await start(alice)
    clock.advance(100)
    await pause(alice, timer["id"])
    data = await alice.data(UPDATE_TIMER, {"input": {"id": timer["id"], "elapsedSeconds": 3600}})
    assert data["updateTimer"]["timer"]["elapsedSeconds"] == 3600
    await alice.data(START, {"input": {"timerId": timer["id"]}})
    clock.advance(10)
    payload = await stop(alice, timer["id"])
    assert payload["entry"]["durationSeconds"] == 3610


async def test_elapsed_time_cannot_be_set_while_running(alice, clock: ManualClock) -> None:
    """Setting elapsedSeconds on a RUNNING timer is INVALID_TRANSITION and changes nothing."""
    timer = await start(alice)
    clock.advance(100)
    error = await alice.error(
        UPDATE_TIMER, {"input": {"id": timer["id"], "elapsedSeconds": 5, "description": "x"}}
    )
    assert error["extensions"] == {"code": "INVALID_TRANSITION", "state": "RUNNING"}
    read = await get_timer(alice, timer["id"])
    assert read is not None
    assert read["elapsedSeconds"] == 100
    assert read["description"] is None
    assert read["version"] == timer["version"]


async def test_the_version_grows_on_every_change(alice, clock: ManualClock) -> None:
    """Each pause, resume, edit and stop raises version by one."""
    timer = await start(alice)
    versions = [timer["version"]]
    clock.advance(1)
    versions.append((await pause(alice, timer["id"]))["version"])
    clock.advance(1)
    resumed = await alice.data(START, {"input": {"timerId": timer["id"]}})
    versions.append(resumed["startTimer"]["timer"]["version"])
    edited = await alice.data(UPDATE_TIMER, {"input": {"id": timer["id"], "description": "v"}})
    versions.append(edited["updateTimer"]["timer"]["version"])
    clock.advance(1)
    versions.append((await stop(alice, timer["id"]))["timer"]["version"])
    assert versions == [1, 2, 3, 4, 5]


async def test_entries_are_dated_in_the_viewers_time_zone(alice, bob, clock: ManualClock) -> None:
    """The entry's date is the start's calendar day in the user's zone, not in UTC."""
    zone = await alice.data(UPDATE_VIEWER, {"input": {"timeZone": "Pacific/Auckland"}})
    assert zone["updateViewer"]["viewer"]["timeZone"] == "Pacific/Auckland"
    # 2026-01-01T12:00Z is 2026-01-02 01:00 in Auckland (UTC+13 in summer).
    clock.advance(hours=12)
    alices = await start(alice)
    bobs = await start(bob)
    clock.advance(60)
    assert (await stop(alice, alices["id"]))["entry"]["date"] == "2026-01-02"
    assert (await stop(bob, bobs["id"]))["entry"]["date"] == "2026-01-01"


async def test_an_entry_is_dated_by_its_start_not_its_end(alice, clock: ManualClock) -> None:
    """A timer running past midnight records the day it started."""
    clock.advance(hours=23, minutes=30)  # 2026-01-01T23:30Z
    timer = await start(alice)
    clock.advance(hours=1)
    payload = await stop(alice, timer["id"])
    assert payload["entry"]["date"] == "2026-01-01"
    assert at(payload["entry"]["endedAt"]) == datetime(2026, 1, 2, 0, 30, tzinfo=UTC)


async def test_the_viewer_can_change_time_zone(alice) -> None:
    """updateViewer stores the zone; viewer reads it back (UTC until then)."""
    before = await alice.data("{ viewer { name timeZone runningTimer { id } } }")
    assert before["viewer"] == {"name": "alice", "timeZone": "UTC", "runningTimer": None}
    await alice.data(UPDATE_VIEWER, {"input": {"timeZone": "Europe/Berlin"}})
    after = await alice.data("{ viewer { timeZone } }")
    assert after["viewer"]["timeZone"] == "Europe/Berlin"
