"""What the gateway adds to a vendor's own latency and throughput, measured against Noko's fake.

    .venv/bin/python bench/upstream_overhead.py [--iterations 300] [--seconds 15]

Three measurements, in one run, on loopback:

1. **Overhead per operation at one connection.** Each round makes the same upstream calls
   twice: once directly with httpx (the calls the Noko adapter makes for ``startTimer`` and
   for ``pauseTimer``), once through the gateway's GraphQL API; the difference of the two is
   what the gateway adds. p50 and p99 of the per-round differences.
2. **Throughput at 16 connections.** Sixteen clients (each its own user and Noko person) loop
   start → pause → cancel through the gateway, then the same upstream calls directly;
   gateway requests per second and upstream calls per second.
3. **Listing three slow connections.** One user with three Noko connections, the fakes
   answering after 100, 200 and 300 ms: how long ``timers`` takes (it asks all three at once).

Pacing under Noko's rate limit is switched off (``TIMERGATE_UPSTREAM_PACING=false``) and the
fake does not limit, so what is measured is the gateway, not the vendor's limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from _processes import (
    ROOT,
    clean_env,
    cpu_seconds,
    create_tokens,
    free_port,
    spawn_server,
    stop_server,
)
from timergate.vault import new_key

CONNECT = """mutation C($input: ConnectProviderInput!) {
  connectProvider(input: $input) { connection { id } } }"""
START = """mutation S($input: StartTimerInput!) { startTimer(input: $input) { timer { id } } }"""
PAUSE = """mutation P($id: ID!) { pauseTimer(input: {id: $id}) { timer { state } } }"""
CANCEL = """mutation X($id: ID!) { cancelTimer(input: {id: $id}) { id } }"""
TIMERS = "{ timers { nodes { id } } }"


class Fleet:
    """A fake Noko process with many people."""

    def __init__(self, users: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_noko_fleet.py"), "0", str(users)],
            stdout=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        assert self.process.stdout is not None
        line = json.loads(self.process.stdout.readline())
        self.base_url: str = line["base_url"]
        self.tokens: list[str] = line["tokens"]
        self.projects: list[str] = line["projectIds"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Direct:
    """The upstream calls the Noko adapter makes, made straight to the fake."""

    def __init__(self, http: httpx.AsyncClient, token: str, project: str) -> None:
        self.http = http
        self.headers = {"X-NokoToken": token, "User-Agent": "bench"}
        self.project = project
        self.calls = 0

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.calls += 1
        response = await self.http.request(method, path, headers=self.headers, **kwargs)
        if response.status_code != 404 or method != "GET":  # "no timer yet" is an answer
            response.raise_for_status()
        return response

    async def start(self) -> None:
        timer = f"/v2/projects/{self.project}/timer"
        await self._call("GET", timer)  # the adapter's check for a timer on the project
        await self._call("GET", "/v2/timers", params={"per_page": 1000})
        await self._call("PUT", timer + "/start", json={"entry_date": "2026-12-03"})

    async def pause(self) -> None:
        timer = f"/v2/projects/{self.project}/timer"
        await self._call("GET", timer)
        await self._call("PUT", timer + "/pause", json={})

    async def cancel(self) -> None:
        await self._call("DELETE", f"/v2/projects/{self.project}/timer", json={})


class Through:
    """The same operations through the gateway."""

    def __init__(self, http: httpx.AsyncClient, token: str, key: str, project: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.key = key
        self.project = project
        self.timer = ""
        self.requests = 0

    async def _post(self, query: str, **variables: Any) -> dict[str, Any]:
        self.requests += 1
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        body: dict[str, Any] = response.json()
        if "errors" in body:
            raise SystemExit(f"gateway error: {body['errors']}")
        return body["data"]

    async def start(self) -> None:
        context = {"type": "project", "id": self.project}
        data = await self._post(START, input={"provider": self.key, "context": context})
        self.timer = data["startTimer"]["timer"]["id"]

    async def pause(self) -> None:
        await self._post(PAUSE, id=self.timer)

    async def cancel(self) -> None:
        await self._post(CANCEL, id=self.timer)


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def connect(http: httpx.AsyncClient, token: str, base_url: str, noko_token: str) -> str:
    response = await http.post(
        "/graphql",
        json={
            "query": CONNECT,
            "variables": {
                "input": {"baseUrl": base_url, "credentials": {"noko": {"token": noko_token}}}
            },
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    key: str = response.json()["data"]["connectProvider"]["connection"]["id"]
    return key


async def overhead(
    gateway: str, fleet: Fleet, token: str, key: str, rounds: int
) -> dict[str, float]:
    project = fleet.projects[0]
    async with (
        httpx.AsyncClient(base_url=fleet.base_url) as upstream,
        httpx.AsyncClient(base_url=gateway, timeout=30) as http,
    ):
        direct = Direct(upstream, fleet.tokens[0], project)
        through = Through(http, token, key, project)
        differences: dict[str, list[float]] = {"start": [], "pause": []}
        for n in range(rounds + 20):
            d_start, d_pause = await timed(direct.start), await timed(direct.pause)
            await direct.cancel()
            g_start, g_pause = await timed(through.start), await timed(through.pause)
            await through.cancel()
            if n >= 20:  # warm-up rounds
                differences["start"].append(g_start - d_start)
                differences["pause"].append(g_pause - d_pause)
    both = differences["start"] + differences["pause"]
    return {
        "p50": statistics.median(both),
        "p99": percentile(both, 0.99),
        "start_p50": statistics.median(differences["start"]),
        "pause_p50": statistics.median(differences["pause"]),
    }


async def throughput(
    gateway: str,
    fleet: Fleet,
    tokens: list[str],
    keys: list[str],
    seconds: float,
    gateway_pid: int,
) -> dict[str, float]:
    project = fleet.projects[0]
    limits = httpx.Limits(max_connections=64)

    async def run(make: Callable[[int], Direct | Through]) -> tuple[float, int]:
        clients = [make(i) for i in range(len(tokens))]
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def loop(client: Direct | Through) -> None:
            while time.perf_counter() < deadline:
                await client.start()
                await client.pause()
                await client.cancel()

        await asyncio.gather(*(loop(c) for c in clients))
        elapsed = time.perf_counter() - started
        count = sum(c.requests if isinstance(c, Through) else c.calls for c in clients)
        return elapsed, count

    async with (
        httpx.AsyncClient(base_url=fleet.base_url, limits=limits) as upstream,
        httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as http,
    ):
        cpu = cpu_seconds(gateway_pid), cpu_seconds(fleet.process.pid)
        g_time, g_requests = await run(lambda i: Through(http, tokens[i], keys[i], project))
        cpu_gateway = cpu_seconds(gateway_pid) - cpu[0]
        cpu_fake = cpu_seconds(fleet.process.pid) - cpu[1]
        d_time, d_calls = await run(lambda i: Direct(upstream, fleet.tokens[i], project))
    return {
        "gateway_requests_per_second": g_requests / g_time,
        "direct_calls_per_second": d_calls / d_time,
        # Where the cores went while the gateway was driven: its own CPU per request, and
        # the fake's share (the fake is one Python process: it bounds the rate).
        "gateway_cpu_ms_per_request": cpu_gateway / g_requests * 1000,
        "fake_cpu_busy_while_through": cpu_fake / g_time,
    }


async def three_connections(gateway: str, token: str, fakes: list[Fleet]) -> dict[str, float]:
    delays = (0.1, 0.2, 0.3)
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        for fake, delay in zip(fakes, delays, strict=True):
            await connect(http, token, fake.base_url, fake.tokens[0])
            await http.post(f"{fake.base_url}/_fake/control", json={"delay_seconds": delay})
        headers = {"Authorization": f"Bearer {token}"}
        samples = []
        for _ in range(10):
            started = time.perf_counter()
            response = await http.post("/graphql", json={"query": TIMERS}, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert "errors" not in response.json(), response.text
    return {
        "median_ms": statistics.median(samples),
        "slowest_ms": max(delays) * 1000,
        "sum_ms": sum(delays) * 1000,
    }


async def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    fleet = Fleet(16)
    slow = [Fleet(1) for _ in range(3)]
    port = free_port()
    database = f"sqlite:///{workdir / 'bench.db'}"
    env = clean_env() | {
        "TIMERGATE_SECRET_KEY": new_key(),
        "TIMERGATE_UPSTREAM_PACING": "false",
        "TIMERGATE_RATE_LIMIT_PER_TOKEN": "off",
        "TIMERGATE_ALLOWED_UPSTREAMS": ",".join(f.base_url for f in (fleet, *slow)),
    }
    users = [f"bench{i}" for i in range(17)]
    tokens = create_tokens(database, users)
    command = [
        sys.executable, "-m", "timergate", "serve", "--port", str(port), "--database", database,
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = spawn_server("gateway", port, command, workdir / "gateway.log", env=env)
    gateway = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
            keys = [
                await connect(http, tokens[i], fleet.base_url, fleet.tokens[i]) for i in range(16)
            ]
        results: dict[str, Any] = {}
        results["overhead_ms"] = await overhead(gateway, fleet, tokens[0], keys[0], args.iterations)
        results["throughput_16"] = await throughput(
            gateway, fleet, tokens[:16], keys, args.seconds, server.pid
        )
        results["three_connections"] = await three_connections(gateway, tokens[16], slow)
        return results
    finally:
        stop_server(server)
        for fake in (fleet, *slow):
            fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        results = asyncio.run(measure(args, Path(directory)))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
