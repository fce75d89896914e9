"""Every GraphQL error leaves with ``extensions.code``; unexpected ones leave masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from timergate.errors import TimergateError

__all__ = ["INTERNAL_MESSAGE", "ErrorCodes", "coded_error"]

_log = logging.getLogger("timergate.graphql")

#: How graphql-core begins the message for a literal that its type refused.
_LITERAL_REFUSED = "Expected value of type "

INTERNAL_MESSAGE = "Internal server error; it has been logged. Retry, or report it if it persists."


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def _request_error_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def coded_error(
    error: GraphQLError, *, operation: str | None = None, user: object = None
) -> GraphQLError:
    """``error`` with a ``code``; unexpected exceptions are logged with context and masked."""
    original = error.original_error
    if isinstance(original, TimergateError):
        return _with(error, original.message, original.extensions())
    if isinstance(original, GraphQLError):
        if error.message.startswith("Variable '$"):
            # A variable's value failed coercion; the wrapper's message names the variable.
            return _with(
                error, error.message, {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
            )
        return coded_error(original, operation=operation, user=user)
    if original is None:
        if error.extensions and "code" in error.extensions:
            return error
        code = _request_error_code(error.message)
        return _with(error, error.message, {**(error.extensions or {}), "code": code})
    if error.path is None and error.message.startswith(_LITERAL_REFUSED):
        # graphql-core reports a literal that a scalar's parser raised on (a DateTime past year
        # 9999, say) with the exception attached: the client's value, not a bug of ours.
        return _with(error, error.message, {"code": "GRAPHQL_VALIDATION_FAILED"})
    _log.error(
        "unexpected error in operation %r for user %r at path %s",
        operation,
        user,
        ".".join(map(str, error.path or ())),
        exc_info=original,
    )
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})


class ErrorCodes(SchemaExtension):
    """Codes (and masks) the errors of operations Strawberry runs itself: GET, SSE, websockets."""

    def _code_all(self, result: object) -> None:
        ctx = self.execution_context
        partial = getattr(ctx.context, "partial_errors", None)
        if partial and result is not None:
            # Errors of providers the answer went on without, reported beside the data.
            result.errors = [*(getattr(result, "errors", None) or ()), *partial]  # type: ignore[attr-defined]
            partial.clear()
        errors = getattr(result, "errors", None)
        if errors:
            user = getattr(getattr(ctx.context, "user", None), "id", None)
            result.errors = [  # type: ignore[attr-defined]
                coded_error(e, operation=ctx.operation_name, user=user) for e in errors
            ]

    def on_operation(self) -> Iterator[None]:
        yield
        self._code_all(self.execution_context.result)

    def on_stream_result(self, result: object) -> Iterator[None]:
        self._code_all(result)
        yield None
