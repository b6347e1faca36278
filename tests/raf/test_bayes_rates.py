"""Bayes-optimal theory (closed limits, an independent quadrature, below every ERM, GAMP at finite d)
and the large-alpha rates."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm
from typer.testing import CliRunner

from raflab.cli import app
from raflab.core.seeding import point_rng
from raflab.raf.config import RAFConfig
from raflab.raf.data import sample_raf
from raflab.raf.learners.bayes import gamp_perceptron
from raflab.raf.theory import erm_theory
from raflab.raf.theory.bayes import bayes_optimal_theory, bayes_qhat_update
from raflab.raf.theory.rates import learning_rates


def _qhat_textbook(q: float, alpha: float, eps: float) -> float:
    """alpha E_xi sum_y (dZ/domega)^2 / Z at omega = sqrt(q) xi, V = 1 - q, by adaptive quadrature
    straight from the definition (no change of variables; fine where Phi does not underflow)."""
    V = 1.0 - q

    def integrand(xi):
        u = np.sqrt(q) * xi / np.sqrt(V)
        total = 0.0
        for y in (1.0, -1.0):
            Z = eps / 2 + (1 - eps) * norm.cdf(y * u)
            total += ((1 - eps) * norm.pdf(u)) ** 2 / V / Z
        return norm.pdf(xi) * total

    return alpha * integrate.quad(integrand, -10, 10, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("alpha, eps", [(0.5, 0.0), (1.0, 0.0), (2.0, 0.2), (5.0, 0.5), (3.0, 0.9)])
def test_update_equals_the_textbook_integral(alpha, eps):
    for q in (0.1, 0.5, 0.8):
        q_hat = q / (1 - q)
        ours = bayes_qhat_update(np.array([q_hat]), np.array([alpha]), np.array([eps]))[0]
        assert ours == pytest.approx(_qhat_textbook(q, alpha, eps), rel=1e-9)


def test_small_alpha_expansion():
    # q_hat = 2 alpha (1-eps)^2 / pi + O(alpha^2): the first-order term at the uninformed point
    for eps in (0.0, 0.3):
        df = bayes_optimal_theory(1e-4, eps)
        assert df.q_hat[0] == pytest.approx(2e-4 * (1 - eps) ** 2 / np.pi, rel=1e-3)


def test_opper_haussler_at_large_alpha_and_no_overflow_at_eps_zero():
    df = bayes_optimal_theory([1e3, 1e4, 1e5], 0.0)
    assert df.converged.all() and np.isfinite(df.gen_error).all()
    np.testing.assert_allclose(df.alpha * df.gen_error, 0.4417, rtol=2e-3)


def test_eps_one_learns_nothing_and_errors_fall_with_alpha():
    assert bayes_optimal_theory([0.5, 5], 1.0).gen_error.tolist() == [0.5, 0.5]
    df = bayes_optimal_theory(np.linspace(0.2, 8, 12), [0.0, 0.3, 0.7])
    for _, g in df.groupby("eps"):
        assert np.all(np.diff(g.sort_values("alpha").gen_error) < 0)
    at = df[df.alpha == df.alpha.max()].sort_values("eps")
    assert np.all(np.diff(at.gen_error) > 0)  # facts cost even the Bayes-optimal learner


def test_bayes_optimal_is_below_every_erm():
    alphas, epss = [0.5, 1.0, 2.0, 4.0], [0.0, 0.2, 0.5]
    bayes = bayes_optimal_theory(alphas, epss).set_index(["eps", "alpha"]).gen_error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for loss in ("square", "hinge", "logistic"):
            erm = erm_theory(loss, alphas, epss, [1e-3, 0.1, 1.0, 10.0])
            erm = erm[erm.converged].groupby(["eps", "alpha"]).gen_error.min()
            assert (erm - bayes.loc[erm.index] > 1e-6).all(), loss


@pytest.mark.parametrize("alpha, eps", [(2.0, 0.0), (2.0, 0.3)])
def test_gamp_at_finite_d_reaches_the_theory(alpha, eps):
    d, seeds = 800, 6
    errors = []
    for s in range(seeds):
        sample = sample_raf(RAFConfig(d=d, alpha=alpha, eps=eps), point_rng(s, d, alpha, eps))
        result = gamp_perceptron(sample.X, sample.y, eps)
        assert result.converged
        w, t = result.coef, sample.teacher
        errors.append(np.arccos(w @ t / np.linalg.norm(w) / np.linalg.norm(t)) / np.pi)
    theory = bayes_optimal_theory(alpha, eps).gen_error[0]
    stderr = np.std(errors, ddof=1) / np.sqrt(seeds)
    # 3 standard errors, plus the O(1/d) finite-size bias (measured at alpha = 5: 3e-3 at d = 250,
    # 2e-3 at d = 500, 2e-5 at d = 2000)
    assert abs(np.mean(errors) - theory) < 3 * stderr + 1.0 / d


def test_cli_theory_bayes_has_null_fact_errors():
    result = CliRunner().invoke(app, ["theory", "--model", "bayes", "--alpha", "1,4", "--eps", "0.2",
                                      "--format", "json"])
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["fact_memorization_error"] for r in records] == [None, None]
    assert records[0]["gen_error"] == pytest.approx(bayes_optimal_theory(1.0, 0.2).gen_error[0])
    assert "loss" not in records[0] and "lam" not in records[0]


# -- rates --------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [0.0, 0.2, 0.5])
def test_square_loss_rate_and_prefactor(eps):
    fit = learning_rates("square", eps, [0.1, 1.0], alpha_min=1e3, alpha_max=1e5).iloc[0]
    assert fit.exponent == pytest.approx(0.5, abs=0.03)
    c = (1 - eps) * np.sqrt(2 / np.pi)
    # the prefactor sqrt(1-c^2)/(pi c), with the exponent held at 1/2 at the top of the window
    assert fit.prefactor_at_known == pytest.approx(np.sqrt(1 - c**2) / (np.pi * c), rel=3e-3)


def test_bayes_rate_is_one_over_alpha():
    fits = learning_rates("square", [0.0, 0.3], 0.0, model_options={"model": "bayes"})
    np.testing.assert_allclose(fits.exponent, 1.0, atol=0.03)
    assert fits.prefactor[0] == pytest.approx(0.4417, rel=5e-3)


def test_rates_cli_and_bad_window():
    runner = CliRunner()
    ok = runner.invoke(app, ["rates", "--model", "linear", "--loss", "hinge", "--eps", "0.2", "--format", "json"])
    assert ok.exit_code == 0, ok.stderr
    fit = json.loads(ok.stdout)[0]
    assert 0.45 < fit["exponent"] < 0.55 and fit["known_exponent"] is None  # measured, not assumed
    for window, message in (("1:x", "malformed --window"), ("100:10", "0 < alpha_min < alpha_max")):
        bad = runner.invoke(app, ["rates", "--window", window])
        assert bad.exit_code == 2 and message in bad.stderr


def test_large_alpha_square_fits_follow_the_rate():
    # the regime the rate is fitted in, measured: fits at d = 100, alpha = 50 and 200, 6 seeds
    from raflab.raf.experiments.simulate import simulate_erm

    sim = simulate_erm("square", [50.0, 200.0], 0.2, 0.1, d=100, seeds=6)
    theory = erm_theory("square", [50.0, 200.0], 0.2, 0.1)
    z = (sim.gen_error - theory.gen_error) / sim.gen_error_stderr
    assert (np.abs(z) < 3).all(), z.tolist()
    # and eg sqrt(alpha) is the closed-form prefactor within 3 standard errors of the fits (the theory
    # itself is within 1e-3 of it from alpha = 50 on)
    c = 0.8 * np.sqrt(2 / np.pi)
    prefactor = np.sqrt(1 - c**2) / (np.pi * c)
    scaled = sim.gen_error * np.sqrt(sim.alpha)
    assert (np.abs(scaled - prefactor) < 3 * sim.gen_error_stderr * np.sqrt(sim.alpha)).all()
