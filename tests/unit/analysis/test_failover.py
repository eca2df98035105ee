"""``failover_s``: from a replica's kill (``process.kill``) until failed requests stop."""

from __future__ import annotations

import numpy as np

from spikekit.analysis.recovery import failover_seconds
from spikekit.analysis.synthetic import Disturbance, SyntheticFault, SyntheticRun

from .conftest import Analyse

KILL = SyntheticFault("kill-gateway-2", start_s=100.0, end_s=160.0, fault="process.kill")


def test_errors_for_four_seconds_after_the_kill_give_a_failover_of_4_s(analysed: Analyse) -> None:
    run = SyntheticRun(faults=(KILL,), disturbances=(Disturbance(100, 104, error_rate=0.3),))
    assert analysed(run).faults[0].failover_s == 4


def test_no_error_at_all_is_a_failover_of_0_s(analysed: Analyse) -> None:
    assert analysed(SyntheticRun(faults=(KILL,))).faults[0].failover_s == 0


def test_errors_that_never_stop_have_no_failover(analysed: Analyse) -> None:
    run = SyntheticRun(faults=(KILL,), disturbances=(Disturbance(100, 300, error_rate=0.3),))
    assert analysed(run).faults[0].failover_s is None


def test_other_faults_have_no_failover(analysed: Analyse) -> None:
    other = SyntheticFault("provider-down", start_s=100.0, end_s=130.0)
    assert analysed(SyntheticRun(faults=(other,))).faults[0].failover_s is None


def test_a_short_error_free_gap_does_not_end_the_failover() -> None:
    failures = np.zeros(60)
    failures[[10, 11, 13, 14]] = 2.0  # one clean second (12) inside the errors
    assert failover_seconds(failures, 10, 60, stable=3) == 5
    assert failover_seconds(failures, 10, 60, stable=1) == 2
    assert failover_seconds(failures, 10, 16, stable=3) is None  # horizon before 3 clean s
