import numpy as np
import pytest
from scipy import integrate, stats

from raflab.core.quadrature import gaussian_nodes
from raflab.raf.losses import get_loss


def test_piecewise_gaussian_integral_to_1e_9():
    """A kink, a jump and a steep sigmoid, integrated against N(0,1), vs adaptive quadrature."""
    a, kink, jump = 12.0, 0.7, -1.3

    def g(t):
        return stats.norm.cdf(a * t) * np.abs(t - kink) + (t < jump)

    xi, w = gaussian_nodes(np.array([[kink, jump, 0.0, 1.5 / a, -1.5 / a, 4 / a, -4 / a]]))
    ours = np.sum(w * g(xi))
    ref = integrate.quad(lambda t: g(t) * stats.norm.pdf(t), -12, 12, points=[kink, jump, 0.0], limit=500)[0]
    assert ours == pytest.approx(ref, abs=1e-9)


def test_moments_of_the_standard_normal():
    xi, w = gaussian_nodes(np.zeros((3, 1)))
    np.testing.assert_allclose((w * xi**0).sum(1), 1.0, atol=1e-14)
    np.testing.assert_allclose((w * xi**2).sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose((w * xi**4).sum(1), 3.0, atol=1e-11)


@pytest.mark.parametrize("loss", ["square", "hinge", "logistic"])
@pytest.mark.parametrize("V", [0.3, 2.0])
def test_proximal_maps_minimize_the_moreau_objective(loss, V):
    L = get_loss(loss)
    omega = np.linspace(-3, 3, 41)
    z, slope = L.proximal(omega, V)
    grid = np.linspace(-8, 8, 160001)
    for o, zi in zip(omega, z):
        brute = grid[np.argmin((grid - o) ** 2 / (2 * V) + L.value(1.0, grid))]
        assert zi == pytest.approx(brute, abs=2e-4)
    # the slope is the derivative of the map (checked by finite differences away from kinks)
    h = 1e-6
    fd = (L.proximal(omega + h, V)[0] - L.proximal(omega - h, V)[0]) / (2 * h)
    smooth = np.all(np.abs(omega[:, None] - np.array(L.kinks(np.full(1, V))).T) > 1e-3, axis=1) if L.kinks(np.full(1, V)) else np.ones_like(omega, bool)
    np.testing.assert_allclose(slope[smooth], fd[smooth], atol=1e-6)
