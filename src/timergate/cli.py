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
        "--broker", dest="broker_url", help=f"broker URL (memory://) {_env('broker_url')}"
    )
    serve.add_argument(
        "--allowed-origin",
        dest="allowed_origins",
        action="append",
        help="a browser origin allowed to call the API, e.g. https://app.example.com "
        f"(repeat for more; none by default) {_env('allowed_origins')} (comma-separated)",
    )
    serve.add_argument(
        "--allow-upstream",
        dest="allowed_upstreams",
        action="append",
        metavar="PREFIX",
        help="a vendor API URL prefix connections may use besides the vendors' public APIs, "
        f"e.g. http://127.0.0.1:9001 (repeat for more) {_env('allowed_upstreams')} "
        "(comma-separated)",
    )
    serve.add_argument(
        "--secret-key-file",
        help="where the key sealing vendor credentials is kept when TIMERGATE_SECRET_KEY is "
        f"unset (default: timergate.key beside the SQLite file) {_env('secret_key_file')}",
    )
    serve.add_argument(
        "--upstream-timeout",
        dest="upstream_timeout_seconds",
        type=float,
        metavar="SECONDS",
        help=f"how long one vendor call may take (10) {_env('upstream_timeout_seconds')}",
    )
    serve.add_argument(
        "--poll-interval",
        dest="poll_interval_seconds",
        type=float,
        metavar="SECONDS",
        help="how often a connection is looked at for changes made in the vendor's own app, "
        f"while someone listens (15) {_env('poll_interval_seconds')}",
    )
    serve.add_argument(
        "--max-connections-per-user",
        type=int,
        help="open websockets and event streams one user may hold (default 32) "
        f"{_env('max_connections_per_user')}",
    )
    serve.add_argument(
        "--rate-limit-per-token",
        help="requests per token, e.g. '200/second;3000/minute' (the default), or 'off' "
        f"{_env('rate_limit_per_token')}",
    )
    serve.add_argument(
        "--rate-limit-per-address",
        help="requests without a valid token per client address (default "
        f"'20/second;300/minute'), or 'off' {_env('rate_limit_per_address')}",
    )
    serve.add_argument(
        "--rate-limit-storage",
        help="where rate limit counters live: memory:// (default) or redis://HOST:PORT "
        f"{_env('rate_limit_storage')}",
    )
    serve.add_argument("--log-level", help=f"debug, info, warning, error {_env('log_level')}")
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_const",
        const=False,
        help=f"do not log each request {_env('access_log')}",
    )
    _limit_flags(serve)
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
        help="revoke tokens (given as arguments, or one per line on stdin with '-'); running "
        "gateways on the same database refuse them within TIMERGATE_REVOCATION_POLL_SECONDS "
        "(1 s by default) and close their websockets and event streams",
    )
    revoke.add_argument("tokens", nargs="+", metavar="TOKEN")
    _database_flag(revoke)

    commands.add_parser("schema", help="print the GraphQL schema (SDL)")

    secret = commands.add_parser("secret-key", help="the key sealing vendor credentials")
    secret_commands = secret.add_subparsers(dest="secret_command", required=True)
    secret_commands.add_parser("new", help="print a new key for TIMERGATE_SECRET_KEY")
    reencrypt = secret_commands.add_parser(
        "reencrypt",
        help="seal every stored credential again with the first key of TIMERGATE_SECRET_KEY "
        "(after putting a new key first, before dropping the old ones)",
    )
    _database_flag(reencrypt)
    reencrypt.add_argument("--secret-key-file", help=f"{_env('secret_key_file')}")

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


def _limit_flags(serve: argparse.ArgumentParser) -> None:
    limits = serve.add_argument_group(
        "limits on one request (see the README's Limits); each must be positive"
    )
    for flag, kind, meaning, default in (
        ("--max-header-bytes", int, "bytes of the request line and headers; 431 past it", 32768),
        ("--header-timeout", float, "seconds for the headers to arrive; 408 past it", 10),
        ("--body-timeout", float, "seconds for the body to arrive after them; 408 past it", 30),
        ("--max-body-bytes", int, "bytes of a request body; 413 past it", 1048576),
        ("--max-query-depth", int, "nesting below a document's top-level fields", 10),
        ("--max-query-aliases", int, "aliases in one document", 30),
        ("--max-query-selections", int, "selections a document expands to", 1000),
        ("--max-query-tokens", int, "lexical tokens in one document", 5000),
    ):
        dest = flag[2:].replace("-", "_")
        dest = dest + "_seconds" if dest.endswith("_timeout") else dest
        limits.add_argument(
            flag, dest=dest, type=kind, help=f"{meaning} (default {default}) {_env(dest)}"
        )


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


async def _reencrypt(settings: Settings) -> int:
    from timergate.gateway import default_key_file
    from timergate.vault import CredentialVault

    vault = CredentialVault.from_settings(settings.secret_key, default_key_file(settings))
    store = open_store(settings.database_url)
    await store.connect()
    try:
        return await store.reseal_credentials(vault.reseal)
    finally:
        await store.disconnect()


def _check_names(names: Sequence[str]) -> None:
    for name in names:
        if not name.strip() or len(name) > 100:
            raise SystemExit(f"timergate: user names are 1 to 100 characters; got {name!r}")


def _serve(settings: Settings, demo: bool) -> None:
    import uvicorn

    from timergate.app import create_app
    from timergate.transport.http_protocol import ConnectionLimits, bounded_http_protocol

    url = f"http://{settings.host}:{settings.port}/graphql"
    print(f"timergate: store {obscure_url(settings.database_url)}", flush=True)
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
    try:
        app = create_app(settings)
    except ValueError as exc:  # a setting that cannot work, named in the message
        raise SystemExit(f"timergate: {exc}") from None
    # All that exists now lives as long as the process: keep it out of the cyclic collector's
    # full passes, which otherwise walk it again and again under heavy tick fan-out.
    gc.collect()
    gc.freeze()
    uvicorn.run(
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
    )


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
    if args.command == "secret-key" and args.secret_command == "new":
        from timergate.vault import new_key

        print(new_key())
        return 0
    flags = {k: v for k, v in vars(args).items() if k in Settings.__slots__}
    for name in ("allowed_origins", "allowed_upstreams"):
        if isinstance(flags.get(name), list):
            flags[name] = tuple(flags[name])
    try:
        settings = Settings.from_env(**flags)
    except ValueError as exc:
        print(f"timergate: {exc}", file=sys.stderr)
        return 2
    if args.command == "secret-key":
        resealed = asyncio.run(_reencrypt(settings))
        print(f"sealed the credentials of {resealed} connections again with the first key")
        return 0
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
