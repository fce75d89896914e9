"""What Accelo accepts from a user, checked before anything is sent: a timer's or activity's
subject, the object it is against, billable time, and no tags."""

from __future__ import annotations

from timergate.domain import TimerContext
from timergate.errors import BadUserInput
from timergate.providers.accelo_wire import BILLABLE_AGAINST, MAX_SUBJECT_LENGTH, number

__all__ = ["against", "billable_object", "no_tags", "not_billable", "subject_of"]


def subject_of(description: str | None, context: TimerContext | None, *, field: str) -> str:
    """The subject Accelo requires: the description, or else the context's title."""
    if description:
        subject = description.strip()
        if len(subject) > MAX_SUBJECT_LENGTH:
            raise BadUserInput(
                f"Accelo keeps subjects of at most {MAX_SUBJECT_LENGTH} characters; this one "
                f"has {len(subject)}.",
                field=field,
            )
        return subject
    title = (context.title or "").strip() if context is not None else ""
    if not title:
        raise BadUserInput(
            f"An Accelo timer needs a subject: give {field} (or a context with a title).",
            field=field,
        )
    # The title stands in for a subject nobody typed: shorten it rather than refuse it.
    return title if len(title) <= MAX_SUBJECT_LENGTH else title[: MAX_SUBJECT_LENGTH - 1] + "…"


def against(context: TimerContext, *, field: str = "input.context") -> tuple[str, str]:
    """An Accelo object as timers and activities name it: a type word and a numeric id."""
    object_type = context.type.strip().lower()
    if not object_type.replace("_", "").isalpha() or not object_type.isascii():
        raise BadUserInput(
            f"{field}.type {context.type!r} is no Accelo object type; use one such as job, "
            "issue, milestone, task, contract or company.",
            field=f"{field}.type",
        )
    if not context.id.isascii() or not context.id.isdigit():
        raise BadUserInput(
            f"{field}.id {context.id!r} is no Accelo id; Accelo's ids are numbers.",
            field=f"{field}.id",
        )
    return object_type, str(number(context.id))


def billable_object(context: TimerContext | None) -> bool:
    """Whether Accelo takes billable time against this object."""
    return context is not None and context.type.lower() in BILLABLE_AGAINST


def no_tags(field: str) -> BadUserInput:
    return BadUserInput("Accelo timers and activities have no tags; leave them out.", field=field)


def not_billable(field: str) -> BadUserInput:
    return BadUserInput(
        "Accelo logs billable time only against an issue, job, milestone, contract or "
        "contract period; log this time as non-billable (billable: false).",
        field=field,
    )
