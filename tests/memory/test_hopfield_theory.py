"""raflab.memory.hopfield_theory: AGS retrieval and capacity, dense-memory capacities, the ring toy."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import erf, i0, i1, logsumexp
from scipy.stats import binom

from raflab.memory import hopfield_theory as th


def test_alpha_c_by_continuation_is_0138():
    c = th.capacity_alpha_c()
    assert abs(c["alpha_c"] - 0.138) < 2e-3
    lo, hi = c["bracket"]
    assert th.retrieval_exists(lo)[0] and not th.retrieval_exists(hi)[0]
    # an independent route: alpha_c = max_y h(y)^2 / 2 with h(y) = erf(y)/y - (2/sqrt(pi)) exp(-y^2)
    h = minimize_scalar(lambda y: -(erf(y) / y - 2 / np.sqrt(np.pi) * np.exp(-y * y)), bounds=(0.5, 3.0),
                        method="bounded", options={"xatol": 1e-12})
    assert c["alpha_c"] == pytest.approx(h.fun**2 / 2, abs=1e-6)
    assert c["overlap_c"] == pytest.approx(0.967, abs=1e-3)


def test_retrieval_overlap_solves_the_spec_equations():
    alphas = np.linspace(0.02, 0.137, 25)
    out = th.retrieval_overlap(alphas)
    assert out["retrieval"].all() and out["converged"].all()
    assert np.max(np.abs(th.ags_residuals(out["overlap"], out["r"], alphas))) < 1e-10
    assert np.all(np.diff(out["overlap"]) < 0)  # retrieval degrades with load
    assert out["overlap"][-1] > 0.96


def test_no_retrieval_above_capacity_and_the_m0_solution():
    alphas = np.array([0.139, 0.2, 1.0])
    out = th.retrieval_overlap(alphas)
    assert not out["retrieval"].any() and np.all(out["overlap"] == 0)
    # the m = 0 solution of the same equations
    assert np.max(np.abs(th.ags_residuals(np.zeros(3), out["r"], alphas))) < 1e-12


@pytest.mark.parametrize("bad", [0.0, -0.1, np.nan])
def test_bad_alpha(bad):
    with pytest.raises(ValueError, match="alpha must be > 0"):
        th.retrieval_overlap([0.1, bad])


def test_ring_radius_solves_the_bessel_equation_and_minimizes_E():
    betas = np.array([1.5, 2.0, 5.0, 20.0, 200.0])
    R = th.ring_radius(betas)
    assert np.allclose(i1(2 * betas * R) / i0(2 * betas * R), R, atol=1e-12, rtol=0)
    grid = np.linspace(0, 1.2, 240_001)
    for b, r in zip(betas, R):
        assert grid[np.argmin(th.ring_energy(grid, b))] == pytest.approx(r, abs=1e-5)
    # large beta: R* = 1 - 1/(4 beta) + O(1/beta^2)
    assert abs(R[-1] - (1 - 1 / 800)) < 1 / 200**2
    assert np.all(th.ring_radius([0.3, 1.0]) == 0)  # only the global mean below beta = 1


def test_ring_bad_beta():
    with pytest.raises(ValueError, match="beta must be > 0"):
        th.ring_radius([1.0, 0.0])


def test_polynomial_capacity_known_values():
    N = np.array([100.0, 1000.0, 1e4])
    # n = 2 is the classical Hopfield network: McEliece et al.'s N/(2 ln N) and N/(4 ln N)
    assert np.allclose(th.dense_am_capacity_polynomial(N, 2, "pattern"), N / (2 * np.log(N)))
    assert np.allclose(th.dense_am_capacity_polynomial(N, 2, "all"), N / (4 * np.log(N)))
    # Krotov-Hopfield alpha_n N^(n-1), alpha_n = 1 / (2 (2n-3)!! ln N): (2n-3)!! = 3, 15 for n = 3, 4
    assert np.allclose(th.dense_am_capacity_polynomial(N, 3, "pattern"), N**2 / (2 * 3 * np.log(N)))
    assert np.allclose(th.dense_am_capacity_polynomial(N, 4, "pattern"), N**3 / (2 * 15 * np.log(N)))
    # the error-rate criterion inverts the flip probability
    K = th.dense_am_capacity_polynomial(500, 3, "error_rate", error_rate=0.01)
    assert th.dense_am_flip_probability(500, K, 3) == pytest.approx(0.01, rel=1e-9)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        th.dense_am_capacity_polynomial(100, 1)


def test_exact_snr_approaches_the_leading_order():
    for n in (2, 3, 4):
        ratio = th.dense_am_snr(20_000, 1e6, n, exact=True) / th.dense_am_snr(20_000, 1e6, n)
        assert ratio == pytest.approx(1.0, abs=2e-3 * n)
    # n = 2 in closed form: signal 4(N-1), crosstalk variance 16 (K-1)(N-1), so SNR^2 = (N-1)/(K-1)
    assert th.dense_am_snr(101, 21, 2, exact=True) == pytest.approx(np.sqrt(100 / 20), rel=1e-12)


def test_cramer_rate_is_the_exponent_of_the_overlap_tail():
    N, x = 20_000, 0.3
    b = int(np.ceil(N * (1 + x) / 2))  # overlap >= x N  <=>  agreements >= N (1 + x) / 2
    exponent = -logsumexp(binom.logpmf(np.arange(b, N + 1), N, 0.5)) / N
    # the 1/sqrt(N) prefactor of the tail shifts the exponent by O(log(N) / N) ~ 5e-4
    assert exponent == pytest.approx(float(th.cramer_rate(x)), abs=1e-3)
    assert abs(exponent - float(th.cramer_rate(0.25))) > 5e-3  # the check resolves x
    # Demircigil et al. at rho = 0: ln(2) / 2, the birthday bound K < 2^(N/2)
    assert float(th.dense_am_capacity_exponential(0.0)) == pytest.approx(np.log(2) / 2)
    assert float(th.dense_am_capacity_exponential(0.2, "typical")) == pytest.approx(2 * th.dense_am_capacity_exponential(0.2))
