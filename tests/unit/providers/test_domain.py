"""The studios' pure rules: the RTP draw, ids, sessions, the token bucket, the catalogue."""

from __future__ import annotations

import math

import pytest

from spikekit.reference_platform.providers.catalogue import GAMES, STUDIOS, games_of
from spikekit.reference_platform.providers.domain import (
    PAYTABLES,
    OutcomeDraw,
    Paytable,
    RoundIds,
    TokenBucket,
    session_token,
    session_valid,
)

ROUNDS = 200_000


def _std_of_return(table: Paytable, rtp: float) -> float:
    hit = table.hit_rate(rtp)
    total = sum(table.weights)
    second = hit * sum(m * m * w for m, w in zip(table.multipliers, table.weights, strict=True))
    return math.sqrt(second / total - rtp * rtp)


@pytest.mark.parametrize("family", sorted(PAYTABLES))
def test_the_draw_pays_back_the_configured_rtp(family: str) -> None:
    rtp, bet = 0.96, 100
    draw = OutcomeDraw(seed=7, rtp=rtp)
    paid = sum(draw.win(bet, family) for _ in range(ROUNDS))
    observed = paid / (bet * ROUNDS)
    tolerance = 4 * _std_of_return(PAYTABLES[family], rtp) / math.sqrt(ROUNDS)
    assert abs(observed - rtp) < tolerance, f"{family}: {observed:.4f} vs {rtp} ± {tolerance:.4f}"


def test_the_hit_rate_matches_the_paytable() -> None:
    draw = OutcomeDraw(seed=11, rtp=0.96)
    wins = sum(1 for _ in range(ROUNDS) if draw.win(100, "slots"))
    expected = PAYTABLES["slots"].hit_rate(0.96)
    assert abs(wins / ROUNDS - expected) < 4 * math.sqrt(expected * (1 - expected) / ROUNDS)


def test_the_same_seed_gives_the_same_outcomes() -> None:
    first, second = OutcomeDraw(seed=3, rtp=0.95), OutcomeDraw(seed=3, rtp=0.95)
    outcomes = [first.win(250, "crash") for _ in range(1000)]
    assert outcomes == [second.win(250, "crash") for _ in range(1000)]
    assert outcomes != [OutcomeDraw(seed=4, rtp=0.95).win(250, "crash") for _ in range(1000)]


def test_an_rtp_a_paytable_cannot_reach_is_refused() -> None:
    with pytest.raises(ValueError, match="out of reach"):
        Paytable((0.5,), (1,)).hit_rate(0.96)


def test_transaction_ids_derive_from_a_unique_round_id() -> None:
    ids, other = RoundIds.new("aurora"), RoundIds.new("aurora")
    assert ids.round_id != other.round_id and ids.round_id.startswith("aurora-")
    assert {ids.bet_tx, ids.win_tx, ids.rollback_tx} == {
        f"{ids.round_id}-bet",
        f"{ids.round_id}-win",
        f"{ids.round_id}-rb",
    }
    assert len(ids.bet_tx) <= 128


def test_sessions_are_bound_to_player_game_and_studio() -> None:
    token = session_token("s", "blitz", "p1", "starburst-nova")
    assert token.startswith("blitz.")
    assert session_valid("s", "blitz", "p1", "starburst-nova", token)
    assert not session_valid("s", "blitz", "p2", "starburst-nova", token)
    assert not session_valid("s", "blitz", "p1", "gonzo-gold", token)
    assert not session_valid("other", "blitz", "p1", "starburst-nova", token)


def test_the_token_bucket_allows_its_rate() -> None:
    bucket = TokenBucket(rate=10, burst=2)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.take(0.05) is False
    assert bucket.take(0.1) is True


def test_studios_differ_and_some_games_have_several() -> None:
    aurora, blitz, cobalt = STUDIOS["aurora"], STUDIOS["blitz"], STUDIOS["cobalt"]
    assert aurora.capacity > blitz.capacity > cobalt.capacity
    assert aurora.think_ms < blitz.think_ms < cobalt.think_ms
    assert cobalt.rate_limit_rps is not None
    shared = [g for g in GAMES.values() if len(g.studios) > 1]
    assert len(shared) >= 4
    assert all(games_of(s) for s in STUDIOS)
    assert all(g.family in PAYTABLES for g in GAMES.values())
