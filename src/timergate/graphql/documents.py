"""Parsed and validated documents, remembered by query text, for every transport.

Clients send the same few operations over and over; parsing and validating each distinct text
once takes both off the hot path. The JSON fast path and the websocket endpoint ask the cache
directly; Strawberry's own view (GET, server-sent events, multipart) reaches it through the
:class:`PreparedDocuments` extension. So one set of checks, bounded by
:mod:`timergate.graphql.limits`, guards every way in.

What the cache keeps is bounded by tokens, not only by entries: a parsed document is some
four objects per token, each one walked by every full pass of Python's cyclic collector, so
512 documents of 5,000 tokens made each such pass take seconds. Valid documents share a
budget of :data:`CACHED_TOKENS`; a refused one keeps only its errors (message and position).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, cast

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from strawberry.extensions import SchemaExtension

from timergate.graphql.limits import DocumentLimits, validate_document

__all__ = ["DocumentCache", "Prepared", "PreparedDocuments"]


#: Tokens of the valid documents the cache keeps (a frontend's few dozen operations fit).
CACHED_TOKENS = 25_000


@dataclass(frozen=True, slots=True)
class Prepared:
    """A query text: its ``document`` if it parsed and validated, else the errors that stop it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    #: The document's lexical tokens (what it costs the cache); 0 for a refused one.
    tokens: int = 0
    #: The errors are the parser's (the text is not GraphQL), not validation's.
    syntax_error: bool = False

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation ``name`` picks (the only one when ``name`` is None), if any."""
        if self.document is None:
            return None
        operations = [
            d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((o for o in operations if o.name and o.name.value == name), None)

    def operation_type(self, name: str | None) -> OperationType | None:
        operation = self.operation(name)
        return operation.operation if operation else None


class DocumentCache:
    """An LRU of :class:`Prepared` documents for one schema, bounded by entries and tokens."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: DocumentLimits | None = None,
        size: int = 512,
        tokens: int = CACHED_TOKENS,
    ) -> None:
        self._schema = schema
        self.limits = limits or DocumentLimits()
        self._size = size
        self._token_budget = tokens
        self._tokens = 0
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()

    def __len__(self) -> int:
        return len(self._prepared)

    @property
    def tokens(self) -> int:
        """Tokens of the documents kept."""
        return self._tokens

    def get(self, query: str) -> Prepared:
        prepared = self._prepared.get(query)
        if prepared is not None:
            self._prepared.move_to_end(query)
            return prepared
        prepared = self._prepare(query)
        self._prepared[query] = prepared
        self._tokens += prepared.tokens
        while len(self._prepared) > self._size or self._tokens > self._token_budget:
            _, evicted = self._prepared.popitem(last=False)
            self._tokens -= evicted.tokens
        return prepared

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            return Prepared(None, (_detached(error),), syntax_error=True)
        errors = validate_document(self._schema, document, self.limits)
        if errors:
            return Prepared(None, tuple(_detached(e) for e in errors))
        return Prepared(document, (), _token_count(document))


def _detached(error: GraphQLError) -> GraphQLError:
    """``error`` with its positions, but not its nodes or traceback (which hold the document)."""
    return GraphQLError(
        error.message,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=error.extensions,
    )


def _token_count(document: DocumentNode) -> int:
    count, token = 0, document.loc.start_token if document.loc else None
    while token is not None:
        count, token = count + 1, token.next
    return count


class _WithDocuments(Protocol):
    documents: DocumentCache


class PreparedDocuments(SchemaExtension):
    """Lets Strawberry's view take parsing and validation from the schema's document cache.

    A text that does not parse is left to Strawberry's parser, with the same token limit, so
    its syntax error is reported the way Strawberry reports it.
    """

    _errors: list[GraphQLError] | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query:
            documents = cast(_WithDocuments, context.schema).documents
            context.parse_options["max_tokens"] = documents.limits.max_tokens
            prepared = documents.get(query)
            # A refused document is not kept; Strawberry parses it again (within the token
            # limit, in linear time) and gets the refusal at validation.
            context.graphql_document = prepared.document
            self._errors = None if prepared.syntax_error else list(prepared.errors)
        yield

    def on_validate(self) -> Iterator[None]:
        if self._errors is not None:
            # Set (even to []) means validated: Strawberry then skips its own validation.
            self.execution_context.pre_execution_errors = self._errors
        yield
