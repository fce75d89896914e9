"""The ``timergate`` command: serve the gateway, create tokens, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Sequence

from timergate.auth import TOKEN_PREFIX, hash_token, new_token
from timergate.config import ENVIRONMENT, Settings
from timergate.domain import TokenGrant, utc_now
from timergate.store import obscure_url, open_store

__all__ = ["main"]


def _env(name: str) -> str:
    return f"[env: {ENVIRONMENT[name]}]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timergate",
        description="A GraphQL gateway for timers. Every flag can also be set by the "
        "environment variable shown beside it; a flag wins over its variable.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", help=f"interface to listen on (default 127.0.0.1) {_env('host')}")
    serve.add_argument("--port", type=int, help=f"port (default 8000) {_env('port')}")
    _database_flag(serve)
    serve.add_argument(
        "--broker",
        dest="broker_url",
        help="event broker URL: memory:// (default, one process), redis://HOST:PORT/DB or "
        f"postgresql://USER@HOST/DB (shared by several instances) {_env('broker_url')}",
    )
    serve.add_argument(
        "--allowed-origin",
        dest="allowed_origins",
        action="append",
        help="a browser origin allowed to call the API, e.g. https://app.example.com "
        f"(repeat for more; none by default) {_env('allowed_origins')} (comma-separated)",
    )
    serve.add_argument("--log-level", help=f"debug, info, warning, error {_env('log_level')}")
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_const",
        const=False,
        help=f"do not log each request {_env('access_log')}",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="create a token for the user 'demo' and print it with the GraphiQL URL",
    )

    token = commands.add_parser("token", help="manage bearer tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser(
        "create",
        help="print a new token for each --user, one per line in order (users are created "
        "as needed; all in one transaction)",
    )
    create.add_argument("--user", dest="users", action="append", required=True, metavar="NAME")
    _database_flag(create)
    revoke = token_commands.add_parser(
        "revoke",
        help="revoke tokens (given as arguments, or one per line on stdin with '-'); a running "
        "gateway refuses them within TIMERGATE_TOKEN_CACHE_SECONDS (30 s by default)",
    )
    revoke.add_argument("tokens", nargs="+", metavar="TOKEN")
    _database_flag(revoke)

    commands.add_parser("schema", help="print the GraphQL schema (SDL)")

    fake = commands.add_parser(
        "fake",
        help="run a fake vendor API (a sandbox for frontends and tests); its first output line "
        "is JSON with base_url, credentials and seed",
    )
    fake.add_argument("vendor", help="the vendor to fake: " + ", ".join(_fake_vendors()))
    fake.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    fake.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    fake.add_argument(
        "--rate-limit",
        action="store_true",
        help="enforce the vendor's documented rate limit from the start (switchable later "
        "with POST /_fake/control)",
    )
    return parser


def _fake_vendors() -> list[str]:
    from timergate.fakes import VENDORS

    return sorted(VENDORS)


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        dest="database_url",
        help=f"store URL (default sqlite:///timergate.db) {_env('database_url')}",
    )


async def _create_tokens(settings: Settings, names: Sequence[str]) -> list[str]:
    store = open_store(settings.database_url)
    await store.connect()
    try:
        tokens = [new_token() for _ in names]
        grants = [
            TokenGrant(name, hash_token(token), token[: len(TOKEN_PREFIX) + 4])
            for name, token in zip(names, tokens, strict=True)
        ]
        await store.grant_tokens(grants, utc_now())
        return tokens
    finally:
        await store.disconnect()


async def _revoke_tokens(settings: Settings, tokens: Sequence[str]) -> int:
    store = open_store(settings.database_url)
    await store.connect()
    try:
        return await store.revoke_tokens([hash_token(t) for t in tokens])
    finally:
        await store.disconnect()


def _check_names(names: Sequence[str]) -> None:
    for name in names:
        if not name.strip() or len(name) > 100:
            raise SystemExit(f"timergate: user names are 1 to 100 characters; got {name!r}")


def _serve(settings: Settings, demo: bool) -> None:
    from timergate.app import create_app
    from timergate.server import serve

    url = f"http://{settings.host}:{settings.port}/graphql"
    print(f"timergate: store {obscure_url(settings.database_url)}", flush=True)
    print(f"timergate: broker {obscure_url(settings.broker_url)}", flush=True)
    if demo:
        (token,) = asyncio.run(_create_tokens(settings, ["demo"]))
        print(f"timergate: GraphiQL at {url}", flush=True)
        print(f"timergate: demo user token: {token}", flush=True)
        print(
            'timergate: in GraphiQL, open Headers and paste {"Authorization": "Bearer '
            + token
            + '"}',
            flush=True,
        )
    app = create_app(settings)
    # All that exists now lives as long as the process: keep it out of the cyclic collector's
    # full passes, which otherwise walk it again and again under heavy tick fan-out.
    gc.collect()
    gc.freeze()
    serve(app, settings)


def _fake(vendor: str, host: str, port: int, *, rate_limit: bool) -> int:
    from timergate.fakes import create_fake, serve_fake

    try:
        fake = create_fake(vendor)
    except ValueError as exc:
        print(f"timergate: {exc}", file=sys.stderr)
        return 2
    fake.control.rate_limit = rate_limit
    serve_fake(fake, host=host, port=port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        from timergate.graphql.schema import build_schema

        sys.stdout.write(build_schema().as_str() + "\n")
        return 0
    if args.command == "fake":
        return _fake(args.vendor, args.host, args.port, rate_limit=args.rate_limit)
    flags = {k: v for k, v in vars(args).items() if k in Settings.__slots__}
    if isinstance(flags.get("allowed_origins"), list):
        flags["allowed_origins"] = tuple(flags["allowed_origins"])
    settings = Settings.from_env(**flags)
    if args.command == "token" and args.token_command == "revoke":
        tokens = [line.strip() for line in sys.stdin] if args.tokens == ["-"] else args.tokens
        tokens = [t for t in tokens if t]
        revoked = asyncio.run(_revoke_tokens(settings, tokens))
        print(f"revoked {revoked} of {len(tokens)} tokens")
        return 0 if revoked == len(tokens) else 1
    if args.command == "token":
        _check_names(args.users)
        for token in asyncio.run(_create_tokens(settings, args.users)):
            print(token)
        return 0
    _serve(settings, args.demo)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
