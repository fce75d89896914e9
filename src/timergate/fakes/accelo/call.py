"""One authenticated API call, as the resource handlers see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from timergate.fakes.accelo.account import Account
from timergate.fakes.accelo.auth import Grant
from timergate.fakes.accelo.fields import Resolver, Row, Schema, parse_fields, render
from timergate.fakes.accelo.filters import Filterable, apply_filters, parse_filters
from timergate.fakes.accelo.wire import AcceloError, Params

__all__ = ["Call"]


@dataclass
class Call:
    params: Params
    grant: Grant
    account: Account
    now: datetime
    resolver: Resolver

    @property
    def method(self) -> str:
        return self.params.method

    def staff_id(self) -> int:
        """The signed-in staff member; service applications have none."""
        if self.grant.staff_id is None:
            raise AcceloError(
                "invalid_permission",
                "This endpoint operates as the current user and is not available to service "
                "applications; use a web or installed application's user token.",
            )
        return self.grant.staff_id

    def render(self, schema: Schema, row: Row, resolver: Resolver | None = None) -> dict[str, Any]:
        spec = parse_fields(self.params.text("_fields"))
        return render(schema, row, spec, resolver or self.resolver)

    def render_list(
        self,
        schema: Schema,
        rows: list[Row],
        filterable: Filterable,
        resolver: Resolver | None = None,
    ) -> list[dict[str, Any]]:
        """Filter, order and page ``rows``, then render each as asked."""
        kept = apply_filters(rows, parse_filters(self.params.get("_filters")), filterable)
        page = self.params.page()
        return [self.render(schema, row, resolver) for row in page.window(kept)]

    def require(self, name: str) -> str:
        """A required text parameter, stripped; missing or blank is Accelo's error."""
        value = (self.params.text(name) or "").strip()
        if not value:
            raise AcceloError("invalid_request", f"{name} is required.")
        return value
