"""The note a FAILED run gets when its peak was beyond this machine's bundled platform.

The run records, at its start, its scenario's peak against what the bundled platform holds
on this machine (``machine_fit`` in ``meta.json``; docs/capacity.md). A run that failed
with a peak beyond it is still FAILED, with the same exit code: the note says that the
failure says more about the machine than about the platform.
"""

from __future__ import annotations

from spikekit.rundir.meta import MachineFitRecord


def beyond_machine(fit: MachineFitRecord | None) -> str | None:
    """One sentence for a run whose peak was beyond the machine; None when it fitted or
    was not judged (a platform of the user's own, an older run directory)."""
    if fit is None or fit.fit == "fits":
        return None
    says = "says more" if fit.fit == "far beyond" else "may say more"
    return (
        f"The scenario's peak was {_times(fit.ratio)} what this machine's bundled platform "
        f"holds ({fit.peak_players:,} players against about {fit.holds_players:,} at its "
        f"pace, {fit.holds_rps:,.0f} req/s on {fit.cores} cores; {fit.basis}): the failure "
        f"{says} about the machine than the platform"
        + (f" (--scale {fit.fitting_scale:g} fits)." if fit.fitting_scale else ".")
    )


def _times(ratio: float) -> str:
    return f"{float(f'{ratio:.2g}'):,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
