"""Token generator for in-context memorization of nonlinear attention (issue 4).

Tokens ``X = y mu^T + Z`` in the ``p x n`` layout: column ``x_i = y_i mu + z_i`` with balanced
labels ``y_i = +-1`` and ``z_i ~ N(0, I_p)``.

Example
-------
>>> import numpy as np
>>> X, y, mu, wK, wQ = make_tokens(20, 10, 1.0, 0.5, 1.0, np.random.default_rng(0))
>>> X.shape, float(mu @ mu)
((20, 10), 1.0)
"""

from __future__ import annotations

import numpy as np


def attention_directions(p: int, snr: float, align: float, w_norm: float = 1.0):
    """Fixed signal and key/query directions.

    ``mu = sqrt(snr) e_1`` (so ``snr = rho = |mu|^2``), and
    ``w_K = w_Q = w_norm (align e_1 + sqrt(1 - align^2) e_2)``: ``align`` is the cosine between
    ``w_K`` (= ``w_Q``) and ``mu``.
    """
    if p < 2:
        raise ValueError(f"p must be >= 2, got {p}")
    if snr < 0:
        raise ValueError(f"snr must be >= 0, got {snr}")
    if not -1.0 <= align <= 1.0:
        raise ValueError(f"align must be in [-1, 1], got {align}")
    mu = np.zeros(p)
    mu[0] = np.sqrt(snr)
    w = np.zeros(p)
    w[0] = w_norm * align
    w[1] = w_norm * np.sqrt(1.0 - align**2)
    return mu, w, w.copy()


def make_tokens(p: int, n: int, snr: float, align: float, w_norm: float, rng: np.random.Generator):
    """Draw ``(X, y, mu, w_K, w_Q)``; a pure function of its arguments and ``rng``.

    Labels are exactly balanced (a random permutation of n//2 ones and the rest minus ones).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    mu, wK, wQ = attention_directions(p, snr, align, w_norm)
    y = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    y = rng.permutation(y)
    X = np.outer(mu, y) + rng.standard_normal((p, n))
    return X, y, mu, wK, wQ
