"""The Seven Time objects timers run on, as timergate contexts.

A context names one object by its JSON key: ``{type: "task", id}``, or ``customer``,
``project``, ``workOrder``, ``timeCategory``. A timer started on a task or work order also runs
on the project and customer that object belongs to (and one on a project on its customer), as
when it is started in Seven Time, so its time log is priced and reported with them. Titles are
the objects' names, read once and remembered.
"""

from __future__ import annotations

from timergate.domain import TimerContext
from timergate.errors import BadUserInput, TimergateError
from timergate.providers.seventime_api import SevenTimeAPI
from timergate.providers.seventime_wire import (
    OBJECT_KINDS,
    PARENT_KINDS,
    TITLE_FIELDS,
    primary_object,
    safe_id,
)

__all__ = ["SevenTimeObjects"]

#: Names remembered per connection; past this many the memory starts afresh.
_MAX_TITLES = 2000
_KINDS_BY_LOWER = {kind.lower(): kind for kind in OBJECT_KINDS}
_KIND_LIST = ", ".join(f'"{kind}"' for kind in OBJECT_KINDS)


class SevenTimeObjects:
    """Resolves contexts to Seven Time objects and objects to titled contexts."""

    def __init__(self, api: SevenTimeAPI) -> None:
        self._api = api
        self._titles: dict[tuple[str, str], str | None] = {}

    async def for_start(
        self, context: TimerContext | None
    ) -> tuple[dict[str, str], TimerContext | None]:
        """The objects a new timer runs on, and its context with Seven Time's title."""
        if context is None:
            return {}, None
        kind = _KINDS_BY_LOWER.get(context.type.strip().lower())
        if kind is None:
            raise BadUserInput(
                f"A Seven Time timer runs on a Seven Time object: input.context.type must be "
                f"one of {_KIND_LIST}, not {context.type!r}.",
                field="input.context.type",
            )
        found = await self._api.object(kind, context.id) if safe_id(context.id) else None
        if found is None:
            raise BadUserInput(
                f"{self._api.name} has no {kind} with the id {context.id!r}: "
                "input.context.id must be the _id of one.",
                field="input.context.id",
            )
        objects = {kind: context.id}
        for parent in PARENT_KINDS.get(kind, ()):
            value = found.get(parent)
            if isinstance(value, str) and value:
                objects[parent] = value
        title = self._remember(kind, context.id, found)
        return objects, TimerContext(kind, context.id, title)

    async def context(self, objects: dict[str, str]) -> TimerContext | None:
        """The context shown for a timer or time log on ``objects``: the most specific one."""
        primary = primary_object(objects)
        if primary is None:
            return None
        kind, object_id = primary
        return TimerContext(kind, object_id, await self.title(kind, object_id))

    async def title(self, kind: str, object_id: str) -> str | None:
        key = (kind, object_id)
        if key in self._titles:
            return self._titles[key]
        try:
            found = await self._api.object(kind, object_id)
        except TimergateError:
            return None  # a title is a nicety: the read goes on without it
        return self._remember(kind, object_id, found)

    def _remember(self, kind: str, object_id: str, found: dict[str, object] | None) -> str | None:
        value = found.get(TITLE_FIELDS[kind]) if found is not None else None
        title = str(value)[:300] if value else None
        if len(self._titles) >= _MAX_TITLES:
            self._titles.clear()
        self._titles[(kind, object_id)] = title
        return title
