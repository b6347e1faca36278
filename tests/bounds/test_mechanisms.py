"""Measured memorization of learners (raflab.bounds.mechanisms) against exact values and the SDPI bound."""

import numpy as np
import pytest

from raflab.bounds.information import gaussian_plugin_information, plugin_discrete_information
from raflab.bounds.mechanisms import (
    MLPConfig,
    gaussian_clustering_sample,
    linear_error,
    measure_memorization,
    memorization_table,
)


def test_wishart_correction_removes_the_plugin_bias_and_states_its_spread():
    # R = 40 draws of a k = 10 Gaussian: the raw log-det plug-in is biased by several bits here
    rng = np.random.default_rng(0)
    k, R, reps = 10, 40, 300
    cov = np.diag(np.linspace(1.5, 4.0, k))
    exact = 0.5 * np.sum(np.log2(np.diag(cov)))  # noise variance 1
    est = np.array([gaussian_plugin_information(rng.multivariate_normal(np.zeros(k), cov, R), 1.0)
                    for _ in range(reps)])
    bits, se = est[:, 0], est[0, 1]
    assert abs(bits.mean() - exact) < 4 * se / np.sqrt(reps)
    assert bits.std() == pytest.approx(se, rel=0.15)
    naive = 0.5 * np.mean([np.linalg.slogdet(np.cov(rng.multivariate_normal(np.zeros(k), cov, R).T))[1]
                           for _ in range(50)]) / np.log(2)
    assert exact - naive > 10 * se / np.sqrt(reps)  # the correction matters at this R


def test_discrete_plugin_on_fair_and_biased_coins():
    rng = np.random.default_rng(1)
    p = np.array([0.5, 0.1, 0.02])
    bits, se = plugin_discrete_information(rng.random((5000, 3)) < p)
    exact = float(np.sum(-(p * np.log2(p) + (1 - p) * np.log2(1 - p))))
    assert abs(bits - exact) < 3 * se


def test_linear_error_is_the_fresh_data_error():
    rng = np.random.default_rng(2)
    d, sigma2 = 12, 4.0
    theta = rng.standard_normal(d)
    w = rng.standard_normal((3, d)) + theta
    x, y = gaussian_clustering_sample(theta, sigma2, (200_000,), rng)
    mc = np.mean(np.sign(x @ w.T) != y[:, None], axis=0)
    np.testing.assert_allclose(mc, linear_error(w, theta, sigma2), atol=4 * np.sqrt(0.25 / 200_000))


@pytest.mark.parametrize("d,n,noise", [(16, 4, 0.5), (32, 1, 1.0)])
def test_estimator_recovers_the_gaussian_mechanism(d, n, noise):
    rec = measure_memorization("noisy-mean", d, n, np.sqrt(d), reps=3000, noise=noise, seed=1)
    # exact: (d/2) log2(1 + sigma^2 / (n s^2)), s = noise sqrt(1 + sigma^2 / n)
    s2 = noise**2 * (1 + np.sqrt(d) / n)
    assert rec["exact_bits"] == pytest.approx(0.5 * d * np.log2(1 + np.sqrt(d) / (n * s2)))
    assert abs(rec["memorization_bits"] - rec["exact_bits"]) < 3 * rec["memorization_bits_stderr"]
    assert rec["memorization_bits_stderr"] < 0.02 * rec["exact_bits"]  # and the error bar is tight enough to mean it


@pytest.mark.parametrize("d,n", [(16, 4), (24, 1)])
def test_estimator_recovers_the_sign_of_the_mean(d, n):
    rec = measure_memorization("sign-mean", d, n, np.sqrt(d), reps=3000, thetas=2, seed=3)
    assert abs(rec["memorization_bits"] - rec["exact_bits"]) < 3 * rec["memorization_bits_stderr"] + 0.02


def test_learners_above_chance_sit_at_or_above_the_bound():
    df = memorization_table(["noisy-mean", "mean", "sign-mean", "ridge", "logistic"], 12, [1, 4], np.sqrt(12),
                            reps=300, thetas=2, seed=5)
    above = df[df["error"] + 2 * df["error_stderr"] < 0.5]
    assert len(above) == len(df)  # every learner here beats chance
    assert np.all(above["memorization_bits"] + 3 * above["memorization_bits_stderr"] >= above["lower_bound_bits"])
    # and not trivially: the bound is a sizeable fraction of what the best learners memorize
    assert (above["lower_bound_bits"] / above["memorization_bits"]).max() > 0.1


def test_mlp_small_is_accurate_and_above_the_bound():
    rec = measure_memorization("mlp", 8, 4, np.sqrt(8), reps=200, mlp=MLPConfig(hidden=3, steps=60), device="cpu",
                               test_size=256, seed=7)
    from raflab.bounds.theory import lower_bound_bits

    assert rec["error"] < 0.45
    bound = lower_bound_bits("gaussian", 4, np.sqrt(8), rec["error"])
    assert rec["memorization_bits"] + 3 * rec["memorization_bits_stderr"] >= bound


@pytest.mark.slow
def test_mlp_memorization_decreases_with_n():
    recs = [measure_memorization("mlp", 16, n, 4.0, reps=1000, device="auto", seed=9) for n in (1, 16)]
    assert recs[0]["memorization_bits"] > recs[1]["memorization_bits"] + 3 * recs[0]["memorization_bits_stderr"]
    assert recs[1]["error"] < recs[0]["error"]


def test_bad_learner_and_reps():
    with pytest.raises(ValueError, match="unknown learner"):
        measure_memorization("svm", 8, 2, 2.0)
    with pytest.raises(ValueError, match="more repeated trainings"):
        measure_memorization("ridge", 64, 2, 8.0, reps=20)
    with pytest.raises(ValueError, match="n must be"):
        measure_memorization("mean", 8, 0, 2.0)
