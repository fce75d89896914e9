"""``/activities``: where Accelo keeps logged time.

A note owned by a staff member carries logged time as a *time allocation* (``billable`` and
``nonbillable`` seconds). As Accelo's docs say, time is logged only when the activity's
``visibility`` is ``all``: with the default (``private``) the activity is created and its
seconds are dropped. Billable time needs an issue, job, milestone, contract or contract
period to be against. Private activities are seen by their owner only; confidential ones show
others a placeholder.
"""

from __future__ import annotations

import html
from typing import Any

from timergate.fakes.accelo.account import BILLABLE_AGAINST, Activity
from timergate.fakes.accelo.call import Call
from timergate.fakes.accelo.fields import Row, Schema
from timergate.fakes.accelo.filters import Filterable, apply_filters, parse_filters
from timergate.fakes.accelo.timers import against_from, check_subject
from timergate.fakes.accelo.wire import AcceloError

__all__ = ["activities"]

ACTIVITY = Schema(
    defaults=("id", "subject", "confidential"),
    optional=(
        "parent_id", "thread", "parent", "thread_id", "against_type", "against_id", "against",
        "owner_type", "owner_id", "owner", "medium", "body", "preview_body", "html_body",
        "visibility", "details", "date_created", "date_started", "date_ended", "date_logged",
        "date_modified", "billable", "nonbillable", "staff", "class", "activity_class",
        "priority", "activity_priority", "task", "time_allocation", "rate", "rate_charged",
        "scheduled", "standing", "invoice_id", "contract_period_id", "is_billable",
    ),
    links={"staff": "staff", "task": "tasks", "time_allocation": "time_allocations"},
    extras=("breadcrumbs",),
)  # fmt: skip
TIME_ALLOCATION = Schema(
    defaults=("id",),
    optional=(
        "against", "standing", "billable", "nonbillable", "charged", "comments",
        "date_locked", "date_created",
    ),
)  # fmt: skip
ACTIVITY_FILTERS = Filterable(
    basic={
        name: name
        for name in (
            "id", "parent_id", "thread_id", "against_type", "against_id", "owner_id",
            "owner_type", "medium", "visibility", "staff", "task", "time_allocation",
        )
    }
    | {"class": "class", "activity_class": "class"}
    | {"priority": "priority", "activity_priority": "priority"},
    ranges={
        "id": "id", "against_id": "against_id", "thread": "thread_id", "owner": "owner_id",
        "staff": "staff", "priority": "priority", "activity_priority": "priority",
        "class": "class", "task": "task",
    },
    dates={
        name: name
        for name in ("date_created", "date_started", "date_ended", "date_logged", "date_modified")
    },
    orders={
        name: name
        for name in (
            "date_started", "date_created", "date_ended", "date_modified", "id", "billable",
            "nonbillable",
        )
    },
    objects={"owner": ("owner_type", "owner_id"), "against": ("against_type", "against_id")},
)  # fmt: skip
MEDIUMS = ("note", "meeting", "email", "call")
VISIBILITIES = ("private", "confidential", "all")


def activities(call: Call, activity_id: int | None, action: str | None) -> Any:
    """Every ``/activities…`` call; the answer is the ``response`` member."""
    method = call.method
    if activity_id is None:
        if action in ("allocations", "count") and method == "GET":
            rows = apply_filters(
                _visible_rows(call), parse_filters(call.params.get("_filters")), ACTIVITY_FILTERS
            )
            if action == "count":
                return {"count": str(len(rows))}
            return {
                "billable": str(sum(int(row["billable"]) for row in rows)),
                "nonbillable": str(sum(int(row["nonbillable"]) for row in rows)),
                "charged": "0.00",
            }
        if action is None and method == "GET":
            return call.render_list(
                ACTIVITY, _visible_rows(call), ACTIVITY_FILTERS, _resolver(call)
            )
        if action is None and method == "POST":
            return _render(call, _create(call))
        raise AcceloError("invalid_request", f"{method} on this /activities path is not served.")
    activity = call.account.activities.get(activity_id)
    if activity is None or not _visible(call, activity):
        raise AcceloError.missing()
    if method == "GET":
        return _render(call, activity)
    if method not in ("PUT", "DELETE"):
        raise AcceloError("invalid_request", f"{method} /activities/{{id}} is not served.")
    if not _owned(call, activity):
        raise AcceloError(
            "invalid_permission", "Only the activity's owner may change or delete it."
        )
    if method == "DELETE":
        del call.account.activities[activity.id]
        return None
    _update(call, activity)
    return _render(call, activity)


def _create(call: Call) -> Activity:
    params = call.params
    subject = check_subject(call.require("subject"))
    call.require("against_type")
    if params.unsigned("against_id") is None:
        raise AcceloError("invalid_request", "against_id is required.")
    against_type, against_id = against_from(call, None, None)
    assert against_type is not None and against_id is not None
    medium = params.text("medium") or "note"
    if medium not in MEDIUMS:
        raise AcceloError("invalid_request", f"medium must be one of {', '.join(MEDIUMS)}.")
    visibility = _visibility(params.text("visibility") or "private")
    owner_type = params.text("owner_type") or "staff"
    owner_id = params.unsigned("owner_id")
    if owner_id is None:
        owner_id = call.grant.staff_id
    if owner_id is None:
        raise AcceloError("invalid_request", "A service application must name the owner_id.")
    if owner_type != "staff" or owner_id not in call.account.staff:
        raise AcceloError("invalid_request", f"There is no {owner_type} with id {owner_id}.")
    task_id = params.unsigned("task_id") or None
    if task_id is not None and not call.account.exists("task", task_id):
        raise AcceloError("invalid_request", f"There is no task with id {task_id}.")
    now = int(call.now.timestamp())
    activity = Activity(
        id=call.account.next_id("activities", 1001),
        subject=subject,
        against_type=against_type,
        against_id=against_id,
        owner_type=owner_type,
        owner_id=owner_id,
        date_created=now,
        date_modified=now,
        body=params.text("body") or "",
        medium=medium,
        visibility=visibility,
        details=params.text("details") or "",
        date_started=params.unsigned("date_started"),
        date_ended=params.unsigned("date_ended"),
        task_id=task_id,
    )
    _set_time(call, activity)
    call.account.activities[activity.id] = activity
    return activity


def _update(call: Call, activity: Activity) -> None:
    params = call.params
    changes: dict[str, Any] = {}
    if (subject := params.text("subject")) is not None:
        changes["subject"] = check_subject(subject.strip())
    for name in ("body", "details"):
        if (text := params.text(name)) is not None:
            changes[name] = text
    if (visibility := params.text("visibility")) is not None:
        changes["visibility"] = _visibility(visibility)
    for name in ("date_started", "date_ended"):
        if (moment := params.unsigned(name)) is not None:
            changes[name] = moment
    # Checked in full before anything changes: a refused update changes nothing.
    _time_from(call, activity.against_type, activity.owner_type)
    for name, value in changes.items():
        setattr(activity, name, value)
    _set_time(call, activity)
    activity.date_modified = int(call.now.timestamp())


def _set_time(call: Call, activity: Activity) -> None:
    billable, nonbillable = _time_from(call, activity.against_type, activity.owner_type)
    if billable is None and nonbillable is None:
        return
    if activity.allocation_id is None:
        if activity.visibility != "all" or not (billable or nonbillable):
            return  # Accelo logs time only on activities visible to all.
        activity.allocation_id = call.account.next_id("allocations", 501)
        activity.allocation_created = int(call.now.timestamp())
    if billable is not None:
        activity.billable = billable
    if nonbillable is not None:
        activity.nonbillable = nonbillable


def _time_from(call: Call, against_type: str, owner_type: str) -> tuple[int | None, int | None]:
    billable = call.params.unsigned("billable")
    nonbillable = call.params.unsigned("nonbillable")
    if billable and against_type not in BILLABLE_AGAINST:
        raise AcceloError(
            "invalid_request",
            "billable time can only be logged against an issue, job, milestone, contract or "
            "contract period; log it as nonbillable instead.",
        )
    if (billable or nonbillable) and owner_type != "staff":
        raise AcceloError("invalid_request", "Only activities owned by staff can log time.")
    return billable, nonbillable


def _visibility(value: str) -> str:
    if value not in VISIBILITIES:
        raise AcceloError(
            "invalid_request", f"visibility must be one of {', '.join(VISIBILITIES)}."
        )
    return value


def _owned(call: Call, activity: Activity) -> bool:
    staff_id = call.grant.staff_id
    return staff_id is None or (activity.owner_type == "staff" and activity.owner_id == staff_id)


def _visible(call: Call, activity: Activity) -> bool:
    return activity.visibility != "private" or _owned(call, activity)


def _visible_rows(call: Call) -> list[Row]:
    return [
        _row(call, activity)
        for activity in call.account.activities.values()
        if _visible(call, activity)
    ]


def _render(call: Call, activity: Activity) -> dict[str, Any]:
    return call.render(ACTIVITY, _row(call, activity), _resolver(call))


def _resolver(call: Call) -> Any:
    def resolve(kind: str, value: Any) -> tuple[Schema, Row] | None:
        if kind != "time_allocations":
            return call.resolver(kind, value)
        for activity in call.account.activities.values():
            if str(activity.allocation_id) == str(value) and _visible(call, activity):
                return TIME_ALLOCATION, _allocation_row(activity)
        return None

    return resolve


def _allocation_row(activity: Activity) -> Row:
    return {
        "id": str(activity.allocation_id),
        "against": f"{activity.against_type}/{activity.against_id}",
        "standing": "unapproved",
        "billable": str(activity.billable),
        "nonbillable": str(activity.nonbillable),
        "charged": "0.00",
        "comments": "",
        "date_locked": None,
        "date_created": str(activity.allocation_created),
    }


def _row(call: Call, activity: Activity) -> Row:
    masked = activity.visibility == "confidential" and not _owned(call, activity)
    body = "" if masked else activity.body
    logged = activity.date_started if activity.date_started is not None else activity.date_created
    return {
        "id": str(activity.id),
        "subject": "Confidential activity" if masked else activity.subject,
        "confidential": "1" if masked else "0",
        "parent_id": "0",
        "thread": f"activities/{activity.id}",
        "parent": "activities/0",
        "thread_id": str(activity.id),
        "against_type": activity.against_type,
        "against_id": str(activity.against_id),
        "against": f"{activity.against_type}/{activity.against_id}",
        "owner_type": activity.owner_type,
        "owner_id": str(activity.owner_id),
        "owner": f"{activity.owner_type}/{activity.owner_id}",
        "medium": activity.medium,
        "body": body,
        "preview_body": body[:250],
        "html_body": html.escape(body).replace("\n", "<br>"),
        "visibility": activity.visibility,
        "details": activity.details,
        "date_created": str(activity.date_created),
        "date_started": _optional(activity.date_started),
        "date_ended": _optional(activity.date_ended),
        "date_logged": str(logged),
        "date_modified": str(activity.date_modified),
        "billable": str(activity.billable),
        "nonbillable": str(activity.nonbillable),
        "staff": str(activity.owner_id) if activity.owner_type == "staff" else None,
        "class": str(activity.class_id),
        "activity_class": str(activity.class_id),
        "priority": str(activity.priority_id),
        "activity_priority": str(activity.priority_id),
        "task": str(activity.task_id or 0),
        "time_allocation": str(activity.allocation_id or 0),
        "rate": "0",
        "rate_charged": "0.00",
        "scheduled": "no",
        "standing": "unapproved" if activity.allocation_id else "",
        "invoice_id": "0",
        "contract_period_id": "0",
        "is_billable": "1" if activity.against_type in BILLABLE_AGAINST else "0",
        "breadcrumbs": call.account.breadcrumbs(activity.against_type, activity.against_id),
    }


def _optional(value: int | None) -> str | None:
    return None if value is None else str(value)
