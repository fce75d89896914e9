"""Fake Seven Time: the ``/api/2`` timer and time-log API of app.seventime.se.

Auth is the account-wide ``Client-Secret`` header, which acts for any user of the company;
bodies are JSON. ``GET /timers`` lists active timers, ``POST /startTimer`` (or ``POST
/timers``) starts one and ``POST /stopTimer`` stops one and answers the time log it saved;
``/timeLogs`` reads (and deletes) time logs. The seeded users, customers, projects, work
orders, tasks and time categories can be read too. Every path also answers with a trailing
slash, as the vendor's curl examples write them. Errors are ``{"errorMessage": …}`` with the
documented status; past 4 requests a second (when ``control.rate_limit`` is on) the answer
is 429.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from timergate.fakes.base import ControlledApp, FakeControl, FakeDescription, Now, system_now
from timergate.fakes.request_rate import RequestRate
from timergate.fakes.seventime_account import (
    Account,
    AccountError,
    TimeLog,
    Timer,
)
from timergate.fakes.seventime_seed import seed_account

__all__ = ["API_PATH", "SevenTimeFake", "create_fake"]

API_PATH = "/api/2"
REQUESTS_PER_SECOND = 4
CLIENT_SECRET = "st-fake-3f9c2d7e41b84a6c"

#: Read-only collections of seeded objects: path segment → account collection.
_READABLE = ("users", "customers", "projects", "workOrders", "tasks", "timeCategories")
#: What a user object must not show: the fake's own cost figure behind ``cost``.
_PRIVATE_FIELDS = ("costPerHour",)
_TIMER_FILTERS = ("user", "customer", "project", "task", "timeCategory", "workOrder")
_LOG_FILTERS = {
    "user": "user",
    "customer": "customer",
    "project": "project",
    "task": "task",
    "category": "timeCategory",
    "timeCategory": "timeCategory",
    "workOrder": "workOrder",
}
_FILTER_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)")


def create_fake(*, now: Now = system_now, rate_limit: bool = False) -> SevenTimeFake:
    """A fake Seven Time company with two users and objects to time."""
    return SevenTimeFake(now=now, rate_limit=rate_limit)


class SevenTimeFake:
    """One fake Seven Time company, served under ``/api/2``."""

    vendor = "seventime"

    def __init__(self, *, now: Now = system_now, rate_limit: bool = False) -> None:
        self.control = FakeControl(rate_limit=rate_limit)
        self.account = seed_account(now, CLIENT_SECRET)
        self._api = SevenTimeAPI(self.account, self.control, RequestRate(REQUESTS_PER_SECOND, now))
        self._app = ControlledApp(self._api, self.control)

    @property
    def app(self) -> ASGIApp:
        return self._app

    def describe(self, base_url: str) -> FakeDescription:
        users = list(self.account.objects["users"])
        project = next(iter(self.account.objects["projects"].values()))
        return FakeDescription(
            vendor=self.vendor,
            base_url=base_url,
            credentials={"clientSecret": CLIENT_SECRET, "userId": users[0]},
            seed={
                "context": {"type": "project", "id": project["_id"], "title": project["name"]},
                "customerId": project["customer"],
                "otherCredentials": {"clientSecret": CLIENT_SECRET, "userId": users[1]},
            },
        )


class SevenTimeAPI:
    """The ``/api/2`` routes: authentication, rate limit, dispatch, error bodies."""

    def __init__(self, account: Account, control: FakeControl, rate: RequestRate) -> None:
        self._account = account
        self._control = control
        self._rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if self._control.rate_limit and not self._rate.admit():
            return _error(429, "Too many requests: the limit is 4 requests per second")
        path = request.url.path.rstrip("/")
        if not path.startswith(API_PATH + "/"):
            return _error(404, "Not found")
        if request.headers.get("client-secret") != self._account.client_secret:
            return _error(401, "Unauthorized: the Client-Secret header is missing or wrong")
        segments = path[len(API_PATH) + 1 :].split("/")
        try:
            return await self._dispatch(request, segments)
        except AccountError as exc:
            return _error(exc.status, exc.message)

    async def _dispatch(self, request: Request, segments: list[str]) -> Response:
        method, name, rest = request.method, segments[0], segments[1:]
        account = self._account
        if method == "GET" and name == "timers" and not rest:
            timers = _filtered(account.timers.values(), request.query_params, _TIMER_FILTERS)
            return _page([t.to_json() for t in timers], request.query_params)
        if method == "POST" and name in ("startTimer", "timers") and not rest:
            timer: Timer = account.start_timer(await _body(request))
            return JSONResponse(timer.to_json())
        if method == "POST" and name == "stopTimer" and not rest:
            log: TimeLog = account.stop_timer(await _body(request))
            return JSONResponse(log.to_json())
        if name == "timeLogs":
            return await self._time_logs(request, rest)
        if method == "GET" and name in _READABLE and len(rest) <= 1:
            return self._read(name, rest, request.query_params)
        return _error(404, f"Not found: {method} {request.url.path}")

    async def _time_logs(self, request: Request, rest: list[str]) -> Response:
        account = self._account
        if request.method == "GET" and not rest:
            logs = _select_logs(account, request.query_params)
            return _page([log.to_json() for log in logs], request.query_params)
        if request.method == "GET" and len(rest) == 1:
            found = account.time_logs.get(rest[0])
            if found is None:
                raise AccountError(404, f"The time log {rest[0]} could not be found")
            return JSONResponse({"data": found.to_json()})
        if request.method == "DELETE" and not rest:
            body = await _body(request)
            log_id = body.get("_id") or request.query_params.get("_id", "")
            account.delete_time_log(log_id)
            return JSONResponse({"_id": log_id})
        return _error(404, f"Not found: {request.method} {request.url.path}")

    def _read(self, name: str, rest: list[str], query: Mapping[str, str]) -> Response:
        if rest:
            return JSONResponse({"data": _public(self._account.find(name, rest[0]))})
        return _page([_public(o) for o in self._account.objects[name].values()], query)


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _PRIVATE_FIELDS}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errorMessage": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    """The request's parameters: a JSON object (the documented form) or a form body."""
    raw = await request.body()
    if not raw.strip():
        return {}
    form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    # curl -d labels a JSON body as a form; read what it is, not what it says.
    if form and not raw.lstrip().startswith(b"{"):
        return dict(parse_qsl(raw.decode()))
    try:
        body = json.loads(raw)
    except ValueError:
        raise AccountError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise AccountError(400, "The request body must be a JSON object")
    return body


def _filtered(items: Iterable[Timer], query: Mapping[str, str], keys: Iterable[str]) -> list[Any]:
    wanted = {k: query[k] for k in keys if query.get(k)}
    return [t for t in items if all(t.to_json().get(k) == v for k, v in wanted.items())]


def _select_logs(account: Account, query: Mapping[str, str]) -> list[TimeLog]:
    logs = list(account.time_logs.values())
    for param, key in _LOG_FILTERS.items():
        if query.get(param):
            logs = [log for log in logs if log.get(key) == query[param]]
    if query.get("workOrderNumber"):
        numbers = {
            wo["_id"]
            for wo in account.objects["workOrders"].values()
            if str(wo["workOrderNumber"]) == query["workOrderNumber"]
        }
        logs = [log for log in logs if log.get("workOrder") in numbers]
    if query.get("timestamp"):
        since = _filter_instant(query, "timestamp")
        logs = [log for log in logs if log.started >= since]
    if query.get("endTimestamp"):
        until = _filter_instant(query, "endTimestamp")
        logs = [log for log in logs if log.ended <= until]
    if query.get("lastModified"):
        modified = _filter_instant(query, "lastModified")
        logs = [log for log in logs if log.created >= modified]
    if query.get("invoicedDate"):
        _filter_instant(query, "invoicedDate")
        logs = []  # the fake invoices nothing
    return logs


def _filter_instant(query: Mapping[str, str], name: str) -> datetime:
    """``YYYY-MM-DD HH:MM[:SS]`` (or with ``T``), read as UTC."""
    match = _FILTER_INSTANT.fullmatch(query[name].strip())
    if match is None:
        raise AccountError(
            400, f"Invalid '{name}': use 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS'"
        )
    date, clock = match.groups()
    try:
        parsed = datetime.fromisoformat(f"{date}T{clock}")
    except ValueError:
        raise AccountError(400, f"Invalid '{name}': {query[name]!r} is not a date") from None
    return parsed.replace(tzinfo=UTC)


def _page(items: list[dict[str, Any]], query: Mapping[str, str]) -> JSONResponse:
    """Sort by ``sortBy``/``sortDirection``, then one page in the ``meta``/``data`` envelope."""
    limit = _whole(query, "limit", 100)
    page = _whole(query, "page", 1)
    if not 1 <= limit <= 500:
        raise AccountError(400, "'limit' must be between 1 and 500")
    if page < 1:
        raise AccountError(400, "'page' must be 1 or more")
    direction = query.get("sortDirection", "ascending")
    if direction not in ("ascending", "descending"):
        raise AccountError(400, "'sortDirection' must be 'ascending' or 'descending'")
    sort_by = query.get("sortBy")
    if sort_by:
        items = sorted(items, key=lambda item: _sort_key(item.get(sort_by)))
        if direction == "descending":
            items.reverse()
    start = (page - 1) * limit
    return JSONResponse(
        {
            "meta": {
                "totalResources": len(items),
                "totalPages": max(1, math.ceil(len(items) / limit)),
                "currentPage": page,
            },
            "data": items[start : start + limit],
        }
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    # Missing values first, as MongoDB sorts null before everything.
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))


def _whole(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise AccountError(400, f"'{name}' must be a whole number") from None
