"""The part of ftrack's query language that the fake understands, parsed into a small tree.

    select <path>, ... from <EntityType> where <criteria> order by <path> [descending], ...
        offset <n> limit <n>

Every clause but the entity type is optional; ``order by``, ``offset`` and ``limit`` may come in
any order. Criteria are ``<path> <operator> <value>`` joined by ``and`` / ``or`` / ``not`` and
parentheses (``and`` binds tighter), plus ``<path> has (<criteria>)`` and
``<path> any (<criteria>)`` for related entities. Operators: ``is =``, ``is_not !=``,
``> after greater_than``, ``< before less_than``, ``>=``, ``<=``, ``in``, ``not_in``,
``like``, ``not_like``. Values are quoted strings, or bare words (ids, numbers, ``none``).
The grammar is small enough that a hand-written recursive descent reads better than a
parser-generator grammar plus its dependency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

__all__ = [
    "AllOf",
    "AnyOf",
    "Comparison",
    "Criteria",
    "Not",
    "Ordering",
    "Query",
    "QuerySyntaxError",
    "Related",
    "Value",
    "parse_query",
]

#: A bare ``none`` parses as None; every other value stays text until it meets an attribute.
Value = str | None
Path = tuple[str, ...]
Operator = Literal["eq", "ne", "gt", "lt", "ge", "le", "in", "not_in", "like", "not_like"]

_OPERATORS: dict[str, Operator] = {
    "is": "eq",
    "=": "eq",
    "is_not": "ne",
    "!=": "ne",
    ">": "gt",
    "after": "gt",
    "greater_than": "gt",
    "<": "lt",
    "before": "lt",
    "less_than": "lt",
    ">=": "ge",
    "<=": "le",
    "in": "in",
    "not_in": "not_in",
    "like": "like",
    "not_like": "not_like",
}
_CLAUSES = ("select", "from", "where", "order", "offset", "limit")
_DIRECTIONS = {"ascending": False, "asc": False, "descending": True, "desc": True}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<punct>[(),])
      | (?P<op>!=|>=|<=|=|>|<)
      | (?P<word>[^\s()"',=!<>]+)
    )""",
    re.VERBOSE,
)
_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_ESCAPE = re.compile(r"\\(.)")


class QuerySyntaxError(ValueError):
    """The expression is not in the query language."""


@dataclass(frozen=True)
class Comparison:
    path: Path
    operator: Operator
    value: Value | tuple[Value, ...]


@dataclass(frozen=True)
class Related:
    """``path has (criteria)`` on a reference, ``path any (criteria)`` on a collection."""

    path: Path
    quantifier: Literal["has", "any"]
    criteria: Criteria | None


@dataclass(frozen=True)
class Not:
    operand: Criteria


@dataclass(frozen=True)
class AllOf:
    operands: tuple[Criteria, ...]


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[Criteria, ...]


Criteria = Comparison | Related | Not | AllOf | AnyOf


@dataclass(frozen=True)
class Ordering:
    path: Path
    descending: bool


@dataclass(frozen=True)
class Query:
    entity_type: str
    projections: tuple[Path, ...]
    criteria: Criteria | None
    order_by: tuple[Ordering, ...]
    offset: int
    limit: int | None


_TokenKind = Literal["string", "punct", "op", "word"]


@dataclass(frozen=True)
class _Token:
    kind: _TokenKind
    text: str
    at: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


def _tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while True:
        while at < len(expression) and expression[at].isspace():
            at += 1
        if at == len(expression):
            return tokens
        match = _TOKEN.match(expression, at)
        if match is None or match.lastgroup is None:
            raise QuerySyntaxError(f"unexpected {expression[at]!r} at character {at}")
        kind = cast(_TokenKind, match.lastgroup)
        tokens.append(_Token(kind, match.group(kind), at))
        at = match.end()


class _Parser:
    def __init__(self, expression: str) -> None:
        self.tokens = _tokens(expression)
        self.position = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(f"expected {what} at the end")
        self.position += 1
        return token

    def expect_word(self, *words: str) -> None:
        token = self.take(" or ".join(repr(w) for w in words))
        if not token.is_word(*words):
            raise QuerySyntaxError(f"expected {words[0]!r} at character {token.at}")

    def expect_punct(self, punct: str) -> None:
        token = self.take(repr(punct))
        if token.kind != "punct" or token.text != punct:
            raise QuerySyntaxError(f"expected {punct!r} at character {token.at}")

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.is_word(*words)

    def at_punct(self, punct: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == punct

    def path(self) -> Path:
        token = self.take("an attribute")
        if token.kind != "word" or not _PATH.fullmatch(token.text) or token.is_word(*_CLAUSES):
            raise QuerySyntaxError(f"expected an attribute at character {token.at}")
        return tuple(token.text.split("."))

    def integer(self) -> int:
        token = self.take("a number")
        if token.kind != "word" or not token.text.isdigit():
            raise QuerySyntaxError(f"expected a whole number at character {token.at}")
        return int(token.text)

    def query(self) -> Query:
        projections: list[Path] = []
        if self.at_word("select"):
            self.position += 1
            projections.append(self.path())
            while self.at_punct(","):
                self.position += 1
                projections.append(self.path())
            self.expect_word("from")
        entity = self.take("an entity type")
        if entity.kind != "word" or not entity.text.isidentifier():
            raise QuerySyntaxError(f"expected an entity type at character {entity.at}")
        criteria = None
        if self.at_word("where"):
            self.position += 1
            criteria = self.any_of()
        order_by: tuple[Ordering, ...] = ()
        offset: int | None = None
        limit: int | None = None
        while (token := self.peek()) is not None:
            if token.is_word("order") and not order_by:
                self.position += 1
                self.expect_word("by")
                order_by = self.orderings()
            elif token.is_word("offset") and offset is None:
                self.position += 1
                offset = self.integer()
            elif token.is_word("limit") and limit is None:
                self.position += 1
                limit = self.integer()
            else:
                raise QuerySyntaxError(f"unexpected {token.text!r} at character {token.at}")
        return Query(entity.text, tuple(projections), criteria, order_by, offset or 0, limit)

    def orderings(self) -> tuple[Ordering, ...]:
        orderings: list[Ordering] = []
        while True:
            path = self.path()
            descending = False
            token = self.peek()
            if token is not None and token.kind == "word" and token.text.lower() in _DIRECTIONS:
                descending = _DIRECTIONS[token.text.lower()]
                self.position += 1
            orderings.append(Ordering(path, descending))
            if not self.at_punct(","):
                return tuple(orderings)
            self.position += 1

    def any_of(self) -> Criteria:
        operands = [self.all_of()]
        while self.at_word("or"):
            self.position += 1
            operands.append(self.all_of())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def all_of(self) -> Criteria:
        operands = [self.unary()]
        while self.at_word("and"):
            self.position += 1
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def unary(self) -> Criteria:
        if self.at_word("not"):
            self.position += 1
            return Not(self.unary())
        if self.at_punct("("):
            self.position += 1
            criteria = self.any_of()
            self.expect_punct(")")
            return criteria
        return self.condition()

    def condition(self) -> Criteria:
        path = self.path()
        token = self.take("an operator")
        name = token.text.lower()
        if token.kind == "word" and name in ("has", "any"):
            self.expect_punct("(")
            criteria = None if self.at_punct(")") else self.any_of()
            self.expect_punct(")")
            return Related(path, "has" if name == "has" else "any", criteria)
        if token.kind not in ("op", "word") or name not in _OPERATORS:
            raise QuerySyntaxError(f"expected an operator at character {token.at}")
        operator = _OPERATORS[name]
        if operator in ("in", "not_in"):
            return Comparison(path, operator, self.values())
        return Comparison(path, operator, self.value())

    def values(self) -> tuple[Value, ...]:
        self.expect_punct("(")
        values = [self.value()]
        while self.at_punct(","):
            self.position += 1
            values.append(self.value())
        self.expect_punct(")")
        return tuple(values)

    def value(self) -> Value:
        token = self.take("a value")
        if token.kind == "string":
            return _ESCAPE.sub(r"\1", token.text[1:-1])
        if token.kind != "word":
            raise QuerySyntaxError(f"expected a value at character {token.at}")
        return None if token.text.lower() in ("none", "null") else token.text


def parse_query(expression: str) -> Query:
    """The query ``expression`` as a tree; raises QuerySyntaxError when it is not one."""
    return _Parser(expression).query()
