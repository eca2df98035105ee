"""The Locust processes' command lines and messages: one model each, round trips, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikekit.errors import LoadError
from spikekit.load.process_args import ArgvError, MasterArgs, WorkerArgs
from spikekit.load.protocol import ProtocolError, Setup, WorkerSecond
from tests.unit.load.conftest import CLOSED, OPEN, scenario

MASTER = MasterArgs(
    scenario_file=Path("/run/load/scenario.json"),
    host="http://127.0.0.1:8080",
    bind="0.0.0.0",
    port=6001,
    expect_workers=3,
    run_dir=Path("/run"),
    live=Path("/run/load/live.jsonl"),
    deadline=81.125,
    stop_timeout=12.5,
    startup_timeout=60.0,
)


@pytest.mark.parametrize(
    "args",
    [
        MASTER,
        WorkerArgs(),
        WorkerArgs(master="10.0.0.5", master_port=6000, acks_file=Path("a.jsonl")),
        WorkerArgs(
            connections=64,
            network_timeout=2.5,
            connect_timeout=0.75,
            raw_samples=Path("/run/load/raw-samples-worker-0.csv"),
        ),
    ],
)
def test_parse_reads_back_what_to_argv_wrote(args: MasterArgs | WorkerArgs) -> None:
    assert type(args).parse(args.to_argv()) == args


def test_command_runs_the_process_module_with_its_flags() -> None:
    command = MASTER.command("python3")
    assert command[:3] == ["python3", "-m", "spikekit.load.master"]
    assert command[command.index("--expect-workers") + 1] == "3"
    assert "--startup-timeout" not in command  # at its default: left out
    assert WorkerArgs().command("py") == ["py", "-m", "spikekit.load.worker"]


def test_a_bad_command_line_names_every_flag_at_fault() -> None:
    argv = ["--master-port", "high", "--connections", "0", "--colour", "red", "--master"]
    with pytest.raises(ArgvError) as caught:
        WorkerArgs.parse(argv)
    error = caught.value
    assert isinstance(error, LoadError)
    flags = [flag for flag, _ in error.problems]
    assert flags == ["--colour", "red", "--master", "--master-port", "--connections"]
    text = str(error)
    assert text.startswith("spikekit-load-worker: invalid command line")
    assert "--master-port: Input should be a valid integer" in text and "'high'" in text
    assert "--connections: Input should be greater than or equal to 1" in text
    assert "--master: expected a value after it" in text


def test_a_master_without_its_required_flags_says_which() -> None:
    with pytest.raises(ArgvError, match=r"--scenario-file: Field required") as caught:
        MasterArgs.parse(["--port=6000"])
    assert "--port" not in [flag for flag, _ in caught.value.problems]


@pytest.mark.parametrize("load", [CLOSED, OPEN])
def test_the_setup_carries_the_scenario_as_json_and_validates_it(load: dict[str, object]) -> None:
    setup = Setup(scenario=scenario(load), worker_index=1, workers_total=2, started_at=1.5)
    wire = setup.to_wire()
    assert isinstance(wire["scenario"], dict)
    assert Setup.from_wire(wire) == setup


def test_a_bad_message_names_the_message_and_the_field() -> None:
    setup = Setup(scenario=scenario(CLOSED), worker_index=0, workers_total=1, started_at=0.0)
    wire = {**setup.to_wire(), "workers_total": 0}
    with pytest.raises(ProtocolError, match=r"invalid spikekit_setup message\n  workers_total"):
        Setup.from_wire(wire)
    with pytest.raises(ProtocolError, match=r"invalid spikekit_second message\n  rss: Field"):
        WorkerSecond.from_wire({"worker": "w", "t": 0, "users": 0, "players": 0, "cpu": 0.0})
