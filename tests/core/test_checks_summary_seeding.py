"""The shared core helpers: one refusal text, one seed summary, one seed tree."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from raflab.core.checks import in_range, one_of
from raflab.core.seeding import point_rng, seed_tree, stream_seeds
from raflab.core.summary import mean_stderr, stderr, summarize, t_interval, t_quantile


def test_one_of_names_the_value_and_the_choices():
    assert one_of("hinge", ("square", "hinge"), "loss") == "hinge"
    with pytest.raises(ValueError, match=r"^unknown loss 'x'; choose one of square, hinge or a callable$"):
        one_of("x", ("square", "hinge"), "loss", also="or a callable")


def test_in_range_refuses_nan_and_open_ends():
    assert in_range("0.5", "eps", 0, 1) == 0.5
    with pytest.raises(ValueError, match=r"eps must be in \[0, 1\]"):
        in_range(1.5, "eps", 0, 1)
    with pytest.raises(ValueError, match=r"alpha must be in \(0, inf\)"):
        in_range(0, "alpha", 0, low_open=True)
    with pytest.raises(ValueError, match="NaN"):
        in_range(float("nan"), "lam", 0)


def test_summary_is_mean_stderr_and_n_seeds():
    rows = pd.DataFrame({"alpha": [1, 1, 1, 2], "seed": [0, 1, 2, 0], "err": [0.1, 0.2, 0.3, 0.5]})
    out = summarize(rows, ["alpha"], ["err"])
    assert list(out.columns) == ["alpha", "err", "err_stderr", "n_seeds"]
    # mean 0.2, sample std 0.1, stderr 0.1 / sqrt 3
    assert out["err"].iloc[0] == pytest.approx(0.2)
    assert out["err_stderr"].iloc[0] == pytest.approx(0.1 / math.sqrt(3))
    assert out["n_seeds"].tolist() == [3, 1]
    assert math.isnan(out["err_stderr"].iloc[1])  # one seed: no standard error
    assert mean_stderr([1.0, 3.0]) == pytest.approx((2.0, 1.0))
    assert math.isnan(stderr([4.0]))


def test_ci95_is_the_student_t_interval_of_the_mean():
    # 3 seeds: mean 0.9, s.d. 0.1, s.e. 0.1/sqrt(3); t_{0.975, 2} = 4.3027 (tables)
    assert t_quantile(3) == pytest.approx(4.30265, abs=1e-4)
    assert t_quantile(1000) == pytest.approx(1.9623, abs=1e-3)
    low, high = t_interval([0.8, 0.9, 1.0])
    half = 4.30265 * 0.1 / math.sqrt(3)
    assert (low, high) == (pytest.approx(0.9 - half, abs=1e-4), pytest.approx(0.9 + half, abs=1e-4))
    assert all(math.isnan(v) for v in t_interval([0.5])) and all(math.isnan(v) for v in t_interval([0.5, np.nan]))
    with pytest.raises(ValueError, match="level"):
        t_quantile(3, level=1.5)
    rows = pd.DataFrame({"model": ["a"] * 3 + ["b"], "seed": [0, 1, 2, 0], "acc": [0.8, 0.9, 1.0, 0.4]})
    out = summarize(rows, ["model"], ["acc"], ci95_of=["acc"]).set_index("model")
    assert out.loc["a", "acc_ci95_low"] == pytest.approx(low) and out.loc["a", "acc_ci95_high"] == pytest.approx(high)
    assert math.isnan(out.loc["b", "acc_ci95_low"]) and out.loc["b", "n_seeds"] == 1
    assert "acc_ci95_low" not in summarize(rows, ["model"], ["acc"])  # only where asked


def test_one_integer_never_seeds_two_streams():
    s = stream_seeds(7, ("weights", "batches"), 0.5)
    assert s["weights"] != s["batches"] and s == stream_seeds(7, ("weights", "batches"), 0.5)
    assert s != stream_seeds(8, ("weights", "batches"), 0.5)
    assert all(0 <= v < 2**63 for v in s.values())
    # point_rng is the numpy stream of the same tree: unchanged by the tree's introduction
    ints = [7, int(round(0.5 * 1e9))]
    assert point_rng(7, 0.5).random() == np.random.default_rng(np.random.SeedSequence(ints)).random()
    assert seed_tree(7, 0.5).entropy == np.random.SeedSequence(ints).entropy
