"""The sparse hypercube and mixture-of-clusters bounds against brute force, Monte Carlo and limits."""

import numpy as np
import pytest
from scipy.stats import binom

from raflab.bounds.information import (
    binary_entropy_bits,
    fano_information_bits,
    kl_contraction_coefficient,
    plugin_discrete_information,
)
from raflab.bounds.mixture import allocated_errors, cluster_factors, mixture_bound
from raflab.bounds.sparse import (
    TO_THETA,
    sparse_revealed_support,
    sparse_sdpi_constants,
    sparse_sdpi_numeric,
    statistic_law,
    to_fresh_example,
)
from raflab.bounds.theory import lower_bound_bits, sdpi_bound


def _mi_bits(joint):
    joint = joint / joint.sum()
    px, py = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log2(joint[nz] / (px @ py)[nz])))


def test_contraction_coefficient_of_the_textbook_channels():
    r, e = 0.4, 0.7
    bsc = np.array([[(1 + r) / 2, (1 - r) / 2], [(1 - r) / 2, (1 + r) / 2]])
    assert kl_contraction_coefficient([0.5, 0.5], bsc) == pytest.approx(r * r, abs=1e-6)  # BSC: r^2
    bec = np.array([[1 - e, 0, e], [0, 1 - e, e]])
    assert kl_contraction_coefficient([0.5, 0.5], bec) == pytest.approx(1 - e, abs=1e-6)  # BEC: 1 - erasure


@pytest.mark.parametrize("p,n", [(1 / 32, 1), (1 / 32, 16), (1 / 32, 64), (0.1, 4), (0.3, 2), (0.3, 4), (0.5, 1)])
def test_sparse_constants_closed_forms_equal_brute_force(p, n):
    tau, rho = sparse_sdpi_constants(n, p)
    tau_num, rho_num = sparse_sdpi_numeric(n, p)
    assert tau_num == pytest.approx(float(tau), abs=1e-6)
    assert rho_num == pytest.approx(float(rho), abs=1e-7)


@pytest.mark.parametrize("p,n", [(1 / 32, 1), (0.1, 4), (0.3, 2)])
def test_no_random_channel_beats_the_sparse_constants(p, n):
    # M drawn from random kernels on the sufficient statistic T: I(M; theta) <= tau I(M; T), I(M; u) <= rho I(M; T)
    rng = np.random.default_rng(0)
    law, (tau, rho) = statistic_law(n, p), sparse_sdpi_constants(n, p)
    joint_theta, joint_u = law[:, None] * TO_THETA, law[:, None] * to_fresh_example(p)
    best = 0.0
    for _ in range(3000):
        kernel = rng.dirichlet(np.full(4, rng.choice([0.05, 0.5, 5.0])), size=3)  # M | T
        i_t = _mi_bits(law[:, None] * kernel)
        if i_t < 1e-9:
            continue
        i_theta, i_u = _mi_bits(joint_theta.T @ kernel), _mi_bits(joint_u.T @ kernel)
        assert i_theta <= tau * i_t + 1e-10 and i_u <= rho * i_t + 1e-10
        best = max(best, i_theta / i_t)
    assert best > 0.9 * tau  # and the constant is nearly reached (near a point mass: M = 1[T = +])


def test_sparse_chain_by_monte_carlo():
    # one coordinate, n = 3, p = 0.2: the sample's statistic T carries c bits of theta (exact), and a fresh
    # example holds exactly p times what T holds about theta (erasure forward channel), by sampling
    rng = np.random.default_rng(1)
    draws, n, p = 400_000, 3, 0.2
    theta = rng.choice([-1, 1], draws)
    shown = (rng.random((draws, n)) < p).any(axis=1)
    t = np.where(shown, theta, 0)
    u = np.where(rng.random(draws) < p, theta, 0)
    def plug(a, b):  # plug-in MI and its delta-method standard error, sd(pointwise information) / sqrt(N)
        _, ia = np.unique(a, return_inverse=True)
        _, ib = np.unique(b, return_inverse=True)
        joint = np.histogram2d(ia, ib, bins=(ia.max() + 1, ib.max() + 1))[0] / draws
        pointwise = np.log2(joint[ia, ib] / (joint.sum(1)[ia] * joint.sum(0)[ib]))
        return pointwise.mean(), pointwise.std() / np.sqrt(draws)
    c = 1 - (1 - p) ** n
    for (est, se), exact in ((plug(t, theta), c), (plug(t, u), p * c)):
        assert est == pytest.approx(exact, abs=4 * se + 1e-4)  # 1e-4: the plug-in's bias, (cells - 1) / (2 N ln 2)


def test_sparse_matching_algorithm_error_and_memorization_by_simulation():
    d, p, n, error = 256, 1 / 16, 2, 0.2
    row = sdpi_bound("sparse", d, [n], error, p=p).iloc[0]
    kappa = row["matching_keep_prob"]
    assert 0 < kappa < 1 and row["matching_bits"] >= row["lower_bound_bits"]
    rng = np.random.default_rng(2)
    theta = rng.choice([-1.0, 1.0], d)
    reps = 4000
    revealed = (rng.random((reps, n, d)) < p).any(axis=1)
    kept = revealed & (rng.random((reps, d)) < kappa)
    b = theta * kept
    bits, se = plugin_discrete_information(b)  # I(b; S | theta) = H(b | theta) - H(b | S, theta): the H part
    exact_h = d * binary_entropy_bits(kappa * (1 - (1 - p) ** n))
    assert bits == pytest.approx(exact_h, abs=3 * se + 0.05)
    c = 1 - (1 - p) ** n
    assert row["matching_bits"] == pytest.approx(d * (binary_entropy_bits(kappa * c) - c * binary_entropy_bits(kappa)))
    fresh = theta * (rng.random((reps, d)) < p)
    score = np.sum(b * fresh, axis=1)
    err = np.mean(score < 0) + 0.5 * np.mean(score == 0)
    assert err == pytest.approx(error, abs=4 * np.sqrt(error * (1 - error) / reps))


def test_sparse_bound_orders_of_magnitude():
    # p = d^(-1/2): Theta(sqrt(d) log d) at n = 1 (not Theta(d)), exponentially small once theta is revealed
    df = sdpi_bound("sparse", 1024, [1, 4, 16, 64, 256], 0.25, p=1 / 32)
    assert df["bound_factor"].iloc[0] == pytest.approx((1 - 1 / 6) / (1 / 32 / 6))  # tau_1 = 1/log2(64)
    assert np.all(np.diff(df["bound_factor"]) < 0) and df["bound_factor"].iloc[-1] < 0.01
    assert np.all(df["matching_ratio"].dropna() >= 1.0)


def test_mixture_of_one_cluster_is_the_base_bound():
    for base, noise in (("gaussian", {"sigma2": 8.0}), ("boolean", {"r": 0.3}), ("sparse", {"p": 0.1})):
        df = mixture_bound(base, 64, [1, 4, 16], 1, 0.3, **noise)
        np.testing.assert_allclose(df["lower_bound_bits"], lower_bound_bits(base, [1, 4, 16], *noise.values(), 0.3),
                                   rtol=1e-9)


def test_mixture_allocation_is_feasible_and_no_profile_does_better():
    n, k, e = 64, 32, 0.3
    m = np.arange(n + 1)
    w, f = binom.pmf(m, n, 1 / k), cluster_factors("boolean", m, 0.3)
    x = allocated_errors(f, w, e)
    assert float(w @ x) == pytest.approx(e, abs=1e-10) and x[0] == 0.5
    best = k * float(np.sum(w * f * fano_information_bits(x)))
    rng = np.random.default_rng(3)
    for _ in range(500):  # random feasible profiles: errors in [0, 1/2] meeting the same average error
        y = np.where(f > 0, rng.uniform(0, 0.5, n + 1), 0.5)
        seen = f > 0
        # move the seen clusters' errors towards 1/2 or 0 until the average is e
        lo, hi = 0.0, 1.0
        for _ in range(60):
            t = (lo + hi) / 2
            z = np.where(seen, y + t * (0.5 - y), 0.5)
            lo, hi = (t, hi) if w @ z < e else (lo, t)
        z = np.where(seen, y + t * (0.5 - y), 0.5)
        if abs(w @ z - e) < 1e-6:
            assert k * float(np.sum(w * f * fano_information_bits(z))) >= best - 1e-6
    assert mixture_bound("boolean", 64, [n], k, e, r=0.3)["lower_bound_bits"].iloc[0] == pytest.approx(best)


def test_mixture_floor_and_singletons():
    df = mixture_bound("gaussian", 32, [16, 64], 32, 0.3, sigma2=8.0)
    assert df["error_floor"].iloc[0] == pytest.approx(0.5 * (1 - 1 / 32) ** 16)
    assert np.isnan(df["lower_bound_bits"].iloc[0])  # 0.3 < floor 0.30: half the clusters are never seen
    assert df["expected_singletons"].iloc[1] == pytest.approx(32 * binom.pmf(1, 64, 1 / 32))
    assert df["singleton_bits"].iloc[1] < df["lower_bound_bits"].iloc[1]
