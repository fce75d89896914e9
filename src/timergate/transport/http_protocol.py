"""The HTTP/1.1 protocol ``timergate serve`` runs: uvicorn's httptools protocol, with bounds.

uvicorn reads a request head of any size and waits for a request as long as its client likes:

- httptools (llhttp) hands a header to Python only once its line ends, so an unfinished
  header line grows in memory without bound (h11, the other implementation, bounds an
  unfinished head at 16 KiB but answers 400, and is several times slower);
- the only timer is the keep-alive one, which closes a connection idle *between* requests
  and stops at the first byte of the next one. A client that trickles a head or a body, a byte
  now and then, holds its connection (and the task waiting for the body) for ever.

:class:`BoundedHttpToolsProtocol` adds what is missing, in the parser's own callbacks:

- **head size**: the request line and headers may take ``max_header_bytes``; past that the
  answer is 431. Bytes of an unfinished head are counted as they arrive, so an endless header
  line is cut after ``max_header_bytes`` and at most one more read;
- **head deadline**: a request's head must be complete ``header_timeout`` seconds after the
  connection opened (for its first request) or after the request's first byte; else 408. A
  connection that sent nothing at all is closed without an answer, as the keep-alive timer does;
- **body deadline**: the body must be complete ``body_timeout`` seconds after the head; else
  408 (or, once a response has started, the connection simply closes). A request answered
  before its body is in (a 413, say) has its connection closed after the answer.

A refused connection answers, half-closes, and then reads and drops whatever the client still
sends for a moment before closing: closing with unread data would reset the connection and
could destroy the answer before the client reads it. The body's size is bounded in the ASGI
app (:mod:`timergate.transport.body_limit`), which sees every request whatever the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BoundedHttpToolsProtocol", "ConnectionLimits", "bounded_http_protocol"]

#: How long a refused connection keeps reading (and dropping) before it closes.
_LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one HTTP request may take before its head and body are in."""

    max_header_bytes: int = 32 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0


def bounded_http_protocol(limits: ConnectionLimits) -> type[BoundedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=`` option, bound to ``limits``."""

    class Configured(BoundedHttpToolsProtocol):
        pass

    Configured.limits = limits
    return Configured


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on the head and deadlines for head and body."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = False
        self._in_body = False
        self._head_bytes = 0  # request line and complete headers, as the parser reports them
        self._unfinished_head_bytes = 0  # every byte read while a head stays unfinished
        self._refused = False

    # Connection.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: read and drop
        head_was_open = self._in_head
        super().data_received(data)
        if head_was_open and self._in_head and not self._refused:
            self._unfinished_head_bytes += len(data)
            if self._unfinished_head_bytes > self.limits.max_header_bytes:
                self._refuse_head_size()

    def handle_websocket_upgrade(self) -> None:
        if self._refused:
            return
        self._disarm()  # the websocket protocol takes the connection from here
        super().handle_websocket_upgrade()

    # Parser callbacks.

    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = self._unfinished_head_bytes = 0
        if self._deadline is None:  # the first request's deadline runs from the connection
            self._arm(self.limits.header_timeout, self._head_timed_out)

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        super().on_url(url)
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        super().on_header(name, value)
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._in_head = False
        self._disarm()
        super().on_headers_complete()
        if not self.parser.should_upgrade():
            self._in_body = True
            self._arm(self.limits.body_timeout, self._body_timed_out)

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._in_body = False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # With requests queued behind this one, the body being read is a queued request's.
        answered_early = self._in_body and not self.pipeline
        super().on_response_complete()
        if answered_early and not self._refused:
            # Answered before its body was in (413, or a route that ignores bodies): the
            # connection cannot serve another request until the body is read. Close it.
            self._refuse(None)

    # Limits.

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.limits.max_header_bytes:
            self._refuse_head_size()

    def _refuse_head_size(self) -> None:
        self._refuse(
            431,
            b"Request Header Fields Too Large",
            f"The request line and headers are over {self.limits.max_header_bytes} bytes.",
        )

    def _head_timed_out(self) -> None:
        self._deadline = None
        if not self._in_head:
            self.transport.close()  # nothing was sent: close quietly, as keep-alive does
            return
        self._refuse(
            408,
            b"Request Timeout",
            f"The request's headers did not arrive within {self.limits.header_timeout:g} s.",
        )

    def _body_timed_out(self) -> None:
        self._deadline = None
        if self.pipeline or (self.cycle is not None and self.cycle.response_started):
            # Answered already (the app did not wait for the body), or queued behind a
            # response still in progress: no room for another answer.
            self._refuse(None)
            return
        self._refuse(
            408,
            b"Request Timeout",
            f"The request body did not arrive within {self.limits.body_timeout:g} s.",
        )

    def _refuse(self, status: int | None, reason: bytes = b"", message: str = "") -> None:
        """Answer ``status`` (if any) and close, reading and dropping what still comes."""
        self._refused = True
        self._disarm()
        transport = self.transport
        if transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app reads a disconnect and whatever it sends is dropped; a response
            # already on the wire leaves no room for another.
            if cycle.response_started:
                status = None
            cycle.disconnected = True
            cycle.message_event.set()
        if status is not None:
            body = message.encode()
            head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
            head += [b"%s: %s\r\n" % pair for pair in self.server_state.default_headers]
            head.append(b"content-type: text/plain; charset=utf-8\r\n")
            head.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
            transport.write(b"".join(head) + body)
        if transport.can_write_eof():
            transport.write_eof()
            self._arm(_LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def _arm(self, seconds: float, callback: Callable[[], object]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
