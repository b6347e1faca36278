"""Storage capacity (hinge, lam -> 0+): Gardner, Cover, and the fits on both sides of the threshold."""

import numpy as np
import pytest

from raflab.core.seeding import point_rng
from raflab.raf.config import RAFConfig
from raflab.raf.data import sample_raf
from raflab.raf.learners.erm import is_linearly_separable
from raflab.raf.learners.random_features import random_feature_matrix, random_features
from raflab.raf.theory import erm_theory
from raflab.raf.theory.capacity import capacity_alpha, capacity_eps
from raflab.raf.theory.erm import make_prior


def test_gardner_capacity_of_the_linear_learner():
    assert capacity_alpha(make_prior("linear"), 1.0)[0] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("kappa", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_cover_capacity_of_random_features_on_pure_facts(kappa, activation):
    """p features in general position store n < 2p random labels: alpha_c = 2 kappa."""
    prior = make_prior("rf", kappa=kappa, activation=activation)
    assert capacity_alpha(prior, 1.0)[0] == pytest.approx(2 * kappa, rel=1e-9)


def test_linear_activation_capacity_is_limited_by_the_rank():
    """sigma(g) = g: features span only the d input directions, so alpha_c = 2 whatever kappa > 1."""
    for kappa in (2.0, 5.0):
        assert capacity_alpha(make_prior("rf", kappa=kappa, activation="linear"), 1.0)[0] == pytest.approx(2.0)


def test_capacity_agrees_with_the_interpolating_fixed_point():
    """Just below alpha_c the lam -> 0+ hinge fixed point stores every fact; just above it does not."""
    a_c, _ = capacity_alpha(make_prior("linear"), 0.2)
    assert a_c == pytest.approx(2.99229, abs=1e-4)
    df = erm_theory("hinge", np.linspace(0.9 * a_c, 0.97 * a_c, 8).tolist() + [1.03 * a_c], 0.2, 0.0)
    assert df.converged.all()
    assert (df.fact_memorization_error.iloc[:-1] == 0).all()
    assert df.fact_memorization_error.iloc[-1] > 1e-3
    # the margin 1/sqrt(q) of the max-margin solution closes linearly at the threshold
    near = df.iloc[:-1]
    slope, intercept = np.polyfit(near.alpha, 1 / np.sqrt(near.q), 1)
    assert -intercept / slope == pytest.approx(a_c, rel=2e-2)


def test_random_features_capacity_grows_with_kappa_and_shrinks_with_eps():
    caps = np.array([[capacity_alpha(make_prior("rf", kappa=k, activation="relu"), e)[0]
                      for e in (0.2, 0.5, 1.0)] for k in (0.5, 1.0, 2.0, 4.0)])
    assert np.all(np.diff(caps, axis=0) > 0)  # more features, more capacity
    assert np.all(np.diff(caps, axis=1) < 0)  # more facts, less capacity


def test_capacity_eps_inverts_capacity_alpha():
    prior = make_prior("rf", kappa=2.0, activation="erf")
    e_c = capacity_eps(prior, 5.0)
    assert capacity_alpha(prior, e_c)[0] == pytest.approx(5.0, rel=1e-8)
    assert capacity_eps(prior, 3.0) == 1.0  # below 2 kappa even pure facts fit
    assert capacity_eps(make_prior("linear"), 3.0) == pytest.approx(0.19850, abs=1e-4)
    assert np.isinf(capacity_alpha(make_prior("linear"), 0.0)[0])  # the rule alone is always separable


def _separable_fraction(alpha, eps, d, seeds, kappa=None):
    hits = 0
    for s in range(seeds):
        rng = point_rng(s, d, alpha, eps)
        sample = sample_raf(RAFConfig(d=d, alpha=alpha, eps=eps), rng)
        X = sample.X
        if kappa is not None:
            X = random_features(X, random_feature_matrix(int(kappa * d), d, rng), "relu")
        hits += is_linearly_separable(X, sample.y)
    return hits / seeds


@pytest.mark.parametrize("kappa, eps", [(None, 0.2), (1.0, 1.0), (1.0, 0.3)])
def test_fits_store_all_facts_below_capacity_and_not_above(kappa, eps):
    """Fraction of seeds with zero training error at 0.8 alpha_c and 1.2 alpha_c (d = 120)."""
    prior = make_prior("linear") if kappa is None else make_prior("rf", kappa=kappa, activation="relu")
    a_c, _ = capacity_alpha(prior, eps)
    assert _separable_fraction(0.8 * a_c, eps, 120, 6, kappa) >= 5 / 6
    assert _separable_fraction(1.2 * a_c, eps, 120, 6, kappa) <= 1 / 6
