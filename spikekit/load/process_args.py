"""The command lines of the Locust processes: one model each, built and parsed here only.

``python -m spikekit.load.master`` takes :class:`MasterArgs`, ``python -m
spikekit.load.worker`` takes :class:`WorkerArgs`. The runner (and ``spikekit worker``) build
the model and call :meth:`ProcessArgs.command`; the process calls :meth:`ProcessArgs.parse`
on its ``sys.argv``. A field ``some_name`` is the flag ``--some-name VALUE``;
:meth:`~ProcessArgs.to_argv` leaves out the fields at their default, so that
``parse(to_argv(args)) == args``. A bad command line raises :class:`ArgvError`, which names
every flag at fault and what was expected; the processes exit with
:data:`EXIT_BAD_ARGV`.

Also here: the exit codes the runner reads (:data:`EXIT_WRITE_FAILED`).
No gevent, no Locust: the orchestrating process imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spikekit.errors import LoadError

DEFAULT_MASTER_PORT = 5557
DEFAULT_CONNECTIONS = 512  # a worker's shared keep-alive pool to the target
#: The command line is not one of ours: the process does not start.
EXIT_BAD_ARGV = 2
#: The process could not write the run's files (disk full): it ends, the runner says why.
EXIT_WRITE_FAILED = 5


class ArgvError(LoadError):
    """A Locust process's command line is wrong: ``problems`` is ``(flag, expected)``."""

    def __init__(self, prog: str, problems: list[tuple[str, str]]) -> None:
        self.prog = prog
        self.problems = problems
        lines = [f"{prog}: invalid command line"]
        lines += [f"  {flag}: {expected}" for flag, expected in problems]
        super().__init__("\n".join(lines))


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


class ProcessArgs(BaseModel):
    """The arguments of one Locust process (a subclass per process)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The module run with ``python -m``; its name in error messages.
    module: ClassVar[str]
    prog: ClassVar[str]

    def to_argv(self) -> list[str]:
        """``--flag value`` for every field not at its default, in field order."""
        argv: list[str] = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None or (not info.is_required() and value == info.default):
                continue
            argv += [_flag(name), str(value)]
        return argv

    def command(self, python: str) -> list[str]:
        """The whole command line: ``python -m module --flag value ...``."""
        return [python, "-m", self.module, *self.to_argv()]

    @classmethod
    def parse(cls, argv: Sequence[str]) -> Self:
        """The model of ``argv`` (without the program name); :class:`ArgvError` if bad."""
        flags = {_flag(name): name for name in cls.model_fields}
        values: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        tokens = list(argv)
        while tokens:
            token = tokens.pop(0)
            flag, has_value, inline = token.partition("=")
            if flag not in flags:
                known = ", ".join(flags)
                problems.append((token, f"unknown argument (expected one of {known})"))
                continue
            if has_value:
                value = inline
            elif tokens and not (tokens[0].startswith("--") and tokens[0].split("=")[0] in flags):
                value = tokens.pop(0)
            else:
                problems.append((flag, "expected a value after it"))
                continue
            if flags[flag] in values:
                problems.append((flag, "given twice"))
            values[flags[flag]] = value
        try:
            args = cls.model_validate(values)
        except ValidationError as error:
            for item in error.errors():
                field = str(item["loc"][0]) if item["loc"] else ""
                flag = _flag(field) if field else "<command line>"
                problems.append((flag, f"{item['msg']} (got {values.get(field, 'nothing')!r})"))
            raise ArgvError(cls.prog, problems) from None
        if problems:
            raise ArgvError(cls.prog, problems)
        return args


class MasterArgs(ProcessArgs):
    """``python -m spikekit.load.master``: one run's Locust master."""

    module: ClassVar[str] = "spikekit.load.master"
    prog: ClassVar[str] = "spikekit-load-master"

    scenario_file: Path  # the scenario as JSON
    host: str = Field(min_length=1)  # base URL of the target
    bind: str = Field("127.0.0.1", min_length=1)
    port: int = Field(ge=1, le=65535)
    expect_workers: int = Field(ge=1)
    run_dir: Path
    live: Path  # the live lines, read by the runner
    deadline: float = Field(ge=0)  # seconds after t = 0: the master stops its players
    stop_timeout: float = Field(10.0, ge=0)
    startup_timeout: float = Field(60.0, gt=0)


class WorkerArgs(ProcessArgs):
    """``python -m spikekit.load.worker``: a Locust worker, local or on another machine."""

    module: ClassVar[str] = "spikekit.load.worker"
    prog: ClassVar[str] = "spikekit-load-worker"

    master: str = Field("127.0.0.1", min_length=1)  # host of the Locust master
    master_port: int = Field(DEFAULT_MASTER_PORT, ge=1, le=65535)
    connections: int = Field(DEFAULT_CONNECTIONS, ge=1)  # pooled connections to the target
    acks_file: Path | None = None  # acked transactions (None: ./spikekit-acks-HOST-PID.jsonl)
    network_timeout: float = Field(30.0, gt=0)
    connect_timeout: float = Field(10.0, gt=0)
    raw_samples: Path | None = None  # CSV of every request (None: none)
