import numpy as np
import pytest

from raflab.raf.activations import gaussian_moments


@pytest.mark.parametrize("name, mu0, mu1, mu_star2", [
    ("relu", 1 / np.sqrt(2 * np.pi), 0.5, 0.5 - 1 / (2 * np.pi) - 0.25),
    ("sign", 0.0, np.sqrt(2 / np.pi), 1 - 2 / np.pi),
    ("erf", 0.0, 2 / np.sqrt(3 * np.pi), 2 / np.pi * np.arcsin(2 / 3) - 4 / (3 * np.pi)),
    ("linear", 0.0, 1.0, 0.0),
])
def test_closed_forms_agree_with_quadrature_and_monte_carlo(name, mu0, mu1, mu_star2):
    named = gaussian_moments(name)
    np.testing.assert_allclose([named.mu0, named.mu1, named.mu_star**2], [mu0, mu1, mu_star2], atol=1e-12)
    # the same numbers by quadrature of the function (no closed form used)
    from raflab.raf.activations import ACTIVATIONS
    quad = gaussian_moments(lambda x: ACTIVATIONS[name](x))
    np.testing.assert_allclose([quad.mu0, quad.mu1, quad.mu_star], [named.mu0, named.mu1, named.mu_star], atol=1e-7)
    g = np.random.default_rng(0).standard_normal(2_000_000)
    s = ACTIVATIONS[name](g)
    assert abs(s.mean() - mu0) < 5e-3 and abs((g * s).mean() - mu1) < 5e-3


def test_tanh_by_quadrature_matches_monte_carlo():
    m = gaussian_moments("tanh")
    g = np.random.default_rng(1).standard_normal(2_000_000)
    assert m.mu0 == pytest.approx(0.0, abs=1e-12)
    assert m.mu1 == pytest.approx(np.mean(g * np.tanh(g)), abs=2e-3)
    assert m.mu_star**2 == pytest.approx(np.mean(np.tanh(g) ** 2) - m.mu1**2, abs=2e-3)


def test_bad_activations():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        gaussian_moments("swish")
    with pytest.raises(ValueError, match="diverges"):
        gaussian_moments(lambda x: np.exp(x**2))


def test_moments_of_a_fast_growing_but_integrable_activation():
    """exp(g): E = e^{1/2}, E g exp(g) = e^{1/2}, E exp(2g) = e^2 — finite despite overflow in the far tail."""
    m = gaussian_moments(np.exp)
    assert m.mu0 == pytest.approx(np.exp(0.5), rel=1e-9) and m.mu1 == pytest.approx(np.exp(0.5), rel=1e-9)
    assert m.mu_star**2 == pytest.approx(np.exp(2) - 2 * np.exp(1), rel=1e-8)


@pytest.mark.parametrize("f, match", [
    (lambda x: np.exp(0.3 * x**2), "E sigma\\(g\\)\\^2 diverges"),  # E sigma finite, E sigma^2 not
    (len, "must map a numpy array"),
    (lambda x: 1.0, "must map a numpy array"),
])
def test_bad_user_activations_are_clear_errors(f, match):
    with pytest.raises(ValueError, match=match):
        gaussian_moments(f)
