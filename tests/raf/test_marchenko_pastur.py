"""Marchenko-Pastur resolvent moments: closed forms against quadrature and against real spectra."""

import numpy as np
import pytest
from scipy import integrate

from raflab.raf.theory.marchenko_pastur import marchenko_pastur_density, marchenko_pastur_support, resolvent_moments


def mp_expectation(f, kappa):
    lo, hi = marchenko_pastur_support(kappa)
    cont = integrate.quad(lambda s: f(s) * marchenko_pastur_density(s, kappa), lo, hi, limit=400)[0]
    return cont + max(0.0, 1 - 1 / kappa) * f(0.0)


@pytest.mark.parametrize("kappa", [0.3, 1.0, 2.5])
def test_density_has_the_right_mass_and_mean(kappa):
    assert mp_expectation(lambda s: 1.0, kappa) == pytest.approx(1.0, abs=1e-8)
    assert mp_expectation(lambda s: s, kappa) == pytest.approx(1.0, abs=1e-8)
    assert mp_expectation(lambda s: s * s, kappa) == pytest.approx(1.0 + kappa, abs=1e-7)  # E s^2 = 1 + kappa


@pytest.mark.parametrize("kappa", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("A, c", [(0.7, 0.3), (2.0, 1e-2), (0.0, 0.5), (1e-9, 2.0)])
def test_closed_forms_match_quadrature(kappa, A, c):
    r = resolvent_moments(A, c, kappa)
    expected = [mp_expectation(f, kappa) for f in (
        lambda s: 1 / (A * s + c), lambda s: s / (A * s + c), lambda s: 1 / (A * s + c) ** 2,
        lambda s: s / (A * s + c) ** 2, lambda s: s * s / (A * s + c) ** 2)]
    np.testing.assert_allclose([r.s0_1, r.s1_1, r.s0_2, r.s1_2, r.s2_2], expected, rtol=1e-7)


def test_closed_forms_match_a_sampled_spectrum():
    """E over eigenvalues of F F^T/d (p = 1600, d = 800): fluctuations are O(1/p)."""
    rng = np.random.default_rng(0)
    d, p = 800, 1600
    F = rng.standard_normal((p, d))
    s = np.linalg.eigvalsh(F @ F.T / d)
    A, c = 0.8, 0.2
    r = resolvent_moments(A, c, p / d)
    np.testing.assert_allclose([np.mean(1 / (A * s + c)), np.mean(s * s / (A * s + c) ** 2)],
                               [r.s0_1, r.s2_2], rtol=5e-3)
