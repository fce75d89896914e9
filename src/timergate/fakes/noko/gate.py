"""What a request to Noko passes before its route: the rate limit and the token it presents."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

__all__ = ["TOKEN_PARAMETERS", "RateLimiter", "presented_token"]

#: Query parameters that carry a token (personal: ``noko_token``, formerly ``freckle_token``;
#: OAuth: ``access_token``); they are credentials, never filters.
TOKEN_PARAMETERS = ("noko_token", "freckle_token", "access_token")

# Basic auth takes the token as the user name and one of these as the password (blank too).
_BASIC_PASSWORDS = {"", "x-noko-token", "x-freckle-token", "x-oauth-basic"}


def presented_token(request: Request) -> str | None:
    """The token a request authenticates with, in any of the ways Noko accepts; None if none.

    The fake accepts a personal or an OAuth token in every place (Noko's docs have over the
    years shown each kind in most of them): ``X-NokoToken`` and the legacy ``X-FreckleToken``
    headers, ``Authorization: Bearer|token …``, Basic auth, and the query parameters.
    """
    headers = request.headers
    for name in ("x-nokotoken", "x-freckletoken"):
        if headers.get(name):
            return headers[name].strip()
    authorization = headers.get("authorization")
    if authorization:
        return _authorization_token(authorization)
    for name in TOKEN_PARAMETERS:
        if request.query_params.get(name):
            return request.query_params[name]
    return None


def _authorization_token(value: str) -> str | None:
    scheme, _, credentials = value.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme in ("bearer", "token"):
        return credentials or None
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    token, _, password = decoded.partition(":")
    # Any other password means an email and password, which only Noko's OAuth pages take.
    return token if token and password in _BASIC_PASSWORDS else None


@dataclass
class _Bucket:
    excess: float
    last: datetime


class RateLimiter:
    """Noko's limit, 2 requests a second per client address, kept the way nginx keeps one.

    Each address has a leaky bucket: a request adds one, the bucket drains at ``rate`` a
    second. A request that finds no excess passes at once; up to ``burst`` excess requests
    wait ``excess / rate`` seconds; any beyond that are refused (Noko: an empty 429) and do
    not count.
    """

    def __init__(self, rate: float = 2.0, burst: int = 5) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, client: str, now: datetime) -> float | None:
        """Seconds the request must wait (0: none), or None when it is refused."""
        bucket = self._buckets.get(client)
        if bucket is None:
            self._buckets[client] = _Bucket(0.0, now)
            return 0.0
        drained = self.rate * max(0.0, (now - bucket.last).total_seconds())
        excess = max(0.0, bucket.excess - drained + 1)
        if excess > self.burst:
            return None
        bucket.excess, bucket.last = excess, now
        return excess / self.rate
