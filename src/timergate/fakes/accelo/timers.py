"""``/timers``: the signed-in user's timers.

Two statuses, ``running`` and ``stopped``; ``seconds`` grows while a timer runs. ``pause``
stops a timer and keeps its seconds; ``start`` runs it again and, like ``auto_start`` on
create, stops the user's other running timers (one clock runs per user). ``cancel`` deletes.
A timer of another user answers exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from timergate.fakes.accelo.account import ACTIVITY_AGAINST, Account, Timer
from timergate.fakes.accelo.call import Call
from timergate.fakes.accelo.fields import Row, Schema
from timergate.fakes.accelo.filters import Filterable
from timergate.fakes.accelo.wire import AcceloError

__all__ = ["MAX_SUBJECT_LENGTH", "against_from", "check_subject", "timers"]

#: Accelo does not document one; the fake refuses longer subjects so clients see the error.
MAX_SUBJECT_LENGTH = 255

TIMER = Schema(
    defaults=("id", "subject", "seconds"),
    optional=("status", "against_type", "against_id", "against_title", "staff_id", "staff"),
    links={"staff": "staff"},
    extras=("breadcrumbs",),
)
TIMER_FILTERS = Filterable(
    basic={"id": "id", "staff": "staff_id", "status": "status"},
    ranges={"id": "id", "against_id": "against_id", "staff": "staff_id"},
    orders={"id": "id"},
)


def timer_row(call: Call, timer: Timer) -> Row:
    account = call.account
    return {
        "id": str(timer.id),
        "subject": timer.subject,
        "seconds": str(timer.seconds(call.now)),
        "status": timer.status,
        "against_type": timer.against_type,
        "against_id": None if timer.against_id is None else str(timer.against_id),
        "against_title": account.title_of(timer.against_type, timer.against_id),
        "staff_id": str(timer.staff_id),
        "staff": str(timer.staff_id),
        "breadcrumbs": account.breadcrumbs(timer.against_type, timer.against_id),
    }


def timers(call: Call, timer_id: int | None, action: str | None) -> Any:
    """Every ``/timers…`` call; the answer is the ``response`` member."""
    staff_id = call.staff_id()
    method = call.method
    if timer_id is None:
        if method == "GET":
            rows = [
                timer_row(call, timer)
                for timer in call.account.timers.values()
                if timer.staff_id == staff_id
            ]
            return call.render_list(TIMER, rows, TIMER_FILTERS)
        if method == "POST":
            return _create(call, staff_id)
        raise AcceloError("invalid_request", f"{method} /timers is not a request Accelo serves.")
    timer = call.account.timers.get(timer_id)
    if timer is None or timer.staff_id != staff_id:
        raise AcceloError.missing()
    if action is None:
        if method == "GET":
            return call.render(TIMER, timer_row(call, timer))
        if method in ("PUT", "POST"):
            _update(call, timer)
            return call.render(TIMER, timer_row(call, timer))
        del call.account.timers[timer.id]
        return None
    if method not in ("PUT", "POST"):
        raise AcceloError("invalid_request", f"/timers/{{id}}/{action} takes PUT or POST.")
    if action == "cancel":
        del call.account.timers[timer.id]
        return None
    if action == "pause":
        timer.stop(call.now)
    else:
        _stop_running(call, staff_id)
        timer.start(call.now)
    return call.render(TIMER, timer_row(call, timer))


def _create(call: Call, staff_id: int) -> Any:
    subject = check_subject(call.require("subject"))
    against_type, against_id = against_from(call, None, None)
    auto_start = call.params.text("auto_start") or "0"
    if auto_start not in ("0", "1"):
        raise AcceloError("invalid_request", 'auto_start must be "1" or "0".')
    timer = Timer(
        id=call.account.next_id("timers", 101),
        staff_id=staff_id,
        subject=subject,
        against_type=against_type,
        against_id=against_id,
        banked_seconds=call.params.unsigned("seconds") or 0,
    )
    if auto_start == "1":
        _stop_running(call, staff_id)
        timer.start(call.now)
    call.account.timers[timer.id] = timer
    return call.render(TIMER, timer_row(call, timer))


def _update(call: Call, timer: Timer) -> None:
    seconds = call.params.unsigned("seconds")
    if seconds is not None and timer.status == "running":
        raise AcceloError(
            "invalid_request",
            "seconds can only be updated for stopped timers; pause the timer first.",
        )
    subject = call.params.text("subject")
    if subject is not None:
        subject = check_subject(subject.strip())
    against = against_from(call, timer.against_type, timer.against_id)
    # Checked in full before anything changes: a refused update changes nothing.
    if subject is not None:
        timer.subject = subject
    timer.against_type, timer.against_id = against
    if seconds is not None:
        timer.banked_seconds = seconds


def _stop_running(call: Call, staff_id: int) -> None:
    for other in call.account.timers.values():
        if other.staff_id == staff_id and other.status == "running":
            other.stop(call.now)


def check_subject(subject: str) -> str:
    if not subject:
        raise AcceloError("invalid_request", "subject must not be empty.")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise AcceloError(
            "invalid_request",
            f"subject is {len(subject)} characters long; the limit is {MAX_SUBJECT_LENGTH}.",
        )
    return subject


def against_from(
    call: Call, against_type: str | None, against_id: int | None
) -> tuple[str | None, int | None]:
    """The object named by ``against_type``/``against_id`` (either may change alone)."""
    new_type = call.params.text("against_type")
    new_id = call.params.unsigned("against_id")
    if new_type is None and new_id is None:
        return against_type, against_id
    against_type = new_type if new_type is not None else against_type
    against_id = new_id if new_id is not None else against_id
    if against_type is None or against_id is None:
        raise AcceloError("invalid_request", "against_type and against_id go together.")
    _check_against(call.account, against_type, against_id)
    return against_type, against_id


def _check_against(account: Account, against_type: str, against_id: int) -> None:
    if against_type not in ACTIVITY_AGAINST:
        raise AcceloError(
            "invalid_request", f"against_type {against_type!r} is not an object type."
        )
    if not account.exists(against_type, against_id):
        raise AcceloError("invalid_request", f"There is no {against_type} with id {against_id}.")
