"""Every name in a run directory, in one place (the drawing is in :mod:`spikekit.rundir`).

No other module spells a run-directory file name: they import these constants (a test,
``tests/unit/rundir/test_layout.py``, greps the code for the names). :data:`ARTIFACTS`
lists each entry with who writes it; ``docs/run-directory.md`` is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The version of the whole layout, in ``meta.json``.
FORMAT_VERSION = 1

# --- written at the start ----------------------------------------------------------------
META = "meta.json"
SCENARIO = "scenario.yaml"
JOURNAL = "journal.jsonl"
CAPACITY_PLAN = "capacity_plan.json"  # only when the target has measured costs
# --- the load recorder (the Locust master), at the end -----------------------------------
TIMESERIES = "timeseries.parquet"
PLAYERS = "players.parquet"
HISTOGRAMS = "histograms.json"
GENERATOR = "generator.parquet"
# --- the load recorder, every 10 s: per second and endpoint, the HDR latency histograms ---
LATENCY_HISTOGRAMS = "latency_histograms.parquet"
LATENCY_HISTOGRAMS_PARTS = "latency_histograms.parts"  # part files (METRICS_PART) until merged
# --- telemetry, the whole run ------------------------------------------------------------
PLATFORM_METRICS = "platform_metrics.parquet"
PLATFORM_METRICS_PARTS = "platform_metrics.parts"  # one closed parquet file per flush
METRICS_PART = "part-{:06d}.parquet"
METRICS_PART_GLOB = "part-*.parquet"
# --- the wallet: the load engine's records, the platform's after the run -----------------
ACKED = "acked_transactions.jsonl"
UNACKED = "unacked_transactions.jsonl"
AUDIT = "audit.json"
LEDGER = "ledger_export.parquet"
PAYMENTS = "payments_export.parquet"
# --- the load engine's working folder ----------------------------------------------------
LOAD_DIR = "load"
LOAD_SCENARIO = "scenario.json"
LIVE_NAME = "live.jsonl"
LIVE = f"{LOAD_DIR}/{LIVE_NAME}"  # relative to the run directory
MASTER_LOG = "master.log"
WORKER_ACKS = "acks-worker-{}.jsonl"
WORKER_UNACKED = "unacked-worker-{}.jsonl"
WORKER_LOG = "worker-{}.log"
WORKER_RAW_SAMPLES = "raw-samples-worker-{}.csv"
# --- the bundled platform's state folder (data, logs, stack.json) -------------------------
PLATFORM_DIR = "platform"
# --- room held for the last words of a run on a full disk --------------------------------
SPACE_RESERVE = ".space-reserve-{}"
# --- derived outputs (``spikekit report``, ``spikekit compare``) -------------------------
REPORT = "report.html"
SUMMARY = "summary.json"
JUNIT = "junit.xml"
COMPARE = "compare.html"
# --- suffixes of files in the making or set aside ----------------------------------------
PARTIAL = ".partial"  # written, then renamed over the file: a reader never sees half
TMP = ".tmp"
SALVAGE = ".salvage"  # salvage's file in the making, linked under its name if still absent
TORN = ".torn"  # an unreadable file salvage set aside, bytes kept


def worker_acks(index: int) -> str:
    """``acks-worker-N.jsonl`` (in :data:`LOAD_DIR`)."""
    return WORKER_ACKS.format(index)


def worker_unacked(index: int) -> str:
    return WORKER_UNACKED.format(index)


def worker_log(index: int) -> str:
    return WORKER_LOG.format(index)


def worker_raw_samples(index: int) -> str:
    return WORKER_RAW_SAMPLES.format(index)


def records_of_worker(index: int) -> tuple[str, str]:
    """The files of worker ``index``'s records, relative to the run directory (the
    ``records_of`` of a ``toolkit_incident``)."""
    return (f"{LOAD_DIR}/{worker_acks(index)}", f"{LOAD_DIR}/{worker_unacked(index)}")


def unacked_path(acks_path: Path) -> Path:
    """``.../acks-worker-0.jsonl`` → ``.../unacked-worker-0.jsonl``."""
    prefix, unacked_prefix = WORKER_ACKS.split("worker")[0], WORKER_UNACKED.split("worker")[0]
    name = acks_path.name
    if name.startswith(prefix):
        return acks_path.with_name(unacked_prefix + name.removeprefix(prefix))
    return acks_path.with_name(f"{unacked_prefix}{name}")


def glob_of(pattern: str) -> str:
    """``acks-worker-{}.jsonl`` → ``load/acks-worker-*.jsonl`` (relative to the run dir)."""
    return f"{LOAD_DIR}/{pattern.format('*')}"


def with_suffix(path: Path, suffix: str) -> Path:
    """``path`` with ``suffix`` appended to its name (``x.parquet`` → ``x.parquet.torn``)."""
    return path.with_name(path.name + suffix)


@dataclass(frozen=True)
class Artifact:
    """One entry of the layout, as ``docs/run-directory.md`` lists it."""

    name: str
    written_by: str
    required: bool = False


#: Every entry of a run directory (directories end with ``/``; ``N`` is a worker's index).
ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(META, "runner", required=True),
    Artifact(SCENARIO, "runner", required=True),
    Artifact(JOURNAL, "chaos engine, runner", required=True),
    Artifact(CAPACITY_PLAN, "runner (capacity plan)"),
    Artifact(TIMESERIES, "load recorder", required=True),
    Artifact(PLAYERS, "load recorder", required=True),
    Artifact(HISTOGRAMS, "load recorder"),
    Artifact(GENERATOR, "load recorder"),
    Artifact(LATENCY_HISTOGRAMS, "load recorder"),
    Artifact(f"{LATENCY_HISTOGRAMS_PARTS}/", "load recorder (until merged)"),
    Artifact(PLATFORM_METRICS, "telemetry"),
    Artifact(f"{PLATFORM_METRICS_PARTS}/", "telemetry (until merged)"),
    Artifact(ACKED, "load personas"),
    Artifact(UNACKED, "load personas"),
    Artifact(AUDIT, "platform audit after the run"),
    Artifact(LEDGER, "platform, after the run"),
    Artifact(PAYMENTS, "platform, after the run"),
    Artifact(f"{LOAD_DIR}/", "load runner"),
    Artifact(f"{LOAD_DIR}/{LOAD_SCENARIO}", "load runner"),
    Artifact(LIVE, "load master"),
    Artifact(f"{LOAD_DIR}/{MASTER_LOG}", "load runner"),
    Artifact(f"{LOAD_DIR}/{WORKER_LOG.format('N')}", "load runner"),
    Artifact(f"{LOAD_DIR}/{WORKER_ACKS.format('N')}", "load workers"),
    Artifact(f"{LOAD_DIR}/{WORKER_UNACKED.format('N')}", "load workers"),
    Artifact(f"{LOAD_DIR}/{WORKER_RAW_SAMPLES.format('N')}", "load workers (raw samples)"),
    Artifact(f"{PLATFORM_DIR}/", "bundled platform"),
    Artifact(SPACE_RESERVE.format("journal"), "runner"),
    Artifact(SPACE_RESERVE.format("report"), "runner"),
    Artifact(REPORT, "report"),
    Artifact(SUMMARY, "report"),
    Artifact(JUNIT, "report"),
    Artifact(COMPARE, "compare"),
)
