"""Salvaging a run whose process was killed, on hand-written working files."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from spikekit.analysis.rundir import load_run
from spikekit.cli.main import app
from spikekit.errors import ConfigError
from spikekit.reports.build import build_report
from spikekit.run.salvage import salvage
from spikekit.rundir import tables
from spikekit.rundir.layout import PLATFORM_METRICS_PARTS as PARTS_DIR
from spikekit.rundir.live import SecondSummary
from spikekit.rundir.live import read_live as parse_live
from spikekit.rundir.meta import IN_PROGRESS
from spikekit.rundir.tables import METRICS_SCHEMA as METRICS


def timeseries_table(seconds: tuple[SecondSummary, ...]) -> pa.Table:
    """What salvage writes as ``timeseries.parquet`` from the ``second`` lines."""
    return tables.timeseries_table(tables.rows_from_seconds(seconds).timeseries)


def players_table(seconds: tuple[SecondSummary, ...]) -> pa.Table:
    return tables.players_table(tables.rows_from_seconds(seconds).players)


T0 = 1_800_000_000.0  # the load's t = 0
LOGIN, LOBBY = "POST /api/login", "GET /api/lobby"

runner = CliRunner()


def second(t: int, requests: int = 4, failures: int = 0) -> dict[str, object]:
    return {
        "event": "second",
        "t": t,
        "target_players": 10,
        "actual_players": 9 + t % 2,
        "requests": requests,
        "failures": failures,
        "generator_errors": 0,
        "p50_ms": 20.0,
        "p95_ms": 80.0,
        "p99_ms": 95.0,
        "max_ms": 120.0,
        "generator_cpu_max": 12.5,
        "endpoints": {LOGIN: [requests - 1, failures, 80.0], LOBBY: [1, 0, None]},
    }


def live_text(seconds: int, torn: bool = True) -> str:
    lines = [
        {"event": "listening", "port": 5557, "expect_workers": 2},
        {"event": "started", "started_at": T0, "workers": 2},
        *(second(t) for t in range(seconds)),
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    if torn:  # the kill came while the master was writing its next line
        text += json.dumps(second(seconds))[:40]
    return text


def journal_lines(*, reverted_by: str | None = None) -> list[dict[str, object]]:
    fault = {"fault_id": "slow-redis", "fault": "network.latency", "target": "gateway-redis"}
    lines: list[dict[str, object]] = [
        {"ts": T0, "t": 0.1, "event": "run_started", "scenario": "s", "planned_duration_s": 60},
        {
            "ts": T0 + 3.1,
            "t": 3.1,
            "event": "fault_injected",
            **fault,
            "planned_t": 3.0,
            "started_t": 3.0,
            "params": {"latency_ms": 250},
            "revert": {"kind": "none", "reason": "test"},
        },
    ]
    if reverted_by is not None:
        t = 30.0 if reverted_by == "journal" else 8.0
        lines.append(
            {
                "ts": T0 + t,
                "t": t,
                "event": "fault_reverted",
                **fault,
                "ok": True,
                "error": None,
                "planned_t": None,
                "outcome": "toxic removed",
                "source": reverted_by,
            }
        )
    return lines


def killed_run(root: Path, *, seconds: int = 12, reverted_by: str | None = None) -> Path:
    """What a SIGKILLed ``spikekit run`` leaves: its start-of-run files and load/."""
    run_dir = root / "20260101-000000-killed"
    (run_dir / "load").mkdir(parents=True)
    meta = {
        "format_version": 1,
        "run_id": run_dir.name,
        "scenario": "killed",
        "started_at": T0 - 20.0,  # the command's start, before the platform was up
        "ended_at": None,
        "status": "aborted",
        "abort_reason": IN_PROGRESS,
        "target": "http://127.0.0.1:8080",
        "machine": {"hostname": "test", "cpus": 2},
    }
    (run_dir / "meta.json").write_text(json.dumps(meta))
    (run_dir / "scenario.yaml").write_text(
        "name: killed\nslos:\n"
        "  - {name: errors, metric: error_rate, threshold: 0.5}\n"
        f"  - {{name: login p99, metric: latency_p99, endpoint: '{LOGIN}', threshold: 500}}\n"
    )
    journal = "".join(json.dumps(line) + "\n" for line in journal_lines(reverted_by=reverted_by))
    (run_dir / "journal.jsonl").write_text(journal)
    (run_dir / "load" / "live.jsonl").write_text(live_text(seconds))
    ack = {"kind": "bet", "player_id": "p1", "amount": 100, "balance_after": 900}
    (run_dir / "load" / "acks-worker-0.jsonl").write_text(
        json.dumps({"ts": T0 + 1, **ack, "tx_id": "a:1"})
        + "\n"
        + json.dumps({"ts": T0 + 3, **ack, "tx_id": "a:3"})[:30]  # torn
    )
    (run_dir / "load" / "acks-worker-1.jsonl").write_text(
        json.dumps({"ts": T0 + 2, **ack, "tx_id": "a:2"}) + "\n"
    )
    (run_dir / "load" / "unacked-worker-0.jsonl").write_text("")
    (run_dir / "platform_metrics.parquet").write_bytes(b"PAR1")  # a writer never closed
    return run_dir


# --- the pure parts ----------------------------------------------------------------------


def test_parse_live_skips_a_torn_last_line_and_garbage() -> None:
    text = live_text(3).replace('{"event": "listening"', "not json\n" + '{"event": "listening"')
    log = parse_live(text)
    assert log.started_at == T0
    assert [s.t for s in log.seconds] == [0, 1, 2]
    assert log.torn_last_line and log.skipped_lines == 1 and not log.ended
    assert log.seconds[0].endpoints[LOBBY][0] == 1 and math.isnan(
        log.seconds[0].endpoints[LOBBY][2]
    )


def test_parse_live_without_a_torn_line() -> None:
    log = parse_live(
        live_text(2, torn=False) + json.dumps({"event": "ended", "status": "completed"}) + "\n"
    )
    assert not log.torn_last_line and log.ended and len(log.seconds) == 2


def test_parse_live_of_nothing() -> None:
    log = parse_live("")
    assert log.seconds == () and log.started_at is None and not log.torn_last_line


def test_timeseries_keeps_what_live_has_and_leaves_the_rest_nan() -> None:
    frame = timeseries_table(parse_live(live_text(2)).seconds).to_pandas()
    assert list(frame["endpoint"]) == [LOBBY, LOGIN, "*", LOBBY, LOGIN, "*"]
    login = frame[frame["endpoint"] == LOGIN].iloc[0]
    assert (login["requests"], login["failures"], login["p95_ms"]) == (3, 0, 80.0)
    assert all(math.isnan(login[c]) for c in ("p50_ms", "p99_ms", "max_ms"))
    star = frame[frame["endpoint"] == "*"].iloc[0]
    assert (star["requests"], star["p50_ms"], star["p99_ms"], star["max_ms"]) == (4, 20, 95, 120)
    assert str(frame["t"].dtype) == "int64" and str(frame["requests"].dtype) == "int64"


def test_players_table() -> None:
    frame = players_table(parse_live(live_text(3)).seconds).to_pandas()
    assert frame.to_dict("list") == {
        "t": [0, 1, 2],
        "target_players": [10, 10, 10],
        "actual_players": [9, 10, 9],
    }


# --- the entry point -----------------------------------------------------------------------


def test_salvage_rebuilds_the_missing_files_and_marks_the_run_aborted(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    said: list[str] = []
    result = salvage(run_dir, say=said.append)
    assert result is not None
    assert result.seconds == 12 and result.torn_last_line
    assert set(result.rebuilt) == {
        "timeseries.parquet",
        "players.parquet",
        "generator.parquet",
        "acked_transactions.jsonl",
        "unacked_transactions.jsonl",
    }
    assert result.set_aside == ("platform_metrics.parquet",)
    assert (run_dir / "platform_metrics.parquet.torn").read_bytes() == b"PAR1"
    assert result.faults_still_on == ("slow-redis",)
    assert result.end_t == 12.0  # its last second; the fault was injected at 3.1
    assert any("rebuilt timeseries.parquet" in line for line in said)

    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "aborted" and meta["started_at"] == T0
    assert meta["ended_at"] == T0 + 12.0
    assert "killed?" in meta["abort_reason"] and "t≈12 s" in meta["abort_reason"]
    assert "load/live.jsonl" in meta["abort_reason"]
    assert "p50/p99/max unknown" in meta["abort_reason"]
    assert meta["machine"] == {"hostname": "test", "cpus": 2}  # the rest untouched
    assert "profile" not in meta

    acked = (run_dir / "acked_transactions.jsonl").read_text().splitlines()
    assert [json.loads(line)["tx_id"] for line in acked] == ["a:1", "a:2"]  # torn one dropped
    generator = pd.read_parquet(run_dir / "generator.parquet")
    assert set(generator["metric"]) == {"generator_cpu_percent", "generator_errors"}
    assert set(generator["labels"]) == {"node=all"}
    assert not list(run_dir.glob("*.salvage"))


def test_platform_metrics_are_merged_from_the_recorders_part_files(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    (run_dir / "platform_metrics.parquet").unlink()  # this recorder writes parts instead
    parts = run_dir / PARTS_DIR
    parts.mkdir()
    for index, t in enumerate((0, 10), start=1):
        rows = {"t": [t, t + 1], "service": ["wallet"] * 2, "metric": ["up"] * 2}
        table = pa.table({**rows, "labels": ["", ""], "value": [1.0, 0.0]}, schema=METRICS)
        pq.write_table(table, parts / f"part-{index:06d}.parquet")
    (parts / "part-000003.parquet.tmp").write_bytes(b"PAR1")  # the kill came mid-write
    said: list[str] = []
    result = salvage(run_dir, say=said.append)
    assert result is not None and "platform_metrics.parquet" in result.rebuilt
    assert result.set_aside == ()
    assert not parts.exists()
    metrics = pd.read_parquet(run_dir / "platform_metrics.parquet")
    assert metrics["t"].tolist() == [0, 1, 10, 11]
    assert "platform metrics merged" in result.abort_reason
    loaded = load_run(run_dir).platform_metrics
    assert loaded[loaded["metric"] == "up"]["value"].tolist() == [1.0, 0.0, 1.0, 0.0]


def test_the_salvaged_run_reports_aborted_with_its_partial_data(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    salvage(run_dir)
    built = build_report(run_dir)
    summary = built.summary
    assert summary.verdict.aborted and summary.verdict.exit_code == 3
    assert summary.verdict.verdict == "FAILED"
    assert summary.run.status == "aborted" and "killed?" in (summary.run.abort_reason or "")
    assert summary.run.duration_s == 12
    assert summary.key_numbers.total_requests == 48
    [fault] = summary.faults
    assert fault.outcome == "not reverted" and fault.reverted_t is None
    assert summary.audit.status == "skipped"
    assert built.html.is_file() and "killed?" in built.html.read_text()


def test_an_slo_on_an_unknown_percentile_has_no_value(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    salvage(run_dir)
    login_p99 = next(s for s in build_report(run_dir).summary.slos if s.name == "login p99")
    assert login_p99.worst_value is None  # unknown, not invented


def test_a_fault_taken_off_by_revert_all_is_not_reverted_by_the_run(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path, reverted_by="journal")
    result = salvage(run_dir)
    assert result is not None and result.faults_still_on == ()
    assert result.end_t == 12.0  # the revert --all at t=30 is not the run's
    [window] = load_run(run_dir).faults
    assert window.reverted_t is None


def test_a_fault_the_run_reverted_stays_reverted(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path, reverted_by="live")
    salvage(run_dir)
    [window] = load_run(run_dir).faults
    assert window.reverted_t == 8.0 and window.revert_ok


def test_salvage_never_overwrites_a_file_that_exists(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    players = pd.DataFrame({"t": [0], "target_players": [1], "actual_players": [1]})
    players.to_parquet(run_dir / "players.parquet")
    (run_dir / "acked_transactions.jsonl").write_text("")
    result = salvage(run_dir)
    assert result is not None
    assert (
        "players.parquet" not in result.rebuilt and "acked_transactions.jsonl" not in result.rebuilt
    )
    assert "timeseries.parquet" in result.rebuilt
    assert len(pd.read_parquet(run_dir / "players.parquet")) == 1
    assert (run_dir / "acked_transactions.jsonl").read_text() == ""


def test_salvage_runs_once(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    assert salvage(run_dir) is not None
    meta = (run_dir / "meta.json").read_text()
    assert salvage(run_dir) is None
    assert (run_dir / "meta.json").read_text() == meta


def test_a_run_that_ended_is_left_alone(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    meta = json.loads((run_dir / "meta.json").read_text())
    meta.update(ended_at=T0 + 60, status="completed", abort_reason=None)
    (run_dir / "meta.json").write_text(json.dumps(meta))
    assert salvage(run_dir) is None
    assert not (run_dir / "timeseries.parquet").exists()
    with pytest.raises(ConfigError, match=r"timeseries\.parquet"):
        load_run(run_dir)


def test_without_live_jsonl_the_error_names_what_is_missing(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    (run_dir / "load" / "live.jsonl").unlink()
    meta = (run_dir / "meta.json").read_text()
    with pytest.raises(ConfigError) as caught:
        salvage(run_dir)
    message = str(caught.value)
    for name in ("timeseries.parquet", "players.parquet", "load/live.jsonl"):
        assert name in message
    assert (run_dir / "meta.json").read_text() == meta
    assert not (run_dir / "acked_transactions.jsonl").exists()


def test_live_jsonl_without_a_second_is_an_error(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    (run_dir / "load" / "live.jsonl").write_text(live_text(0))
    with pytest.raises(ConfigError, match="no recorded second"):
        salvage(run_dir)


def test_a_run_whose_load_master_is_alive_is_not_salvaged(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    live = run_dir / "load" / "live.jsonl"
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "--live", str(live)]
    )
    try:
        deadline = time.monotonic() + 10
        while str(live) not in psutil.Process(sleeper.pid).cmdline():  # exec'd yet?
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(ConfigError, match="still going") as caught:
            salvage(run_dir)
        assert f"PID {sleeper.pid}" in str(caught.value)
        assert not (run_dir / "timeseries.parquet").exists()
    finally:
        sleeper.kill()
        sleeper.wait(5)


def test_a_torn_last_journal_line_is_skipped(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    with (run_dir / "journal.jsonl").open("a") as journal:
        journal.write('{"ts": 1800000009.0, "t": 9.0, "event": "fault_inj')
    salvage(run_dir)
    assert [e.event for e in load_run(run_dir).events] == ["run_started", "fault_injected"]


# --- through the CLI ----------------------------------------------------------------------


def test_report_salvages_a_killed_run_and_exits_3(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 3, result.output
    output = result.output.replace("\n", " ")
    assert "salvaged 12 s" in output and "rebuilt: timeseries.parquet" in output
    assert "chaos revert --all" in output and "aborted" in output
    for name in ("report.html", "summary.json", "junit.xml"):
        assert (run_dir / name).is_file()
    again = runner.invoke(app, ["report", str(run_dir)])
    assert again.exit_code == 3 and "salvaged" not in again.output


def test_compare_salvages_a_killed_run_first(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    out = tmp_path / "compare.html"
    result = runner.invoke(app, ["compare", str(run_dir), str(run_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output  # the same run: nothing regressed
    assert "salvaged 12 s" in result.output.replace("\n", " ") and out.is_file()


def test_report_without_live_jsonl_exits_2_naming_it(tmp_path: Path) -> None:
    run_dir = killed_run(tmp_path)
    (run_dir / "load" / "live.jsonl").unlink()
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2
    assert "load/live.jsonl" in result.output.replace("\n", "")
