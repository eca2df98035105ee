"""Exit codes of the CLI: the table of :mod:`spikekit.exit_codes`, and errors mapped onto it.

The numbers are defined once, in :class:`spikekit.exit_codes.ExitCode` (re-exported here),
because ``summary.json`` carries a run's code too (that module says why).

:func:`exit_code_for` maps every :class:`~spikekit.errors.SpikekitError` the CLI catches:
ConfigError (and its subclasses ScenarioError, InputLimitError, FaultConfigError,
UnsafeTargetError) → 2; everything else (RunAborted, StackError, ToxiproxyError,
ChaosError, LoadError) → 3. Code 1 is never an exception: only the commands that judge
something return it. Ctrl-C outside a run is 3 as well.
"""

from __future__ import annotations

from spikekit.errors import ConfigError, SpikekitError
from spikekit.exit_codes import ExitCode

__all__ = ["ExitCode", "exit_code_for"]


def exit_code_for(error: SpikekitError) -> ExitCode:
    """The exit code of an error that reached the CLI (see :mod:`spikekit.exit_codes`)."""
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    return ExitCode.ABORTED
