"""The schema: types, operations and the extensions that guard them."""

from __future__ import annotations

from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from timergate.graphql.errors import ErrorCodes
from timergate.graphql.mutation import Mutation
from timergate.graphql.query import Query
from timergate.graphql.subscription import Subscription

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "TimergateSchema", "build_schema", "extra_validation_rules"]

MAX_DEPTH = 10
MAX_ALIASES = 30


class TimergateSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs unexpected errors with context; a client's mistake is no operator news.
        return None


def build_schema() -> TimergateSchema:
    return TimergateSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            ErrorCodes,
            partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
            partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
            # For what Strawberry's view runs itself (GET, SSE); POSTs use DocumentCache.
            partial(ParserCache, maxsize=256),
            partial(ValidationCache, maxsize=256),
        ],
    )


def extra_validation_rules(schema: strawberry.Schema) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules the schema's extensions add (depth and alias limits)."""
    rules: list[type[ASTValidationRule]] = []
    for factory in schema.extensions:
        extension = factory if isinstance(factory, SchemaExtension) else factory()
        if isinstance(extension, AddValidationRules):
            rules.extend(extension.validation_rules)
    return tuple(rules)
