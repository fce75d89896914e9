"""Baseline for ``bench/fanout.py``: a bare websockets server that ticks every client once a second.

It speaks just enough ``graphql-transport-ws`` for the benchmark client (``connection_init`` ->
``connection_ack``, one ``subscribe`` whose ``variables.id`` names the timer, ``complete``) and,
at every wall-clock second, writes each subscribed client the message timergate would send for
``timerTicks { elapsedSeconds at timer { id state } }``: the same JSON shape and size, with a
real ``at`` (the second itself) and the client's own timer id, encoded per client. No tokens,
no store, no GraphQL: what the machine can do with this event loop and this websocket library.

The scheduler loop is the one timergate's ``TickScheduler`` uses (sleep to the boundary, skip
ahead if woken more than a second late). Writes use :func:`websockets.asyncio.server.broadcast`
on one connection at a time: a synchronous frame write, no task and no drain per message.

Run::

    .venv/bin/python bench/bare_ws_server.py --port 8765 [--compression deflate]

``--compression off`` (the default here) is ``compression=None``, like timergate's default;
``deflate`` is websockets' default permessage-deflate, to show what it costs per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import resource
import signal
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"


class Subscriber:
    __slots__ = ("op_id", "started", "timer_id", "ws")

    def __init__(self, ws: ServerConnection, op_id: str, timer_id: str, started: int) -> None:
        self.ws = ws
        self.op_id = op_id
        self.timer_id = timer_id
        self.started = started


SUBSCRIBERS: dict[ServerConnection, Subscriber] = {}
STATS = {"missed": 0, "ticks": 0}


async def handler(ws: ServerConnection) -> None:
    try:
        init = orjson.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if init.get("type") != "connection_init":
            await ws.close(4400, "Invalid message")
            return
        await ws.send(b'{"type":"connection_ack"}', text=True)
        async for raw in ws:
            message: dict[str, Any] = orjson.loads(raw)
            kind = message.get("type")
            if kind == "subscribe":
                variables = (message.get("payload") or {}).get("variables") or {}
                SUBSCRIBERS[ws] = Subscriber(
                    ws, str(message["id"]), str(variables.get("id", "")), math.floor(time.time())
                )
            elif kind == "complete":
                SUBSCRIBERS.pop(ws, None)
            elif kind == "ping":
                await ws.send(b'{"type":"pong"}', text=True)
    except (ConnectionClosed, TimeoutError):
        pass
    finally:
        SUBSCRIBERS.pop(ws, None)


def tick_all(second: int) -> None:
    at = datetime.fromtimestamp(second, UTC).isoformat()
    dumps = orjson.dumps
    for sub in tuple(SUBSCRIBERS.values()):
        message = {
            "id": sub.op_id,
            "type": "next",
            "payload": {
                "data": {
                    "timerTicks": {
                        "elapsedSeconds": second - sub.started,
                        "at": at,
                        "timer": {"id": sub.timer_id, "state": "RUNNING"},
                    }
                }
            },
        }
        broadcast((sub.ws,), dumps(message), text=True)
        STATS["ticks"] += 1


async def ticker() -> None:
    second = math.floor(time.time()) + 1
    while True:
        delay = second - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -1:
            skipped = math.floor(-delay)
            STATS["missed"] += skipped
            second += skipped
        tick_all(second)
        second += 1


async def main(port: int, compression: str) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        compression=None if compression == "off" else "deflate",
        backlog=4096,
        # Pings as uvicorn's default: every 20 s.
        ping_interval=20,
        ping_timeout=20,
    ):
        task = asyncio.get_running_loop().create_task(ticker())
        print(f"bare websockets server on 127.0.0.1:{port} ready", flush=True)
        await stop
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    print(f"bare websockets server: {STATS}", flush=True)


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--compression", choices=("off", "deflate"), default="off")
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop", help="uvloop, as uvicorn uses"
    )
    args = parser.parse_args()
    _raise_nofile()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args.port, args.compression))
    else:
        asyncio.run(main(args.port, args.compression))
