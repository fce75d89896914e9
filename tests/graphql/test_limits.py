"""Query limits protect the server from documents built to exhaust it.

Every limit counts the document with its fragments written out in place, and is measured
visiting each fragment once; the live tests (tests/live/test_document_limits.py) send the
same documents to a running server over every transport.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from graphql import get_introspection_query, parse
from tests.conftest import GraphQLClient

from timergate.graphql.documents import CACHED_TOKENS
from timergate.graphql.limits import (
    INTROSPECTION_DEPTH,
    DocumentLimits,
    check_document,
)
from timergate.graphql.schema import build_schema

LIMITS = DocumentLimits()


def fragment_bomb(levels: int) -> str:
    """``query { ...F0 }`` where each fragment spreads the next twice: 2^levels leaves."""
    spreads = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"query {{ ...F0 }} {spreads} fragment F{levels} on Query {{ __typename }}"


def deep_query(levels: int, leaf: str = "id") -> str:
    """A query whose deepest fields nest ``levels`` below ``timers``: entry, timer, entry..."""
    return f"{{ {deep_timers(levels, leaf)} }}"


def deep_timers(levels: int, leaf: str = "id") -> str:
    hops = ["entry" if i % 2 == 0 else "timer" for i in range(levels - 2)]
    inner = leaf
    for hop in reversed(hops):
        inner = f"{hop} {{ {inner} }}"
    return f"timers {{ nodes {{ {inner} }} }}"


def type_chain(levels: int) -> str:
    """Introspection with ``levels`` nested ``ofType`` selections."""
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Timer") {{ fields {{ type {{ {inner} }} }} }} }}'


async def test_a_query_deeper_than_the_limit_is_refused(alice: GraphQLClient) -> None:
    """A document nested past the depth limit fails validation before anything runs."""
    error = await alice.error(deep_query(LIMITS.max_depth + 1))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "The operation nests 11 levels deep; at most 10 are allowed."


async def test_a_query_at_the_depth_limit_runs(alice: GraphQLClient) -> None:
    """Nesting exactly to the limit is allowed."""
    data = await alice.data(deep_query(LIMITS.max_depth))
    assert data == {"timers": {"nodes": []}}


async def test_a_depth_error_is_reported_once(alice: GraphQLClient) -> None:
    """Several branches and fields past the limit make one error, not one per field."""
    too_deep = deep_timers(LIMITS.max_depth + 2, leaf="id description tags")
    body = await alice.execute(f"{{ a: {too_deep} b: {too_deep} }}")
    assert [e["message"] for e in body["errors"]] == [
        "The operation nests 12 levels deep; at most 10 are allowed."
    ]


async def test_depth_counts_through_fragments(alice: GraphQLClient) -> None:
    """Nesting hidden in fragments counts as if the fragments were written out."""
    document = (
        "{ timers { nodes { ...A } } } "
        "fragment A on Timer { entry { ...B } } "
        "fragment B on TimeEntry { timer { ...A2 } } "
        "fragment A2 on Timer { entry { ...B2 } } "
        "fragment B2 on TimeEntry { timer { ...A3 } } "
        "fragment A3 on Timer { entry { ...B3 } } "
        "fragment B3 on TimeEntry { timer { ...A4 } } "
        "fragment A4 on Timer { entry { ...B4 } } "
        "fragment B4 on TimeEntry { timer { entry { id } } }"
    )
    error = await alice.error(document)
    assert error["message"] == "The operation nests 11 levels deep; at most 10 are allowed."


async def test_too_many_aliases_are_refused(alice: GraphQLClient) -> None:
    """More aliases than the limit in one document is refused."""
    fields = " ".join(f"a{i}: runningTimers {{ id }}" for i in range(LIMITS.max_aliases + 1))
    error = await alice.error(f"{{ {fields} }}")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "The document has 31 aliases; at most 30 are allowed."


async def test_aliases_in_a_fragment_count_each_time_it_is_spread(alice: GraphQLClient) -> None:
    """Sixteen aliases in a fragment spread twice (once through another) are 32 aliases."""
    fields = " ".join(f"a{i}: __typename" for i in range(16))
    document = f"{{ ...A ...B }} fragment A on Query {{ {fields} }} fragment B on Query {{ ...A }}"
    error = await alice.error(document)
    assert error["message"] == "The document has 32 aliases; at most 30 are allowed."


@pytest.mark.parametrize("levels", [10, 31, 200])
def test_a_fragment_bomb_is_measured_without_expanding_it(levels: int) -> None:
    """2^levels selections are counted from one visit per fragment and refused."""
    (error,) = check_document(parse(fragment_bomb(levels)), LIMITS)
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert error.message.startswith("The document expands to more than 1000 selections")


async def test_a_fragment_bomb_is_refused_with_or_without_a_token(
    alice: GraphQLClient, anonymous: GraphQLClient
) -> None:
    """The bomb gets GRAPHQL_VALIDATION_FAILED whoever sends it."""
    for client in (alice, anonymous):
        error = await client.error(fragment_bomb(31))
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "expands to more than 1000 selections" in error["message"]


async def test_ordinary_fragments_still_work(alice: GraphQLClient) -> None:
    """Fragments spread several times, and nested fragments, run as before."""
    document = """
    { viewer { ...Who } runningTimers { ...T } timers { nodes { ...T entry { ...E } } } }
    fragment Who on Viewer { name }
    fragment T on Timer { id state ...Times }
    fragment Times on Timer { elapsedSeconds startedAt }
    fragment E on TimeEntry { id durationSeconds }
    """
    data = await alice.data(document)
    assert data == {"viewer": {"name": "alice"}, "runningTimers": [], "timers": {"nodes": []}}


async def test_fragment_cycles_are_reported_by_the_spec_rule(alice: GraphQLClient) -> None:
    """A cycle is measured without looping and refused with the spec's own message."""
    error = await alice.error("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot spread fragment 'A' within itself" in error["message"]


async def test_a_document_too_costly_to_merge_check_is_refused(alice: GraphQLClient) -> None:
    """Hundreds of same-named fields stop at the merge budget with a clear message."""
    error = await alice.error("{" + " viewer { name }" * 400 + " }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"].startswith("The document needs too many comparisons")


async def test_too_many_tokens_are_refused(alice: GraphQLClient) -> None:
    """A document over the token limit is refused by the parser."""
    error = await alice.error("{" + " __typename" * LIMITS.max_tokens + " }")
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_the_limits_hold_over_get_too(alice: GraphQLClient) -> None:
    """Queries that Strawberry's own view serves (GET) meet the same limits, once each."""
    for document, message in (
        (deep_query(LIMITS.max_depth + 1), "nests 11 levels deep"),
        (fragment_bomb(31), "expands to more than 1000 selections"),
    ):
        response = await alice.http.get(
            "/graphql",
            params={"query": document},
            headers={"Authorization": f"Bearer {alice.token}"},
        )
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert message in error["message"]


# Introspection: public, and within its own depth limit.

INTROSPECTION_VARIANTS = {
    "graphql-core defaults": {},
    # GraphiQL and graphql-codegen use graphql-js's getIntrospectionQuery, which these mirror.
    "GraphiQL": {"input_value_deprecation": True, "schema_description": True, "one_of": True},
    "graphql-codegen": {
        "specified_by_url": True,
        "directive_is_repeatable": True,
        "schema_description": True,
        "input_value_deprecation": True,
    },
    "everything": {
        "specified_by_url": True,
        "directive_is_repeatable": True,
        "schema_description": True,
        "input_value_deprecation": True,
        "experimental_directive_deprecation": True,
        "one_of": True,
    },
    "no descriptions": {"descriptions": False},
    "typeDepth 11": {"type_depth": 11},
}


def apollo_introspection() -> str:
    """The shape Apollo's tools (Rover, Apollo Kotlin) send: seven levels of ofType."""
    type_ref = "kind name"
    for _ in range(7):
        type_ref = f"kind name ofType {{ {type_ref} }}"
    return f"""
    query IntrospectionQuery {{
      __schema {{
        queryType {{ name }} mutationType {{ name }} subscriptionType {{ name }}
        types {{ ...FullType }}
        directives {{ name description locations isRepeatable
          args(includeDeprecated: true) {{ ...InputValue }} }}
      }}
    }}
    fragment FullType on __Type {{
      kind name description specifiedByURL
      fields(includeDeprecated: true) {{
        name description args(includeDeprecated: true) {{ ...InputValue }}
        type {{ ...TypeRef }} isDeprecated deprecationReason
      }}
      inputFields(includeDeprecated: true) {{ ...InputValue }}
      interfaces {{ ...TypeRef }}
      enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
      possibleTypes {{ ...TypeRef }}
    }}
    fragment InputValue on __InputValue {{
      name description type {{ ...TypeRef }} defaultValue isDeprecated deprecationReason
    }}
    fragment TypeRef on __Type {{ {type_ref} }}
    """


APOLLO_KOTLIN_PRE_INTROSPECTION = """
query PreIntrospectionQuery {
  schema: __type(name: "__Schema") { ...TypeFields }
  type: __type(name: "__Type") { ...TypeFields }
  directive: __type(name: "__Directive") { ...TypeFields }
  field: __type(name: "__Field") { ...TypeFields }
  inputValue: __type(name: "__InputValue") { ...TypeFields }
}
fragment TypeFields on __Type { fields { name args { name } } }
"""


@pytest.mark.parametrize("options", INTROSPECTION_VARIANTS.values(), ids=INTROSPECTION_VARIANTS)
async def test_the_standard_introspection_queries_work_without_a_token(
    anonymous: GraphQLClient, options: dict[str, object]
) -> None:
    """graphql-core's introspection query, in the variants the tools send, loads the schema."""
    data = await anonymous.data(get_introspection_query(**options))  # type: ignore[arg-type]
    names = {t["name"] for t in data["__schema"]["types"]}
    assert {"Query", "Mutation", "Subscription", "Timer"} <= names


@pytest.mark.parametrize(
    "document",
    [apollo_introspection(), APOLLO_KOTLIN_PRE_INTROSPECTION],
    ids=["apollo-rover-and-kotlin", "apollo-kotlin-pre-introspection"],
)
async def test_apollo_introspection_works_without_a_token(
    anonymous: GraphQLClient, document: str
) -> None:
    """The introspection documents of Apollo's tools run."""
    body = await anonymous.execute(document)
    assert "errors" not in body, body["errors"]


def test_the_standard_introspection_query_nests_within_the_limit() -> None:
    """graphql-core's default introspection query is two levels inside the limit."""
    document = parse(get_introspection_query())
    assert check_document(document, LIMITS) == []
    deeper = parse(get_introspection_query(type_depth=12))
    (error,) = check_document(deeper, LIMITS)
    assert error.message == (
        f"Operation 'IntrospectionQuery' nests introspection 17 levels deep; "
        f"at most {INTROSPECTION_DEPTH} are allowed."
    )


async def test_a_deep_introspection_chain_is_refused_without_a_token(
    anonymous: GraphQLClient,
) -> None:
    """Sixty levels of ofType are refused, over POST and over GET."""
    error = await anonymous.error(type_chain(60))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == (
        f"The operation nests introspection 63 levels deep; at most {INTROSPECTION_DEPTH} "
        "are allowed."
    )
    response = await anonymous.http.get("/graphql", params={"query": type_chain(60)})
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_subscriptions_over_streams_meet_the_limits(
    http: httpx.AsyncClient, alice: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Server-sent events (Strawberry's view) refuse the bomb with the same error."""
    with caplog.at_level(logging.WARNING):
        response = await http.post(
            "/graphql",
            json={"query": fragment_bomb(31).replace("query", "subscription", 1)},
            headers={"Authorization": f"Bearer {alice.token}", "Accept": "text/event-stream"},
        )
    events = [
        json.loads(line.partition(":")[2])
        for line in response.text.splitlines()
        if line.startswith("data:") and line.strip() != "data:"
    ]
    (error,) = events[0]["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "expands to more than 1000 selections" in error["message"]
    assert not caplog.records


def test_the_document_cache_keeps_a_bounded_number_of_tokens() -> None:
    """Distinct valid documents past the token budget push the oldest out, and a refused
    document keeps only its errors: what the collector must walk stays small."""
    documents = build_schema().documents
    fields = " ".join(f"a{i}: viewer {{ name }}" for i in range(25))
    for i in range(400):
        assert documents.get(f"{{ {fields} }} # {i}").document is not None
    assert 0 < documents.tokens <= CACHED_TOKENS
    assert 0 < len(documents) < 400
    refused = documents.get(deep_query(LIMITS.max_depth + 1))
    assert refused.document is None
    (error,) = refused.errors
    assert error.nodes is None
    assert [(place.line, place.column) for place in error.locations or ()] == [(1, 1)]
