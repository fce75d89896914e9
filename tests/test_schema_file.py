"""The committed schema.graphql is the schema the gateway serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from timergate.cli import main
from timergate.graphql.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_matches_the_served_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """schema.graphql equals `timergate schema`; regenerate it when the API changes."""
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == build_schema().as_str() + "\n"
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == printed, (
        "schema.graphql is out of date: run `timergate schema > schema.graphql`"
    )
