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

Why this table is a shared leaf and not in :mod:`spikekit.cli`: a run's code is also data.
``summary.json`` carries it as ``verdict.exit_code`` (docs/summary-schema.md, a versioned
schema that :mod:`spikekit.reports.summary` writes), and the orchestrator hands it to the
CLI as ``RunOutcome.exit_code``. Those layers sit below the CLI, which imports them; were
the numbers in the CLI, they would have to import it back (a cycle), or keep a second
table. So the numbers live here, beside :mod:`spikekit.errors`, importing nothing; the
analysis states its judgement in them (:class:`spikekit.analysis.verdict.VerdictResult`),
and :mod:`spikekit.cli.exit_codes` re-exports :class:`ExitCode` and maps the errors that
reach the CLI onto it (:func:`spikekit.cli.exit_codes.exit_code_for`).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a judged check failed: an SLO, a recovery, the audit, a regression ...
    USAGE = 2  # usage or configuration error, or nothing to act on
    ABORTED = 3  # aborted, or the environment failed (platform, Toxiproxy, a fault)
