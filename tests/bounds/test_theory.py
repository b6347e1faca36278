"""Constants and bounds of raflab.bounds.theory against independent computations."""

import numpy as np
import pytest
from scipy.special import ndtr

from raflab.bounds.information import fano_information_bits, gaussian_channel_information_bits
from raflab.bounds.theory import (
    boolean_quantized_mean,
    boolean_sdpi_constants,
    boolean_tau_numeric,
    bound_factor,
    gaussian_noisy_mean,
    gaussian_sdpi_constants,
    gaussian_sign_mean_bits,
    raf_fact_bits_per_parameter,
    sdpi_bound,
)


def test_spec_example_bound_factors():
    df = sdpi_bound("gaussian", 1024, [1, 4, 16, 64], 0.25, sigma2=32.0)
    np.testing.assert_allclose(df["bound_factor"], [1056, 264, 66, 16.5], rtol=1e-12)
    np.testing.assert_allclose(df["lower_bound_bits"], df["bound_factor"] * (1 - 0.8112781244591328), rtol=1e-12)


@pytest.mark.parametrize("n,sigma2", [(1, 32.0), (4, 8.0), (16, 2.0)])
def test_gaussian_constants_are_sampled_squared_correlations(n, sigma2):
    # independent route: draw (theta, X_1..n, fresh X) and correlate theta and u with the sample mean
    rng = np.random.default_rng(1)
    draws = 200_000
    theta = rng.standard_normal(draws)
    m = theta + np.sqrt(sigma2) * rng.standard_normal((n, draws)).mean(axis=0)
    u = theta + np.sqrt(sigma2) * rng.standard_normal(draws)
    tau, rho = gaussian_sdpi_constants(n, sigma2)
    for est, exact in ((np.corrcoef(theta, m)[0, 1] ** 2, tau), (np.corrcoef(u, m)[0, 1] ** 2, rho)):
        # sd of a squared sample correlation: 2 r (1 - r^2) / sqrt(N)
        sd = 2 * np.sqrt(exact) * (1 - exact) / np.sqrt(draws)
        assert abs(est - exact) < 4 * sd + 1e-9


def test_gaussian_tau_is_the_supremum_of_mutual_information_ratios():
    # M = m + N(0, t): I(M; theta) / I(M; m) from the scalar channel formulas tends to tau from below
    n, sigma2 = 4, 8.0
    tau, _ = gaussian_sdpi_constants(n, sigma2)
    var_m = 1 + sigma2 / n
    t = np.geomspace(1e-3, 1e6, 60)
    i_theta = 0.5 * np.log2((var_m + t) / (sigma2 / n + t))
    i_m = 0.5 * np.log2((var_m + t) / t)
    ratio = i_theta / i_m
    assert np.all(ratio <= tau + 1e-9) and ratio[-1] > tau * (1 - 1e-4)


def test_gaussian_bound_factor_identity():
    n = np.array([1, 3, 10, 100])
    for sigma2 in (0.5, 4.0, 32.0):
        tau, rho = gaussian_sdpi_constants(n, sigma2)
        np.testing.assert_allclose((1 - tau) / rho, bound_factor("gaussian", n, sigma2), rtol=1e-12)


@pytest.mark.parametrize("n,r", [(1, 0.3), (2, 0.7), (3, 0.5), (5, 0.3)])
def test_boolean_tau_bound_holds_numerically(n, r):
    numeric = boolean_tau_numeric(n, r, restarts=4)
    tau, rho = boolean_sdpi_constants(n, r)
    assert numeric <= tau + 1e-9
    if n == 1:
        assert numeric == pytest.approx(r * r, rel=1e-6)  # one binary symmetric pair: exactly r^2
    assert rho == pytest.approx(r * r * tau)


def test_sign_mean_quadrature_against_monte_carlo_over_theta():
    d, n, sigma2 = 1, 3, 5.0
    theta = np.random.default_rng(2).standard_normal(400_000)
    p = ndtr(theta * np.sqrt(n / sigma2))
    h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    assert gaussian_sign_mean_bits(d, n, sigma2)[0] == pytest.approx(h.mean(), abs=4 * h.std() / np.sqrt(h.size))


def test_matching_algorithm_within_stated_factor():
    n = np.array([1, 4, 16, 64, 256])
    d, sigma2, error = 1024, 32.0, 0.25
    match = gaussian_noisy_mean(d, n, sigma2, error)
    bound = bound_factor("gaussian", n, sigma2) * fano_information_bits(error)
    ratio = match["bits"] / bound
    assert np.all(ratio >= 1.0)  # the matching algorithm never beats the lower bound
    assert np.all(ratio <= match["factor_bound"] * (1 + 1e-12))
    q = 0.6744897501960817
    limit = d / (2 * np.log(2) * (d / (sigma2 * q * q) - 1) * (1 + sigma2) * fano_information_bits(error))
    assert limit == pytest.approx(1.7105, abs=1e-3)
    assert ratio[-1] == pytest.approx(limit, rel=0.005)  # the constant factor at large n
    # its noise leaves the stated error: Phi(-sqrt(d) / (sigma sqrt(1 + sigma^2/n + s^2))) = error
    err = ndtr(-np.sqrt(d / (sigma2 * (1 + sigma2 / n + match["noise_var"]))))
    np.testing.assert_allclose(err, error, rtol=1e-10)
    np.testing.assert_allclose(match["bits"], gaussian_channel_information_bits(d, sigma2 / n, match["noise_var"]))


def test_boolean_matching_algorithm_above_bound_and_accurate():
    d, r, error = 1024, 1024 ** -0.25, 0.25
    df = sdpi_bound("boolean", d, [1, 4, 16, 64], error, r=r)
    assert np.all(df["matching_ratio"] >= 1.0)
    # simulate the matching algorithm's classifier and check its error is the target, to O(1/sqrt(d))
    rng = np.random.default_rng(3)
    n, q = 4, float(df["matching_flip_prob"].iloc[1])
    errs = []
    for _ in range(40):
        theta = rng.choice([-1, 1], d)
        u = theta * np.where(rng.random((n, d)) < (1 + r) / 2, 1, -1)
        s = u.sum(axis=0)
        b = np.where(s != 0, np.sign(s), rng.choice([-1, 1], d)) * np.where(rng.random(d) < q, -1, 1)
        x = theta * np.where(rng.random((2000, d)) < (1 + r) / 2, 1, -1)  # y = +1 examples suffice (symmetry)
        errs.append(np.mean(x @ b < 0) + 0.5 * np.mean(x @ b == 0))
    assert np.mean(errs) == pytest.approx(error, abs=0.03)
    assert np.isnan(boolean_quantized_mean(d, [1], r, 0.01)["bits"][0])  # majority of one sample is not that accurate


def test_raf_link_gardner_and_capacity():
    from raflab.raf.theory.erm import make_prior

    lin = raf_fact_bits_per_parameter(make_prior("linear"), [0.5, 1.0])
    assert lin["fact_bits_per_parameter"].iloc[1] == pytest.approx(2.0, rel=1e-9)  # Gardner: 2 bits per weight
    assert 1.0 < lin["fact_bits_per_parameter"].iloc[0] < 2.0
    ker = raf_fact_bits_per_parameter(make_prior("kernel"), [0.3])
    assert np.isinf(ker["alpha_c"].iloc[0]) and ker["fact_bits_per_parameter"].iloc[0] == 0.3


def test_noisy_mean_at_its_calibrated_noise_has_the_target_error_at_finite_d():
    from raflab.bounds.mechanisms import linear_error

    d, sigma2, error, n = 1024, 32.0, 0.25, 4
    s2 = gaussian_noisy_mean(d, [n], sigma2, error)["noise_var"][0]
    rng = np.random.default_rng(4)
    theta = rng.standard_normal((50, d))
    w = theta + np.sqrt(sigma2 / n) * rng.standard_normal((50, d)) + np.sqrt(s2) * rng.standard_normal((50, d))
    errs = [linear_error(w[i], theta[i], sigma2) for i in range(50)]
    assert np.mean(errs) == pytest.approx(error, abs=0.01)
