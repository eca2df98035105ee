"""What a scenario runs against: the bundled reference platform, or any base URL."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from spikekit.scenarios.ledger import LedgerSource


class Profile(StrEnum):
    """How the bundled platform is configured: with its defences, or without them."""

    RESILIENT = "resilient"
    FRAGILE = "fragile"


class Service(StrEnum):
    """The services of the bundled platform, named as in ``reference_platform.spec``."""

    GATEWAY = "gateway"
    AUTH = "auth"
    WALLET = "wallet"
    ROUTER = "router"
    PROVIDER_AURORA = "provider-aurora"
    PROVIDER_BLITZ = "provider-blitz"
    PROVIDER_COBALT = "provider-cobalt"
    PAYMENTS = "payments"
    PAYMENTS_WORKER = "payments-worker"
    REPORTING = "reporting"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlatformTarget(_Model):
    """The bundled reference platform, started by spikekit for the run."""

    union_tag: ClassVar[str] = "platform"

    profile: Profile = Field(
        default=Profile.RESILIENT, description="resilient (defences on) or fragile (off)."
    )
    replicas: dict[Service, Annotated[int, Field(ge=1, le=16)]] = Field(
        default_factory=dict,
        description=(
            "Processes per service (1..16), e.g. {gateway: 3, auth: 2}; unnamed services run "
            "their default. Gateway replicas run behind HAProxy (health-checked); the other "
            "services' callers balance over their replicas themselves."
        ),
    )

    def replicas_of(self, service: Service) -> int:
        return self.replicas.get(service, 1)


class UrlTarget(_Model):
    """A platform of the user's own, reached at a base URL."""

    union_tag: ClassVar[str] = "url"

    url: str = Field(description="Base URL of the platform's player API, http(s)://host[:port].")
    ledger: LedgerSource | None = Field(
        default=None,
        description="How to read the platform's ledger for the wallet audit "
        "(docs/ledger-export.md): {query, dsn_env} or {file}.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL with a host, got {value!r}")
        return value.rstrip("/")


def _target_tag(value: Any) -> str:
    if isinstance(value, dict):
        return UrlTarget.union_tag if "url" in value else PlatformTarget.union_tag
    return UrlTarget.union_tag if isinstance(value, UrlTarget) else PlatformTarget.union_tag


#: ``{url: ...}`` is a URL target; anything else is the bundled platform.
Target = Annotated[
    Annotated[PlatformTarget, Tag(PlatformTarget.union_tag)]
    | Annotated[UrlTarget, Tag(UrlTarget.union_tag)],
    Discriminator(_target_tag),
]


class Population(_Model):
    """Player accounts seeded on the bundled platform before the run."""

    accounts: int = Field(default=200_000, ge=1, description="Accounts to seed.")
    balance_cents: int = Field(
        default=50_000, ge=0, description="Starting balance of each account, in cents."
    )
