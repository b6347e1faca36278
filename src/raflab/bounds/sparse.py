"""The sparse Boolean hypercube instance: constants of its SDPIs and its matching algorithm.

The instance (reconstructed here; the paper's exact statement of it could not be read, see docs/sdpi.md):
theta uniform on {+-1}^d, y a fair coin, and each coordinate of u = y x is theta_j with probability p and
0 otherwise, independently: every example shows a random sparse subset (about p d coordinates) of theta.
An erasure channel per coordinate, where Boolean clustering is a binary symmetric one.

Per coordinate the count-free statistic T in {+, -, ?} (theta_j if some of the n samples shows it, '?' if
none does) is sufficient, with P(?) = a_n = (1 - p)^n and c_n = 1 - a_n. Both SDPI constants are those
of three-point pairs (tensorization over the independent coordinates keeps the largest, and the
sufficient statistic loses nothing: theta and a fresh example depend on the sample through T only):

    tau_n = s*(T -> theta) = max(c_n, 1 / log2(2 / c_n)),     rho_n = s*(T -> u) = p tau_n.

The first closed form is the better of two test laws Q_T (a point mass on '+', which gives
1 / log2(2/c); a small tilt, which gives the squared maximal correlation c); a brute-force search over
all laws of T (:func:`raflab.bounds.information.kl_contraction_coefficient`) finds nothing larger
(tests). The second is exact because theta -> u is an erasure channel, whose contraction coefficient is
p for every input law, and the chain T - theta - u. Note tau_n is *not* c_n (the erasure channel's own
coefficient): going backwards, from the sample to theta, a rarely revealed coordinate is worth
log2(2/c) bits of sample for one bit of theta, the logarithm of the bound.

So (1 - tau_n) / rho_n ~ log2(1/(n p)) / p for n p << 1: with p = d^(-1/2) (the sparsest examples a
linear classifier learns from O(1) of them) the bound is Theta(sqrt(d) log d) bits at n = 1, not Theta(d).

Matching algorithm: b_j = theta_j on the coordinates some sample revealed, 0 elsewhere, each revealed
coordinate kept with probability kappa. sign(<b, x>) errs only when b's support misses the fresh
example's support (then a fair coin): error (1 - p kappa c_n)^d / 2, exactly; memorization
d (h2(kappa c_n) - c_n h2(kappa)) bits (only which coordinates were revealed is sample-specific).
"""

from __future__ import annotations

import numpy as np

from raflab.bounds.information import binary_entropy_bits, kl_contraction_coefficient

#: the channels from T in {+, -, ?} to theta_j and to a fresh u_j in {+, -, 0} (rows: T's values)
TO_THETA = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


def revealed_fraction(n, p: float) -> np.ndarray:
    """c_n = 1 - (1 - p)^n: the chance that one of n samples shows a given coordinate of theta."""
    return -np.expm1(np.asarray(n, dtype=float) * np.log1p(-p)) if p < 1 else np.ones_like(np.asarray(n, float))


def sparse_sdpi_constants(n, p: float) -> tuple[np.ndarray, np.ndarray]:
    """(tau_n, rho_n) of the sparse hypercube, vectorized over n (closed forms of the module docstring)."""
    c = revealed_fraction(n, p)
    tau = np.maximum(c, 1.0 / np.log2(2.0 / c))
    return tau, p * tau


def statistic_law(n: int, p: float) -> np.ndarray:
    """P(T = +), P(T = -), P(T = ?) for one coordinate of n samples."""
    c = float(revealed_fraction(n, p))
    return np.array([c / 2, c / 2, 1.0 - c])


def to_fresh_example(p: float) -> np.ndarray:
    """The channel T -> u_j of a fresh example (columns +, -, 0)."""
    return np.array([[p, 0.0, 1 - p], [0.0, p, 1 - p], [p / 2, p / 2, 1 - p]])


def sparse_sdpi_numeric(n: int, p: float, grid: int = 240) -> tuple[float, float]:
    """(tau_n, rho_n) by brute force over the laws of the sufficient statistic: the closed forms' check."""
    law = statistic_law(n, p)
    return (kl_contraction_coefficient(law, TO_THETA, grid), kl_contraction_coefficient(law, to_fresh_example(p), grid))


def sparse_bound_factor(n, p: float) -> np.ndarray:
    """(1 - tau_n) / rho_n, vectorized over n."""
    tau, rho = sparse_sdpi_constants(n, p)
    return (1.0 - tau) / rho


def sparse_revealed_support(d: int, n, p: float, error: float) -> dict:
    """The matching algorithm (revealed coordinates, each kept with probability kappa) at ``error``,
    vectorized over n: ``keep_prob`` kappa (NaN where keeping all is still less accurate), ``bits``,
    ``support_error`` (the error when every revealed coordinate is kept)."""
    c = revealed_fraction(np.atleast_1d(n), p)
    plain_error = 0.5 * (1.0 - p * c) ** d
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = -np.expm1(np.log(2.0 * error) / d) / (p * c) if error > 0 else np.full_like(c, np.inf)
    kappa = np.where(kappa <= 1.0 + 1e-12, np.minimum(kappa, 1.0), np.nan)
    bits = d * (binary_entropy_bits(kappa * c) - c * binary_entropy_bits(kappa))
    return {"keep_prob": kappa, "bits": bits, "support_error": plain_error}


def sparse_support_bits(d: int, n, p: float) -> np.ndarray:
    """Exact memorization of the plain revealed support (kappa = 1): d h2(c_n) bits."""
    return d * binary_entropy_bits(revealed_fraction(np.atleast_1d(n), p))
