"""Serving the app with uvicorn, with a graceful shutdown on SIGTERM (or Ctrl-C).

uvicorn itself stops accepting connections, lets requests in flight finish for up to
``timeout_graceful_shutdown`` seconds and then runs the lifespan's shutdown. What it cannot
know is that an open websocket or event stream never finishes by itself: :class:`GatewayServer`
closes the listening sockets and then drains the gateway (see :mod:`timergate.draining`)
before uvicorn waits for connections.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

from timergate.config import Settings
from timergate.gateway import Gateway
from timergate.transport.http_protocol import ConnectionLimits, bounded_http_protocol

__all__ = ["GatewayServer", "serve"]


class GatewayServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, gateway: Gateway) -> None:
        super().__init__(config)
        self.gateway = gateway

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Stop accepting first, so nothing new starts while live connections are ended.
        for server in self.servers:
            server.close()
        await self.gateway.drain()
        await super().shutdown(sockets)


def serve(app: Starlette, settings: Settings) -> None:
    """Run ``app`` until SIGTERM or SIGINT, then shut down within the configured bound."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        http=bounded_http_protocol(
            ConnectionLimits(
                max_header_bytes=settings.max_header_bytes,
                header_timeout=settings.header_timeout_seconds,
                body_timeout=settings.body_timeout_seconds,
            )
        ),
        # The sans-I/O websocket implementation keeps no tasks of its own per connection.
        ws="websockets-sansio",
        ws_per_message_deflate=settings.ws_compression,
        lifespan="on",
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    gateway: Gateway = app.state.gateway
    GatewayServer(config, gateway).run()
