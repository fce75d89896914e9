"""Health probes: ``/healthz`` (liveness: the process answers) and ``/readyz`` (readiness: this
instance can serve, so a load balancer may send it traffic).

``/readyz`` answers 200 when the store and the broker both answer a trivial request within
two seconds, and 503 naming the one that does not (or ``draining`` once a shutdown began).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from timergate.gateway import Gateway

__all__ = ["READY_TIMEOUT_SECONDS", "healthz", "readiness_endpoint"]

_log = logging.getLogger("timergate.health")

#: How long one dependency may take to answer before it counts as unreachable.
READY_TIMEOUT_SECONDS = 2.0
_NO_STORE = {"cache-control": "no-store"}


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


def readiness_endpoint(gateway: Gateway) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The ``/readyz`` endpoint of ``gateway``."""
    reported: dict[str, str] = {"store": "ok", "broker": "ok"}

    async def readyz(request: Request) -> JSONResponse:
        if gateway.draining.started:
            return JSONResponse({"status": "draining"}, status_code=503, headers=_NO_STORE)
        store, broker = await asyncio.gather(
            _check("store", gateway.store.ping()), _check("broker", gateway.broker.ping())
        )
        found = {"store": store, "broker": broker}
        # Say so once per change, not on every probe.
        for name, state in found.items():
            if state != reported[name]:
                log = _log.info if state == "ok" else _log.warning
                log("readiness: the %s is %s", name, state)
                reported[name] = state
        ready = store == broker == "ok"
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", **found},
            status_code=200 if ready else 503,
            headers=_NO_STORE,
        )

    return readyz


async def _check(name: str, ping: Awaitable[None]) -> str:
    """``ok`` if ``ping`` returns in time, else ``unreachable``.

    A ping that overruns is abandoned, not awaited: cancelling a driver's query on a silent
    server can itself hang, and a probe must answer in bounded time.
    """
    task = asyncio.ensure_future(ping)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    done, _ = await asyncio.wait({task}, timeout=READY_TIMEOUT_SECONDS)
    if not done:
        task.cancel()
        _log.debug("readiness: the %s did not answer in %s s", name, READY_TIMEOUT_SECONDS)
        return "unreachable"
    if task.exception() is not None:
        _log.debug("readiness: the %s failed", name, exc_info=task.exception())
        return "unreachable"
    return "ok"
