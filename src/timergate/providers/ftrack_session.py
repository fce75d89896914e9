"""One ftrack connection's calls: batches of operations, ftrack's errors, and writes that
survive a lost answer.

ftrack answers its errors with HTTP 200 and one ``{exception, content}`` object instead of
the results; they become the gateway's errors here. A write whose answer is lost (a timeout,
a dropped connection, a 5xx from a proxy) may or may not have happened: :meth:`commit`
reads whether it did before sending it again, and the batch carries the ids of what it
creates, so a late first copy and the retry cannot both land.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import httpx
import orjson

from timergate.domain import TimerContext
from timergate.errors import (
    BadUserInput,
    TimergateError,
    UpstreamAuthFailed,
    UpstreamUnavailable,
)
from timergate.providers.ftrack_wire import (
    SERVER_INFORMATION,
    FtrackContextJSON,
    FtrackRefused,
    Operation,
    is_ftrack_id,
    query,
    quoted,
    results_of,
)
from timergate.providers.registry import ProviderSetup, connection_name
from timergate.providers.upstream import Upstream

__all__ = ["FtrackSession"]

_log = logging.getLogger("timergate.providers.ftrack")

#: The page size of ftrack's own Python client.
PAGE_SIZE = 500
#: A bound on what one read gathers, so a runaway account cannot exhaust the gateway.
MAX_RECORDS = 20_000

_AUTH_EXCEPTIONS = frozenset({"InvalidCredentialsError", "FTAuthenticationError"})


class FtrackSession:
    """The API calls of one ftrack connection, as its user."""

    def __init__(self, setup: ProviderSetup) -> None:
        connection = setup.connection
        self.key = connection.key
        self.name = connection_name(connection)
        self._username = str(setup.credentials["apiUser"])
        self._api_key = str(setup.credentials["apiKey"])
        self._on_auth_failure = setup.on_auth_failure
        base = connection.base_url
        username, api_key = self._username, self._api_key

        def authenticate(request: httpx.Request) -> None:
            request.headers["ftrack-user"] = username
            request.headers["ftrack-api-key"] = api_key

        self._http = Upstream(
            client=setup.client,
            # Both the site's address and its /api endpoint are accepted as baseUrl.
            base_url=base if base.endswith("/api") else base + "/api",
            key=self.key,
            name=self.name,
            auth=authenticate,
            # ftrack documents no request rate limit; nothing to pace.
            limiter=None,
            on_auth_failure=setup.on_auth_failure,
            default_headers={"Accept": "application/json"},
        )
        self._me: str | None = None

    # Calls.

    async def call(self, operations: list[Operation], *, retry: bool) -> list[Any]:
        """The results of one batch; ftrack's refusal raises :class:`FtrackRefused`.

        ``retry``: the batch may be sent again after a lost answer (reads, and writes of
        absolute values).
        """
        response = await self._http.request("POST", "", json=operations, retry=retry)
        try:
            return results_of(orjson.loads(response.content), len(operations))
        except FtrackRefused as refused:
            if refused.exception in _AUTH_EXCEPTIONS:
                raise self._auth_failed() from None
            raise
        except ValueError:  # not JSON (orjson's error is a ValueError), or not ftrack's
            _log.warning("%s answered something that is not ftrack's API", self.name)
            raise UpstreamUnavailable(
                f"{self.name} answered with something that is not ftrack's API (a web page or "
                "garbage): check its baseUrl, or try again shortly.",
                provider=self.key,
            ) from None

    async def run(self, operations: list[Operation], *, retry: bool) -> list[Any]:
        """:meth:`call` with ftrack's refusals turned into the gateway's errors."""
        try:
            return await self.call(operations, retry=retry)
        except FtrackRefused as refused:
            raise self.refusal(refused) from None

    async def read(self, *expressions: str) -> list[list[dict[str, Any]]]:
        """The records each query finds (one page each: give ``limit`` where it matters)."""
        results = await self.run([query(e) for e in expressions], retry=True)
        return [_data(result, self) for result in results]

    async def read_all(
        self, expression: str, *, enough: Callable[[list[dict[str, Any]]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Every record ``expression`` finds, page by page until ftrack says there is no
        more (or ``enough`` says so of what came so far)."""
        records: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None and len(records) < MAX_RECORDS:
            paged = f"{expression} offset {offset} limit {PAGE_SIZE}"
            (result,) = await self.run([query(paged)], retry=True)
            records += _data(result, self)
            following = _next_offset(result)
            offset = following if following is not None and following > offset else None
            if enough is not None and enough(records):
                break
        return records

    async def commit(
        self, operations: list[Operation], *, landed: Callable[[], Awaitable[bool]]
    ) -> None:
        """Send a write batch; if its answer is lost, read whether it ``landed`` and, if not,
        send it once more. A second copy fails (the ids it creates exist, what it deletes is
        gone) when the first landed late, and then ``landed`` says so.

        ftrack's refusal raises :class:`FtrackRefused`.
        """
        try:
            await self.call(operations, retry=False)
            return
        except UpstreamUnavailable:
            pass
        if await self._landed(landed):
            return
        try:
            await self.call(operations, retry=False)
        except (UpstreamUnavailable, FtrackRefused):
            if await self._landed(landed):
                return
            raise

    async def _landed(self, landed: Callable[[], Awaitable[bool]]) -> bool:
        try:
            return await landed()
        except UpstreamUnavailable:
            raise UpstreamUnavailable(
                f"{self.name} did not confirm the change and could not be asked whether it "
                "happened. Nothing is recorded twice: try again shortly.",
                provider=self.key,
            ) from None

    async def exists(self, entity_type: str, id_: str) -> bool:
        """Whether the user's ``entity_type`` with this id exists (to reconcile a write)."""
        (found,) = await self.read(f"select id from {entity_type} where id is {quoted(id_)}")
        return bool(found)

    # Who and where.

    async def verify(self) -> None:
        """Check the server is ftrack with UTC datetimes, and the credentials are good."""
        information, users = await self.run(
            [SERVER_INFORMATION, query(self._user_query())], retry=True
        )
        if not isinstance(information, dict) or "version" not in information:
            raise UpstreamUnavailable(
                f"{self.name} does not answer like an ftrack server; check its baseUrl.",
                provider=self.key,
            )
        if information.get("is_timezone_support_enabled") is False:
            raise BadUserInput(
                f"{self.name} has timezone support switched off, so its times cannot be read "
                "as instants; an ftrack administrator can switch it on.",
                field="input.baseUrl",
            )
        self._me = self._user_id(_data(users, self))

    async def me(self) -> str:
        """The ftrack user id of the connection's user."""
        if self._me is None:
            (users,) = await self.read(self._user_query())
            self._me = self._user_id(users)
        return self._me

    def _user_query(self) -> str:
        return f"select id, username from User where username is {quoted(self._username)}"

    def _user_id(self, users: list[dict[str, Any]]) -> str:
        found = [u for u in users if isinstance(u.get("id"), str)]
        if not found:
            # The key was accepted, yet names no user: treat it like a refused key.
            raise self._auth_failed()
        return str(found[0]["id"])

    # Contexts.

    def context_query(self, context: TimerContext, *, field: str) -> str:
        """The query finding ``context``; BAD_USER_INPUT when its id cannot be an ftrack id."""
        if not is_ftrack_id(context.id):
            self.checked_context(context, None, field=field)
        return f"select name, parent.name from Context where id is {quoted(context.id)}"

    def checked_context(
        self, context: TimerContext, found: list[dict[str, Any]] | None, *, field: str
    ) -> FtrackContextJSON:
        """What ftrack has for ``context``, or BAD_USER_INPUT naming what is wrong."""
        record = found[0] if found else None
        if record is None:
            raise BadUserInput(
                f"{self.name} has no {context.type} with id {context.id!r} that you can see; "
                f'give {field} {{type: "Task", id: <the ftrack task id>}}.',
                field=field,
            )
        actual = str(record.get("__entity_type__") or "")
        if actual != context.type:
            raise BadUserInput(
                f"{context.id!r} is an ftrack {actual}, not a {context.type}; give "
                f'{field} {{type: "{actual}", id: ...}}.',
                field=field,
            )
        return cast(FtrackContextJSON, record)

    async def context(self, context: TimerContext, *, field: str) -> FtrackContextJSON:
        (found,) = await self.read(self.context_query(context, field=field))
        return self.checked_context(context, found, field=field)

    # Errors.

    def _auth_failed(self) -> UpstreamAuthFailed:
        self._on_auth_failure()
        return UpstreamAuthFailed(
            f"{self.name} refused its credentials (ftrack-user and ftrack-api-key); connect it "
            "again with a valid API key.",
            provider=self.key,
        )

    def refusal(self, refused: FtrackRefused) -> TimergateError:
        """The gateway's error for ftrack's error object."""
        if refused.exception in _AUTH_EXCEPTIONS:
            return self._auth_failed()
        content = self._scrubbed(refused.content).strip().rstrip(".")
        if refused.exception in ("ValidationError", "DuplicateEntryError"):
            return BadUserInput(f"{self.name} refused the change: {content}.")
        if refused.exception == "PermissionError":
            return BadUserInput(f"{self.name} does not allow this: {content}.")
        _log.warning("%s answered %s", self.name, refused.exception)
        return UpstreamUnavailable(
            f"{self.name} failed ({refused.exception}); try again shortly.", provider=self.key
        )

    def _scrubbed(self, text: str) -> str:
        # ftrack has no reason to echo the key, but a credential must never leave.
        return text.replace(self._api_key, "***") if self._api_key else text


def _data(result: Any, session: FtrackSession) -> list[dict[str, Any]]:
    data = result.get("data") if isinstance(result, dict) else None
    if not isinstance(data, list):
        raise UpstreamUnavailable(
            f"{session.name} answered a query without its data.", provider=session.key
        )
    return [record for record in data if isinstance(record, dict)]


def _next_offset(result: Any) -> int | None:
    metadata = result.get("metadata") if isinstance(result, dict) else None
    following = metadata.get("next") if isinstance(metadata, dict) else None
    offset = following.get("offset") if isinstance(following, dict) else None
    return offset if isinstance(offset, int) and not isinstance(offset, bool) else None
