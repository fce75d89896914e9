"""The ``timergate`` command: serve the gateway, create tokens, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from timergate.auth import TOKEN_PREFIX, hash_token, new_token
from timergate.config import ENVIRONMENT, Settings
from timergate.domain import TokenGrant, utc_now
from timergate.locations import KEY_FILE_NAME, default_database_url
from timergate.store import obscure_url, open_store

__all__ = ["main", "settings_from"]


def _env(name: str) -> str:
    return f"[env: {ENVIRONMENT[name]}]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timergate",
        description="A GraphQL gateway for timers. Every flag can also be set by the "
        "environment variable shown beside it; a flag wins over its variable.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the gateway",
        description="Run the gateway. Every setting has a flag and a TIMERGATE_ variable (shown "
        "beside it); a flag wins over its variable.",
        epilog="TIMERGATE_SECRET_KEY: Fernet keys sealing vendor credentials, comma-separated, "
        "the first sealing (make one with 'timergate secret-key new'). It has no flag, since a "
        "flag would show the key to anyone who lists processes; without it a key is generated "
        "into --secret-key-file.",
    )
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
    serve.add_argument(
        "--allow-upstream",
        dest="allowed_upstreams",
        action="append",
        metavar="PREFIX",
        help="a vendor API URL prefix connections may use besides the vendors' public APIs, "
        f"e.g. http://127.0.0.1:9001 (repeat for more) {_env('allowed_upstreams')} "
        "(comma-separated)",
    )
    _secret_key_file_flag(serve)
    serve.add_argument(
        "--upstream-timeout",
        dest="upstream_timeout_seconds",
        type=float,
        metavar="SECONDS",
        help=f"how long one vendor call may take (10) {_env('upstream_timeout_seconds')}",
    )
    serve.add_argument(
        "--no-upstream-pacing",
        dest="upstream_pacing",
        action="store_const",
        const=False,
        help="do not pace calls to each vendor under its documented rate limit (for fakes "
        f"and tests) {_env('upstream_pacing')}",
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
        "--token-cache",
        dest="token_cache_seconds",
        type=float,
        metavar="SECONDS",
        help="how long a token lookup is remembered; a revocation drops it at once (30) "
        f"{_env('token_cache_seconds')}",
    )
    serve.add_argument(
        "--connections-cache",
        dest="connections_cache_seconds",
        type=float,
        metavar="SECONDS",
        help="how long a user's list of vendor connections is remembered; a change made "
        f"through another instance drops it at once (60) {_env('connections_cache_seconds')}",
    )
    serve.add_argument(
        "--revocation-poll",
        dest="revocation_poll_seconds",
        type=float,
        metavar="SECONDS",
        help=f"how often the store's revocation log is read (1) {_env('revocation_poll_seconds')}",
    )
    serve.add_argument(
        "--shutdown-timeout",
        dest="shutdown_timeout_seconds",
        type=int,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight may finish before they are cancelled "
        f"(10) {_env('shutdown_timeout_seconds')}",
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
    serve.add_argument(
        "--log-level", help=f"debug, info (default), warning, error {_env('log_level')}"
    )
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_const",
        const=False,
        help=f"do not log each request {_env('access_log')}",
    )
    serve.add_argument(
        "--ws-compression",
        action="store_const",
        const=True,
        help="per-message deflate on websockets: less bandwidth, more memory per connection "
        f"{_env('ws_compression')}",
    )
    _limit_flags(serve)
    serve.add_argument(
        "--demo",
        action="store_const",
        const=True,
        help="start with a user 'demo' and print its token and the GraphiQL URL; the token is "
        f"kept beside the store and reused on the next --demo {_env('demo')}",
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
        "gateways on the same database refuse them and close their websockets and event "
        "streams: at once through a shared broker (--broker), else within "
        "TIMERGATE_REVOCATION_POLL_SECONDS (1 s by default)",
    )
    revoke.add_argument("tokens", nargs="+", metavar="TOKEN")
    _database_flag(revoke)
    revoke.add_argument(
        "--broker",
        dest="broker_url",
        help=f"the gateways' broker URL, to tell them at once {_env('broker_url')}",
    )

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
    _secret_key_file_flag(reencrypt)

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
        metavar="URL",
        help=f"store URL (default {default_database_url()}, the same from every directory) "
        f"{_env('database_url')}",
    )


def _secret_key_file_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secret-key-file",
        metavar="PATH",
        help="where the key sealing vendor credentials is kept when TIMERGATE_SECRET_KEY is "
        f"unset (default: {KEY_FILE_NAME} beside the SQLite file) {_env('secret_key_file')}",
    )


def _say_store(settings: Settings) -> None:
    """Name the store a command used, on stderr (stdout carries what scripts read)."""
    print(f"timergate: store {obscure_url(settings.database_url)}", file=sys.stderr)


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
    hashes = [hash_token(t) for t in tokens]
    store = open_store(settings.database_url)
    await store.connect()
    try:
        revoked = await store.revoke_tokens(hashes)
    finally:
        await store.disconnect()
    if urlsplit(settings.broker_url).scheme != "memory":
        await _announce_revocation(settings, hashes)
    return revoked


async def _announce_revocation(settings: Settings, hashes: Sequence[bytes]) -> None:
    """Tell every gateway on the broker now (they would see it in the revocation log soon)."""
    from timergate.broker import BrokerUnavailable, open_broker
    from timergate.domain.control import TokensRevoked

    broker = open_broker(settings.broker_url)
    try:
        await broker.connect()
        await broker.publish_control(TokensRevoked(tuple(hashes)))
    except BrokerUnavailable:
        print(
            f"timergate: could not reach the broker at {obscure_url(settings.broker_url)}; "
            "gateways refuse the tokens at their next look at the revocation log",
            file=sys.stderr,
        )
    finally:
        await broker.disconnect()


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


def _serve(settings: Settings) -> None:
    from timergate.app import create_app
    from timergate.server import serve

    url = f"http://{settings.host}:{settings.port}/graphql"
    print(f"timergate: store {obscure_url(settings.database_url)}", flush=True)
    print(f"timergate: broker {obscure_url(settings.broker_url)}", flush=True)
    if settings.demo:
        from timergate.demo import demo_token

        demo = asyncio.run(demo_token(settings.database_url))
        print(f"timergate: GraphiQL at {url}", flush=True)
        print(f"timergate: demo user token, {demo.describe()}:", flush=True)
        print(f"timergate:   {demo.token}", flush=True)
        print(
            'timergate: in GraphiQL, open Headers and paste {"Authorization": "Bearer '
            + demo.token
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


def _settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    flags = {k: v for k, v in vars(args).items() if k in Settings.__slots__}
    for name in ("allowed_origins", "allowed_upstreams"):
        if isinstance(flags.get(name), list):
            flags[name] = tuple(flags[name])
    return Settings.from_env(environ, **flags)


def settings_from(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> Settings:
    """The settings a command line (and ``environ``, default the process's) gives."""
    return _settings(_parser().parse_args(argv), environ)


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
    try:
        settings = _settings(args)
    except ValueError as exc:
        print(f"timergate: {exc}", file=sys.stderr)
        return 2
    if args.command != "serve":
        _say_store(settings)
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
    _serve(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
