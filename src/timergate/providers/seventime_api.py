"""Seven Time's API v2 for one connection: the calls the provider makes, acting as one user.

Seven Time's key belongs to the company and acts for every user, so each call names the
connection's user and every timer and time log that comes back is checked to be theirs;
another user's object answers exactly like a missing one. Errors arrive as
``{"errorMessage"}``: 400 becomes BAD_USER_INPUT with Seven Time's words, 404 is the caller's
to interpret, 429 (sent without ``Retry-After``; the limit is 4 requests a second) becomes
UPSTREAM_RATE_LIMITED with a one-second retry, and the rest is mapped by
:class:`~timergate.providers.upstream.Upstream`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import httpx

from timergate.errors import BadUserInput, UpstreamRateLimited, UpstreamUnavailable
from timergate.providers.seventime_wire import (
    COLLECTIONS,
    SevenTimeLogJSON,
    SevenTimeTimerJSON,
    safe_id,
)
from timergate.providers.upstream import Upstream

__all__ = ["MAX_PAGE_SIZE", "SevenTimeAPI", "TimeLogPage"]

#: Seven Time's largest page.
MAX_PAGE_SIZE = 500
#: Seven Time's limit is a second long: a refused call may be sent again after it.
_RATE_WINDOW_SECONDS = 1.0
#: Active timers of one user: Seven Time runs one at a time, so one page is plenty.
_TIMER_PAGES = 5
_NOT_FOUND = frozenset({400, 404})


class TimeLogPage:
    """One page of time logs, newest first, and how many pages there are."""

    def __init__(self, logs: list[SevenTimeLogJSON], total: int, pages: int) -> None:
        self.logs = logs
        self.total = total
        self.pages = pages


class SevenTimeAPI:
    """The calls of one connection, acting as the Seven Time user ``user_id``."""

    def __init__(self, upstream: Upstream, *, user_id: str, secret: str) -> None:
        self._http = upstream
        self.user_id = user_id
        self._secret = secret
        self.name = upstream.name

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One call; a 400 is Seven Time refusing the input, a 404 comes back to the caller."""
        try:
            response = await self._http.request(
                method, path, params=params, json=body, allow=_NOT_FOUND
            )
        except UpstreamRateLimited as exc:
            if exc.retry_after is None:
                exc.retry_after = _RATE_WINDOW_SECONDS
                exc.message = (
                    f"{self.name} is rate limiting requests (Seven Time allows 4 a second). "
                    "Retry in 1 s."
                )
            raise
        return response

    def _json(self, response: httpx.Response) -> Any:
        return self._http.json(response)

    def error_message(self, response: httpx.Response) -> str:
        """Seven Time's ``errorMessage``, never echoing the key."""
        try:
            body = self._http.json(response)
        except UpstreamUnavailable:
            body = None
        text = body.get("errorMessage") if isinstance(body, dict) else None
        message = str(text or f"HTTP {response.status_code}")[:300]
        return message.replace(self._secret, "…") if self._secret else message

    def _refused(self, response: httpx.Response, *, field: str | None = None) -> BadUserInput:
        return BadUserInput(
            f"{self.name} refused the request: {self.error_message(response)}", field=field
        )

    def _list_refused(
        self, response: httpx.Response, what: str
    ) -> BadUserInput | UpstreamUnavailable:
        if response.status_code == 400:
            return self._refused(response)
        # A list is always there: a 404 means the address is not Seven Time's API.
        return self._unreadable(
            f"HTTP 404 for its {what} ({self.error_message(response)}); is the connection's "
            "baseUrl Seven Time's address?"
        )

    def _unreadable(self, what: str) -> UpstreamUnavailable:
        return UpstreamUnavailable(f"{self.name} answered {what}.", provider=self._http.key)

    # Users and the objects timers run on.

    async def user_exists(self) -> bool:
        """Whether the connection's user is a user of the key's company."""
        if not safe_id(self.user_id):
            return False
        response = await self._send("GET", f"/users/{self.user_id}")
        if response.status_code in _NOT_FOUND:
            return False
        body = self._json(response)
        data = body.get("data", body) if isinstance(body, dict) else None
        return isinstance(data, dict) and data.get("_id", self.user_id) == self.user_id

    async def object(self, kind: str, object_id: str) -> dict[str, Any] | None:
        """A customer, project, work order, task or time category; ``None`` if there is none."""
        if not safe_id(object_id):
            return None
        response = await self._send("GET", f"/{COLLECTIONS[kind]}/{object_id}")
        if response.status_code in _NOT_FOUND:
            return None
        body = self._json(response)
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else None

    # Timers.

    async def active_timers(self) -> list[SevenTimeTimerJSON]:
        """The user's active timers (Seven Time's key could show everyone's: only theirs)."""
        found: list[SevenTimeTimerJSON] = []
        for page in range(1, _TIMER_PAGES + 1):
            params = {"user": self.user_id, "limit": 100, "page": page}
            response = await self._send("GET", "/timers", params=params)
            if response.status_code in _NOT_FOUND:
                raise self._list_refused(response, "active timers")
            data, pages, _ = self._page(response)
            found += [cast(SevenTimeTimerJSON, t) for t in data if self._owned_timer(t)]
            if page >= pages:
                break
        return found

    async def start_timer(self, objects: Mapping[str, str]) -> SevenTimeTimerJSON:
        body: dict[str, Any] = {"user": self.user_id, **objects}
        response = await self._send("POST", "/startTimer", body=body)
        if response.status_code in _NOT_FOUND:
            raise self._refused(response, field="input.context")
        raw = self._json(response)
        if not self._owned_timer(raw):
            raise self._unreadable("a start without the timer it started")
        return cast(SevenTimeTimerJSON, raw)

    async def stop_timer(self, timer_id: str) -> SevenTimeLogJSON | None:
        """Stop the user's timer ``timer_id``: the time log it saved, or ``None`` when that
        timer is not running (any more)."""
        body = {"_id": timer_id, "user": self.user_id}
        response = await self._send("POST", "/stopTimer", body=body)
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            raise self._refused(response, field="input.id")
        raw = self._json(response)
        if not self._owned_log(raw):
            raise self._unreadable("a stop without the time log it saved")
        return cast(SevenTimeLogJSON, raw)

    # Time logs.

    async def time_log(self, log_id: str) -> SevenTimeLogJSON | None:
        """The user's time log ``log_id``; ``None`` when there is none or it is another's."""
        if not safe_id(log_id):
            return None
        response = await self._send("GET", f"/timeLogs/{log_id}")
        if response.status_code in _NOT_FOUND:
            return None
        body = self._json(response)
        data = body.get("data") if isinstance(body, dict) else None
        return cast(SevenTimeLogJSON, data) if self._owned_log(data) else None

    async def time_logs(self, filters: Mapping[str, str], *, page: int, limit: int) -> TimeLogPage:
        """One page of the user's time logs, newest first."""
        params: dict[str, Any] = {
            **filters,
            "user": self.user_id,
            "sortBy": "timestamp",
            "sortDirection": "descending",
            "limit": limit,
            "page": page,
        }
        response = await self._send("GET", "/timeLogs", params=params)
        if response.status_code in _NOT_FOUND:
            raise self._list_refused(response, "time logs")
        data, pages, total = self._page(response)
        logs = [cast(SevenTimeLogJSON, log) for log in data if self._owned_log(log)]
        return TimeLogPage(logs, len(logs) if total is None else total, pages)

    async def delete_time_log(self, log_id: str) -> bool:
        """Delete the user's time log; ``False`` when it was already gone."""
        body = {"_id": log_id, "deletedByUser": self.user_id}
        response = await self._send("DELETE", "/timeLogs", body=body)
        if response.status_code == 404:
            return False
        if response.status_code == 400:
            raise self._refused(response, field="input.id")
        return True

    # Shapes.

    def _page(self, response: httpx.Response) -> tuple[list[Any], int, int | None]:
        """A list's items, its number of pages and its total (from ``meta``)."""
        body = self._json(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise self._unreadable("a list without its data")
        meta = body.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        pages, total = meta.get("totalPages"), meta.get("totalResources")
        return (
            data,
            pages if isinstance(pages, int) else 1,
            total if isinstance(total, int) else None,
        )

    def _owned_timer(self, raw: Any) -> bool:
        return (
            isinstance(raw, dict)
            and isinstance(raw.get("_id"), str)
            and raw.get("user") == self.user_id
            and isinstance(raw.get("startTimestamp"), str)
        )

    def _owned_log(self, raw: Any) -> bool:
        return (
            isinstance(raw, dict)
            and isinstance(raw.get("_id"), str)
            and raw.get("user") == self.user_id
            and isinstance(raw.get("timestamp"), str)
        )
