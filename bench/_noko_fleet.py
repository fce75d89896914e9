"""A fake Noko with many users, for benchmarks: ``python bench/_noko_fleet.py PORT USERS``.

The fake of ``timergate fake noko`` seeds two people; a benchmark with sixteen concurrent
clients needs sixteen, each with their own timers. Prints one JSON line (the base URL, a token
per user, the project ids), then serves until interrupted. Not a script of its own.
"""

from __future__ import annotations

import json
import sys

import uvicorn

from timergate.fakes.base import bind
from timergate.fakes.noko import create_fake
from timergate.fakes.noko.models import NokoUser, Token
from timergate.fakes.noko.seed import personal_token


def main() -> None:
    port, users = int(sys.argv[1]), int(sys.argv[2])
    fake = create_fake()
    account = fake.account
    seeded = fake.seeded
    tokens = [seeded.token]
    for n in range(1, users):
        user = NokoUser(9000 + n, f"bench{n}@example.com", "Bench", str(n), account.now())
        account.users[user.id] = user
        token = personal_token()
        account.tokens[token] = Token(user.id, "personal")
        tokens.append(token)
    sock = bind("127.0.0.1", port)
    line = {
        "base_url": f"http://127.0.0.1:{sock.getsockname()[1]}",
        "tokens": tokens,
        "projectIds": [str(p.id) for p in seeded.projects],
    }
    print(json.dumps(line), flush=True)
    config = uvicorn.Config(fake.app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
