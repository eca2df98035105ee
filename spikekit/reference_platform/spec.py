"""The stack described as data: which services, how many replicas, what each one needs.

A test or a scenario asks for a different stack by changing this data, e.g.
``default_stack().with_replicas(gateway=2)``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spikekit.errors import ConfigError


class Profile(StrEnum):
    """Which resilience mechanisms the platform runs with."""

    RESILIENT = "resilient"
    FRAGILE = "fragile"


class Backing(StrEnum):
    """Backing services the supervisor runs for real."""

    POSTGRES = "postgres"
    REDIS = "redis"


class ToxiproxyMode(StrEnum):
    AUTO = "auto"  # use it when the binary is present
    ON = "on"  # required: fail when it is missing
    OFF = "off"


class BalancerMode(StrEnum):
    """HAProxy in front of the gateway replicas (the players' door)."""

    AUTO = "auto"  # when the gateway runs more than one replica
    ON = "on"  # always, even in front of a single gateway
    OFF = "off"  # never: players reach the first gateway directly


#: the service HAProxy balances: the one players reach (the others balance client-side)
BALANCED_SERVICE = "gateway"


class ServiceSpec(BaseModel):
    """One platform service: an ASGI app factory run as ``replicas`` separate processes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    app: str = Field(description="import path of the ASGI app factory, 'module:function'")
    replicas: int = Field(default=1, ge=1, le=16)
    needs: tuple[str, ...] = Field(
        default=(), description="backing services ('postgres', 'redis') and other service names"
    )

    @property
    def backing_needs(self) -> list[Backing]:
        return [Backing(n) for n in self.needs if n in Backing._value2member_map_]

    @property
    def service_needs(self) -> list[str]:
        return [n for n in self.needs if n not in Backing._value2member_map_]


class StackSpec(BaseModel):
    """The whole platform: services in start order, profile, Toxiproxy on the links or not."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    services: tuple[ServiceSpec, ...]
    profile: Profile = Profile.RESILIENT
    toxiproxy: ToxiproxyMode = ToxiproxyMode.AUTO
    balancer: BalancerMode = BalancerMode.AUTO
    players: int = Field(
        default=0, ge=0, le=10_000_000, description="players seeded once the services are up"
    )

    @model_validator(mode="after")
    def _needs_exist(self) -> StackSpec:
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique, got {names}")
        for service in self.services:
            for need in service.service_needs:
                if need not in names:
                    raise ValueError(f"{service.name} needs unknown service {need!r}")
        return self

    def service(self, name: str) -> ServiceSpec:
        for service in self.services:
            if service.name == name:
                return service
        raise ConfigError(f"no service {name!r} in the stack ({', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.services]

    @property
    def backing(self) -> list[Backing]:
        return [b for b in Backing if any(b in s.backing_needs for s in self.services)]

    @property
    def balanced(self) -> bool:
        """True when HAProxy runs in front of the gateway replicas."""
        if self.balancer is BalancerMode.OFF or BALANCED_SERVICE not in self.names:
            return False
        return self.balancer is BalancerMode.ON or self.service(BALANCED_SERVICE).replicas > 1

    def with_replicas(self, **replicas: int) -> StackSpec:
        """A copy with other replica counts, e.g. ``with_replicas(gateway=2)``."""
        for name in replicas:
            self.service(name)
        services = tuple(  # validated: 1..16 replicas
            ServiceSpec.model_validate(
                {**s.model_dump(), "replicas": replicas.get(s.name, s.replicas)}
            )
            for s in self.services
        )
        return self.model_copy(update={"services": services})

    def with_options(
        self,
        *,
        profile: Profile | None = None,
        toxiproxy: ToxiproxyMode | None = None,
        players: int | None = None,
        balancer: BalancerMode | None = None,
    ) -> StackSpec:
        return self.model_copy(
            update={
                "profile": profile or self.profile,
                "toxiproxy": toxiproxy or self.toxiproxy,
                "balancer": balancer or self.balancer,
                "players": self.players if players is None else players,
            }
        )


def default_stack() -> StackSpec:
    """The bundled reference platform."""
    return StackSpec(
        services=(
            ServiceSpec(
                name="wallet",
                app="spikekit.reference_platform.wallet.entrypoints.app:create_app",
                needs=("postgres", "redis"),
            ),
            ServiceSpec(
                name="payments",
                app="spikekit.reference_platform.payments.entrypoints.api:create_app",
                needs=("redis", "wallet"),
            ),
            ServiceSpec(
                name="payments-worker",
                app="spikekit.reference_platform.payments.entrypoints.worker:create_app",
                replicas=2,
                needs=("redis", "wallet"),
            ),
            ServiceSpec(
                name="reporting",
                app="spikekit.reference_platform.reporting.entrypoints.app:create_app",
                needs=("postgres", "redis"),
            ),
            ServiceSpec(
                name="auth",
                app="spikekit.reference_platform.auth.entrypoints.app:create_app",
                needs=("postgres", "redis"),
            ),
            ServiceSpec(
                name="provider-aurora",
                app="spikekit.reference_platform.providers.app:create_app",
                needs=("wallet",),
            ),
            ServiceSpec(
                name="provider-blitz",
                app="spikekit.reference_platform.providers.app:create_app",
                needs=("wallet",),
            ),
            ServiceSpec(
                name="provider-cobalt",
                app="spikekit.reference_platform.providers.app:create_app",
                needs=("wallet",),
            ),
            ServiceSpec(
                name="router",
                app="spikekit.reference_platform.router.app:create_app",
                needs=("redis", "provider-aurora", "provider-blitz", "provider-cobalt"),
            ),
            ServiceSpec(
                name="gateway",
                app="spikekit.reference_platform.gateway.app:create_app",
                needs=("redis", "auth", "wallet", "router", "payments"),
            ),
        )
    )
