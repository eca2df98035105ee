"""Baseline vs spike phases and bottleneck hints."""

from __future__ import annotations

from spikekit.analysis.hints import HintKind
from spikekit.analysis.synthetic import Disturbance, SyntheticFault, SyntheticRun

from .conftest import Analyse


def test_spike_phase_is_slower_than_baseline(analysed: Analyse) -> None:
    # ramp from 20 % to 40 % of 300 s: baseline before ~66 s, spike from ~114 s
    result = analysed(SyntheticRun(disturbances=(Disturbance(200, 300, latency_factor=3),)))
    baseline, spike = result.phases.baseline, result.phases.spike
    assert baseline is not None and spike is not None
    assert baseline.target_players < 9000 and spike.target_players > 110000
    assert spike.rps > 10 * baseline.rps
    assert spike.p95_ms is not None and baseline.p95_ms is not None
    assert spike.p95_ms > 1.5 * baseline.p95_ms
    delta = result.phases.delta("p95_ms")
    assert delta is not None and delta > 0


def test_fault_windows_are_left_out_of_the_phases(analysed: Analyse) -> None:
    fault = SyntheticFault("f", start_s=200.0, end_s=230.0)
    result = analysed(SyntheticRun(faults=(fault,)))
    with_fault = result.phases.spike
    assert with_fault is not None
    without = analysed(SyntheticRun()).phases.spike
    assert without is not None and with_fault.seconds == without.seconds - 30


def test_hints_name_the_bottleneck(analysed: Analyse) -> None:
    fault = SyntheticFault("f", start_s=100.0, end_s=120.0, target="provider-b")
    result = analysed(SyntheticRun(faults=(fault,), stream_backlog=True))
    kinds = {(h.kind, h.subject) for h in result.hints}
    assert (HintKind.BREAKER_OPEN, "provider=provider-b") in kinds
    assert (HintKind.STREAM_DEPTH_RISING, "stream=wallet-events") in kinds
    assert result.verdict.conclusive


def test_an_overloaded_generator_makes_the_run_inconclusive(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(generator_cpu_percent=97.0))
    assert any(h.kind is HintKind.GENERATOR_OVERLOADED for h in result.hints)
    assert not result.verdict.conclusive
    assert "inconclusive" in result.verdict.paragraph
