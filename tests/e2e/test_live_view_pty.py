"""The live view in a real pseudo-terminal: a short ``spikekit run`` with a network fault.

The example server of examples/own-platform (the ``lucky`` fixture: a real Starlette app
behind a real Toxiproxy, stopped by PID) is the cheapest target with a fault. The run's
standard output and error are the slave side of a pty sized 160×50 (TIOCSWINSZ), so Rich
sees a terminal; the test reads the master side until the run exits and looks for the
live view's parts in what was drawn, then for the run's usual verdict and exit code.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from typing import Any

from spikekit.rundir.layout import SUMMARY
from tests.e2e.lucky import Lucky, lucky_scenario

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def _shorter(data: dict[str, Any]) -> None:
    """10 s of load instead of 17; the 400 ms fault from 3 s to 6 s."""
    data["load"]["stages"] = [
        {"duration": "2s", "players": 6, "ramp": "linear"},
        {"duration": "8s", "players": 6},
    ]
    [fault] = data["faults"]
    fault["at"], fault["duration"] = "3s", "3s"
    data["steady_state"] = None


def _run_in_a_pty(argv: list[str], timeout_s: float) -> tuple[int, str]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(
        [sys.executable, "-m", "spikekit", *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer of the slave side is gone
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
        else:
            raise AssertionError("the run did not end in time")
        code = process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()  # by its PID: the process this test started
            process.wait(10)
        os.close(master)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_a_run_in_a_terminal_shows_the_live_view(lucky: Lucky) -> None:
    scenario = lucky_scenario(lucky, "scenario-journeys.yaml", _shorter)
    out = lucky.folder / "runs"
    argv = ["run", str(scenario), "--out", str(out), "--toxiproxy", lucky.toxiproxy]
    code, text = _run_in_a_pty([*argv, "--workers", "1"], timeout_s=90)
    [run_dir] = [p for p in out.iterdir() if p.is_dir()]
    summary = json.loads((run_dir / SUMMARY).read_text())
    # the live view: the progress of the run, its stage, the SLOs, the endpoints, the spark
    assert re.search(r"spikekit run lucky-ledger-journeys\s+━+", text), text
    assert re.search(r"\d+ s of 10 s \(\d+%\)", text), text
    assert "stage 1/2 ramp to 6 players (0–2 s)" in text, text
    assert "stage 2/2 hold to 6 players (2–10 s)" in text, text
    assert re.search(r"wager p95 +latency_p95 POST /v2/wagers .*≤ 250 +(met|BREACHED)", text)
    assert "endpoints (last second, hottest first)" in text, text
    assert re.search(r"POST /v2/wagers +\d+ +\d+ ms +\d+\.\d%", text), text
    assert re.search(r"req/s +[▁▂▃▄▅▆▇█]+", text), text
    assert re.search(r"slow-api network\.latency on lucky-api: \d s left", text), text
    # the event lines, above the region, and no log lines: the view was live
    assert "injected slow-api: network.latency" in text and "reverted slow-api" in text
    assert not re.search(r"^t \d+ s  players ", text, re.MULTILINE), text
    # and the run ended as a run does: its verdict, its exit code, its report
    verdict = summary["verdict"]
    assert code == verdict["exit_code"] and code in (0, 1), text
    assert verdict["verdict"] in text and "report: " in text
    assert "live view failed" not in text
