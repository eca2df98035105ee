"""The ``spikekit`` command: the root Typer app and the error-to-exit-code boundary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, _main

from spikekit import __version__
from spikekit.cli import (
    chaos,
    compare,
    console,
    demo,
    doctor,
    plan,
    platform,
    report,
    run,
    scenarios,
    worker,
)
from spikekit.cli.exit_codes import ExitCode, exit_code_for
from spikekit.errors import SpikekitError


class _SpikekitGroup(TyperGroup):
    """Turns every :class:`SpikekitError` into one message and the documented exit code
    (:mod:`spikekit.cli.exit_codes`); Ctrl-C outside a run is "aborted" (3), not 130.

    A bad option value is printed as Click prints it, on one line (``Error: Invalid value
    for '--scale': '-1': expected a number > 0 and <= 100``) rather than in a Rich panel
    that wraps at 80 columns; help stays Rich.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # vendored click type
        try:
            return super().invoke(ctx)
        except SpikekitError as error:
            console.error(str(error))
            raise typer.Exit(int(exit_code_for(error))) from None
        except KeyboardInterrupt:
            console.error("interrupted")
            raise typer.Exit(int(ExitCode.ABORTED)) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        return _main(
            self,
            args=args,
            prog_name=prog_name,
            complete_var=complete_var,
            standalone_mode=standalone_mode,
            windows_expand_args=windows_expand_args,
            rich_markup_mode=None,  # errors on one line; help is formatted per command
            **extra,
        )


app = typer.Typer(
    name="spikekit",
    cls=_SpikekitGroup,
    help="Will your casino platform survive the viral spike? Spike load, chaos and a wallet audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(platform.app, name="platform")
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(chaos.app, name="chaos")
app.command("run")(run.run)
app.command("doctor")(doctor.doctor)
app.command("demo")(demo.demo)
app.command("report")(report.report)
app.command("compare")(compare.compare)
app.command("worker")(worker.worker)
app.command("plan")(plan.plan)


def _version(value: bool) -> None:
    if value:
        console.info(f"spikekit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """spikekit: spike load, scheduled faults and a wallet audit against a casino platform."""


def main() -> None:
    """Console-script entry point."""
    app()
