"""Gaussian expectations of piecewise-smooth integrands, vectorized over many parameter points.

E_xi[g(xi)], xi ~ N(0, 1), is split at the points where g has a kink or a jump (proximal-map kinks,
decision thresholds) or a steep but smooth transition, and each piece gets its own Gauss-Legendre
rule. On smooth pieces the rule converges exponentially, which is what makes 1e-6 (in practice
~1e-10) accuracy cheap; Gauss-Hermite over a kink would converge only algebraically.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.legendre import leggauss

#: integrate xi over [-TAIL, TAIL]; the Gaussian mass outside is 2 * Phi(-9) ~ 2e-19
TAIL = 9.0
#: fixed breakpoints that keep pieces of the Gaussian tails short
_FIXED_BREAKS = (-6.0, -3.0, -1.0, 1.0, 3.0, 6.0)
_SQRT_2PI = np.sqrt(2.0 * np.pi)


def gaussian_nodes(breaks: np.ndarray, nodes_per_piece: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E_xi[.] with xi ~ N(0,1), one row per parameter point.

    Parameters
    ----------
    breaks : array of shape (P, B)
        Points (in xi units) where the integrand of row p is not smooth. Any order, any values;
        non-finite entries and entries outside [-TAIL, TAIL] are ignored.
    nodes_per_piece : int
        Gauss-Legendre nodes on each piece.

    Returns
    -------
    xi, weights : arrays of shape (P, N)
        ``(weights * g(xi)).sum(axis=1)`` approximates E[g(xi)] for each row. The weights include
        the Gaussian density.
    """
    breaks = np.asarray(breaks, dtype=float)
    P = breaks.shape[0]
    breaks = np.where(np.isfinite(breaks), breaks, TAIL)
    fixed = np.broadcast_to(np.array((-TAIL, TAIL) + _FIXED_BREAKS), (P, 2 + len(_FIXED_BREAKS)))
    edges = np.sort(np.clip(np.concatenate([fixed, breaks], axis=1), -TAIL, TAIL), axis=1)
    x, w = leggauss(nodes_per_piece)
    lo, hi = edges[:, :-1, None], edges[:, 1:, None]
    half = 0.5 * (hi - lo)
    xi = half * x + 0.5 * (hi + lo)
    weights = half * w * np.exp(-0.5 * xi**2) / _SQRT_2PI
    return xi.reshape(P, -1), weights.reshape(P, -1)
