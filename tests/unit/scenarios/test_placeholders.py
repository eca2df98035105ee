"""The journeys' template engine: ``${name}`` substitution and nothing more (untrusted input)."""

from __future__ import annotations

import pytest

from spikekit.scenarios.placeholders import (
    PlaceholderError,
    names_in,
    names_in_value,
    render_text,
    render_value,
)


def test_names_are_substituted_and_dollar_dollar_is_a_dollar() -> None:
    values = {"player": "p000042", "stake": 150}
    assert render_text("/v2/wallets/${player}/x", values) == "/v2/wallets/p000042/x"
    assert render_text("${stake}$$ and $${stake}", values) == "150$ and ${stake}"
    assert names_in("${a}-${b_2}-${a}") == ["a", "b_2", "a"]


def test_a_whole_placeholder_keeps_its_type_in_a_body() -> None:
    body = {"stake": {"cents": "${stake}"}, "note": "bet ${stake}", "tags": ["${flag}", 3]}
    rendered = render_value(body, {"stake": 150, "flag": True})
    assert rendered == {"stake": {"cents": 150}, "note": "bet 150", "tags": [True, 3]}
    assert names_in_value(body) == ["stake", "stake", "flag"]


def test_a_value_is_never_expanded_again() -> None:
    # a captured value that looks like a template stays text: no second pass
    assert render_text("${a}", {"a": "${b}", "b": "secret"}) == "${b}"
    assert render_value({"k": "${a}"}, {"a": "${b}", "b": 1}) == {"k": "${b}"}


@pytest.mark.parametrize(
    "text",
    [
        "${a.b}",  # no attribute access
        "${a[0]}",  # no item access
        "${a!r}",  # no conversion
        "${a:>10}",  # no format spec
        "${a()}",  # no call
        "${ a }",
        "${1a}",
        "$a",
        "price in $",
        "${",
    ],
)
def test_anything_but_a_plain_name_is_refused(text: str) -> None:
    with pytest.raises(PlaceholderError):
        names_in(text)
    with pytest.raises(PlaceholderError):
        render_text(text, {"a": 1})


def test_a_missing_name_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(PlaceholderError, match=r"\$\{token\}"):
        render_text("Bearer ${token}", {})
    with pytest.raises(PlaceholderError):
        render_value({"x": "${token}"}, {})
