"""Write what the recorder collected into the run directory (the files and their format
are :mod:`spikekit.rundir.tables`'s): ``timeseries.parquet``, ``players.parquet``,
``generator.parquet`` and ``histograms.json``.
"""

from __future__ import annotations

from pathlib import Path

from spikekit.load import histograms as hdr
from spikekit.load.recorder import Recorder
from spikekit.rundir.tables import write_load_tables


def write_outputs(recorder: Recorder, run_dir: Path) -> list[Path]:
    encoded = {name: hdr.encode(h) for name, h in recorder.totals.items()}
    # by second (stable: a row a late report added to a final second goes with its second)
    timeseries = sorted(recorder.timeseries, key=lambda row: row.t)
    return write_load_tables(run_dir, timeseries, recorder.players, recorder.generator, encoded)
