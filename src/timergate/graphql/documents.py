"""Parsed and validated documents, remembered by query text, for every transport.

Clients send the same few operations over and over; parsing and validating each distinct text
once takes both off the hot path. The JSON fast path and the websocket endpoint ask the cache
directly; Strawberry's own view (GET, server-sent events, multipart) reaches it through the
:class:`PreparedDocuments` extension. So one set of checks, bounded by
:mod:`timergate.graphql.limits`, guards every way in.
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


@dataclass(frozen=True, slots=True)
class Prepared:
    """A query text: its ``document`` if it parsed and validated, else the errors that stop it.

    ``parsed`` is the document whenever it parsed, valid or not.
    """

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    parsed: DocumentNode | None = None

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
    """An LRU of :class:`Prepared` documents for one schema."""

    def __init__(
        self, schema: GraphQLSchema, limits: DocumentLimits | None = None, size: int = 512
    ) -> None:
        self._schema = schema
        self.limits = limits or DocumentLimits()
        self._size = size
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()

    def get(self, query: str) -> Prepared:
        prepared = self._prepared.get(query)
        if prepared is None:
            prepared = self._prepare(query)
            self._prepared[query] = prepared
            if len(self._prepared) > self._size:
                self._prepared.popitem(last=False)
        else:
            self._prepared.move_to_end(query)
        return prepared

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            return Prepared(None, (error,))
        errors = validate_document(self._schema, document, self.limits)
        if errors:
            return Prepared(None, tuple(errors), document)
        return Prepared(document, (), document)


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
            context.graphql_document = prepared.parsed
            self._errors = list(prepared.errors) if prepared.parsed is not None else None
        yield

    def on_validate(self) -> Iterator[None]:
        if self._errors is not None:
            # Set (even to []) means validated: Strawberry then skips its own validation.
            self.execution_context.pre_execution_errors = self._errors
        yield
