"""95% t intervals of a mean over seeds, and the verdicts claims get from them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from raflab.core.intervals import (
    add_intervals,
    combine_verdicts,
    interval_from_stderr,
    mean_interval,
    t_quantile,
    verdict,
)
from raflab.core.summary import summarize


def test_t_quantile_matches_the_table():
    # Student t, two-sided 95%: 4.303 (2 dof), 2.776 (4 dof), 1.960 in the limit
    assert t_quantile(3) == pytest.approx(4.302653, abs=1e-6)
    assert t_quantile(5) == pytest.approx(2.776445, abs=1e-6)
    assert t_quantile(10**6) == pytest.approx(1.959966, abs=1e-5)
    assert math.isnan(t_quantile(1))
    with pytest.raises(ValueError, match="confidence must be in"):
        t_quantile(5, confidence=1.0)


def test_mean_interval_by_hand():
    # values 0.2, 0.4, 0.6, 0.8, 1.0: mean 0.6, sample std sqrt(0.1), stderr sqrt(0.1 / 5)
    mean, low, high = mean_interval([0.2, 0.4, 0.6, 0.8, 1.0, float("nan")])
    half = 2.776445 * math.sqrt(0.1 / 5)
    assert mean == pytest.approx(0.6)
    assert (low, high) == pytest.approx((0.6 - half, 0.6 + half), abs=1e-6)
    # one value: a mean, no interval; no value: nothing
    assert mean_interval([0.3])[0] == 0.3 and math.isnan(mean_interval([0.3])[1])
    assert all(math.isnan(v) for v in mean_interval([]))
    # seeds that agree exactly: a zero-width interval
    assert mean_interval([0.0, 0.0, 0.0]) == (0.0, 0.0, 0.0)


def test_add_intervals_reads_the_summary_columns():
    rows = pd.DataFrame({"width": [14] * 3 + [56] * 3, "seed": [0, 1, 2] * 2,
                         "acc": [0.5, 0.7, 0.9, 0.0, 0.0, 0.0]})
    out = add_intervals(summarize(rows, ["width"], ["acc"]), ["acc", "missing"])
    half = 4.302653 * 0.2 / math.sqrt(3)
    assert out["acc_ci95_low"].tolist() == pytest.approx([0.7 - half, 0.0], abs=1e-6)
    assert out["acc_ci95_high"].tolist() == pytest.approx([0.7 + half, 0.0], abs=1e-6)
    assert "missing_ci95_low" not in out
    assert interval_from_stderr(0.5, 0.1, 5) == pytest.approx((0.5 - 0.2776445, 0.5 + 0.2776445))


@pytest.mark.parametrize("low, high, side, expected", [
    (0.6, 0.9, "above", "reproduced"),
    (0.1, 0.4, "above", "contradicted"),
    (0.4, 0.8, "above", "inconclusive"),      # straddles, mean 0.6 on the claim's side
    (0.2, 0.6, "above", "not reproduced"),    # straddles, mean 0.4 on the opposite side
    (0.5, 0.9, "above", "inconclusive"),      # a bound on the threshold does not exclude it
    (0.0, 0.0, "below", "reproduced"),        # every seed at 0: below 0.5
    (0.6, 0.9, "below", "contradicted"),
    (0.2, 0.6, "below", "inconclusive"),
    (0.4, 0.8, "below", "not reproduced"),
])
def test_verdict_from_the_interval(low, high, side, expected):
    assert verdict(low, high, 0.5, side, n_seeds=5) == expected


def test_verdict_needs_seeds_and_valid_input():
    assert verdict(0.6, 0.9, 0.5, "above", n_seeds=2) == "inconclusive"
    assert verdict(float("nan"), float("nan"), 0.5) == "inconclusive"
    with pytest.raises(ValueError, match="unknown side 'up'"):
        verdict(0.1, 0.2, 0.5, "up")
    with pytest.raises(ValueError, match="low bound"):
        verdict(0.9, 0.1, 0.5)
    with pytest.raises(ValueError, match="threshold must be a number"):
        verdict(0.1, 0.2, float("nan"))


def test_combine_verdicts():
    assert combine_verdicts(["reproduced", "reproduced"]) == "reproduced"
    assert combine_verdicts(["reproduced", "inconclusive"]) == "inconclusive"
    assert combine_verdicts(["inconclusive", "not reproduced"]) == "not reproduced"
    assert combine_verdicts(["not reproduced", "contradicted", "reproduced"]) == "contradicted"
    with pytest.raises(ValueError, match="at least one"):
        combine_verdicts([])
    with pytest.raises(ValueError, match="unknown verdict"):
        combine_verdicts(["maybe"])
