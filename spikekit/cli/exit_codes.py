"""Exit codes, identical for every command: the one table, here.

====  =========  ===========================================================================
code  name       when
====  =========  ===========================================================================
0     OK         the command did what was asked: a run passed (or degraded and recovered),
                 no regression, the audit and the required checks passed, the platform is
                 up; also "nothing to do" that is a success: ``chaos revert --all`` on a
                 journal with every fault already off, ``platform down`` with nothing up
1     FAILED     a judged check failed: an SLO, a recovery or the wallet audit (``run``,
                 ``report``, ``platform audit``), a regression (``compare``), a required
                 ``doctor`` check, or ``platform status`` finds no platform running
2     USAGE      usage or configuration error, found before anything starts: a bad option
                 value, an invalid or oversized scenario file, a fault that does not fit,
                 a target off this machine without ``--allow-target``, or nothing to act on
                 (no such run directory, no journal to revert from, no platform to audit
                 or inject into)
3     ABORTED    the command could not finish: a run ended early (stop condition, load
                 generator failure, Ctrl-C), or the environment failed (the platform could
                 not start, Toxiproxy or the database did not answer, a fault could not be
                 injected or reverted)
====  =========  ===========================================================================

:func:`exit_code_for` maps every :class:`~spikekit.errors.SpikekitError` the CLI catches:
ConfigError (and its subclasses ScenarioError, InputLimitError, FaultConfigError,
UnsafeTargetError) → 2; everything else (RunAborted, StackError, ToxiproxyError,
ChaosError, LoadError) → 3. Code 1 is never an exception: only the commands that judge
something return it. Ctrl-C outside a run is 3 as well.
"""

from __future__ import annotations

from enum import IntEnum

from spikekit.errors import ConfigError, SpikekitError


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a judged check failed: an SLO, a recovery, the audit, a regression ...
    USAGE = 2  # usage or configuration error, or nothing to act on
    ABORTED = 3  # aborted, or the environment failed (platform, Toxiproxy, a fault)


def exit_code_for(error: SpikekitError) -> ExitCode:
    """The exit code of an error that reached the CLI (see the module's table)."""
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    return ExitCode.ABORTED
