"""A Noko account (users sharing projects) and Noko's rules for their timers and entries.

Nothing here knows HTTP: the routes turn requests into these calls and the results into JSON.
Times come from ``now()`` only, so a test that moves a manual clock sees exact seconds.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import date, datetime

from timergate.fakes.base import Now
from timergate.fakes.noko.models import (
    ACCOUNT_BILLING_INCREMENT,
    EntryFields,
    NokoEntry,
    NokoProject,
    NokoTag,
    NokoTimer,
    NokoUser,
    NotFound,
    ProjectGroup,
    Token,
    ValidationFailed,
)

__all__ = ["NokoAccount"]

# A hashtag runs from "#" to the first character that cannot be in a tag name.
_HASHTAG = re.compile(r"(?<![\w#])#([\w-]+)")


class NokoAccount:
    """A Noko account: users sharing projects, each with their own timers and entries."""

    def __init__(self, now: Now) -> None:
        self.now = now
        self.users: dict[int, NokoUser] = {}
        self.tokens: dict[str, Token] = {}
        self.projects: dict[int, NokoProject] = {}
        self.tags: dict[int, NokoTag] = {}
        self.entries: dict[int, NokoEntry] = {}
        self.timers: dict[tuple[int, int], NokoTimer] = {}
        self._project_ids = itertools.count(61001)
        self._timer_ids = itertools.count(7100001)
        self._entry_ids = itertools.count(9400001)
        self._tag_ids = itertools.count(3300001)

    def today(self) -> date:
        return self.now().date()

    # -- who is asking ------------------------------------------------------------------------

    def user_for_token(self, token: str) -> NokoUser | None:
        """The token's user, or None when the token is unknown or has expired."""
        grant = self.tokens.get(token)
        if grant is None:
            return None
        if grant.expires_at is not None and self.now() >= grant.expires_at:
            return None
        return self.users[grant.user_id]

    # -- projects and tags --------------------------------------------------------------------

    def project(self, project_id: int) -> NokoProject:
        try:
            return self.projects[project_id]
        except KeyError:
            raise NotFound from None

    def add_project(
        self,
        name: str,
        *,
        billing_increment: int = ACCOUNT_BILLING_INCREMENT,
        billable: bool = True,
        color: str = "#9ca3af",
        enabled: bool = True,
        group: ProjectGroup | None = None,
    ) -> NokoProject:
        project = NokoProject(
            id=next(self._project_ids),
            name=name,
            billing_increment=billing_increment,
            billable=billable,
            color=color,
            created_at=self.now(),
            enabled=enabled,
            group=group,
        )
        self.projects[project.id] = project
        return project

    def tags_in(self, description: str | None) -> list[int]:
        """The ids of the ``#hashtags`` in ``description``, creating tags seen for the first time."""
        ids: list[int] = []
        for name in _HASHTAG.findall(description or ""):
            tag = next((t for t in self.tags.values() if t.name.lower() == name.lower()), None)
            if tag is None:
                tag = NokoTag(id=next(self._tag_ids), name=name, created_at=self.now())
                self.tags[tag.id] = tag
            if tag.id not in ids:
                ids.append(tag.id)
        return ids

    # -- timers -------------------------------------------------------------------------------

    def timers_of(self, user: NokoUser) -> list[NokoTimer]:
        """The user's timers: the running one first, then the others, oldest first."""
        mine = [t for t in self.timers.values() if t.user_id == user.id]
        return sorted(mine, key=lambda t: (t.state != "running", t.id))

    def timer(self, user: NokoUser, project_id: int) -> NokoTimer:
        self.project(project_id)
        try:
            return self.timers[(user.id, project_id)]
        except KeyError:
            raise NotFound from None

    def edit_timer(self, user: NokoUser, project_id: int, description: str | None) -> NokoTimer:
        """Set the timer's description, creating a pending timer when there is none."""
        timer = self._timer_or_new(user, self._open_project(project_id))
        if description is not None:
            timer.description = description or None
        return timer

    def start_timer(
        self,
        user: NokoUser,
        project_id: int,
        *,
        entry_date: date | None = None,
        description: str | None = None,
    ) -> NokoTimer:
        """Run the project's timer; the user's other running timer is paused."""
        project = self._open_project(project_id)
        now = self.now()
        for other in self.timers_of(user):
            if other.state == "running" and other.project_id != project.id:
                self._pause(other, now)
        timer = self._timer_or_new(user, project)
        if timer.state == "pending":
            # The entry date is fixed at the first start; later starts cannot move it.
            timer.date = entry_date or self.today()
        if description is not None:
            timer.description = description or None
        if timer.state != "running":
            timer.state = "running"
            timer.running_since = now
        return timer

    def pause_timer(self, user: NokoUser, project_id: int) -> NokoTimer:
        timer = self.timer(user, project_id)
        if timer.state == "running":
            self._pause(timer, self.now())
        return timer

    def adjust_timer(self, user: NokoUser, project_id: int, seconds: int) -> NokoTimer:
        """Add (or, when negative, subtract) time; a timer never goes below zero."""
        timer = self.timer(user, project_id)
        now = self.now()
        timer.bank(now)
        timer.banked_seconds = max(0, timer.banked_seconds + seconds)
        if timer.state == "pending" and timer.banked_seconds > 0:
            timer.state = "paused"
        return timer

    def log_timer(
        self,
        user: NokoUser,
        project_id: int,
        *,
        minutes: int | None = None,
        entry_date: date | None = None,
        description: str | None = None,
    ) -> NokoEntry:
        """Turn the timer into an entry and remove the timer.

        ``minutes`` defaults to the elapsed minutes (a started minute counts); either is then
        rounded up to the project's billing increment.
        """
        timer = self.timer(user, project_id)
        if timer.state == "pending":
            raise NotFound
        now = self.now()
        if minutes is None:
            minutes = math.ceil(timer.seconds(now) / 60)
        entry = self.add_entry(
            user,
            project=self.project(project_id),
            entry_date=entry_date or timer.date,
            minutes=minutes,
            description=timer.description if description is None else description or None,
        )
        del self.timers[(user.id, project_id)]
        return entry

    def discard_timer(self, user: NokoUser, project_id: int) -> None:
        self.timer(user, project_id)
        del self.timers[(user.id, project_id)]

    def _open_project(self, project_id: int) -> NokoProject:
        project = self.project(project_id)
        if not project.enabled:
            raise ValidationFailed("Timer", "project", "archived_project")
        return project

    def _timer_or_new(self, user: NokoUser, project: NokoProject) -> NokoTimer:
        timer = self.timers.get((user.id, project.id))
        if timer is None:
            timer = NokoTimer(
                id=next(self._timer_ids),
                user_id=user.id,
                project_id=project.id,
                date=self.today(),
                description=None,
            )
            self.timers[(user.id, project.id)] = timer
        return timer

    @staticmethod
    def _pause(timer: NokoTimer, now: datetime) -> None:
        timer.bank(now)
        timer.running_since = None
        timer.state = "paused"

    # -- entries ------------------------------------------------------------------------------

    def entries_of(self, user: NokoUser) -> list[NokoEntry]:
        """The user's entries, the most recent entry date first (then the newest first)."""
        mine = [e for e in self.entries.values() if e.user_id == user.id]
        return sorted(mine, key=lambda e: (e.date, e.id), reverse=True)

    def entry(self, user: NokoUser, entry_id: int) -> NokoEntry:
        entry = self.entries.get(entry_id)
        if entry is None or entry.user_id != user.id:
            raise NotFound
        return entry

    def create_entry(self, user: NokoUser, fields: EntryFields) -> NokoEntry:
        if fields.date is None:
            raise ValidationFailed("Entry", "date", "missing_field")
        if fields.minutes is None:
            raise ValidationFailed("Entry", "minutes", "missing_field")
        self._check_user(user, fields)
        return self.add_entry(
            user,
            project=self._entry_project(fields),
            entry_date=fields.date,
            minutes=fields.minutes,
            description=fields.description or None,
            source_url=fields.source_url,
        )

    def update_entry(self, user: NokoUser, entry_id: int, fields: EntryFields) -> NokoEntry:
        entry = self.entry(user, entry_id)
        self._check_user(user, fields)
        project = self._entry_project(fields)
        if project is not None:
            entry.project_id = project.id
            entry.billable = project.billable
        else:
            project = self.projects.get(entry.project_id) if entry.project_id else None
        if fields.date is not None:
            entry.date = fields.date
        if fields.minutes is not None:
            entry.minutes = self._minutes(fields.minutes, project)
        if fields.description is not None:
            entry.description = fields.description or None
            entry.tag_ids = self.tags_in(entry.description)
        if fields.source_url is not None:
            entry.source_url = fields.source_url or None
        entry.updated_at = self.now()
        return entry

    def delete_entry(self, user: NokoUser, entry_id: int) -> None:
        del self.entries[self.entry(user, entry_id).id]

    def add_entry(
        self,
        user: NokoUser,
        *,
        project: NokoProject | None,
        entry_date: date,
        minutes: int,
        description: str | None,
        source_url: str | None = None,
    ) -> NokoEntry:
        now = self.now()
        entry = NokoEntry(
            id=next(self._entry_ids),
            user_id=user.id,
            project_id=project.id if project else None,
            date=entry_date,
            minutes=self._minutes(minutes, project),
            description=description,
            billable=project.billable if project else True,
            created_at=now,
            updated_at=now,
            tag_ids=self.tags_in(description),
            source_url=source_url or None,
        )
        self.entries[entry.id] = entry
        return entry

    @staticmethod
    def _minutes(minutes: int, project: NokoProject | None) -> int:
        if minutes <= 0:
            raise ValidationFailed("Entry", "minutes", "invalid")
        return project.round_up(minutes) if project else minutes

    @staticmethod
    def _check_user(user: NokoUser, fields: EntryFields) -> None:
        # A coworker may log only their own time.
        if fields.user_id is not None and fields.user_id != user.id:
            raise ValidationFailed("Entry", "user_id", "insufficent_permissions")

    def _entry_project(self, fields: EntryFields) -> NokoProject | None:
        """The project an entry names by id, else by name (created when new), else None."""
        if fields.project_id is not None:
            project = self.projects.get(fields.project_id)
            if project is None:
                raise ValidationFailed("Entry", "project_id", "missing")
        elif fields.project_name:
            wanted = fields.project_name.strip().lower()
            found = (p for p in self.projects.values() if p.name.lower() == wanted)
            project = next(found, None) or self.add_project(fields.project_name.strip())
        else:
            return None
        if not project.enabled:
            raise ValidationFailed("Entry", "project_id", "archived_project")
        return project
