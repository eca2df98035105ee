"""How a dependency's error answer becomes the player's, and the small pure rules."""

from __future__ import annotations

import pytest

from spikekit.reference_platform.gateway.adapters.clients import ROUND_REMAP
from spikekit.reference_platform.gateway.domain import (
    Unauthorized,
    Unavailable,
    UpstreamFailure,
    retry_after_seconds,
    seeded_username,
    upstream_error,
    valid_game,
    valid_id,
)


def failure(status: int, code: str = "", retry_after: str | None = None) -> UpstreamFailure:
    return UpstreamFailure("router", status, code, "why", retry_after)


@pytest.mark.parametrize(
    ("status", "code", "header", "expected"),
    [
        (429, "RATE_LIMITED", "7", (429, "rate_limited", 7)),
        (429, "", None, (429, "router_error", 1)),
        (503, "NO_PROVIDER", "3", (503, "no_provider", 3)),
        (502, "", None, (503, "router_error", 1)),
        (500, "BOOM", None, (503, "boom", 1)),
        (504, "TIMEOUT", "0.2", (503, "timeout", 1)),
        (404, "UNKNOWN_GAME", None, (404, "unknown_game", None)),
        (402, "INSUFFICIENT_FUNDS", None, (402, "insufficient_funds", None)),
        (409, "BET_REFUSED", None, (409, "bet_refused", None)),
        (422, "INVALID_BET", None, (422, "invalid_bet", None)),
    ],
)
def test_upstream_answers_map_to_player_errors(
    status: int, code: str, header: str | None, expected: tuple[int, str, int | None]
) -> None:
    error = upstream_error(failure(status, code, header))
    assert (error.status, error.code, error.retry_after_s) == expected
    assert "why" in error.detail


def test_overloads_are_unavailable_and_carry_retry_after() -> None:
    error = upstream_error(failure(503, "OVERLOADED", "2"))
    assert isinstance(error, Unavailable) and error.retry_after_s == 2


def test_a_401_from_a_dependency_is_the_players_401() -> None:
    assert isinstance(upstream_error(failure(401, "INVALID_SESSION")), Unauthorized)


def test_an_operation_can_remap_a_code() -> None:
    error = upstream_error(failure(409, "INVALID_SESSION"), ROUND_REMAP)
    assert (error.status, error.code) == (404, "unknown_session")
    other = upstream_error(failure(409, "BET_REFUSED"), ROUND_REMAP)
    assert (other.status, other.code) == (409, "bet_refused")


def test_an_odd_status_is_a_bad_upstream_answer() -> None:
    error = upstream_error(failure(302))
    assert (error.status, error.code) == (503, "bad_upstream_answer")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (None, 1),
        ("2", 2),
        ("1.2", 2),
        (" 5 ", 5),
        ("0", 1),
        ("-3", 1),
        ("soon", 1),
        ("nan", 1),
        ("999999", 3600),
    ],
)
def test_retry_after_is_whole_seconds_within_bounds(raw: str | None, seconds: int) -> None:
    assert retry_after_seconds(raw) == seconds


def test_ids_games_and_seeded_names() -> None:
    assert valid_id("dep-0a1b") and valid_id("aurora.3f9c:x_y")
    assert not valid_id("") and not valid_id("a b") and not valid_id("x" * 65, max_chars=64)
    assert valid_game("starburst-nova") and not valid_game("Starburst") and not valid_game("-x")
    assert seeded_username("p000123") == "player000123"
    assert seeded_username("p3f9c2a7e01b4d866") is None and seeded_username("x000001") is None
