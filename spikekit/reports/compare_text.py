"""The words and numbers of a comparison: ``A → B``, signed differences with their
uncertainty (``+9 ms (95 % CI −3…+21 ms)``), and the sentence under the headline.

Kept apart from :mod:`spikekit.reports.compare` (the judgement) so that each stays small;
the console table, the HTML page and the tests read the same texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spikekit.reports.compare_stats import CONFIDENCE

if TYPE_CHECKING:
    from spikekit.reports.compare import Delta, RunComparison

#: What judges a figure without per-second data (``compare.FLOOR``, in words).
FLOOR_TEXT = {"ms": "floor 5 ms", "ratio": "floor 0.2 pp", "s": "floor 1 s", "count": "a count"}


def values(delta: Delta) -> tuple[str, str]:
    """A's and B's value of a delta, formatted."""
    return _format(delta.a, delta.unit), _format(delta.b, delta.unit)


def change_text(delta: Delta) -> str:
    """``A → B`` of a delta for a short table: its note, else both values formatted."""
    return delta.note or f"{_format(delta.a, delta.unit)} → {_format(delta.b, delta.unit)}"


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "\u2013"
    if unit == "ratio":
        return f"{value * 100:.2f} %"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.0f} s"
    if unit == "count":
        return f"{value:.0f}"
    return ""


def _signed(value: float, unit: str) -> str:
    """A signed difference: ``+9 ms``, ``−0.42 pp`` (percentage points), ``+2 s``."""
    size = abs(value)
    if unit == "ratio":
        text = f"{size * 100:.2f} pp"
    elif unit == "ms":
        text = f"{size:,.0f} ms" if size >= 10 else f"{size:.1f} ms"
    else:
        text = f"{size:.0f}{' s' if unit == 's' else ''}"
    if not any(c in "123456789" for c in text):  # rounds to nothing: no sign
        return "0"
    return ("+" if value > 0 else "\u2212") + text


def uncertainty_text(delta: Delta) -> str:
    """``+9 ms (95 % CI −3…+21 ms)``; ``+2 s (floor 1 s)`` for a figure without
    per-second data; empty for a pass/fail figure."""
    change = delta.change
    if change is None or delta.unit == "rank":
        return ""
    if delta.interval is None:
        return f"{_signed(change, delta.unit)} ({delta.without_interval}, {FLOOR_TEXT[delta.unit]})"
    low, high = delta.interval
    unit = {"ms": " ms", "ratio": " pp", "s": " s"}.get(delta.unit, "")
    bounds = "\u2026".join(_signed(v, delta.unit).removesuffix(unit) for v in (low, high))
    return f"{_signed(change, delta.unit)} ({CONFIDENCE:.0%} CI {bounds}{unit})".replace(
        "95%", "95 %"
    )


def headline_text(comparison: RunComparison) -> str:
    """The sentence under the headline word: what decided it and what is still listed."""
    top, regressions = comparison.headline, comparison.regressions
    smaller = f"{len(regressions)} smaller regression(s) still listed below"
    if top.decided_by is None:
        return "Nothing changed beyond the tolerance, the floors and the runs' noise."
    if top.decided_by == "other figures":
        what = "regression(s)" if top.regressed else "improvement(s)"
        count = len(regressions) if top.regressed else len(comparison.improvements)
        return f"The verdict, audit, unrecovered faults and errors are unchanged; {count} {what}."
    delta = next(d for d in comparison.deltas if d.label == top.decided_by)
    why = f"{top.decided_by}: {change_text(delta)}"
    if top.regressed:
        return f"Decided by {why}."
    return f"Decided by {why}" + (f"; {smaller}." if regressions else ".")
