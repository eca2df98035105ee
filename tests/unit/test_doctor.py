"""``spikekit doctor`` reports this machine's real limits."""

from __future__ import annotations

import json
import resource
from pathlib import Path

from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.machine import read_port_range


def _checks() -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output  # nothing required is missing here
    body = json.loads(result.stdout)
    assert body["ok"] is True
    return {c["name"]: c for c in body["checks"]}


def test_reports_the_real_file_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    value = str(_checks()["open files"]["value"])
    assert value.startswith(f"{soft} (hard {hard};")
    assert ("cannot be raised" in value) == (soft == hard)


def test_reports_the_ephemeral_port_range() -> None:
    low, high = read_port_range() or (0, 0)
    assert low and high
    assert f"{low}-{high} ({high - low + 1} per destination" in str(
        _checks()["ephemeral ports"]["value"]
    )


def test_every_check_says_what_a_missing_piece_costs() -> None:
    for check in _checks().values():
        if check["status"] != "ok" and check["name"] != "ephemeral ports":
            assert check["cost"], check


def test_port_range_parser_tolerates_a_missing_file(tmp_path: Path) -> None:
    assert read_port_range(tmp_path / "absent") is None
    (tmp_path / "range").write_text("1024\t65535\n")
    assert read_port_range(tmp_path / "range") == (1024, 65535)
