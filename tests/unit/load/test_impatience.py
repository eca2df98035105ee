from __future__ import annotations

import random

from spikekit.load.impatience import (
    MAX_RETRY_AFTER_S,
    ImpatiencePolicy,
    Outcome,
    Reaction,
    classify,
    parse_retry_after,
)
from spikekit.scenarios.personas import Impatience


def policy(**fields: float) -> ImpatiencePolicy:
    return ImpatiencePolicy(Impatience.model_validate(fields), random.Random(0))


def test_classify() -> None:
    assert classify(ok=False, elapsed_s=0.1, slow_threshold_s=3) is Outcome.FAILED
    assert classify(ok=True, elapsed_s=3.5, slow_threshold_s=3) is Outcome.SLOW
    assert classify(ok=True, elapsed_s=0.2, slow_threshold_s=3) is Outcome.OK


def test_impatient_players_retry_at_once_ignoring_retry_after() -> None:
    decision = policy(retry_on_failure=1.0).decide(Outcome.FAILED, 0, 20.0)
    assert decision.reaction is Reaction.RETRY_IMPATIENT and decision.delay_s < 1.0


def test_patient_players_honour_retry_after_capped() -> None:
    p = policy(retry_on_failure=0.0)
    assert p.decide(Outcome.FAILED, 0, 2.0).reaction is Reaction.RETRY_AFTER
    assert p.decide(Outcome.FAILED, 0, 2.0).delay_s == 2.0
    assert p.decide(Outcome.FAILED, 0, 999.0).delay_s == MAX_RETRY_AFTER_S
    assert p.decide(Outcome.FAILED, 0, None).reaction is Reaction.GIVE_UP


def test_retries_stop_at_max_retries() -> None:
    p = policy(retry_on_failure=1.0, refresh_on_slow=1.0, max_retries=2)
    assert p.decide(Outcome.FAILED, 1, None).again
    assert p.decide(Outcome.FAILED, 2, None).reaction is Reaction.GIVE_UP
    assert p.decide(Outcome.SLOW, 2, None).reaction is Reaction.DONE


def test_slow_answers_are_refreshed_with_the_scenario_probability() -> None:
    p = policy(refresh_on_slow=0.3)
    refreshed = sum(p.decide(Outcome.SLOW, 0, None).again for _ in range(10_000))
    assert 2700 < refreshed < 3300
    assert not p.decide(Outcome.OK, 0, None).again


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after(None) is None
