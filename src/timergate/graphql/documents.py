"""Parsed and validated documents, remembered by query text.

Clients send the same few operations over and over; parsing and validating each distinct text
once takes both off the hot path.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)

from timergate.graphql.schema import TimergateSchema, extra_validation_rules

__all__ = ["DocumentCache", "Prepared"]

#: Queries longer than this many tokens are refused before validation (a cheap DoS guard).
MAX_TOKENS = 5000


@dataclass(frozen=True, slots=True)
class Prepared:
    """A query text that parsed and validated (``document``), or the errors that stop it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]

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

    def __init__(self, schema: TimergateSchema, size: int = 512) -> None:
        self._schema = schema._schema
        self._rules = (*specified_rules, *extra_validation_rules(schema))
        self._size = size
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()

    def get(self, query: str) -> Prepared:
        prepared = self._prepared.get(query)
        if prepared is None:
            prepared = self._prepare(query)
            self._prepared[query] = prepared
            if len(self._prepared) > self._size:
                self._prepared.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return Prepared(None, (error,))
        errors = validate(self._schema, document, self._rules)
        if errors:
            return Prepared(None, tuple(errors))
        return Prepared(document, ())
