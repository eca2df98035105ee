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
    return write_load_tables(
        run_dir, recorder.timeseries, recorder.players, recorder.generator, encoded
    )
