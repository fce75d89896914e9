"""The schema: types, operations, and the document cache every transport validates through."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from timergate.graphql.documents import DocumentCache, PreparedDocuments
from timergate.graphql.errors import ErrorCodes
from timergate.graphql.limits import DocumentLimits
from timergate.graphql.mutation import Mutation
from timergate.graphql.query import Query
from timergate.graphql.subscription import Subscription

__all__ = ["TimergateSchema", "build_schema"]


class TimergateSchema(strawberry.Schema):
    #: Parsed and validated documents (within the document limits), shared by all transports.
    documents: DocumentCache

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs unexpected errors with context; a client's mistake is no operator news.
        return None


def build_schema(limits: DocumentLimits | None = None) -> TimergateSchema:
    """The schema, whose documents are checked against ``limits`` (the defaults if None)."""
    schema = TimergateSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[ErrorCodes, PreparedDocuments],
    )
    schema.documents = DocumentCache(schema._schema, limits)
    return schema
