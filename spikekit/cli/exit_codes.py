"""Exit codes, identical for every command."""

from __future__ import annotations

from enum import IntEnum

from spikekit.errors import ConfigError, RunAborted, SpikekitError


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # an SLO, the audit, a regression or a required check failed
    USAGE = 2  # usage or configuration error
    ABORTED = 3  # run aborted: stop condition, generator failure, Ctrl-C


def exit_code_for(error: SpikekitError) -> ExitCode:
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    if isinstance(error, RunAborted):
        return ExitCode.ABORTED
    return ExitCode.FAILED
