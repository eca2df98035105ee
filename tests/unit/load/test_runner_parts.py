"""The orchestrating side without processes: target safety, no gevent, CLI argv (the live
tail is tests/unit/rundir/test_live.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spikekit.cli.worker import worker_argv
from spikekit.errors import UnsafeTargetError
from spikekit.load.target import check_target


def test_loopback_targets_pass() -> None:
    check_target("http://127.0.0.1:8080")
    check_target("http://127.3.4.5")
    check_target("http://localhost:1")


def test_outside_targets_are_refused_unless_allowed() -> None:
    with pytest.raises(UnsafeTargetError, match=r"not on this machine \(127\.0\.0\.0/8\)"):
        check_target("http://10.1.2.3:8080")
    check_target("http://10.1.2.3:8080", allow_targets=("10.1.2.3",))


def test_the_orchestrating_side_never_imports_gevent_or_locust() -> None:
    code = (
        "import sys, spikekit.load, spikekit.load.runner, spikekit.cli.worker;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gevent', 'locust')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_worker_becomes_the_load_worker() -> None:
    argv = worker_argv("10.0.0.5", 6000, Path("acks.jsonl"), 128)
    assert argv[1:] == [
        "-m", "spikekit.load.worker", "--master", "10.0.0.5", "--master-port", "6000",
        "--connections", "128", "--acks-file", "acks.jsonl",
    ]  # fmt: skip
