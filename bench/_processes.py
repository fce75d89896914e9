"""What the bench scripts share: server processes, the timergate CLI, /proc readers, fresh
PostgreSQL schemas, py-spy.

Not a script; ``bench/fanout.py`` and ``bench/gateway_bench.py`` import it as ``_processes``
(``bench/`` is first on ``sys.path`` when they run).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


# --------------------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def nofile_limit(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return " ".join(line.split()[3:5])
    return "?"


def machine_idle() -> tuple[int, int]:
    """(idle + iowait, total) jiffies over all cores, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    return parts[3] + parts[4], sum(parts[:8])


def machine_busy_seconds() -> float:
    """CPU seconds all processes have used (all cores, not idle or iowait)."""
    idle, total = machine_idle()
    return (total - idle) / os.sysconf("SC_CLK_TCK")


def raise_nofile() -> int:
    """Raise this process's open-files limit to the hard limit (servers inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This environment without ``TIMERGATE_*`` settings, output unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMERGATE_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Server:
    target: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def answers_healthz(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def logged_ready(server: Server) -> bool:
    return "ready" in server.log_text()


def spawn_server(
    target: str,
    port: int,
    command: list[str],
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    ready: Callable[[Server], bool] = answers_healthz,
) -> Server:
    """Run ``command`` from the repository root, output to ``log_path``; wait until ``ready``.

    The process inherits this one's resource limits (see :func:`raise_nofile`).
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            env=clean_env() if env is None else env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(target, port, process, log_path)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{target} server exited at start:\n{server.log_text()}")
        if ready(server):
            return server
        if time.monotonic() > deadline:
            stop_server(server)
            what = "answer /healthz" if ready is answers_healthz else "start"
            raise SystemExit(f"{target} server did not {what}:\n{server.log_text()}")
        time.sleep(0.1)


def stop_server(server: Server, timeout: float = 30) -> None:
    """SIGINT (uvicorn's graceful shutdown), then SIGKILL after ``timeout`` seconds."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# --------------------------------------------------------------------------- CLI


def run_cli(args: list[str], env: dict[str, str] | None = None) -> str:
    """``python -m timergate <args>``; its stdout, or exit with its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "timergate", *args],
        env=clean_env() if env is None else env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"timergate {' '.join(args[:2])} failed:\n{done.stderr}")
    return done.stdout


def create_tokens(db_url: str, users: list[str], batch: int = 2500) -> list[str]:
    """One token per user (creating the users) with ``timergate token create``."""
    tokens: list[str] = []
    for i in range(0, len(users), batch):
        args = ["token", "create", "--database", db_url]
        for user in users[i : i + batch]:
            args += ["--user", user]
        tokens += run_cli(args).split()
    if len(tokens) != len(users):
        raise SystemExit(f"expected {len(users)} tokens, got {len(tokens)}")
    return tokens


# --------------------------------------------------------------------------- PostgreSQL


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A store URL on a new, empty schema of the PostgreSQL server, dropped afterwards."""
    import asyncio

    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:10]}"

    async def admin(*statements: str) -> None:
        connection = await asyncpg.connect(server_url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    # pg_trgm in public, as an administrator would install it once.
    extension = "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"
    asyncio.run(admin(extension, f'CREATE SCHEMA "{name}"'))
    try:
        parts = urlsplit(server_url)
        query = "&".join(filter(None, [parts.query, f"search_path={name},public"]))
        yield parts._replace(query=query).geturl()
    finally:
        asyncio.run(admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


# --------------------------------------------------------------------------- py-spy


def start_py_spy(
    pid: int, duration: float, out: Path, *, rate: int, gil: bool = False
) -> subprocess.Popen[bytes]:
    """``py-spy record`` of ``pid`` for ``duration`` seconds, raw stacks to ``out``.

    ``gil`` keeps only the samples of the thread holding the GIL.
    """
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(round(duration)),
         "--rate", str(rate), "--nonblocking", *(["--gil"] if gil else []),
         "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
