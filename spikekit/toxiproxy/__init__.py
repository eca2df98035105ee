"""Toxiproxy: our typed client for its HTTP API and a wrapper that runs the real server.

A shared leaf, below both of its users: the reference platform's stack supervisor
(:mod:`spikekit.reference_platform.links` puts every service-to-dependency link through a
proxy) and the chaos toolkit (:mod:`spikekit.chaos.network` degrades those links). It
imports only :mod:`spikekit.errors`, :mod:`spikekit.ports` and :mod:`spikekit.processes`,
never the platform or the toolkit; an import-linter contract in ``pyproject.toml`` keeps
it that way.

- :mod:`spikekit.toxiproxy.client`: :class:`~spikekit.toxiproxy.client.ToxiproxyClient`
  and the API's models (proxies, toxics).
- :mod:`spikekit.toxiproxy.server`: find the ``toxiproxy-server`` binary and run it as a
  child process.
"""
