"""ftrack's one endpoint, ``POST /api``: a JSON array of operations in, their results out.

Every request names its user in ``ftrack-user`` and ``ftrack-api-key``. A failure anywhere in
the batch undoes the whole batch and answers one error object
``{"exception", "content", "error_code"}`` instead of the array: with HTTP 200, as ftrack does,
or with a 4xx status when the client sends ``ftrack-strict-api: true``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timergate.fakes.ftrack.schemas import schema_documents, schema_hash
from timergate.fakes.ftrack.store import Batch, FtrackStore
from timergate.fakes.ftrack.wire import FtrackError

__all__ = ["SERVER_VERSION", "create_ftrack_app"]

SERVER_VERSION = "4.13.0"
_SCHEMAS = schema_documents()
_SERVER_INFORMATION: dict[str, Any] = {
    "version": SERVER_VERSION,
    "schema_hash": schema_hash(_SCHEMAS),
    "is_timezone_support_enabled": True,
    "storage_scenario": {"scenario": "ftrack.automatic", "data": {}},
}
_ACTIONS = ("query_server_information", "query_schemas", "query", "create", "update", "delete")


def _server_information(operation: dict[str, Any]) -> dict[str, Any]:
    # The JavaScript client may ask for chosen values only; the Python client asks for all.
    wanted = operation.get("values")
    if isinstance(wanted, list):
        return {k: v for k, v in _SERVER_INFORMATION.items() if k in wanted}
    return dict(_SERVER_INFORMATION)


def _run(batch: Batch, operation: object) -> Any:
    if not isinstance(operation, dict):
        raise FtrackError("ValidationError", f"An operation is a JSON object, not {operation!r}.")
    action = operation.get("action")
    if action == "query_server_information":
        return _server_information(operation)
    if action == "query_schemas":
        return _SCHEMAS
    if action == "query":
        return batch.query(operation.get("expression"))
    entity_type, entity_key = operation.get("entity_type"), operation.get("entity_key")
    if action == "create":
        return batch.create(entity_type, entity_key, operation.get("entity_data"))
    if action == "update":
        return batch.update(entity_type, entity_key, operation.get("entity_data"))
    if action == "delete":
        return batch.delete(entity_type, entity_key)
    raise FtrackError(
        "ValidationError", f"Unknown action {action!r}; this server knows {', '.join(_ACTIONS)}."
    )


def _operations(body: bytes) -> list[object]:
    try:
        operations = json.loads(body)
    except ValueError:
        operations = None
    if not isinstance(operations, list):
        raise FtrackError("ValidationError", "The request body must be a JSON array of operations.")
    return operations


def create_ftrack_app(store: FtrackStore) -> Starlette:
    """The ftrack API over ``store``."""

    async def api(request: Request) -> JSONResponse:
        strict = request.headers.get("ftrack-strict-api", "").lower() == "true"
        try:
            user = store.authenticate(
                request.headers.get("ftrack-user"), request.headers.get("ftrack-api-key")
            )
            operations = _operations(await request.body())
            with store.batch(user) as batch:
                results = [_run(batch, operation) for operation in operations]
        except FtrackError as error:
            return JSONResponse(error.body(), status_code=error.strict_status if strict else 200)
        return JSONResponse(results)

    return Starlette(routes=[Route("/api", api, methods=["POST"])])
