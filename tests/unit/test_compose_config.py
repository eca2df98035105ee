"""``python -m spikekit.reference_platform.compose``: the compose file's configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "spikekit.reference_platform.compose"]


def test_writes_env_files_only_its_owner_reads_and_the_targets(tmp_path: Path) -> None:
    folder = tmp_path / "compose"
    result = subprocess.run(
        [*COMMAND, str(folder), "--players", "10"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    targets = json.loads((folder / "targets.json").read_text())
    assert f"players: {targets['players_url']}" in result.stdout
    for name in targets["containers"]:
        assert (folder / "env" / f"{name}.env").stat().st_mode & 0o077 == 0, name


def test_a_folder_it_cannot_write_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = subprocess.run(
        [*COMMAND, str(blocker / "compose")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith(
        f"{blocker / 'compose'}: cannot write the configuration there (Not a directory)"
    )
    assert "Traceback" not in result.stderr
