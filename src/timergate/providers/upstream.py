"""What every vendor adapter shares: where it may connect, its HTTP pool, pacing, and how
upstream failures become the gateway's errors.

- :class:`UpstreamAllowList`: a user-supplied ``baseUrl`` must not turn the gateway into a way
  into the operator's network. Only the vendors' public API hosts are allowed, plus the
  prefixes the operator lists (``--allow-upstream``).
- :class:`UpstreamPools`: one ``httpx.AsyncClient`` per vendor host, shared by every
  connection to that host, with explicit timeouts and redirects never followed.
- :class:`Upstream`: one connection's calls: paced under the vendor's rate limit, reads
  retried with backoff and jitter (writes never blindly repeated), and every failure mapped
  at this boundary: 401/403 → ``UPSTREAM_AUTH_FAILED``, 404 → ``NOT_FOUND``, 429 →
  ``UPSTREAM_RATE_LIMITED`` (with ``retryAfter`` when known), 5xx, timeouts, connection
  errors, redirects and garbage → ``UPSTREAM_UNAVAILABLE``. A vendor's validation errors are
  left to the adapter, which knows their shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import httpx
import orjson
import stamina
from aiolimiter import AsyncLimiter
from httpx_aiohttp import AiohttpTransport

from timergate.errors import (
    BadUserInput,
    NotFound,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)

__all__ = [
    "Upstream",
    "UpstreamAllowList",
    "UpstreamPools",
    "normalize_base_url",
    "parse_retry_after",
]

_log = logging.getLogger("timergate.upstream")
_USER_AGENT = "timergate (+https://github.com/timergate/timergate)"


def normalize_base_url(url: str, *, field: str = "input.baseUrl") -> str:
    """``url`` as ``scheme://host[:port][/path]`` in lower case, without a trailing slash;
    refuses anything that is not a plain http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BadUserInput(f"{field} is not a valid URL: {exc}.", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUserInput(
            f"{field} must be an http(s) URL such as https://api.example.com.", field=field
        )
    if parts.username is not None or parts.password is not None:
        raise BadUserInput(
            f"{field} must not carry credentials; send them in input.credentials.", field=field
        )
    if parts.query or parts.fragment:
        raise BadUserInput(f"{field} must not have a query or fragment.", field=field)
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def of(cls, normalized: str) -> _Origin:
        parts = urlsplit(normalized)
        port = parts.port or {"http": 80, "https": 443}[parts.scheme]
        return cls(parts.scheme, parts.hostname or "", port, parts.path)


@dataclass(frozen=True, slots=True)
class _Prefix:
    """An allowed URL prefix; its host may start with ``*.`` for any one subdomain label."""

    origin: _Origin
    wildcard: bool

    @classmethod
    def parse(cls, prefix: str) -> _Prefix:
        wildcard = "://*." in prefix
        # "*" is no hostname; stand a label in for it while parsing.
        plain = prefix.replace("://*.", "://wildcard.", 1) if wildcard else prefix
        origin = _Origin.of(normalize_base_url(plain, field="allowed upstream prefix"))
        if wildcard:
            origin = _Origin(origin.scheme, origin.host.partition(".")[2], origin.port, origin.path)
        return cls(origin, wildcard)

    def admits(self, url: _Origin) -> bool:
        allowed = self.origin
        if (url.scheme, url.port) != (allowed.scheme, allowed.port):
            return False
        if self.wildcard:
            label, _, rest = url.host.partition(".")
            if not label or rest != allowed.host:
                return False
        elif url.host != allowed.host:
            return False
        return (
            not allowed.path or url.path == allowed.path or url.path.startswith(allowed.path + "/")
        )


class UpstreamAllowList:
    """Which upstream base URLs connections may use."""

    def __init__(self, vendor_hosts: Iterable[str], operator_prefixes: Sequence[str]) -> None:
        self._prefixes = [_Prefix.parse(p) for p in (*vendor_hosts, *operator_prefixes)]

    def check(self, base_url: str, *, field: str = "input.baseUrl") -> str:
        """``base_url`` normalised, or :class:`BadUserInput` naming the option that allows it."""
        url = normalize_base_url(base_url, field=field)
        origin = _Origin.of(url)
        if any(prefix.admits(origin) for prefix in self._prefixes):
            return url
        raise BadUserInput(
            f"{field} {url} is not an allowed upstream: only the vendors' public APIs are, "
            "unless the operator allows more with --allow-upstream PREFIX (or "
            "TIMERGATE_ALLOWED_UPSTREAMS).",
            field=field,
        )


class _PooledClient(httpx.AsyncClient):
    """An ``AsyncClient`` whose ``send`` goes straight to its connection pool.

    Every upstream call is built by the adapter, carries its own credentials and timeout, and
    follows no redirect; the client's own send path (auth flows, redirect handling, cookie
    jars) would only cost time on each call, close to a millisecond of CPU on the hot path.
    """

    def __init__(self, *, pool: httpx.AsyncBaseTransport, **options: Any) -> None:
        super().__init__(transport=pool, **options)
        self._pool = pool

    async def send(
        self, request: httpx.Request, *, stream: bool = False, **_: Any
    ) -> httpx.Response:
        response = await self._pool.handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response


class UpstreamPools:
    """One ``httpx.AsyncClient`` (one connection pool) per vendor origin."""

    def __init__(
        self,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        pacing: bool = True,
    ) -> None:
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._transport = transport
        self._pacing = pacing
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limiters: dict[tuple[str, float, float], AsyncLimiter] = {}

    def limiter(self, base_url: str, rate: float, period: float) -> AsyncLimiter | None:
        """The limiter shared by every connection to ``base_url``'s host at this rate."""
        if not self._pacing:
            return None
        parts = urlsplit(base_url)
        key = (f"{parts.scheme}://{parts.netloc}", rate, period)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = AsyncLimiter(rate, period)
        return limiter

    def client(self, base_url: str) -> httpx.AsyncClient:
        parts = urlsplit(base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        client = self._clients.get(origin)
        if client is None:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            client = _PooledClient(
                # aiohttp's connection handling costs about 40 % less CPU a call than
                # httpcore's, and upstream calls are most of a vendor request's work.
                pool=self._transport or AiohttpTransport(limits=limits),
                timeout=self._timeout,
                # A redirect could point anywhere, past the allow-list: never follow one.
                follow_redirects=False,
                headers={"User-Agent": _USER_AGENT},
            )
            self._clients[origin] = client
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), if it says."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


#: Statuses a read may be retried on (the vendor was briefly unable to answer).
_RETRYABLE_STATUSES = frozenset({502, 503, 504})


class _Retryable(Exception):
    def __init__(self, error: UpstreamError) -> None:
        self.error = error


@dataclass
class Upstream:
    """One connection's HTTP calls to its vendor.

    ``name`` describes the connection in messages (e.g. ``Noko connection 'Work'``) and
    ``key`` is its provider key (in ``extensions.provider``). ``auth`` adds the credentials to
    each request; nothing it adds is ever logged or put into an error.
    """

    client: httpx.AsyncClient
    base_url: str
    key: str
    name: str
    auth: Callable[[httpx.Request], None]
    limiter: AsyncLimiter | None = None
    read_attempts: int = 3
    #: Called before an auth failure is raised, so the connection's status says it first.
    on_auth_failure: Callable[[], None] | None = None
    default_headers: Mapping[str, str] = field(default_factory=dict)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        allow: frozenset[int] = frozenset(),
        retry: bool | None = None,
    ) -> httpx.Response:
        """Send one call; a 2xx (or a status in ``allow``) comes back, anything else raises.

        GET and HEAD are retried on timeouts, connection errors and 502/503/504 with
        exponential backoff and jitter; other methods are sent once. ``retry`` overrides
        that for APIs whose reads are POSTs (or whose write is safe to repeat).
        """
        is_read = method in ("GET", "HEAD") if retry is None else retry
        try:
            return await self._send_once(
                method, path, params, json, data, headers, allow, retryable=is_read
            )
        except _Retryable as first:
            if self.read_attempts <= 1:
                raise first.error from None
            failed: _Retryable | None = first
        # Only a failed read pays for the retry machinery; the first failure counts as its
        # first attempt, so the backoff (with jitter) starts from there.
        try:
            async for attempt in stamina.retry_context(
                on=_Retryable,
                attempts=self.read_attempts,
                wait_initial=0.2,
                wait_max=2.0,
                timeout=None,
            ):
                with attempt:
                    if failed is not None:
                        error, failed = failed, None
                        raise error
                    return await self._send_once(
                        method, path, params, json, data, headers, allow, retryable=True
                    )
        except _Retryable as exc:
            raise exc.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        allow: frozenset[int],
        *,
        retryable: bool,
    ) -> httpx.Response:
        content = None
        if json is not None:
            content = orjson.dumps(json)
            headers = {"Content-Type": "application/json", **(headers or {})}
        request = self.client.build_request(
            method,
            self.base_url + path,
            params=params,
            content=content,
            data=data,
            headers={**self.default_headers, **(headers or {})},
        )
        self.auth(request)
        if self.limiter is not None:
            await self.limiter.acquire()
        try:
            response = await self.client.send(request)
        except httpx.TimeoutException as exc:
            # aiohttp reports a refused connection as a connect timeout: say what it was.
            refused = isinstance(exc.__cause__, ConnectionError | aiohttp.ClientConnectorError)
            what = (
                "could not be reached (connection refused)" if refused else "did not answer in time"
            )
            unavailable = self._unavailable(what)
            raise (_Retryable(unavailable) if retryable else unavailable) from None
        except httpx.TransportError as exc:
            unavailable = self._unavailable(f"could not be reached ({type(exc).__name__})")
            raise (_Retryable(unavailable) if retryable else unavailable) from None
        if response.is_success or response.status_code in allow:
            return response
        error = self.error_for(response)
        if isinstance(error, UpstreamAuthFailed) and self.on_auth_failure is not None:
            self.on_auth_failure()
        retry = retryable and response.status_code in _RETRYABLE_STATUSES
        if retry and isinstance(error, UpstreamError):
            raise _Retryable(error)
        raise error

    def _unavailable(self, what: str) -> UpstreamUnavailable:
        _log.warning("%s at %s %s", self.name, self.base_url, what)
        return UpstreamUnavailable(f"{self.name} {what}; try again shortly.", provider=self.key)

    def error_for(self, response: httpx.Response) -> UpstreamError | NotFound:
        """The gateway's error for a vendor's non-success answer."""
        status = response.status_code
        if status in (401, 403):
            return UpstreamAuthFailed(
                f"{self.name} refused its credentials (HTTP {status}); connect it again "
                "with valid ones.",
                provider=self.key,
            )
        if status == 404:
            return NotFound(f"{self.name} has no such object; it may have been removed.")
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            wait = f" Retry in {retry_after:.0f} s." if retry_after is not None else ""
            return UpstreamRateLimited(
                f"{self.name} is rate limiting requests.{wait}",
                retry_after=retry_after,
                provider=self.key,
            )
        if 300 <= status < 400:
            return self._unavailable(f"answered with a redirect (HTTP {status}), not followed")
        return self._unavailable(f"failed (HTTP {status})")

    def json(self, response: httpx.Response) -> Any:
        """The JSON body of a vendor's answer; anything else is the vendor failing."""
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise self._unavailable("answered with something that is not JSON") from None
