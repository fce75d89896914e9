"""The `timergate` command: tokens for users, help that names the environment, settings."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from timergate.app import create_app
from timergate.cli import main
from timergate.config import Settings


async def token_create(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    """Run `timergate token create ARGS`; the lines it printed."""
    code = await asyncio.to_thread(main, ["token", "create", *args])
    assert code == 0
    return capsys.readouterr().out.splitlines()


async def viewer_name(http: httpx.AsyncClient, token: str) -> str:
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    name: str = response.json()["data"]["viewer"]["name"]
    return name


async def test_tokens_are_printed_one_per_user_in_order(
    http: httpx.AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`token create --user a --user b --user c` prints three distinct tokens, in that order."""
    tokens = await token_create(
        capsys, "--user", "a", "--user", "b", "--user", "c", "--database", settings.database_url
    )
    assert len(tokens) == 3
    assert len(set(tokens)) == 3
    assert all(t.startswith("tg_") for t in tokens)
    assert [await viewer_name(http, t) for t in tokens] == ["a", "b", "c"]


async def test_a_second_token_for_a_user_is_the_same_user(
    http: httpx.AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Granting again adds a token for the existing user; the first still works."""
    (first,) = await token_create(capsys, "--user", "erin", "--database", settings.database_url)
    (second,) = await token_create(capsys, "--user", "erin", "--database", settings.database_url)
    assert first != second
    assert await viewer_name(http, first) == "erin"
    assert await viewer_name(http, second) == "erin"


async def test_the_database_comes_from_the_environment(
    http: httpx.AsyncClient,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """TIMERGATE_DATABASE_URL chooses the store when --database is left out."""
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("TIMERGATE_DATABASE_URL", settings.database_url)
    (token,) = await token_create(capsys, "--user", "dana")
    assert await viewer_name(http, token) == "dana"
    assert list(elsewhere.iterdir()) == []  # not the default sqlite:///timergate.db


async def test_a_flag_wins_over_the_environment(
    http: httpx.AsyncClient,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """--database is used even when TIMERGATE_DATABASE_URL names another store."""
    other = tmp_path / "other.db"
    monkeypatch.setenv("TIMERGATE_DATABASE_URL", f"sqlite:///{other}")
    (token,) = await token_create(capsys, "--user", "fay", "--database", settings.database_url)
    assert await viewer_name(http, token) == "fay"
    assert not other.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_unusable_user_names_are_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blank or over-long user names stop the command before any token is printed."""
    database = tmp_path / "names.db"
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "create", "--user", name, "--database", f"sqlite:///{database}"])
    assert "user names are 1 to 100 characters" in str(exit_info.value.code)
    assert capsys.readouterr().out == ""
    assert not database.exists()


def test_serve_help_names_the_environment_variables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`timergate serve --help` shows the TIMERGATE_ variable behind each flag."""
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for variable in (
        "TIMERGATE_HOST",
        "TIMERGATE_PORT",
        "TIMERGATE_DATABASE_URL",
        "TIMERGATE_BROKER_URL",
        "TIMERGATE_ALLOWED_ORIGINS",
        "TIMERGATE_LOG_LEVEL",
        "TIMERGATE_ACCESS_LOG",
        "TIMERGATE_MAX_CONNECTIONS_PER_USER",
        "TIMERGATE_RATE_LIMIT_PER_TOKEN",
        "TIMERGATE_RATE_LIMIT_PER_ADDRESS",
        "TIMERGATE_RATE_LIMIT_STORAGE",
    ):
        assert variable in text


def test_serve_refuses_a_malformed_rate_limit_with_a_message(tmp_path: Path) -> None:
    """`serve --rate-limit-per-token lots` stops before listening and says how to write one."""
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--database", database, "--rate-limit-per-token", "lots"])
    message = str(exit_info.value.code)
    assert message.startswith("timergate: rate_limit_per_token: 'lots' is not a rate limit")
    assert "'100/second;3000/minute'" in message


def test_limits_come_from_the_environment_and_flags_win() -> None:
    """Connection caps, rate limits and the revocation poll read TIMERGATE_* variables."""
    environ = {
        "TIMERGATE_MAX_CONNECTIONS_PER_USER": "8",
        "TIMERGATE_RATE_LIMIT_PER_TOKEN": "10/second",
        "TIMERGATE_RATE_LIMIT_PER_ADDRESS": "off",
        "TIMERGATE_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "TIMERGATE_REVOCATION_POLL_SECONDS": "0.5",
    }
    settings = Settings.from_env(environ, rate_limit_per_token="5/second")
    assert settings.max_connections_per_user == 8
    assert settings.rate_limit_per_token == "5/second"
    assert settings.rate_limit_per_address == "off"
    assert settings.rate_limit_storage == "redis://127.0.0.1:6379/0"
    assert settings.revocation_poll_seconds == 0.5
    defaults = Settings.from_env({})
    assert (defaults.max_connections_per_user, defaults.rate_limit_per_token) == (
        32,
        "200/second;3000/minute",
    )


async def token_revoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `timergate token revoke ARGS`; its exit code and output."""
    code = await asyncio.to_thread(main, ["token", "revoke", *args])
    return code, capsys.readouterr().out.strip()


async def test_a_revoked_token_is_refused_and_others_keep_working(
    http: httpx.AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`token revoke` makes that token answer 401; the user's other tokens still work."""
    db = ("--database", settings.database_url)
    first, second = await token_create(capsys, "--user", "frank", "--user", "frank", *db)
    assert await token_revoke(capsys, first, *db) == (0, "revoked 1 of 1 tokens")
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": f"Bearer {first}"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await viewer_name(http, second) == "frank"


async def test_revoking_an_unknown_token_fails_and_says_so(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token nobody was given cannot be revoked: exit status 1 and a count that shows it."""
    code, output = await token_revoke(
        capsys, "tg_never-issued", "--database", settings.database_url
    )
    assert (code, output) == (1, "revoked 0 of 1 tokens")


async def test_a_running_gateway_forgets_a_revoked_token_after_its_cache_time(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token already used is refused once the lookup cache expires (0 s here)."""
    app = create_app(replace(settings, token_cache_seconds=0))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://timergate.test"
        ) as client,
    ):
        (token,) = await token_create(capsys, "--user", "gina", "--database", settings.database_url)
        assert await viewer_name(client, token) == "gina"
        await token_revoke(capsys, token, "--database", settings.database_url)
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401


def test_every_request_limit_has_a_flag_and_a_variable(capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --help` names each limit's flag and the variable behind it."""
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag, variable in (
        ("--max-header-bytes", "TIMERGATE_MAX_HEADER_BYTES"),
        ("--header-timeout", "TIMERGATE_HEADER_TIMEOUT_SECONDS"),
        ("--body-timeout", "TIMERGATE_BODY_TIMEOUT_SECONDS"),
        ("--max-body-bytes", "TIMERGATE_MAX_BODY_BYTES"),
        ("--max-query-depth", "TIMERGATE_MAX_QUERY_DEPTH"),
        ("--max-query-aliases", "TIMERGATE_MAX_QUERY_ALIASES"),
        ("--max-query-selections", "TIMERGATE_MAX_QUERY_SELECTIONS"),
        ("--max-query-tokens", "TIMERGATE_MAX_QUERY_TOKENS"),
    ):
        assert flag in text
        assert f"[env: {variable}]" in text


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_limit_that_cannot_work_stops_serve(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zero, negative or non-numeric limit is refused with a message naming its variable."""
    monkeypatch.setenv("TIMERGATE_MAX_BODY_BYTES", value)
    assert main(["serve"]) == 2
    assert "TIMERGATE_MAX_BODY_BYTES must be" in capsys.readouterr().err
