"""Which media type answers a request, from its ``Accept`` header and its operation's type.

Clients list several types: urql sends ``application/graphql-response+json,
application/graphql+json, application/json, text/event-stream, multipart/mixed`` for every
query and mutation, and ``text/event-stream, multipart/mixed`` for a subscription. The
gateway takes the client's order of preference (``q`` first, then the order written) within
each kind: a query or mutation is answered in the first JSON type acceptable, and streams
only when no JSON type is; a subscription is answered on the first stream type acceptable.
A request without ``Accept`` (or with ``*/*``) is answered ``application/json``, as the
GraphQL-over-HTTP spec asks for clients that predate it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "MULTIPART",
    "SSE",
    "Acceptable",
    "negotiate",
]

JSON = "application/json"
#: The GraphQL-over-HTTP spec's own type: request errors answer 4xx in it.
GRAPHQL_RESPONSE = "application/graphql-response+json"
SSE = "text/event-stream"
MULTIPART = "multipart/mixed"
_WILDCARDS = ("*/*", "application/*")


@dataclass(frozen=True, slots=True)
class Acceptable:
    """What a request accepts: the JSON type and the stream to answer in, if any."""

    #: ``application/graphql-response+json`` or ``application/json``; None if neither is
    #: acceptable (then an operation that can stream does).
    json: str | None
    #: The ``Accept`` entry of the preferred stream (``text/event-stream``, or
    #: ``multipart/mixed`` with its ``subscriptionSpec``), as Strawberry's view reads it.
    stream: str | None

    @property
    def response_media(self) -> str:
        """The JSON type a refusal is written in (``application/json`` when none is asked)."""
        return self.json or JSON


def negotiate(accept: str | None) -> Acceptable:
    """Read an ``Accept`` header (None when absent)."""
    if accept is None or not accept.strip():
        return Acceptable(JSON, None)
    json: str | None = None
    stream: str | None = None
    for media, params, entry in _by_preference(accept):
        if json is None and media in (GRAPHQL_RESPONSE, JSON):
            json = media
        elif json is None and media in _WILDCARDS:
            json = JSON
        elif stream is None and media == SSE:
            stream = entry
        elif stream is None and media == MULTIPART and "subscriptionspec" in params:
            # Strawberry streams multipart only under the incremental subscription spec.
            stream = entry
    return Acceptable(json, stream)


def _by_preference(accept: str) -> list[tuple[str, dict[str, str], str]]:
    """``(media type, parameters, entry)`` for each acceptable entry, most preferred first."""
    ranked: list[tuple[float, int, str, dict[str, str], str]] = []
    for position, entry in enumerate(accept.split(",")):
        media, *raw = (part.strip() for part in entry.split(";"))
        params = {}
        for item in raw:
            key, _, value = item.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 1.0
        if media and quality > 0:
            ranked.append((-quality, position, media.lower(), params, entry.strip()))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [(media, params, entry) for _, _, media, params, entry in ranked]
