import warnings

import numpy as np
import pytest

from raflab.attention.simulate import simulate
from raflab.attention.theory import activation, attention_theory, ridge_memorization_error, tau_limit, tau_p


def test_ridge_limits():
    assert np.isclose(ridge_memorization_error(1.0, 1.0, 0.0), 1 / np.sqrt(5))
    for c, rho in [(0.5, 0.0), (0.5, 2.0), (2.0, 1.0)]:
        assert np.isclose(ridge_memorization_error(c, 1e-9, rho), max(1 - c, 0) / (1 + rho), atol=1e-4)


def test_spec_numbers_and_mu_zero_alignment_no_effect():
    r = attention_theory([1.0], [0.1], "tanh")[0]
    assert abs(r["memorization_error_attention"] - 0.45) < 0.01
    assert abs(r["memorization_error_ridge"] - 0.156) < 1e-3
    # w_K, w_Q orthogonal to mu have no effect
    a = attention_theory([1.0], [0.5], "tanh", snr=1.0, align=0.0)[0]["memorization_error_attention"]
    b = attention_theory([1.0], [0.5], "tanh", snr=1.0, align=0.0, w_norm=0.0)[0]["memorization_error_attention"]
    assert np.isclose(a, b, rtol=1e-6)


def test_moments():
    t = activation("linear")
    assert np.isclose(t.a1, 1) and np.isclose(t.nu, 1)
    r = activation("relu_centered")
    assert np.isclose(r.a1, 0.5)
    with pytest.warns(UserWarning):
        s = activation(lambda x: x**2 + x)
    assert np.isclose(s.a1, 1.0) and np.isclose(s.nu, 3.0)  # centred x^2 - 1 + x
    with pytest.raises(ValueError):
        activation("nope")
    with pytest.raises(ValueError):
        attention_theory([1.0], [0.0])
    with pytest.raises(ValueError):
        attention_theory([-1.0], [0.1])


def test_derivative_step_stable():
    a = attention_theory([1.5], [0.2], "erf", snr=1.0, align=0.5)[0]["memorization_error_attention"]
    b = attention_theory([1.5], [0.2], "erf", snr=1.0, align=0.5, rel_step=1e-3)[0]["memorization_error_attention"]
    assert abs(a - b) < 1e-6


@pytest.mark.parametrize(
    "c,gamma,f,snr,align",
    [(1.0, 0.1, "tanh", 0.0, 0.0), (1.0, 1.0, "relu_centered", 1.0, 1.0), (0.5, 0.5, "erf", 2.0, 0.7)],
)
def test_attention_theory_vs_monte_carlo(c, gamma, f, snr, align):
    n = 1000
    p = int(c * n)
    mc = simulate(p, n, [gamma], f, snr, align, seeds=6, seed=3).iloc[0]
    th = attention_theory([c], [gamma], f, snr, align, p=p)[0]
    se = mc.memorization_error_attention_stderr
    assert abs(mc.memorization_error_attention - th["memorization_error_attention"]) < 3 * se


def test_ridge_mc_vs_mp():
    mc = simulate(800, 1000, [0.1, 1.0], "linear", snr=1.0, seeds=6, seed=7)
    th = ridge_memorization_error(0.8, np.array([0.1, 1.0]), 1.0)
    assert np.all(np.abs(mc.memorization_error_ridge - th) < 3 * mc.memorization_error_ridge_stderr + 1e-3)


@pytest.mark.parametrize("c,gamma,rho", [(0.5, 0.3, 1.0), (1.5, 1.0, 2.0)])
def test_identity_kernel_gives_ridge(c, gamma, rho):
    # the spec's independent check: K0 = I (kappa = 0, b = 1, s = 0) must reproduce the MP ridge formula
    from raflab.attention.theory import _basis_coords, _h_attention, solve_bulk

    m, a, b = _basis_coords(rho, 0.0, 0.0)
    h = []
    for g in (gamma * (1 + 1e-4), gamma * (1 - 1e-4)):
        T = solve_bulk([c], [g], [0.0], [1.0], [0.0]).T
        h.append(_h_attention(T, np.array([0.0]), m, a, b, np.array([c]))[0])
    e = -(gamma**2) * (h[0] - h[1]) / (2e-4 * gamma)
    assert np.isclose(e, ridge_memorization_error(c, gamma, rho), rtol=1e-6)


def test_tau_limit_is_the_slope_of_f_at_infinity():
    """tau_p = f(sqrt p)/sqrt p -> lim f(t)/t: 1 for centred ReLU, 0 for tanh and erf, a for a t
    (centring a user f shifts f(t) by a constant, which does not move the limit)."""
    assert tau_limit(activation("relu_centered")) == pytest.approx(1.0, abs=1e-12)
    assert tau_limit(activation("linear")) == 1.0
    for name in ("tanh", "erf"):
        assert abs(tau_limit(activation(name))) < 1e-12
    for a in (0.3, 2.5, -1.7):
        assert tau_limit(activation(lambda t, a=a: a * t)) == pytest.approx(a, rel=1e-12)
    with pytest.warns(UserWarning, match="not centred"):
        shifted = activation(lambda t: 0.7 * t + np.abs(t) ** 0.5)  # slope 0.7 plus a sublinear tail
    assert tau_limit(shifted) == pytest.approx(0.7, abs=1e-6)
    # and it is the limit of the finite-p diagonal
    relu = activation("relu_centered")
    assert abs(tau_p(relu, 10**6) - 1.0) < 1e-3 and abs(tau_p(relu, 100) - 1.0) > 0.03


@pytest.mark.parametrize("f", [lambda t: t**2 + t, lambda t: t * np.log1p(np.abs(t)), np.exp, lambda t: t * np.sin(t)])
def test_tau_limit_refuses_what_does_not_settle(f):
    """Faster than linear, overflowing or oscillating: no p -> infinity diagonal; a clear error, and
    attention_theory without p says so too (with a finite p it still runs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # not centred (all but t log(1+|t|))
        act = activation(f)
        with pytest.raises(ValueError, match="pass a finite p"):
            tau_limit(act)
        with pytest.raises(ValueError, match="pass a finite p"):
            attention_theory([1.0], [1.0], f, snr=1.0, align=1.0)
        assert np.isfinite(attention_theory([1.0], [1.0], f, snr=1.0, align=1.0, p=100)[0]["residual"])


def test_default_theory_is_the_large_p_limit_for_relu():
    """The p -> infinity default (tau = 1 for ReLU, not 0) agrees with Monte Carlo at n = p = 1000,
    the paper's reversal: attention below ridge at c = gamma = rho = align = 1. With tau = 0 the
    theory said 0.402 (measured: default 0.2594, MC 0.2596 +- 0.0035, at p = 1000 0.2613)."""
    c, gamma, f, snr, align = 1.0, 1.0, "relu_centered", 1.0, 1.0
    th = attention_theory([c], [gamma], f, snr, align)[0]
    mc = simulate(1000, 1000, [gamma], f, snr, align, seeds=6, seed=3).iloc[0]
    se = mc.memorization_error_attention_stderr
    assert abs(mc.memorization_error_attention - th["memorization_error_attention"]) < 3 * se
    assert th["memorization_error_attention"] < th["memorization_error_ridge"]
    # the default is the limit of the finite-p theory, which moves by O(1/sqrt p)
    at_p = [attention_theory([c], [gamma], f, snr, align, p=p)[0]["memorization_error_attention"]
            for p in (10**4, 10**6)]
    assert abs(at_p[0] - th["memorization_error_attention"]) < 1e-2
    assert abs(at_p[1] - th["memorization_error_attention"]) < 1e-4
