"""Read-only resources: staff (``/staff/whoami`` included), ``/tokeninfo``, and the objects
time is logged against (``/companies``, ``/jobs``, ``/issues``, ``/tasks``)."""

from __future__ import annotations

from typing import Any

from timergate.fakes.accelo.account import Account, Record, Staff
from timergate.fakes.accelo.call import Call
from timergate.fakes.accelo.fields import Row, Schema
from timergate.fakes.accelo.filters import Filterable
from timergate.fakes.accelo.wire import AcceloError

__all__ = ["RECORD_KINDS", "get_record", "list_records", "resolve", "staff", "tokeninfo"]

#: Endpoint → the ``against_type`` its objects carry.
RECORD_KINDS = {"companies": "company", "jobs": "job", "issues": "issue", "tasks": "task"}

STAFF = Schema(
    defaults=("id", "firstname", "surname"),
    optional=(
        "standing", "financial_level", "title", "email", "mobile", "phone", "fax",
        "position", "username", "timezone",
    ),
)  # fmt: skip
STAFF_FILTERS = Filterable(
    basic={"id": "id", "email": "email", "standing": "standing", "username": "username"},
    ranges={"id": "id"},
    orders={"id": "id"},
)
COMPANY = Schema(defaults=("id", "name"), optional=("standing", "date_created"))
RECORD = Schema(
    defaults=("id", "title"),
    optional=("against_type", "against_id", "against", "standing", "date_created"),
    extras=("breadcrumbs",),
)
RECORD_FILTERS = Filterable(
    basic={"id": "id", "against_type": "against_type", "against_id": "against_id"},
    ranges={"id": "id", "against_id": "against_id"},
    dates={"date_created": "date_created"},
    orders={"id": "id", "title": "title", "date_created": "date_created"},
    objects={"against": ("against_type", "against_id")},
)


def staff_row(member: Staff) -> Row:
    return {
        "id": str(member.id),
        "firstname": member.firstname,
        "surname": member.surname,
        "standing": "active",
        "financial_level": "all",
        "title": None,
        "email": member.email,
        "mobile": None,
        "phone": None,
        "fax": None,
        "position": member.position,
        "username": member.username,
        "timezone": member.timezone,
    }


def record_row(account: Account, record: Record) -> Row:
    against = None
    if record.against_type is not None:
        against = f"{record.against_type}/{record.against_id}"
    return {
        "id": str(record.id),
        "title": record.title,
        "name": record.title,
        "against_type": record.against_type,
        "against_id": None if record.against_id is None else str(record.against_id),
        "against": against,
        "standing": "active",
        "date_created": str(record.date_created),
        "breadcrumbs": account.breadcrumbs(record.against_type, record.against_id),
    }


def resolve(account: Account, kind: str, value: Any) -> tuple[Schema, Row] | None:
    """A linked staff member or object by its id ("0" and None link to nothing)."""
    try:
        linked_id = int(value)
    except (TypeError, ValueError):
        return None
    if kind == "staff":
        member = account.staff.get(linked_id)
        return None if member is None else (STAFF, staff_row(member))
    against_type = RECORD_KINDS.get(kind)
    record = account.records.get((against_type or "", linked_id))
    if record is None:
        return None
    return (COMPANY if kind == "companies" else RECORD), record_row(account, record)


def staff(call: Call, staff_ref: str | None) -> Any:
    """``GET /staff``, ``GET /staff/{id}`` and ``GET /staff/whoami``."""
    if staff_ref is None:
        rows = [staff_row(member) for member in call.account.staff.values()]
        return call.render_list(STAFF, rows, STAFF_FILTERS)
    if staff_ref == "whoami":
        member = call.account.staff[call.staff_id()]
    else:
        found = call.account.staff.get(int(staff_ref)) if staff_ref.isdigit() else None
        if found is None:
            raise AcceloError.missing()
        member = found
    return call.render(STAFF, staff_row(member))


def list_records(call: Call, kind: str) -> Any:
    against_type = RECORD_KINDS[kind]
    rows = [
        record_row(call.account, record)
        for (record_type, _), record in call.account.records.items()
        if record_type == against_type
    ]
    return call.render_list(COMPANY if kind == "companies" else RECORD, rows, RECORD_FILTERS)


def get_record(call: Call, kind: str, record_id: int) -> Any:
    linked = resolve(call.account, kind, record_id)
    if linked is None:
        raise AcceloError.missing()
    return call.render(*linked)


def tokeninfo(call: Call) -> dict[str, Any]:
    """What Accelo tells about the calling token (``GET /api/v0/tokeninfo``)."""
    grant = call.grant
    member = call.account.staff.get(grant.staff_id) if grant.staff_id is not None else None
    return {
        "email": member.email if member else None,
        "firstname": member.firstname if member else None,
        "surname": member.surname if member else None,
        "staff_id": str(member.id) if member else None,
        "expiry_date": str(int(grant.expires_at.timestamp())),
        "deployment": call.account.deployment,
        "locale": {"currency_symbol": "$", "timezone": member.timezone if member else "UTC"},
    }
