"""Query limits protect the server from documents built to exhaust it."""

from __future__ import annotations

from tests.conftest import GraphQLClient

from timergate.graphql.schema import MAX_ALIASES, MAX_DEPTH


def _deep_query(levels: int) -> str:
    # Each entry -> timer -> entry hop adds depth; start from the timers connection.
    inner = "id"
    for i in range(levels):
        inner = f"entry {{ timer {{ {inner} }} }}" if i % 2 == 0 else inner
    return f"{{ timers {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_a_query_deeper_than_the_limit_is_refused(alice: GraphQLClient) -> None:
    """A document nested past MAX_DEPTH fails validation before anything runs."""
    error = await alice.error(_deep_query(MAX_DEPTH))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "exceeds maximum operation depth" in error["message"]


async def test_a_query_within_the_depth_limit_runs(alice: GraphQLClient) -> None:
    """Ordinary nesting stays well inside the limit."""
    data = await alice.data("{ timers { edges { node { entry { timer { id } } } } } }")
    assert data == {"timers": {"edges": []}}


async def test_too_many_aliases_are_refused(alice: GraphQLClient) -> None:
    """More than MAX_ALIASES aliases in one document is refused."""
    fields = " ".join(f"a{i}: runningTimers {{ id }}" for i in range(MAX_ALIASES + 1))
    error = await alice.error(f"{{ {fields} }}")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "aliases" in error["message"]


async def test_the_limits_hold_over_get_too(alice: GraphQLClient) -> None:
    """Queries that Strawberry's own view serves (GET) meet the same depth limit."""
    response = await alice.http.get(
        "/graphql",
        params={"query": _deep_query(MAX_DEPTH)},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
