"""The GraphQL layer: it validates input, authorises, and dispatches to providers."""

from timergate.graphql.context import RequestContext
from timergate.graphql.schema import TimergateSchema, build_schema

__all__ = ["RequestContext", "TimergateSchema", "build_schema"]
