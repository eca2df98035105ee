"""The payment rules: steps, transitions, refusals, the provider simulation and wallet answers."""

from __future__ import annotations

import pytest

from spikekit.reference_platform.payments.adapters.provider import declines
from spikekit.reference_platform.payments.adapters.wallet_client import outcome_of
from spikekit.reference_platform.payments.domain import (
    DECLINED,
    InvalidTransition,
    Kind,
    Outcome,
    Payment,
    PaymentError,
    Stage,
    Step,
    advance,
    next_step,
)

OK = Outcome(ok=True, balance=1_000)


def _payment(kind: Kind, stage: Stage = Stage.PENDING) -> Payment:
    return Payment("dep-1", kind, "p1", 500, "key-1", stage=stage)


def _run(payment: Payment, outcomes: list[Outcome]) -> tuple[Payment, list[Step]]:
    steps: list[Step] = []
    for outcome in outcomes:
        step = next_step(payment)
        assert step is not None
        steps.append(step)
        payment = advance(payment, outcome, now=1.0)
    return payment, steps


def test_a_deposit_is_charged_then_credited() -> None:
    done, steps = _run(_payment(Kind.DEPOSIT), [OK, OK])
    assert steps == [Step.CHARGE, Step.CREDIT]
    assert (done.stage, done.reason, done.balance) == (Stage.COMPLETED, None, 1_000)
    assert next_step(done) is None and done.stage.public == "completed"


def test_a_declined_deposit_fails_without_touching_the_wallet() -> None:
    done, steps = _run(_payment(Kind.DEPOSIT), [Outcome.refused(DECLINED)])
    assert steps == [Step.CHARGE]
    assert (done.stage, done.reason) == (Stage.FAILED, DECLINED)


def test_a_withdrawal_is_debited_before_the_payout() -> None:
    done, steps = _run(_payment(Kind.WITHDRAWAL), [OK, OK])
    assert steps == [Step.DEBIT, Step.PAYOUT]
    assert done.stage is Stage.COMPLETED


def test_a_withdrawal_short_of_funds_fails_with_the_wallets_code() -> None:
    done, _ = _run(_payment(Kind.WITHDRAWAL), [Outcome.refused("INSUFFICIENT_FUNDS")])
    assert (done.stage, done.reason) == (Stage.FAILED, "INSUFFICIENT_FUNDS")


def test_a_declined_payout_is_refunded_under_its_own_key() -> None:
    payment = _payment(Kind.WITHDRAWAL)
    debited, _ = _run(payment, [OK])
    assert debited.wallet_key == "dep-1"
    refunding, steps = _run(debited, [Outcome.refused(DECLINED)])
    assert (refunding.stage, steps, refunding.wallet_key) == (
        Stage.REFUNDING,
        [Step.PAYOUT],
        "dep-1.refund",
    )
    assert refunding.stage.public == "pending"
    done, steps = _run(refunding, [OK])
    assert steps == [Step.REFUND]
    assert (done.stage, done.reason) == (Stage.FAILED, DECLINED)


@pytest.mark.parametrize("stage", [Stage.COMPLETED, Stage.FAILED])
def test_a_final_payment_takes_no_more_outcomes(stage: Stage) -> None:
    payment = _payment(Kind.DEPOSIT, stage)
    assert next_step(payment) is None
    with pytest.raises(InvalidTransition):
        advance(payment, OK, now=2.0)


def test_a_withdrawal_stage_is_not_a_deposit_stage() -> None:
    with pytest.raises(InvalidTransition):
        advance(_payment(Kind.DEPOSIT, Stage.DEBITED), OK, now=1.0)


@pytest.mark.parametrize("amount", [0, -1, 10**12 + 1, True])
def test_amounts_are_positive_integers(amount: int) -> None:
    with pytest.raises(PaymentError):
        Payment("dep-1", Kind.DEPOSIT, "p1", amount, "k")


def test_the_simulated_provider_is_idempotent_and_declines_at_its_rate() -> None:
    ids = [f"dep-{n}" for n in range(20_000)]
    first = [declines("seed", "charge", i, 0.02) for i in ids]
    assert first == [declines("seed", "charge", i, 0.02) for i in ids]
    assert 0.015 < sum(first) / len(ids) < 0.025
    assert not any(declines("seed", "charge", i, 0.0) for i in ids[:100])
    assert all(declines("seed", "charge", i, 1.0) for i in ids[:100])


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"status": "ok", "code": "OK", "balance": 7}, Outcome(ok=True, balance=7)),
        (
            200,
            {"status": "refused", "code": "INSUFFICIENT_FUNDS"},
            Outcome(False, "INSUFFICIENT_FUNDS"),
        ),
        (404, {"error": {"code": "UNKNOWN_PLAYER"}}, Outcome(False, "UNKNOWN_PLAYER")),
        (409, {"error": {"code": "TX_MISMATCH"}}, Outcome(False, "TX_MISMATCH")),
        (400, None, Outcome(False, "WALLET_HTTP_400")),
        (503, {"error": {"code": "UNAVAILABLE"}}, None),
        (429, None, None),
        (500, None, None),
    ],
)
def test_wallet_answers_map_to_outcomes_or_a_retry(
    status: int, body: object, expected: Outcome | None
) -> None:
    assert outcome_of(status, body) == expected
