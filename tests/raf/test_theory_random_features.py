"""Random-features and kernel theory: limits that reduce them to the linear learner and to each other."""

import numpy as np
import pytest

from raflab.raf.activations import gaussian_moments
from raflab.raf.theory import erm_theory, linear_erm_theory
from raflab.raf.theory.priors import KernelPrior, RandomFeaturesPrior

ERRORS = ["gen_error", "rule_train_error", "fact_memorization_error"]


@pytest.mark.parametrize("loss", ["square", "hinge", "logistic"])
def test_linear_activation_at_large_kappa_is_the_linear_learner(loss):
    """sigma(g) = g with p >> d: w.Fx/sqrt(pd) with |w|^2 penalized is ridge on x (F^T F/p -> I)."""
    lin = linear_erm_theory(loss, [0.5, 2.0], 0.2, 0.1)[ERRORS + ["m", "q"]].to_numpy(float)
    gap = {}
    for kappa in (1e2, 1e4):
        rf = erm_theory(loss, [0.5, 2.0], 0.2, 0.1, model="rf", kappa=kappa, activation="linear")
        gap[kappa] = np.max(np.abs(rf[ERRORS + ["m", "q"]].to_numpy(float) - lin) / (1e-3 + np.abs(lin)))
    assert gap[1e4] < 1e-3
    assert gap[1e2] / gap[1e4] > 50  # the gap closes like 1/kappa (100x here)


@pytest.mark.parametrize("loss", ["square", "hinge"])
def test_kernel_theory_is_the_infinite_width_limit_of_random_features(loss):
    mom = gaussian_moments("tanh")
    rf = erm_theory(loss, [1.0, 3.0], 0.3, 0.05, model="rf", kappa=1e5, activation="tanh")
    from raflab.raf.losses import get_loss
    from raflab.raf.theory.erm import _erm_theory_grid

    kernel = _erm_theory_grid(get_loss(loss), KernelPrior(mom.mu1, mom.mu_star), np.array([1.0, 3.0]),
                              np.array([0.3]), np.array([0.05]), 1e-12, 20000, 1.0, True, 10)
    np.testing.assert_allclose(rf[ERRORS + ["m", "q"]].to_numpy(float),
                               kernel[ERRORS + ["m", "q"]].to_numpy(float), atol=1e-4)


def test_square_loss_random_features_match_an_independent_ridge_trace_formula():
    """Square loss, eps = 0: the prior's m, q against E over the MP spectrum computed by quadrature.

    At the fixed point of square loss the channel is linear: m^ = a mu/(1+V), q^ = a (1 + q - 2 mu m)/(1+V)^2,
    V^ = a/(1+V) with a = alpha/kappa and mu = sqrt(2/pi) (1 - eps). Iterating those with the prior
    traces done by scipy quad reproduces the package's numbers.
    """
    from scipy import integrate

    from raflab.raf.theory.marchenko_pastur import marchenko_pastur_density, marchenko_pastur_support

    kappa, alpha, eps, lam = 1.7, 1.2, 0.25, 0.2
    mom = gaussian_moments("erf")
    a2, b2 = mom.mu1**2, mom.mu_star**2
    lo, hi = marchenko_pastur_support(kappa)
    atom = max(0.0, 1 - 1 / kappa)

    def E(f):
        return integrate.quad(lambda s: f(s) * marchenko_pastur_density(s, kappa), lo, hi, limit=200)[0] + atom * f(0.0)

    mu = np.sqrt(2 / np.pi) * (1 - eps)
    m, q, V = 0.3, 1.0, 1.0
    a = alpha / kappa
    for _ in range(200):
        mh, qh, Vh = a * mu / (1 + V), a * (1 + q - 2 * mu * m) / (1 + V) ** 2, a / (1 + V)
        om = lambda s: a2 * s + b2  # noqa: E731
        R = lambda s: 1 / (lam + Vh * om(s))  # noqa: E731
        V = E(lambda s: om(s) * R(s))
        m = mh * a2 * kappa * E(lambda s: s * R(s))
        q = mh**2 * a2 * kappa * E(lambda s: s * om(s) * R(s) ** 2) + qh * E(lambda s: om(s) ** 2 * R(s) ** 2)
    row = erm_theory("square", alpha, eps, lam, model="rf", kappa=kappa, activation="erf").iloc[0]
    np.testing.assert_allclose([row.m, row.q, row.V], [m, q, V], rtol=1e-7)


def test_overparameterization_stores_facts():
    """The paper's claim in one line: more features, fewer forgotten facts (hinge, small lam)."""
    df = erm_theory("hinge", 2.0, 0.3, 1e-3, model="rf", kappa=[0.5, 1.0, 2.0, 4.0], activation="relu")
    assert df.converged.all()
    assert df.fact_memorization_error.is_monotonic_decreasing
    assert df.fact_memorization_error.iloc[-1] == 0.0 < df.fact_memorization_error.iloc[0]


def test_kappa_grid_records_and_columns():
    df = erm_theory("square", [1.0, 2.0], [0.0, 0.5], 0.1, model="rf", kappa=[1.0, 3.0], activation="tanh")
    assert len(df) == 8
    assert list(df.columns[:7]) == ["model", "loss", "alpha", "eps", "lam", "kappa", "activation"]
    assert set(df.model) == {"rf"} and set(df.activation) == {"tanh"}


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="rf", kappa=0.0), "kappa must be > 0"),
    (dict(model="rf", kappa=-2.0), "kappa must be > 0"),
    (dict(model="rf", activation="swish"), "unknown activation"),
    (dict(model="rf", activation=lambda x: np.exp(x**2)), "diverges"),
    (dict(model="mlp"), "unknown model"),
])
def test_bad_input_is_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        erm_theory("hinge", 2.0, 0.2, 0.1, **kwargs)


def test_priors_reject_degenerate_feature_maps():
    with pytest.raises(ValueError, match="constant"):
        RandomFeaturesPrior(2.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="constant"):
        KernelPrior(0.0, 0.0)
