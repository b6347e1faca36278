"""Low-dimensional toy data for associative memories and diffusion models (issue 7).

The paper's 2-D toy: K memories drawn uniformly at random on the unit circle. As K grows the
empirical distribution approaches the uniform ring, whose smoothed density is what a generalizing
diffusion model should sample.

Example
-------
>>> import numpy as np
>>> X = ring_points(5, np.random.default_rng(0))
>>> X.shape, bool(np.allclose(np.linalg.norm(X, axis=1), 1.0))
((5, 2), True)
"""

from __future__ import annotations

import numpy as np


def ring_points(K: int, rng: np.random.Generator) -> np.ndarray:
    """K points with i.i.d. uniform angles on the unit circle, shape ``(K, 2)``.

    Parameters
    ----------
    K : int
        Number of points, >= 1.
    rng : numpy.random.Generator
        Source of the angles (see :func:`raflab.core.seeding.point_rng`).
    """
    K = int(K)
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    theta = rng.uniform(0.0, 2.0 * np.pi, size=K)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def gaussian_mixture(
    K: int,
    rng: np.random.Generator,
    n_components: int = 8,
    dim: int = 2,
    radius: float = 1.0,
    std: float = 0.05,
) -> np.ndarray:
    """K points from an isotropic Gaussian mixture, shape ``(K, dim)``.

    Component means sit evenly on a circle of ``radius`` in the first two coordinates (further
    coordinates are zero-mean); each point picks a component uniformly and adds ``N(0, std^2 I)``.

    Parameters
    ----------
    K : int
        Number of points, >= 1.
    rng : numpy.random.Generator
    n_components : int
        Number of mixture components, >= 1.
    dim : int
        Ambient dimension, >= 2.
    radius, std : float
        Radius of the circle of means (>= 0) and the within-component standard deviation (> 0).
    """
    K, n_components, dim = int(K), int(n_components), int(dim)
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    if n_components < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    if dim < 2:
        raise ValueError(f"dim must be >= 2, got {dim}")
    if not std > 0:
        raise ValueError(f"std must be > 0, got {std}")
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    angles = 2.0 * np.pi * np.arange(n_components) / n_components
    means = np.zeros((n_components, dim))
    means[:, 0] = radius * np.cos(angles)
    means[:, 1] = radius * np.sin(angles)
    which = rng.integers(0, n_components, size=K)
    return means[which] + std * rng.standard_normal((K, dim))
