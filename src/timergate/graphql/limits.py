"""How much one GraphQL document may ask for, measured in time linear in its text.

A document is measured as if its fragments were written out in place: how deep its fields
nest, how many aliases it has and how many selections (fields, fragment spreads, inline
fragments) it expands to. Fragments are measured once each, dependencies first, and a spread
adds the measure of its fragment, so ``fragment F0 on Query { ...F1 ...F1 }`` and thirty like
it cost thirty steps to measure rather than 2^30: the expansion limit refuses them at once.

graphql-core's rules run only on documents within these bounds. They are linear in the
document except ``OverlappingFieldsCanBeMergedRule``, which compares fields that share a
response name, and fragments, pair by pair: ``{ viewer { name } viewer { name } … }`` is
quadratic however it is bounded. graphql-core counts those comparisons against a budget and
aborts past it (500,000 by default, about a second here); :data:`MERGE_BUDGET` lowers it to
tens of milliseconds, far above what real documents spend.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    specified_rules,
)
from graphql.validation import OverlappingFieldsCanBeMergedRule
from graphql.validation.validate import ValidationAbortedError
from strawberry.schema.schema import validate_document as strawberry_validate

__all__ = [
    "INTROSPECTION_DEPTH",
    "MERGE_BUDGET",
    "DocumentLimits",
    "check_document",
    "validate_document",
]

#: How deep introspection may nest: the standard introspection query (graphql-js and
#: graphql-core, as GraphiQL and GraphQL Code Generator send it) nests 14 levels, with nine
#: levels of ``ofType``; Apollo's tools send seven. Two more levels leave room for a tool that
#: asks for a little more, and a chain of sixty ``ofType`` stays refused.
INTROSPECTION_DEPTH = 16

#: graphql-core's complexity budget for the field-merging rule (2 units a field pair). The
#: documents in the test suite spend under 10; forty fragments spread side by side on one
#: list item, each with ``__typename``, ``id`` and a nested object, spend about 18,000.
MERGE_BUDGET = 20_000

_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
_CODE = {"code": "GRAPHQL_VALIDATION_FAILED"}


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """The bounds on one document; every limit counts the document with fragments expanded."""

    #: Levels of nesting below the top-level fields (``{ a { b } }`` has depth 1).
    max_depth: int = 10
    #: Aliases in the whole document.
    max_aliases: int = 30
    #: Fields, fragment spreads and inline fragments in the whole document.
    max_selections: int = 1000
    #: Lexical tokens, checked by the parser before anything else.
    max_tokens: int = 5000


@dataclass(frozen=True, slots=True)
class _Measure:
    """What a selection set expands to; depths are -1 where there is no such path."""

    depth: int
    introspection_depth: int
    aliases: int
    selections: int


_NOTHING = _Measure(-1, -1, 0, 0)


def validate_document(
    schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits
) -> list[GraphQLError]:
    """The errors of ``document``: first its size, then (within bounds) the spec's rules."""
    errors = check_document(document, limits)
    if errors:
        return errors
    # Strawberry's own rules (for its Maybe and oneOf inputs) are added to the spec's.
    return [_explained(e) for e in strawberry_validate(schema, document, _RULES)]


def check_document(document: DocumentNode, limits: DocumentLimits) -> list[GraphQLError]:
    """The errors of a document over ``limits`` (at most one per limit), or none."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
    measurer = _Measurer(fragments, limits)
    measurer.measure_fragments()
    depth = introspection_depth = -1
    aliases = selections = 0
    deepest: OperationDefinitionNode | None = None
    deepest_introspection: OperationDefinitionNode | None = None
    for operation in operations:
        measure = measurer.selection_set(operation.selection_set)
        if measure.depth > depth:
            depth, deepest = measure.depth, operation
        if measure.introspection_depth > introspection_depth:
            introspection_depth, deepest_introspection = measure.introspection_depth, operation
        aliases = measurer.cap(aliases + measure.aliases)
        selections = measurer.cap(selections + measure.selections)
    errors: list[GraphQLError] = []
    if selections > limits.max_selections:
        # Reported alone: past this bound the other figures are lower bounds.
        return [
            _error(
                f"The document expands to more than {limits.max_selections} selections "
                "(fields, fragment spreads and inline fragments, with every fragment written "
                "out where it is spread); ask for less, or split it into several requests."
            )
        ]
    if deepest is not None and depth > limits.max_depth:
        errors.append(
            _error(
                f"{_name(deepest)} nests {depth} levels deep; at most {limits.max_depth} "
                "are allowed.",
                deepest,
            )
        )
    if deepest_introspection is not None and introspection_depth > INTROSPECTION_DEPTH:
        errors.append(
            _error(
                f"{_name(deepest_introspection)} nests introspection {introspection_depth} "
                f"levels deep; at most {INTROSPECTION_DEPTH} are allowed.",
                deepest_introspection,
            )
        )
    if aliases > limits.max_aliases:
        errors.append(
            _error(f"The document has {aliases} aliases; at most {limits.max_aliases} are allowed.")
        )
    return errors


class _Measurer:
    """Measures selection sets, each fragment once (dependencies first)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], limits: DocumentLimits):
        self._fragments = fragments
        self._measured: dict[str, _Measure] = {}
        # Counts stop growing just past every limit, so a fragment bomb stays a small number.
        self._ceiling = max(limits.max_selections, limits.max_aliases) + 1

    def cap(self, count: int) -> int:
        return min(count, self._ceiling)

    def measure_fragments(self) -> None:
        """Measure every fragment after the fragments it spreads (Kahn's algorithm).

        Fragments in a cycle are never ready; a spread of one counts as a single selection,
        and ``NoFragmentCyclesRule`` reports the cycle.
        """
        spreads = {name: _spread_names(f.selection_set) for name, f in self._fragments.items()}
        waiting = {name: len(names & self._fragments.keys()) for name, names in spreads.items()}
        spread_by: dict[str, list[str]] = {name: [] for name in self._fragments}
        for name, names in spreads.items():
            for spread in names & self._fragments.keys():
                spread_by[spread].append(name)
        ready = deque(name for name, count in waiting.items() if count == 0)
        while ready:
            name = ready.popleft()
            self._measured[name] = self.selection_set(self._fragments[name].selection_set)
            for dependent in spread_by[name]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    ready.append(dependent)

    def selection_set(self, selection_set: SelectionSetNode) -> _Measure:
        # Recursion follows the text's own nesting, which the parser bounds (200 levels).
        depth = introspection_depth = -1
        aliases = selections = 0
        for selection in selection_set.selections:
            selections += 1
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                if selection.selection_set is None:
                    depth = max(depth, 0)
                    continue
                inner = self.selection_set(selection.selection_set)
                if selection.name.value in _INTROSPECTION_ROOTS:
                    below = max(inner.depth, inner.introspection_depth)
                    introspection_depth = max(introspection_depth, 1 + below)
                else:
                    depth = max(depth, 1 + inner.depth)
                    if inner.introspection_depth >= 0:
                        introspection_depth = max(
                            introspection_depth, 1 + inner.introspection_depth
                        )
            else:
                if isinstance(selection, InlineFragmentNode):
                    inner = self.selection_set(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    inner = self._measured.get(selection.name.value, _NOTHING)
                else:  # pragma: no cover - the grammar has no other selection
                    continue
                depth = max(depth, inner.depth)
                introspection_depth = max(introspection_depth, inner.introspection_depth)
            aliases = self.cap(aliases + inner.aliases)
            selections = self.cap(selections + inner.selections)
        return _Measure(depth, introspection_depth, aliases, selections)


def _spread_names(selection_set: SelectionSetNode) -> set[str]:
    names: set[str] = set()
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                pending.append(selection.selection_set)
    return names


def _name(operation: OperationDefinitionNode) -> str:
    if operation.name is None:
        return "The operation"
    return f"Operation '{operation.name.value}'"


def _error(message: str, node: OperationDefinitionNode | None = None) -> GraphQLError:
    return GraphQLError(message, node, extensions=dict(_CODE))


class _BudgetedMergeRule(OverlappingFieldsCanBeMergedRule):
    """The spec's field-merging rule with a smaller comparison budget."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MERGE_BUDGET


_RULES: tuple[type[ASTValidationRule], ...] = tuple(
    _BudgetedMergeRule if rule is OverlappingFieldsCanBeMergedRule else rule
    for rule in specified_rules
)


def _explained(error: GraphQLError) -> GraphQLError:
    # graphql-core says only "Validation aborted." when the merge budget runs out.
    if not isinstance(error, ValidationAbortedError) or error.message != "Validation aborted.":
        return error
    return _error(
        "The document needs too many comparisons to check that its fields merge (fields "
        "with the same response name, and fragments spread side by side, are compared in "
        "pairs); ask for each field once, or split the document into several requests."
    )
