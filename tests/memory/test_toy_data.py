import numpy as np
import pytest

from raflab.core.seeding import point_rng
from raflab.memory.toy_data import gaussian_mixture, ring_points


def test_ring_points_on_circle_and_uniform():
    X = ring_points(20000, point_rng(0, 1))
    assert X.shape == (20000, 2)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)
    theta = np.arctan2(X[:, 1], X[:, 0])
    # uniform angle: mean of cos/sin ~ 0 within a few 1/sqrt(2K)
    assert abs(np.cos(theta).mean()) < 0.03 and abs(np.sin(theta).mean()) < 0.03
    counts = np.histogram(theta, bins=8, range=(-np.pi, np.pi))[0]
    assert counts.min() > 2300 and counts.max() < 2700


def test_ring_points_reproducible_and_rejects_bad_K():
    np.testing.assert_array_equal(ring_points(7, point_rng(3, 2)), ring_points(7, point_rng(3, 2)))
    with pytest.raises(ValueError, match="K must be >= 1"):
        ring_points(0, np.random.default_rng(0))


def test_gaussian_mixture_components():
    X = gaussian_mixture(8000, point_rng(0, 2), n_components=4, dim=3, radius=2.0, std=0.1)
    assert X.shape == (8000, 3)
    # every point is within a few std of one of the 4 means on the radius-2 circle
    means = 2.0 * np.stack([np.cos(np.arange(4) * np.pi / 2), np.sin(np.arange(4) * np.pi / 2), np.zeros(4)], 1)
    d = np.linalg.norm(X[:, None, :] - means[None], axis=2).min(1)
    assert d.max() < 0.7
    np.testing.assert_allclose(X[:, 2].std(), 0.1, rtol=0.05)
    with pytest.raises(ValueError, match="std"):
        gaussian_mixture(3, np.random.default_rng(0), std=0.0)
