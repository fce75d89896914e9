"""The package declares what its code imports, and ships its type information and assets."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "timergate"


def imported_modules() -> set[str]:
    """Top-level modules that src/ imports, other than its own and the standard library's."""
    found = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m != "timergate" and m not in sys.stdlib_module_names}


def name_of(requirement: str) -> str:
    """The distribution a requirement such as ``uvicorn[standard]>=0.55`` names."""
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower()


def test_every_imported_package_is_declared() -> None:
    """Each distribution src/ imports is a dependency (or, for an optional backend, an extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {name_of(r) for r in project["dependencies"]}
    optional = {
        name_of(r)
        for extra in ("postgres", "redis")
        for r in project["optional-dependencies"][extra]
    }
    distributions = packages_distributions()
    undeclared = {}
    for module in imported_modules():
        names = {d.lower() for d in distributions.get(module, [module])}
        if not names & (required | optional):
            undeclared[module] = names
    assert undeclared == {}


def test_the_package_ships_its_types_and_graphiql() -> None:
    """py.typed marks the package as typed; GraphiQL's page and assets sit inside it."""
    assert (SOURCE / "py.typed").is_file()
    assert (SOURCE / "graphiql" / "index.html").is_file()
