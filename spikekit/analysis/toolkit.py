"""Faults of the toolkit itself, as the verdict and the reports see them.

The run directory's journal says what went wrong with the toolkit during the run
(``toolkit_incident``: a Locust worker or master lost, the run folder's disk full,
Toxiproxy dead) and which faults the run could not revert. Neither is the platform's
doing: they make the run *inconclusive* (or it was aborted), they never fail it.
Pure functions on :class:`~spikekit.analysis.rundir.RunData`.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikekit.analysis.rundir import Incident, RunData

TOXIPROXY_LOST = "toxiproxy_lost"
NETWORK = "network."


@dataclass(frozen=True)
class NotReverted:
    """A fault the run injected and could not take off, and how to take it off by hand."""

    fault_id: str
    fault: str
    target: str
    reason: str
    by_hand: str  # the command

    def text(self) -> str:
        return (
            f"Fault '{self.fault_id}' ({self.fault} on {self.target}) was not reverted "
            f"({self.reason}); revert it by hand: {self.by_hand}"
        )


def revert_command(run: RunData) -> str:
    return f"spikekit chaos revert --all {run.path}"


def not_reverted(run: RunData) -> list[NotReverted]:
    """Injected faults the run left on (a failed revert, or none), unless reverted since
    from the journal."""
    died = [i for i in run.incidents if i.kind == TOXIPROXY_LOST]
    faults = []
    for window in run.faults:
        if window.reverted_t is not None or window.reverted_by_hand is not None:
            continue
        reason = (
            f"its revert failed: {window.revert_error}"
            if window.revert_error
            else "the run ended without reverting it"
        )
        if died and window.fault.startswith(NETWORK):
            reason += (
                f"; Toxiproxy died at t={died[0].t:.0f} s and its toxics died with it, so "
                "nothing of it is left on that server"
            )
        faults.append(
            NotReverted(window.fault_id, window.fault, window.target, reason, revert_command(run))
        )
    return faults


def incident_text(incident: Incident) -> str:
    return f"t={incident.t:.0f} s: {incident.detail}"
