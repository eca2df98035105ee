"""The game router: picks a studio per launch and round, and survives a studio's failure.

Layers: :mod:`health` and :mod:`budget` (EWMA health, scoring, ranking, retry budget:
pure), :mod:`health_store` (the health shared in Redis across replicas),
:mod:`breakers` (purgatory circuit breakers, state shared in Redis),
:mod:`provider_client` (one call to one studio: timeout, retries, breaker),
:mod:`service` (routing and failover), :mod:`app` (HTTP). See docs/router-api.md.
"""
