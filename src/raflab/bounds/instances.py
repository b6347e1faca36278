"""Data of the SDPI problems and exact memorization of the simple learners on the discrete ones.

Every base problem draws theta and examples (x, y) with y a fair coin and x = y u, u = y x the example
"in the label's frame": gaussian u = theta + sigma z; boolean u_j = theta_j xi_j, P(xi_j = 1) = (1 + r)/2;
sparse u_j = theta_j with probability p, else 0. A mixture draws one theta per cluster
(:mod:`raflab.bounds.mixture`). ``param`` is the problem's noise parameter: sigma2, r or p.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, norm

from raflab.bounds.information import LN2


def draw_theta(instance: str, shape, rng: np.random.Generator) -> np.ndarray:
    """theta of shape ``shape``: N(0, 1) coordinates (gaussian) or fair +-1 signs (boolean, sparse)."""
    if instance == "gaussian":
        return rng.standard_normal(shape)
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def draw_examples(instance: str, theta: np.ndarray, param: float, shape: tuple, rng: np.random.Generator):
    """Examples (x, y) of shape (*shape, d) and shape for one theta of length d."""
    y = rng.choice(np.array([-1.0, 1.0]), size=shape)
    full = (*shape, theta.size)
    if instance == "gaussian":
        u = theta + np.sqrt(param) * rng.standard_normal(full)
    elif instance == "boolean":
        u = theta * np.where(rng.random(full) < (1.0 + param) / 2.0, 1.0, -1.0)
    else:
        u = theta * (rng.random(full) < param)
    return y[..., None] * u, y


def mean_rms(instance: str, n: int, param: float) -> float:
    """sqrt(E m_j^2) of the sample mean m of u over n examples: the scale output noise is set against."""
    if instance == "gaussian":
        return float(np.sqrt(1.0 + param / n))
    if instance == "boolean":
        return float(np.sqrt(param**2 + (1.0 - param**2) / n))
    return float(np.sqrt(param**2 + param * (1.0 - param) / n))


def _mean_law(instance: str, n: int, param: float) -> tuple[np.ndarray, np.ndarray]:
    """Values and probabilities of one coordinate of the mean given theta_j = +1 (boolean, sparse)."""
    k = np.arange(n + 1)
    if instance == "boolean":
        return 2.0 * k / n - 1.0, binom.pmf(k, n, (1.0 + param) / 2.0)
    return k / n, binom.pmf(k, n, param)


def _entropy_bits(p) -> float:
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def discrete_mean_bits(instance: str, d: int, n: int, param: float) -> float:
    """Exact I(m; S | theta) = H(m | theta) = d H(count) of the (unrounded) mean on boolean / sparse data."""
    return d * _entropy_bits(_mean_law(instance, n, param)[1])


def discrete_sign_mean_bits(instance: str, d: int, n: int, param: float) -> float:
    """Exact H(sign(m) | theta), sign(0) = 0: boolean three values, sparse theta_j or 0 (d h2((1 - p)^n))."""
    values, probs = _mean_law(instance, n, param)
    return d * _entropy_bits([probs[values > 0].sum(), probs[values == 0].sum(), probs[values < 0].sum()])


def discrete_noisy_mean_bits(instance: str, d: int, n: int, param: float, noise_var: float,
                             points: int = 6001) -> float:
    """Exact I(m + N(0, s^2); m | theta) = d (h(m_j + noise) - h(noise)) for the discrete mean, the entropy
    of the Gaussian mixture by quadrature on a grid of ``points`` spanning the mixture +-10 s."""
    values, probs = _mean_law(instance, n, param)
    s = float(np.sqrt(noise_var))
    grid = np.linspace(values.min() - 10 * s, values.max() + 10 * s, points)
    density = norm.pdf(grid[:, None], values[None, :], s) @ probs
    h_mix = -np.trapezoid(np.where(density > 0, density * np.log(np.maximum(density, 1e-300)), 0.0), grid)
    h_noise = 0.5 * np.log(2 * np.pi * np.e * noise_var)
    return d * float(h_mix - h_noise) / LN2


def linear_error_monte_carlo(weights: np.ndarray, theta: np.ndarray, instance: str, param: float, test_size: int,
                             rng: np.random.Generator) -> np.ndarray:
    """Error of sign(<w, x>) per row of ``weights`` on ``test_size`` fresh examples (shared by the rows), a
    tie counting one half. By the label symmetry only u matters: the error is P(<w, u> < 0) + P(= 0)/2."""
    x, y = draw_examples(instance, theta, param, (test_size,), rng)
    u = x * y[:, None]  # back to the label's frame
    score = weights @ u.T
    return np.mean(score < 0, axis=1) + 0.5 * np.mean(score == 0, axis=1)

