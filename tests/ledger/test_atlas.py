"""The memorization atlas: the RAF curves meet Gardner and Cover at eps = 1, the associative memories
meet their closed forms, every point names its source, and ``raflab atlas`` writes its figure."""

import json
import math
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.ledger.atlas import associative_memory_points, atlas_points, raf_capacity_curves


@pytest.fixture(scope="module")
def curves():
    return raf_capacity_curves(kappas=(0.5, 1.0, 4.0), eps=[0.1, 0.5, 1.0])


def test_raf_curves_at_eps_one_store_two_bits_per_parameter(curves):
    # Gardner (linear, 2 bits per weight) and Cover (random features, n = 2p: 2 bits per 2nd-layer weight)
    at_one = curves[curves["eps"] == 1.0]
    assert len(at_one) == 4
    np.testing.assert_allclose(at_one["bits_per_parameter"], 2.0, atol=1e-9)
    np.testing.assert_allclose(at_one["gen_error"], 0.5, atol=1e-12)  # pure facts: nothing about the rule


def test_raf_curves_store_fewer_fact_bits_as_the_rule_takes_over(curves):
    for _, frame in curves.groupby(["model", "kappa"], dropna=False):
        bits = frame.sort_values("eps")["bits_per_parameter"].to_numpy()
        assert np.all(np.diff(bits) > 0)
    linear = curves[(curves["model"] == "linear") & (curves["eps"] == 0.5)].iloc[0]
    assert linear["alpha_c"] == pytest.approx(2.2453, abs=1e-3)
    assert linear["bits_per_parameter"] == pytest.approx(0.5 * linear["alpha_c"], rel=1e-12)


@pytest.mark.parametrize("model,kappa", [("linear", 1.0), ("rf", 2.0)])
def test_gen_error_at_capacity_is_the_limit_of_the_erm_fixed_point(model, kappa):
    # hinge ERM at lam -> 0+ just below capacity (0.95 alpha_c): its rule error approaches arccos(c)/pi with
    # slope ~0.01 per unit alpha (measured between 0.9 and 0.95 alpha_c), so 2e-3 covers the last 5%.
    from raflab.raf.theory.erm import erm_theory

    at = raf_capacity_curves(kappas=(kappa,), eps=[0.5])
    row = at[at["model"] == model].iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = erm_theory("hinge", [0.95 * row["alpha_c"]], 0.5, 0.0, model=model, kappa=kappa)
    assert bool(df["converged"].iloc[0])
    assert df["gen_error"].iloc[0] == pytest.approx(row["gen_error"], abs=2e-3)


def test_hopfield_point_is_twice_alpha_c_and_dense_am_meets_its_closed_form():
    rows = {r["system"]: r for r in associative_memory_points(N=100, degrees=(2,))}
    hopfield = rows["Hopfield (T = 0, alpha_c)"]
    assert hopfield["bits_per_parameter"] == pytest.approx(0.276, abs=1e-3)
    dense = rows["dense AM x^2, N = 100"]
    # K = N / (2 ln N) patterns of N bits over N (N - 1) / 2 weights
    assert dense["bits_per_parameter"] == pytest.approx(100 / (99 * math.log(100)), rel=1e-12)


def test_every_point_has_a_source_and_a_finite_place():
    points = atlas_points()
    assert len(points) >= 8
    assert points["source"].str.len().gt(0).all()
    assert np.isfinite(points["bits_per_parameter"]).all() and (points["bits_per_parameter"] > 0).all()
    assert points["eps"].between(0, 1).all()
    both = points[points["system"].str.contains("Too Big to Think \\(both\\)")].iloc[0]
    assert both["eps"] == pytest.approx(50 / 246)  # 50 capitals among 196 arithmetic training lines
    fit = points[points["system"].str.contains("bits study fit")].iloc[0]
    assert fit["ci95_low"] < fit["bits_per_parameter"] < fit["ci95_high"]


def test_bad_eps_and_kappa_are_refused_with_one_line():
    with pytest.raises(ValueError, match="eps must be in"):
        raf_capacity_curves(eps=[0.0])
    with pytest.raises(ValueError, match="kappa must be in"):
        raf_capacity_curves(kappas=(-1.0,), eps=[0.5])
    result = CliRunner().invoke(app, ["atlas", "--eps", "0,0.5"])
    assert result.exit_code != 0 and "eps must be in" in result.output
    assert "Traceback" not in result.output


def test_cli_writes_the_figure_and_prints_the_points(tmp_path):
    out = tmp_path / "atlas.png"
    result = CliRunner().invoke(app, ["atlas", "--out", str(out), "--eps", "0.25,0.5,1", "--kappa", "1",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = json.loads(result.stdout)
    assert {r["system"] for r in records} == set(atlas_points()["system"])
    curves = CliRunner().invoke(app, ["atlas", "--curves", "--eps", "1", "--kappa", "1", "--format", "csv"])
    assert curves.exit_code == 0 and "bits_per_parameter" in curves.stdout


def test_raf_through_a_sequence_model_is_seeded_and_measures_what_it_says():
    from raflab.ledger.atlas_seq import train_raf_sequence

    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    one = train_raf_sequence("attention", 0.5, d=4, alpha=8.0, width=4, steps=30, n_test=200, seed=3)
    again = train_raf_sequence("attention", 0.5, d=4, alpha=8.0, width=4, steps=30, n_test=200, seed=3)
    assert one == again
    assert one["n_facts"] == 16  # exactly round(eps n) facts of n = alpha d = 32
    assert 0 <= one["fact_error"] <= 1 and 0 <= one["gen_error"] <= 1
    h2 = lambda p: 0.0 if p in (0, 1) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)  # noqa: E731
    expected = 16 * (1 - h2(one["fact_error"])) if one["fact_error"] < 0.5 else 0.0
    assert one["stored_bits"] == pytest.approx(expected, abs=1e-6)
    assert one["bits_per_parameter"] == pytest.approx(one["stored_bits"] / one["parameters"])
    with pytest.raises(ValueError, match="mixer"):
        train_raf_sequence("lstm", 0.5)


def test_raf_sequence_points_average_seeds_with_an_interval():
    import pandas as pd

    from raflab.ledger.atlas import raf_sequence_points

    runs = pd.DataFrame({"mixer": ["s4d"] * 3, "eps": [0.5] * 3, "d": 8, "alpha": 64.0, "width": 4, "steps": 10,
                         "seed": [0, 1, 2], "bits_per_parameter": [0.1, 0.2, 0.3], "gen_error": [0.2, 0.3, 0.4],
                         "stored_bits": [10.0, 20.0, 30.0], "parameters": 100, "fact_error": [0.3, 0.2, 0.1]})
    (point,) = raf_sequence_points(runs)
    assert point["bits_per_parameter"] == pytest.approx(0.2)
    half = 4.302653 * 0.1 / math.sqrt(3)  # t_{0.975, 2} x sd / sqrt(n)
    assert point["ci95_low"] == pytest.approx(0.2 - half, rel=1e-5)
    assert point["gen_error"] == pytest.approx(0.3) and point["source"]


def test_shipped_raf_sequence_runs_are_on_the_atlas():
    from raflab.ledger.atlas_seq import shipped_raf_sequence_runs

    runs = shipped_raf_sequence_runs()
    assert len(runs) == 18 and set(runs["mixer"]) == {"attention", "s4d", "mamba"}
    assert runs.groupby(["mixer", "eps"])["seed"].nunique().eq(3).all()
    points = atlas_points()
    on_raf = points[points["system"].str.contains("on RAF data")]
    assert len(on_raf) == 6
    assert on_raf.loc[on_raf["eps"] < 1, "gen_error"].between(0, 0.5).all()
    assert on_raf.loc[on_raf["eps"] == 1, "gen_error"].isna().all()  # no rule in pure-fact data
