"""Write what the recorder collected into the run directory (the files and their format
are :mod:`spikekit.rundir.tables`'s and :mod:`spikekit.rundir.second_histograms`'s):
``timeseries.parquet``, ``players.parquet``, ``generator.parquet``, ``histograms.json`` and
``latency_histograms.parquet`` (its last part, then every part merged).
"""

from __future__ import annotations

import logging
from pathlib import Path

from spikekit.load import histograms as hdr
from spikekit.load.recorder import Recorder
from spikekit.rundir.second_histograms import PartWriter, merge_parts
from spikekit.rundir.tables import write_load_tables


def write_outputs(recorder: Recorder, run_dir: Path, parts: PartWriter | None = None) -> list[Path]:
    """The recorder's files; ``parts``: the writer of the histogram parts already written
    while the run went on (numbering goes on from it). A histogram merge that fails leaves
    the parts, which the readers read as well: it does not fail the run."""
    encoded = {name: hdr.encode(h) for name, h in recorder.totals.items()}
    # by second (stable: a row a late report added to a final second goes with its second)
    timeseries = sorted(recorder.timeseries, key=lambda row: row.t)
    files = write_load_tables(run_dir, timeseries, recorder.players, recorder.generator, encoded)
    try:
        (parts or PartWriter(run_dir)).write(recorder.take_histograms())
        merged = merge_parts(run_dir)
    except OSError as error:
        logging.warning("latency histograms left in parts, not merged: %s", error)
        return files
    return [*files, merged] if merged is not None else files
