"""Wire one studio: settings → HTTP pool to the wallet, wallet client, draw, rounds, gate."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from spikekit.errors import ConfigError
from spikekit.reference_platform.common.http_client import HttpPool
from spikekit.reference_platform.providers.domain import OutcomeDraw
from spikekit.reference_platform.providers.faults import Gate
from spikekit.reference_platform.providers.metrics import ProviderMetrics
from spikekit.reference_platform.providers.rounds import Reconciler, Rounds
from spikekit.reference_platform.providers.settings import ProviderSettings
from spikekit.reference_platform.providers.wallet_client import RetryPolicy, SeamlessWallet


@dataclass
class Runtime:
    rounds: Rounds
    gate: Gate
    pool: HttpPool
    reconciler: Reconciler

    async def close(self) -> None:
        await self.reconciler.stop()
        await self.pool.aclose()


def bootstrap(settings: ProviderSettings, metrics: ProviderMetrics | None = None) -> Runtime:
    """The studio named by the service; needs the wallet's URL and the studio's secret."""
    studio = settings.studio
    secret = settings.wallet_secret
    if secret is None:
        raise ConfigError(f"no wallet secret for studio {studio.name!r}")
    urls = settings.wallet_base_urls
    if not urls:
        raise ConfigError("a provider needs SPIKEKIT_WALLET_URLS")
    pool = HttpPool(urls, size=settings.provider_wallet_pool)
    policy = RetryPolicy(
        timeout_s=settings.provider_wallet_timeout_s,
        attempts=settings.provider_wallet_attempts,
        backoff_s=settings.provider_wallet_backoff_s,
    )
    wallet = SeamlessWallet(studio.name, secret, pool, policy, metrics)
    seed = settings.provider_seed + 1000 * settings.replica + zlib.crc32(studio.name.encode())
    reconciler = Reconciler(
        settings.provider_reconcile_interval_s, settings.provider_reconcile_max_age_s, metrics
    )
    rounds = Rounds(
        studio,
        wallet,
        OutcomeDraw(seed, studio.rtp),
        reconciler,
        settings.provider_session_secret,
        metrics,
        bet_and_settle=settings.provider_bet_and_settle,
    )
    gate = Gate(studio.name, studio.capacity, studio.rate_limit_rps)
    if metrics is not None:
        metrics.in_flight.set_function(lambda: gate.in_flight)
        metrics.fault_active.set_function(lambda: len(gate.faults.active(studio.name)))
    return Runtime(rounds, gate, pool, reconciler)
