"""Optimal regularization and the Pareto front traced by lam."""

import numpy as np
import pytest

from raflab.raf.experiments.phase import phase_diagram, spot_check_points
from raflab.raf.experiments.regularization import optimal_lambda, pareto_front


def test_square_loss_optimal_lambda_closed_form():
    """Ridge on the sign teacher with flipped facts: lam* = pi / (2 (1 - eps)^2) - 1, for every alpha.

    (The facts are label noise to the rule: E[y x] shrinks by (1 - eps), and the optimal ridge
    penalty is the noise-to-signal ratio (1 - mu^2)/mu^2 with mu = (1 - eps) sqrt(2/pi)...
    up to the 1/alpha-free form above, which the theory must reproduce.)
    """
    best = optimal_lambda("square", [1.5, 4.0], [0.0, 0.2, 0.5])
    expected = np.pi / (2 * (1 - best.eps.to_numpy()) ** 2) - 1
    np.testing.assert_allclose(best.lam, expected, rtol=1e-4)
    assert not best.at_boundary.any()


def test_optimal_lambda_is_a_minimum_for_random_features():
    opts = dict(model="rf", kappa=2.0, activation="relu")
    best = optimal_lambda("hinge", 2.0, 0.2, model_options=opts).iloc[0]
    from raflab.raf.theory import erm_theory

    around = erm_theory("hinge", 2.0, 0.2, best.lam * np.array([0.8, 1.25]), **opts)
    assert (around.gen_error > best.gen_error).all()


def test_pareto_front_trades_facts_for_rule():
    df = pareto_front("hinge", 2.0, 0.2, np.geomspace(1e-3, 10, 30),
                      model_options=dict(model="rf", kappa=4.0, activation="relu"))
    front = df[df.pareto].sort_values("lam")
    assert len(front) >= 5
    # along the front, more regularization forgets facts and buys rule accuracy
    assert np.all(np.diff(front.fact_memorization_error) >= -1e-9)
    assert np.all(np.diff(front.gen_error) <= 1e-9)
    assert front.gen_error.iloc[-1] < front.gen_error.iloc[0] - 0.02
    assert front.fact_memorization_error.iloc[0] == pytest.approx(0.0, abs=1e-6)


def test_phase_diagram_flags():
    df = phase_diagram("hinge", {"alpha": [0.5, 1.5, 3.0], "eps": [0.0, 0.1, 0.9], "lam": [1e-3]},
                       gen_margin=0.05, fact_threshold=0.01)
    assert df.converged.all() and len(df) == 9
    clean = df[df.eps == 0]
    assert clean.rule_learned.all() and clean.facts_memorized.all()
    np.testing.assert_allclose(clean.gen_error, clean.gen_error_no_facts)
    # with 90% facts, a linear learner neither keeps the rule nor (beyond alpha = 2) stores the facts
    heavy = df[df.eps == 0.9]
    assert not heavy.rule_learned.any()
    assert not heavy[heavy.alpha == 3.0].facts_memorized.any()
    points = spot_check_points(df, "alpha", "eps", per_axis=1)
    assert len(points) == 1 and points.alpha[0] == 1.5 and points.eps[0] == 0.1
