"""Connecting and disconnecting vendor accounts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.unset import UnsetType

from timergate.domain.connections import ProviderKind
from timergate.domain.limits import check_text
from timergate.errors import BadUserInput
from timergate.graphql.connection_types import ConnectionNode
from timergate.graphql.types import Info

__all__ = ["ConnectionMutation"]

_MAX_LABEL_LENGTH = 100
_MAX_CREDENTIAL_LENGTH = 4096


@strawberry.input(description="A Noko personal access token, or an OAuth access token.")
class NokoCredentialsInput:
    token: str


@strawberry.input(
    one_of=True,
    description="The credentials of exactly one vendor; they are checked with the vendor, "
    "then kept encrypted, and never returned.",
)
class ProviderCredentialsInput:
    noko: NokoCredentialsInput | None = strawberry.UNSET


@strawberry.input
class ConnectProviderInput:
    label: str | None = strawberry.field(default=None, description="Your name for it.")
    base_url: str | None = strawberry.field(
        default=None,
        description="The vendor API's address; defaults to the vendor's public API. Other "
        "addresses must be allowed by the gateway's operator.",
    )
    credentials: ProviderCredentialsInput


@strawberry.type
class ConnectProviderPayload:
    connection: ConnectionNode


@strawberry.input
class DisconnectProviderInput:
    id: strawberry.ID


@strawberry.type
class DisconnectProviderPayload:
    id: strawberry.ID


#: The field of ``ProviderCredentialsInput`` for each vendor.
_FIELDS: dict[str, ProviderKind] = {"noko": ProviderKind.NOKO}


def _credentials(value: ProviderCredentialsInput) -> tuple[ProviderKind, dict[str, Any]]:
    for name, kind in _FIELDS.items():
        given = getattr(value, name, strawberry.UNSET)
        if given is None or isinstance(given, UnsetType):
            continue
        fields: dict[str, Any] = {}
        for key, raw in vars(given).items():
            if raw is None or isinstance(raw, UnsetType):
                continue
            field = f"input.credentials.{name}.{strawberry_name(key)}"
            if isinstance(raw, str):
                raw = check_text(raw, field=field, max_length=_MAX_CREDENTIAL_LENGTH)
            fields[strawberry_name(key)] = raw
        return kind, fields
    raise BadUserInput(
        "input.credentials needs the credentials of one vendor, e.g. {noko: {token: ...}}.",
        field="input.credentials",
    )


def strawberry_name(python_name: str) -> str:
    """The camelCase name GraphQL shows for a Python field name."""
    head, *rest = python_name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.type
class ConnectionMutation:
    @strawberry.mutation(
        description="Connect a vendor account. The credentials are checked with a cheap "
        "call first: wrong ones answer UPSTREAM_AUTH_FAILED and nothing is kept."
    )
    async def connect_provider(
        self, info: Info, input: ConnectProviderInput
    ) -> ConnectProviderPayload:
        ctx = info.context
        kind, credentials = _credentials(input.credentials)
        label = (
            None
            if input.label is None
            else check_text(input.label, field="input.label", max_length=_MAX_LABEL_LENGTH)
        )
        connection = await ctx.gateway.connections.connect(
            ctx.viewer, kind, credentials, label=label, base_url=input.base_url
        )
        return ConnectProviderPayload(connection=ConnectionNode.of(connection))

    @strawberry.mutation(
        description="Forget a connection: its timers and entries vanish from every read. "
        "Nothing is deleted at the vendor."
    )
    async def disconnect_provider(
        self, info: Info, input: DisconnectProviderInput
    ) -> DisconnectProviderPayload:
        ctx = info.context
        await ctx.gateway.connections.disconnect(ctx.viewer, input.id)
        return DisconnectProviderPayload(id=input.id)
