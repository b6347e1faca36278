"""Kernel geometry (raflab.raf.experiments.geometry): the (mu1, mu_star) plane against the kernels'
own theory, the closed-form kernel-ridge optimum against a numerical one, and the plane's values at
four marked kernels against fits of those real kernels at d = 500.

Fit tolerance: 3 standard errors of the mean over seeds, the standard error never taken below the
binomial one implied by the theory's rate (as in test_kernel_vs_theory). The theory is d -> infinity;
the kernels' linearization is exact only there (O(d^-1/2) corrections), so this is also a check that
those corrections are within the statistical error at d = 500.
"""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.raf.experiments.geometry import (
    MomentKernel,
    kernel_geometry,
    linear_ridge_optimal_lam,
    named_kernel_points,
    ridge_optimal_lam,
)
from raflab.raf.experiments.regularization import optimal_lambda
from raflab.raf.experiments.simulate import simulate_erm
from raflab.raf.learner_spec import parse_kernel
from raflab.raf.theory import erm_theory

ALPHA, EPS, LAM = 2.0, 0.2, 1.0
ERRORS = ("gen_error", "rule_train_error", "fact_memorization_error")
MARKED = ("arccos", "activation:sign", "polynomial:degree=2", "rbf:gamma=1")


def test_named_kernels_sit_at_their_closed_form_moments():
    pts = named_kernel_points(("linear", "arccos", "rbf:gamma=0.5", "polynomial:degree=2")).set_index("kernel")
    assert tuple(pts.loc["linear", ["mu1", "mu_star"]]) == (1.0, 0.0)
    assert pts.loc["arccos", "mu1"] == pytest.approx(0.5)
    assert pts.loc["arccos", "mu_star"] ** 2 == pytest.approx(0.25 - 1 / (2 * np.pi), rel=1e-12)
    # RBF gamma = 1/2: k1 = e^-1, k_star = 1 - 2 e^-1
    assert pts.loc["rbf:gamma=0.5", "mu1"] ** 2 == pytest.approx(np.exp(-1), rel=1e-12)
    assert pts.loc["rbf:gamma=0.5", "mu_star"] ** 2 == pytest.approx(1 - 2 * np.exp(-1), rel=1e-12)
    assert tuple(pts.loc["polynomial:degree=2", ["mu1", "mu_star"]] ** 2) == pytest.approx((2.0, 1.0))


def test_moment_kernel_is_the_linearization():
    X = np.random.default_rng(0).standard_normal((6, 40))
    Y = np.random.default_rng(1).standard_normal((3, 40))
    k = MomentKernel(0.7, 0.4)
    np.testing.assert_allclose(k.matrix(X), 0.49 * X @ X.T / 40 + 0.16 * np.eye(6), rtol=1e-13)
    np.testing.assert_allclose(k.matrix(Y, X), 0.49 * Y @ X.T / 40, rtol=1e-13)
    with pytest.raises(ValueError, match="zero kernel"):
        MomentKernel(0.0, 0.0)


@pytest.mark.parametrize("loss", ["square", "hinge"])
def test_plane_at_a_kernel_equals_that_kernels_theory(loss):
    """The plane is solved one ray mu_star / mu1 at a time at lam / mu1^2 (homogeneity); at each
    marked kernel it must give erm_theory of the kernel itself, to the solver's tolerance."""
    df = kernel_geometry(ALPHA, EPS, LAM, [0.5, 1.0], [0.3], losses=(loss,), kernels=MARKED)
    at = df[df["where"] == "kernel"].set_index("kernel")
    for text in MARKED:
        name, params = parse_kernel(text)
        th = erm_theory(loss, ALPHA, EPS, LAM, model="kernel", kernel=name, kernel_params=params).iloc[0]
        for k in (*ERRORS, "m", "q"):
            assert at.loc[text, k] == pytest.approx(th[k], rel=1e-6, abs=1e-9), (text, k)
    assert df["converged"].all()


@pytest.mark.parametrize("mu1, mu_star", [(1.0, 0.0), (0.5, 0.3), (1.4, 1.0), (0.5, 0.8)])
def test_closed_form_ridge_optimum_is_the_numerical_one(mu1, mu_star):
    """lam* = max(0, mu1^2 (pi / (2 (1-eps)^2) - 1) - mu_star^2) against a bounded scan-and-refine of
    the theory's generalization error (xtol 1e-6); (0.5, 0.8) is over-regularized by its own
    mu_star: lam* = 0, and there its error is above the linear optimum that the others reach."""
    best_lam = float(ridge_optimal_lam(EPS, mu1, mu_star))
    numeric = optimal_lambda("square", ALPHA, EPS, model_options={"model": "kernel", "kernel": MomentKernel(mu1, mu_star)},
                             lam_min=1e-4, lam_max=1e2).iloc[0]
    linear_best = erm_theory("square", ALPHA, EPS, linear_ridge_optimal_lam(EPS)).gen_error[0]
    if best_lam > 0:
        assert numeric["lam"] == pytest.approx(best_lam, rel=2e-3)
        assert numeric["gen_error"] == pytest.approx(linear_best, abs=1e-9)
    else:
        assert numeric["lam"] <= 1e-4  # lam -> 0+ (or the scan's smallest) is best
        assert numeric["gen_error"] > linear_best + 1e-3
    plane = kernel_geometry(ALPHA, EPS, 0.1, [mu1], [mu_star], losses=("square",), kernels=())
    assert plane["ridge_optimal_gen_error"].iloc[0] == pytest.approx(numeric["gen_error"], abs=1e-6)


def _fits_against_plane(kernels, losses, d, seeds, n_test):
    plane = kernel_geometry(ALPHA, EPS, LAM, [1.0], [0.0], losses=losses, kernels=kernels)
    at = plane[plane["where"] == "kernel"].set_index(["kernel", "loss"])
    n = round(ALPHA * d)
    counts = {"gen_error": n_test, "rule_train_error": n - round(EPS * n), "fact_memorization_error": round(EPS * n)}
    for text in kernels:
        name, params = parse_kernel(text)
        for loss in losses:
            sim = simulate_erm(loss, ALPHA, EPS, LAM, model="kernel", kernel=name, kernel_params=params, d=d,
                               seeds=seeds, n_test=n_test).iloc[0]
            th = at.loc[(text, loss)]
            for k in ERRORS:
                binomial = np.sqrt(th[k] * (1 - th[k]) / (counts[k] * seeds))
                se = max(sim[f"{k}_stderr"] if seeds > 1 else 0.0, binomial)
                assert abs(sim[k] - th[k]) <= 3 * se + 1e-9, (
                    f"{text} {loss} {k}: fits {sim[k]:.4f} ± {se:.4f} vs plane {th[k]:.4f}")


def test_plane_predicts_kernel_fits_reduced():
    """Two marked kernels, d = 500, 2 seeds (about 5 s)."""
    _fits_against_plane(("arccos", "rbf:gamma=1"), ("square", "hinge"), d=500, seeds=2, n_test=5000)


@pytest.mark.slow
def test_plane_predicts_kernel_fits_at_four_kernels():
    """Four marked kernels x two losses, d = 600, 6 seeds, 10 000 test points (about 60 s on a shared 2-core machine)."""
    _fits_against_plane(MARKED, ("square", "hinge"), d=600, seeds=6, n_test=10_000)


def test_cli_geometry_records_and_figure(tmp_path):
    out = tmp_path / "geometry.png"
    r = CliRunner().invoke(app, ["geometry", "--mu1", "0.5,1", "--mu-star", "0,0.5", "--loss", "square",
                                 "--kernels", "linear;arccos", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = pd.DataFrame(json.loads(r.stdout))
    assert list(rows["kernel"]) == ["linear", "arccos"] and (rows["where"] == "kernel").all()
    assert rows.loc[0, "ridge_optimal_lam"] == pytest.approx(np.pi / 1.28 - 1)
    assert out.exists() and out.stat().st_size > 10_000
    r = CliRunner().invoke(app, ["geometry", "--mu1", "0,1", "--mu-star", "0", "--format", "json"])
    assert r.exit_code == 2 and "mu1 must be finite and > 0" in r.output
    r = CliRunner().invoke(app, ["geometry", "--eps", "1", "--mu1", "1", "--mu-star", "0"])
    assert r.exit_code == 2 and "no rule" in r.output
