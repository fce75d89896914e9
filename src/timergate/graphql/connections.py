"""Connecting and disconnecting vendor accounts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.unset import UnsetType

from timergate.domain.connections import Connection, ProviderKind
from timergate.domain.limits import check_text
from timergate.errors import BadUserInput
from timergate.graphql.connection_types import ConnectionNode
from timergate.graphql.inputs import IDEMPOTENCY_KEY_DESCRIPTION, idempotency
from timergate.graphql.types import Info

__all__ = ["ConnectionMutation"]

_MAX_LABEL_LENGTH = 100
_MAX_CREDENTIAL_LENGTH = 4096


@strawberry.input(description="A Noko personal access token, or an OAuth access token.")
class NokoCredentialsInput:
    token: str


@strawberry.input(
    description="A Worksection account, both ways in: the person's OAuth access token (their "
    "timer) and the account's admin API key (running timers and saved time)."
)
class WorksectionCredentialsInput:
    access_token: str = strawberry.field(
        description="The person's OAuth access token; Worksection's last 24 hours, then the "
        "connection needs a new one (status NEEDS_REAUTHORIZATION)."
    )
    admin_key: str = strawberry.field(description="The account's admin API key.")
    time_zone: str | None = strawberry.field(
        default=None,
        description="The account's IANA time zone (Worksection dates saved time in it), e.g. "
        "'Europe/Kyiv'; defaults to the viewer's timeZone.",
    )


@strawberry.input(
    description="A Seven Time API key (Settings, Integrations, API) and the Seven Time user "
    "the connection acts as: the key acts for every user of the company, so timergate acts "
    "only as this one."
)
class SevenTimeCredentialsInput:
    client_secret: str = strawberry.field(description="The API key (the Client-Secret header).")
    user_id: str = strawberry.field(
        description="The _id of the Seven Time user whose timers this connection drives."
    )


@strawberry.input(
    description="An ftrack username and that user's API key; timergate sends them as the "
    "ftrack-user and ftrack-api-key headers."
)
class FtrackCredentialsInput:
    api_user: str
    api_key: str


@strawberry.input(
    description="An Accelo user's access token (timers act as that user; a service "
    "application's token cannot use them). To renew it when it expires, give the web or "
    "installed application's clientId and clientSecret with the user's refreshToken."
)
class AcceloCredentialsInput:
    token: str
    client_id: str | None = strawberry.UNSET
    client_secret: str | None = strawberry.UNSET
    refresh_token: str | None = strawberry.UNSET


@strawberry.input(
    one_of=True,
    description="The credentials of exactly one vendor; they are checked with the vendor, "
    "then kept encrypted, and never returned.",
)
class ProviderCredentialsInput:
    noko: NokoCredentialsInput | None = strawberry.UNSET
    worksection: WorksectionCredentialsInput | None = strawberry.UNSET
    ftrack: FtrackCredentialsInput | None = strawberry.UNSET
    seven_time: SevenTimeCredentialsInput | None = strawberry.UNSET
    accelo: AcceloCredentialsInput | None = strawberry.UNSET


@strawberry.input
class ConnectProviderInput:
    label: str | None = strawberry.field(default=None, description="Your name for it.")
    base_url: str | None = strawberry.field(
        default=None,
        description="The vendor API's address; defaults to the vendor's public API. Other "
        "addresses must be allowed by the gateway's operator.",
    )
    credentials: ProviderCredentialsInput
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.type
class ConnectProviderPayload:
    connection: ConnectionNode


@strawberry.input
class DisconnectProviderInput:
    id: strawberry.ID
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.type
class DisconnectProviderPayload:
    id: strawberry.ID


#: The field of ``ProviderCredentialsInput`` for each vendor (its Python name).
_FIELDS: dict[str, ProviderKind] = {
    "noko": ProviderKind.NOKO,
    "worksection": ProviderKind.WORKSECTION,
    "ftrack": ProviderKind.FTRACK,
    "seven_time": ProviderKind.SEVEN_TIME,
    "accelo": ProviderKind.ACCELO,
}


def _credentials(value: ProviderCredentialsInput) -> tuple[ProviderKind, dict[str, Any]]:
    for name, kind in _FIELDS.items():
        given = getattr(value, name, strawberry.UNSET)
        if given is None or isinstance(given, UnsetType):
            continue
        fields: dict[str, Any] = {}
        for key, raw in vars(given).items():
            if raw is None or isinstance(raw, UnsetType):
                continue
            field = f"input.credentials.{strawberry_name(name)}.{strawberry_name(key)}"
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
        connection = await ctx.gateway.keys.run(
            ctx.viewer,
            idempotency(input, "connectProvider"),
            Connection,
            lambda: ctx.gateway.connections.connect(
                ctx.viewer, kind, credentials, label=label, base_url=input.base_url
            ),
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
        await ctx.gateway.keys.run(
            ctx.viewer,
            idempotency(input, "disconnectProvider"),
            Connection,
            lambda: ctx.gateway.connections.disconnect(ctx.viewer, input.id),
        )
        return DisconnectProviderPayload(id=input.id)
