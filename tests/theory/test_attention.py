import numpy as np
import pytest

from raflab.learners.attention import simulate
from raflab.theory.attention import activation, attention_theory, ridge_memorization_error


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
    from raflab.theory.attention import _basis_coords, _h_attention, solve_bulk

    m, a, b = _basis_coords(rho, 0.0, 0.0)
    h = []
    for g in (gamma * (1 + 1e-4), gamma * (1 - 1e-4)):
        T = solve_bulk([c], [g], [0.0], [1.0], [0.0]).T
        h.append(_h_attention(T, np.array([0.0]), m, a, b, np.array([c]))[0])
    e = -(gamma**2) * (h[0] - h[1]) / (2e-4 * gamma)
    assert np.isclose(e, ridge_memorization_error(c, gamma, rho), rtol=1e-6)
