"""Random-features theory against random-features fits at d = 300 (p = kappa d), 8 seeds.

Tolerance: 3 standard errors of the mean over seeds (plus 1e-9 for errors exactly 0 on every
seed). The generalization error of a fit is measured on 20000 fresh rule samples, so its standard
error includes the test-set noise.
"""

import pytest

from raflab.raf.experiments.compare import join_theory_simulation
from raflab.raf.experiments.simulate import simulate_erm
from raflab.raf.metrics import ERROR_KEYS
from raflab.raf.theory import erm_theory

D, SEEDS = 300, 8

POINTS = [
    pytest.param("hinge", "relu", 2.0, 2.0, 0.2, 0.1, id="hinge-relu-k2-a2-e0.2-l0.1"),
    pytest.param("square", "tanh", 2.0, 1.0, 0.3, 0.01, id="square-tanh-k2-a1-e0.3-l0.01"),
    pytest.param("logistic", "erf", 1.5, 2.0, 0.2, 0.05, id="logistic-erf-k1.5-a2-e0.2-l0.05", marks=pytest.mark.slow),
    pytest.param("square", "relu", 1.0, 3.0, 0.3, 0.01, id="square-relu-k1-a3-e0.3-l0.01", marks=pytest.mark.slow),
    pytest.param("logistic", "relu", 2.0, 1.5, 0.3, 0.1, id="logistic-relu-k2-a1.5-e0.3-l0.1", marks=pytest.mark.slow),
    pytest.param("hinge", "tanh", 1.0, 2.0, 0.1, 0.5, id="hinge-tanh-k1-a2-e0.1-l0.5", marks=pytest.mark.slow),
    pytest.param("logistic", "tanh", 3.0, 2.0, 0.5, 0.01, id="logistic-tanh-k3-a2-e0.5-l0.01", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("loss, activation, kappa, alpha, eps, lam", POINTS)
def test_random_features_fits_agree_with_theory_within_3_stderr(loss, activation, kappa, alpha, eps, lam):
    opts = dict(model="rf", kappa=kappa, activation=activation)
    sim = simulate_erm(loss, alpha, eps, lam, d=D, seeds=SEEDS, **opts)
    th = erm_theory(loss, alpha, eps, lam, **opts)
    row = join_theory_simulation(th, sim).iloc[0]
    assert row.converged_theory
    for k in ERROR_KEYS:
        assert abs(row[k] - row[f"{k}_theory"]) <= 3 * row[f"{k}_stderr"] + 1e-9, (
            f"{k}: simulation {row[k]:.4f} ± {row[f'{k}_stderr']:.4f} vs theory {row[f'{k}_theory']:.4f}")


@pytest.mark.slow
def test_random_features_below_capacity_store_every_fact_in_theory_and_fits():
    """Hinge with lam -> 0+ below the RF capacity: zero fact memorization error on both sides."""
    opts = dict(model="rf", kappa=2.0, activation="relu")
    sim = simulate_erm("hinge", 2.5, 0.5, 0.0, d=D, seeds=3, **opts)
    th = erm_theory("hinge", 2.5, 0.5, 0.0, **opts)
    assert th.fact_memorization_error.iloc[0] == 0 and sim.fact_memorization_error.iloc[0] == 0
    assert abs(sim.gen_error.iloc[0] - th.gen_error.iloc[0]) <= 3 * sim.gen_error_stderr.iloc[0]
