"""The small account a fake Noko starts with: two coworkers, a few projects, some past time."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from timergate.fakes.base import Now
from timergate.fakes.noko.account import NokoAccount
from timergate.fakes.noko.models import (
    NokoProject,
    NokoUser,
    ProjectGroup,
    Token,
)

__all__ = ["OAUTH_TOKEN_LIFETIME", "SeededAccount", "seed_account"]

#: How long the seeded OAuth access token lasts; move a manual clock past it to see a 401.
OAUTH_TOKEN_LIFETIME = timedelta(days=14)

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def personal_token() -> str:
    """A token shaped like Noko's personal access tokens (two runs of 31 characters)."""
    half = 31
    return "-".join("".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(half)) for _ in "ab")


@dataclass(frozen=True)
class SeededAccount:
    """The account and what a client needs to use it."""

    account: NokoAccount
    user: NokoUser
    other_user: NokoUser
    token: str
    other_token: str
    oauth_token: str
    oauth_expires_at: datetime
    projects: list[NokoProject]
    archived_project: NokoProject


def seed_account(now: Now) -> SeededAccount:
    account = NokoAccount(now)
    created = now()
    robin = NokoUser(8201, "robin.okafor@example.com", "Robin", "Okafor", created)
    sam = NokoUser(8202, "sam.lindqvist@example.com", "Sam", "Lindqvist", created)
    account.users = {robin.id: robin, sam.id: sam}
    token, other_token, oauth_token = personal_token(), personal_token(), secrets.token_hex(32)
    oauth_expires_at = created + OAUTH_TOKEN_LIFETIME
    account.tokens = {
        token: Token(robin.id, "personal"),
        other_token: Token(sam.id, "personal"),
        oauth_token: Token(robin.id, "oauth", expires_at=oauth_expires_at),
    }

    acme = ProjectGroup(3101, "Acme Corp")
    projects = [
        account.add_project("Website relaunch", color="#ff9898", group=acme),
        account.add_project("Support retainer", billing_increment=1, color="#63b3ed", group=acme),
        account.add_project("Internal tooling", billing_increment=5, billable=False),
        account.add_project("Discovery workshop", billing_increment=30, color="#f6ad55"),
    ]
    archived = account.add_project("Legacy migration", billing_increment=60, enabled=False)
    website, support, tooling, workshop = projects

    today = account.today()
    day = timedelta(days=1)
    past = [
        (robin, website, today - day, 90, "Homepage wireframes #design"),
        (robin, support, today - 2 * day, 17, "Password reset for Acme #support"),
        (robin, tooling, today - 3 * day, 45, "CI pipeline cleanup"),
        (robin, archived, today - 40 * day, 120, "Data export scripts"),
        (sam, website, today - day, 60, "Content audit #content"),
    ]
    for user, project, when, minutes, description in past:
        account.add_entry(
            user, project=project, entry_date=when, minutes=minutes, description=description
        )

    # Sam left a paused timer: Robin must never see it.
    account.start_timer(sam, workshop.id, description="Workshop prep #planning")
    account.pause_timer(sam, workshop.id)
    account.adjust_timer(sam, workshop.id, 25 * 60)
    return SeededAccount(
        account, robin, sam, token, other_token, oauth_token, oauth_expires_at, projects, archived
    )
