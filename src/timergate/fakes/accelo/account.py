"""What the fake deployment holds: staff, the objects time is logged against, timers and
activities, and the small seed it starts with."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "BILLABLE_AGAINST",
    "Account",
    "Activity",
    "Record",
    "Staff",
    "Timer",
    "seed_account",
    "unix",
]

#: Activities may carry billable time only against these (Accelo's rule).
BILLABLE_AGAINST = frozenset({"issue", "job", "milestone", "contract", "contract_period"})
#: ``against_type`` values Accelo accepts on an activity.
ACTIVITY_AGAINST = frozenset(
    {
        "activity_event", "asset", "affiliation", "account_invoice", "account_purchase",
        "contact", "contract", "contract_period", "company", "issue", "job", "milestone",
        "prospect", "request", "staff", "task",
    }
)  # fmt: skip


def unix(moment: datetime) -> int:
    """Accelo's dates: whole seconds since the epoch."""
    return int(moment.timestamp())


@dataclass(frozen=True)
class Staff:
    id: int
    firstname: str
    surname: str
    email: str
    username: str
    position: str
    timezone: str = "UTC"

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.surname}"


@dataclass(frozen=True)
class Record:
    """An object time can be logged against: a company, job, issue or task."""

    type: str
    id: int
    title: str
    against_type: str | None = None
    against_id: int | None = None
    date_created: int = 0


@dataclass
class Timer:
    """One user's timer: time banked while stopped, plus the current run while running."""

    id: int
    staff_id: int
    subject: str
    against_type: str | None
    against_id: int | None
    banked_seconds: int = 0
    running_since: datetime | None = None

    @property
    def status(self) -> str:
        return "stopped" if self.running_since is None else "running"

    def seconds(self, now: datetime) -> int:
        if self.running_since is None:
            return self.banked_seconds
        return self.banked_seconds + int((now - self.running_since).total_seconds())

    def start(self, now: datetime) -> None:
        if self.running_since is None:
            self.running_since = now

    def stop(self, now: datetime) -> None:
        self.banked_seconds = self.seconds(now)
        self.running_since = None


@dataclass
class Activity:
    """A note, email, call or meeting; a note owned by staff may carry logged time."""

    id: int
    subject: str
    against_type: str
    against_id: int
    owner_type: str
    owner_id: int
    date_created: int
    body: str = ""
    medium: str = "note"
    visibility: str = "private"
    details: str = ""
    date_started: int | None = None
    date_ended: int | None = None
    date_modified: int = 0
    task_id: int | None = None
    billable: int = 0
    nonbillable: int = 0
    #: The time allocation's id and creation date, once the activity logs time.
    allocation_id: int | None = None
    allocation_created: int | None = None
    class_id: int = 1
    priority_id: int = 3


@dataclass
class Account:
    """One Accelo deployment's data."""

    deployment: str
    staff: dict[int, Staff] = field(default_factory=dict)
    records: dict[tuple[str, int], Record] = field(default_factory=dict)
    timers: dict[int, Timer] = field(default_factory=dict)
    activities: dict[int, Activity] = field(default_factory=dict)
    _sequences: dict[str, Iterator[int]] = field(default_factory=dict)

    def next_id(self, kind: str, start: int) -> int:
        sequence = self._sequences.setdefault(kind, itertools.count(start))
        return next(sequence)

    def add(self, record: Record) -> None:
        self.records[(record.type, record.id)] = record

    def title_of(self, against_type: str | None, against_id: int | None) -> str | None:
        if against_type is None or against_id is None:
            return None
        if against_type == "staff":
            staff = self.staff.get(against_id)
            return None if staff is None else staff.name
        record = self.records.get((against_type, against_id))
        return None if record is None else record.title

    def exists(self, against_type: str, against_id: int) -> bool:
        return self.title_of(against_type, against_id) is not None

    def breadcrumbs(self, against_type: str | None, against_id: int | None) -> list[dict[str, str]]:
        """The object and its parents, nearest first, as Accelo's breadcrumbs."""
        crumbs: list[dict[str, str]] = []
        while against_type is not None and against_id is not None:
            title = self.title_of(against_type, against_id)
            if title is None:
                break
            crumbs.append({"id": str(against_id), "table": against_type, "title": title})
            record = self.records.get((against_type, against_id))
            if record is None:
                break
            against_type, against_id = record.against_type, record.against_id
        return crumbs


#: The seeded staff: the user the description's credentials belong to, and another user.
MAIN_STAFF_ID = 7
OTHER_STAFF_ID = 9


def seed_account(now: datetime, deployment: str) -> Account:
    """A small agency: two staff, two clients, their jobs, an issue, a task, a little history."""
    account = Account(deployment=deployment)
    created = unix(now) - 30 * 24 * 3600
    for staff in (
        Staff(MAIN_STAFF_ID, "Morgan", "Reyes", "morgan@example.com", "morgan", "Developer"),
        Staff(OTHER_STAFF_ID, "Sam", "Patel", "sam@example.com", "sam", "Designer"),
    ):
        account.staff[staff.id] = staff
    for record in (
        Record("company", 21, "Northwind Traders", date_created=created),
        Record("company", 22, "Harbor Logistics", date_created=created),
        Record("job", 31, "Website redesign", "company", 21, created),
        Record("job", 32, "Warehouse scanner app", "company", 22, created),
        Record("issue", 41, "Checkout page times out", "company", 21, created),
        Record("task", 51, "Design the checkout flow", "job", 31, created),
    ):
        account.add(record)
    # The other user keeps a paused timer, so a test can show it stays invisible to the first.
    other_timer = Timer(
        id=account.next_id("timers", 101),
        staff_id=OTHER_STAFF_ID,
        subject="Review scanner mock-ups",
        against_type="job",
        against_id=32,
        banked_seconds=1200,
    )
    account.timers[other_timer.id] = other_timer
    day_ago = unix(now) - 24 * 3600
    kickoff = Activity(
        id=account.next_id("activities", 1001),
        subject="Kick-off notes",
        body="Agreed scope and milestones with Northwind.",
        against_type="job",
        against_id=31,
        owner_type="staff",
        owner_id=MAIN_STAFF_ID,
        visibility="all",
        date_created=day_ago,
        date_modified=day_ago,
    )
    logged = Activity(
        id=account.next_id("activities", 1001),
        subject="Scanner wireframes",
        against_type="job",
        against_id=32,
        owner_type="staff",
        owner_id=OTHER_STAFF_ID,
        visibility="all",
        date_created=day_ago,
        date_modified=day_ago,
        date_started=day_ago - 5400,
        date_ended=day_ago,
        nonbillable=5400,
        allocation_id=account.next_id("allocations", 501),
        allocation_created=day_ago,
    )
    reminder = Activity(
        id=account.next_id("activities", 1001),
        subject="Ask Harbor about label sizes",
        against_type="company",
        against_id=22,
        owner_type="staff",
        owner_id=OTHER_STAFF_ID,
        date_created=day_ago,
        date_modified=day_ago,
    )
    for activity in (kickoff, logged, reminder):
        account.activities[activity.id] = activity
    return account
