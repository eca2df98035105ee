"""spikekit's benchmarks, run by ``make bench`` (``python -m bench``), written to RESULTS.md.

One module per benchmark, each with ``run(config) -> Section``: :mod:`bench.loadgen`,
:mod:`bench.capacity`, :mod:`bench.wallet` (around :mod:`bench.wallet_bench`),
:mod:`bench.reports`, :mod:`bench.chaos`; :mod:`bench.harness` holds what they share.
"""
