"""The run directory: the one interface between executing a run and judging it.

This package owns every file of ``runs/<id>/``: its name (:mod:`.layout`, the only place
a name is spelled), the format version, a typed writer and reader for each, and each
writer's recovery after a killed run. Writers (the runner, the Locust master and
workers, the chaos journal, telemetry) and readers (analysis, reports, salvage) import it;
it imports none of them (``spikekit.load``, ``chaos``, ``telemetry``,
``reference_platform``), so that analysis and reports can read a run knowing nothing
of how it was made::

    runs/<id>/                        module            written by          recovery after a kill
    ├── meta.json                     meta              runner (first)      complete_meta
    ├── scenario.yaml                 meta              runner (first)
    ├── journal.jsonl                 journal           chaos, runner       torn last line skipped
    ├── timeseries.parquet            tables            load master (end)   rows_from_seconds(live)
    ├── players.parquet               tables            load master (end)   rows_from_seconds(live)
    ├── generator.parquet             tables            load master (end)   rows_from_seconds(live)
    ├── histograms.json               tables            load master (end)   (lost)
    ├── latency_histograms.parquet    second_histograms load master (end)   read from the parts
    ├── latency_histograms.parts/     second_histograms load master (10 s)
    ├── platform_metrics.parquet      metrics           telemetry (end)     recover_from_parts,
    ├── platform_metrics.parts/       metrics           telemetry (10 s)      set_aside_unclosed
    ├── acked_transactions.jsonl      acks              runner (merge)      recover_merged
    ├── unacked_transactions.jsonl    acks              runner (merge)      recover_merged
    ├── audit.json                    frames            platform (after)    (lost)
    ├── ledger_export.parquet         frames (read)     platform (after)    (lost)
    ├── payments_export.parquet       frames (read)     platform (after)    (lost)
    ├── load/
    │   ├── scenario.json             -                 load runner
    │   ├── live.jsonl                live              load master         torn last line skipped
    │   ├── master.log, worker-N.log  -                 load runner
    │   ├── acks-worker-N.jsonl       acks              load worker         torn last line skipped
    │   ├── unacked-worker-N.jsonl    acks              load worker         torn last line skipped
    │   └── raw-samples-worker-N.csv  -                 load worker (opt.)
    ├── platform/                     -                 bundled platform's state folder
    ├── .space-reserve-{journal,report}                 runner (freed when the disk fills)
    └── report.html, summary.json, junit.xml, compare.html      reports (derived)

Modules: :mod:`.layout` (names, :data:`~.layout.FORMAT_VERSION`, :data:`~.layout.ARTIFACTS`),
:mod:`.jsonl` (the one torn-line rule of every JSON-lines file), :mod:`.files` (atomic and
create-only writes), :mod:`.meta`, :mod:`.journal`, :mod:`.live`, :mod:`.tables`,
:mod:`.metrics`, :mod:`.second_histograms`, :mod:`.acks`, :mod:`.frames` (the DataFrame
readers of the analysis).
``spikekit.run.salvage`` coordinates the recoveries; ``docs/run-directory.md`` is checked
against :data:`~.layout.ARTIFACTS` by ``tests/unit/rundir/test_layout.py``.

Importing this package imports nothing heavy: pandas and pyarrow come with the modules
that need them.
"""

from spikekit.rundir.layout import FORMAT_VERSION

__all__ = ["FORMAT_VERSION"]
