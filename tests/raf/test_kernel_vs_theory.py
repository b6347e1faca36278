"""Kernel theory (proportional-regime linearization) against scikit-learn kernel fits.

The peers are scikit-learn's KernelRidge (square loss; alpha = lam, the same objective) and
SVC(kernel="precomputed") (hinge; C = 1/lam). SVC fits a free intercept that the theory's learner
does not have; by the label symmetry of the RAF model the optimal intercept is 0, so this changes
nothing as d -> infinity. d = 400, 10 seeds, tolerance 3 standard errors of the mean, where the
standard error is never taken below the binomial one implied by the theory's rate (a rate of 1e-4
on 560 rule samples is 0 on most seeds, and an estimated standard error of 0 is not a tolerance).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.svm import SVC

from raflab.core.seeding import point_rng
from raflab.raf.config import RAFConfig
from raflab.raf.data import sample_raf, sample_rule_test_set
from raflab.raf.experiments.simulate import scores_fit_metrics, simulate_erm
from raflab.raf.kernel_functions import get_kernel
from raflab.raf.metrics import ERROR_KEYS
from raflab.raf.theory import erm_theory

D, SEEDS, N_TEST = 400, 10, 10_000


def sklearn_kernel_fits(loss, kernel, alpha, eps, lam, kernel_params=None):
    k = get_kernel(kernel, **(kernel_params or {}))
    rows = []
    for seed in range(SEEDS):
        rng = point_rng(seed, D, alpha, eps)
        sample = sample_raf(RAFConfig(d=D, alpha=alpha, eps=eps), rng)
        X_test, _ = sample_rule_test_set(sample.teacher, N_TEST, rng)
        K, K_test = k.matrix(sample.X), k.matrix(X_test, sample.X)
        if loss == "square":
            est = KernelRidge(alpha=lam, kernel="precomputed").fit(K, sample.y)
            train, test = est.predict(K), est.predict(K_test)
        else:
            est = SVC(C=1.0 / lam, kernel="precomputed", tol=1e-6).fit(K, sample.y)
            train, test = est.decision_function(K), est.decision_function(K_test)
        field = X_test @ sample.teacher / np.sqrt(D)
        rows.append(scores_fit_metrics(sample, train, test, field, loss))
    df = pd.DataFrame(rows)
    return df.mean(), df.sem(ddof=1)


CASES = [
    pytest.param("square", "arccos", {}, 2.0, 0.2, 0.1, id="krr-arccos-a2-e0.2-l0.1"),
    pytest.param("hinge", "arccos", {}, 2.0, 0.2, 0.1, id="svc-arccos-a2-e0.2-l0.1"),
    pytest.param("square", "polynomial", {"degree": 3}, 1.5, 0.3, 0.05, id="krr-poly3-a1.5-e0.3-l0.05",
                 marks=pytest.mark.slow),
    pytest.param("hinge", "rbf", {"gamma": 0.5}, 3.0, 0.1, 0.01, id="svc-rbf-a3-e0.1-l0.01", marks=pytest.mark.slow),
    pytest.param("hinge", "activation:tanh", {}, 2.0, 0.3, 0.02, id="svc-tanh-a2-e0.3-l0.02", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("loss, kernel, params, alpha, eps, lam", CASES)
def test_kernel_theory_matches_scikit_learn_fits(loss, kernel, params, alpha, eps, lam):
    mean, sem = sklearn_kernel_fits(loss, kernel, alpha, eps, lam, params)
    th = erm_theory(loss, alpha, eps, lam, model="kernel", kernel=kernel, kernel_params=params).iloc[0]
    assert th.converged
    n = round(alpha * D)
    counts = {"gen_error": N_TEST, "rule_train_error": n - round(eps * n), "fact_memorization_error": round(eps * n)}
    for k in ERROR_KEYS:
        binomial = np.sqrt(th[k] * (1 - th[k]) / (counts[k] * SEEDS))
        se = max(sem[k], binomial)
        assert abs(mean[k] - th[k]) <= 3 * se + 1e-9, (
            f"{k}: scikit-learn {mean[k]:.4f} ± {sem[k]:.4f} vs theory {th[k]:.4f}")


def test_raflab_kernel_simulation_equals_scikit_learn_kernel_ridge_on_the_same_draws():
    """simulate_erm(model="kernel") draws the same data and test sets as the loop above; with square
    loss its path fit (one eigendecomposition for all lam) must give KernelRidge's numbers."""
    global SEEDS
    saved = SEEDS
    SEEDS = 3
    try:
        mean, _ = sklearn_kernel_fits("square", "rbf", 1.5, 0.2, 0.05, {"gamma": 0.5})
    finally:
        SEEDS = saved
    sim = simulate_erm("square", 1.5, 0.2, [0.05, 1.0], model="kernel", kernel="rbf", kernel_params={"gamma": 0.5},
                       d=D, seeds=3, n_test=N_TEST)
    row = sim[sim.lam == 0.05].iloc[0]
    for k in ERROR_KEYS + ("m", "q"):
        assert row[k] == pytest.approx(mean[k], rel=1e-9, abs=1e-12)
