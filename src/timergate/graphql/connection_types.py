"""GraphQL views of vendor connections and of what each provider can do."""

from __future__ import annotations

import strawberry

from timergate.domain import connections as domain
from timergate.providers.registry import capabilities_of

__all__ = ["CapabilityNode", "ConnectionNode"]

ProviderKindEnum = strawberry.enum(
    domain.ProviderKind, name="ProviderKind", description="The vendors timergate can connect to."
)
ConnectionStatusEnum = strawberry.enum(
    domain.ConnectionStatus,
    name="ConnectionStatus",
    description="ACTIVE; AUTH_FAILED (the vendor refused the credentials: connect again); "
    "NEEDS_REAUTHORIZATION (the access token expired and could not be refreshed).",
)
SupportEnum = strawberry.enum(
    domain.Support,
    name="Support",
    description="NATIVE: the vendor does it. EMULATED: composed from other calls (see the "
    "capability's note). UNSUPPORTED: refused with UNSUPPORTED_BY_PROVIDER before any call.",
)
TimerOperationEnum = strawberry.enum(domain.TimerOperation, name="TimerOperation")


@strawberry.type(name="Capability")
class CapabilityNode:
    operation: TimerOperationEnum  # type: ignore[valid-type]
    support: SupportEnum  # type: ignore[valid-type]
    note: str | None = strawberry.field(description="How it is emulated, or why not supported.")

    @staticmethod
    def of(capability: domain.Capability) -> CapabilityNode:
        return CapabilityNode(
            operation=capability.operation, support=capability.support, note=capability.note
        )


@strawberry.type(name="Connection", description="The viewer's account at one vendor.")
class ConnectionNode:
    id: strawberry.ID = strawberry.field(
        description="Also the `provider` of this connection's timers and entries."
    )
    kind: ProviderKindEnum  # type: ignore[valid-type]
    label: str | None
    base_url: str
    status: ConnectionStatusEnum  # type: ignore[valid-type]
    capabilities: list[CapabilityNode]

    @staticmethod
    def of(connection: domain.Connection) -> ConnectionNode:
        return ConnectionNode(
            id=strawberry.ID(connection.key),
            kind=connection.kind,
            label=connection.label,
            base_url=connection.base_url,
            status=connection.status,
            capabilities=[CapabilityNode.of(c) for c in capabilities_of(connection.kind).values()],
        )
