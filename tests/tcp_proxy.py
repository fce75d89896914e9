"""A TCP proxy in the test's event loop that can cut or freeze the way to a real server.

It stands between a broker and Redis or PostgreSQL, so a test can make the server vanish
(connections closed, new ones refused) or go silent (connections stay open, and what is sent
either way is lost) without touching the shared server itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

__all__ = ["TcpProxy"]


class TcpProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream_url = upstream_url
        self._target = (parts.hostname or "127.0.0.1", parts.port or 0)
        self._server: asyncio.Server | None = None
        self._port = 0
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._silent = False

    @property
    def url(self) -> str:
        """The upstream URL with its host and port replaced by the proxy's."""
        parts = urlsplit(self._upstream_url)
        netloc = parts.netloc.rpartition("@")
        userinfo = netloc[0] + "@" if netloc[1] else ""
        return parts._replace(netloc=f"{userinfo}127.0.0.1:{self._port}").geturl()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Close every connection and refuse new ones, as a stopped server would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for pipe in list(self._pipes):
            pipe.cancel()

    async def restore(self) -> None:
        """Pass data and accept connections again, on the same port."""
        self._silent = False
        if self._server is None:
            await self.start()

    def freeze(self) -> None:
        """Keep connections open but drop what is sent, as a peer that vanished without a
        word (or a network that lost its packets)."""
        self._silent = True

    async def close(self) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not self._silent:
                    sink.write(data)
                    await sink.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(sink)
            with contextlib.suppress(OSError, RuntimeError):
                sink.close()
