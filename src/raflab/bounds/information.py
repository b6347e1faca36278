"""Information quantities in bits, shared by the memorization theory and its measurements.

Everything here is in bits (log base 2). Two plug-in estimators of a conditional mutual information
I(A; S | theta) from R independent draws of a learner's output A with theta fixed:

* :func:`gaussian_plugin_information` for an output with a known Gaussian noise part,
  A = f(S) + N(0, s^2 I): I = h(A | theta) - h(A | S, theta), the second term is known exactly and the
  first is replaced by the entropy of a Gaussian with A's covariance. That replacement is exact when
  f(S) is Gaussian given theta (the Gaussian mechanism, the empirical mean) and otherwise an *upper*
  bound (the Gaussian has the largest entropy at a given covariance). The log-determinant of a sample
  covariance is biased low; the Wishart moments remove that bias exactly for Gaussian A.
* :func:`plugin_discrete_information` for a deterministic output with finitely many values per
  coordinate and coordinates independent given theta (the sign of the mean): I = H(A | theta), summed
  over coordinates, each a plug-in entropy with the Miller-Madow correction.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr, polygamma, psi

LN2 = np.log(2.0)


def binary_entropy_bits(p):
    """h2(p) = -p log2 p - (1 - p) log2 (1 - p), elementwise, with h2(0) = h2(1) = 0."""
    p = np.asarray(p, dtype=float)
    return (entr(p) + entr(1.0 - p)) / LN2


def fano_information_bits(error):
    """1 - h2(error): the fewest bits a model must hold about a fresh example whose binary label is a
    fair coin given its input, to predict that label with error probability ``error`` <= 1/2 (Fano)."""
    error = np.asarray(error, dtype=float)
    return 1.0 - binary_entropy_bits(np.minimum(error, 0.5))


def gaussian_channel_information_bits(dim, signal_var, noise_var):
    """I(V + N; V) = (dim / 2) log2(1 + signal_var / noise_var) for V ~ N(0, signal_var I), N ~ N(0, noise_var I)."""
    return 0.5 * np.asarray(dim, dtype=float) * np.log2(1.0 + np.asarray(signal_var) / np.asarray(noise_var))


def gaussian_plugin_information(outputs: np.ndarray, noise_var: float) -> tuple[float, float]:
    """Bias-corrected Gaussian plug-in estimate of I(A; S | theta) in bits, and its standard error.

    Parameters
    ----------
    outputs : array (R, k)
        R independent outputs A = f(S) + N(0, noise_var I) of the learner, each on a fresh training set
        S drawn with the same theta. Needs R > k + 1.
    noise_var : float
        The variance of the learner's own isotropic Gaussian output noise (> 0).

    Returns
    -------
    (bits, standard_error_bits)
        ``0.5 log2 det(Sigma_A / noise_var)``, with log det Sigma_A estimated without bias for Gaussian
        A: E log det(W) = log det Sigma + k log 2 + sum_i psi((R - i) / 2) for the scatter matrix
        W ~ Wishart(Sigma, R - 1); its variance sum_i psi'((R - i) / 2) gives the standard error.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bits, se = gaussian_plugin_information(rng.normal(0, np.sqrt(2.0), (4000, 3)), 1.0)
    >>> abs(bits - 1.5) < 3 * se
    True
    """
    outputs = np.asarray(outputs, dtype=float)
    if outputs.ndim != 2:
        raise ValueError("outputs must be an (R, k) array of R repeated trainings")
    R, k = outputs.shape
    if R <= k + 1:
        raise ValueError(f"the Gaussian plug-in needs more repeated trainings than output dimensions "
                         f"(got R={R}, k={k}); raise --reps or lower --d")
    if not noise_var > 0:
        raise ValueError(f"noise_var must be > 0 (got {noise_var})")
    centred = outputs - outputs.mean(axis=0)
    sign, logdet_scatter = np.linalg.slogdet(centred.T @ centred)
    if sign <= 0:
        raise ValueError("the outputs are degenerate (singular covariance); the learner needs output noise")
    i = np.arange(1, k + 1)
    logdet = logdet_scatter - k * np.log(2.0) - np.sum(psi((R - i) / 2.0))
    nats = 0.5 * (logdet - k * np.log(noise_var))
    se_nats = 0.5 * np.sqrt(np.sum(polygamma(1, (R - i) / 2.0)))
    return float(nats / LN2), float(se_nats / LN2)


def plugin_discrete_information(outputs: np.ndarray) -> tuple[float, float]:
    """Plug-in H(A | theta) in bits (= I(A; S | theta) for a deterministic A) and its standard error.

    Parameters
    ----------
    outputs : array (R, k)
        R outputs of a deterministic learner on fresh training sets with theta fixed; each of the k
        coordinates takes finitely many values and the coordinates are independent given theta (the
        estimate is the sum of the k coordinate entropies, which would over-count dependent ones).

    Returns
    -------
    (bits, standard_error_bits)
        Sum over coordinates of the plug-in entropy plus the Miller-Madow correction (K_j - 1) / (2 R ln 2)
        (K_j distinct values seen); the standard error is the delta-method one,
        sqrt(sum_j Var(-log2 p_j(A_j)) / R).
    """
    outputs = np.asarray(outputs)
    if outputs.ndim != 2 or outputs.shape[0] < 2:
        raise ValueError("outputs must be an (R, k) array with R >= 2 repeated trainings")
    R = outputs.shape[0]
    total, var = 0.0, 0.0
    for column in outputs.T:
        _, counts = np.unique(column, return_counts=True)
        p = counts / R
        surprise = -np.log2(p)
        h = float(np.sum(p * surprise))
        total += h + (len(counts) - 1) / (2.0 * R * LN2)
        var += float(np.sum(p * surprise**2) - h * h) / R
    return total, float(np.sqrt(var))


def maximal_correlation_squared(p_x: np.ndarray, channel: np.ndarray) -> float:
    """Squared Hirschfeld-Gebelein-Renyi maximal correlation of (X, Y), X ~ p_x, Y | X ~ channel rows:
    the second singular value of P(x, y) / sqrt(P(x) P(y)), squared. It is the Q -> P limit of the
    ratio in :func:`kl_contraction_coefficient` and a lower bound on that coefficient."""
    joint = np.asarray(p_x, float)[:, None] * np.asarray(channel, float)
    p_y = joint.sum(axis=0)
    keep = p_y > 0
    s = np.linalg.svd(joint[:, keep] / np.sqrt(np.outer(joint.sum(axis=1), p_y[keep])), compute_uv=False)
    return float(s[1] ** 2) if s.size > 1 else 0.0


def kl_contraction_coefficient(p_x, channel, grid: int = 240) -> float:
    """s*(X; Y) = sup_{Q != P} D(Q W || P W) / D(Q || P) for X ~ p_x (three values at most) and the
    channel W (rows: laws of Y given each x): the SDPI constant of the pair, I(M; Y) <= s* I(M; X) for
    every M with M - X - Y a Markov chain (Ahlswede-Gacs; equality of the two forms).

    Computed by brute force: every law Q on a barycentric grid of the simplex (``grid`` steps per side,
    vertices and edges included), the best one refined by Nelder-Mead on logits, and the Q -> P limit
    (:func:`maximal_correlation_squared`), which no grid reaches. The maximum of the three is returned
    (a lower estimate of the supremum that the refinement makes sharp; tests compare it with closed forms).
    """
    from scipy.optimize import minimize
    from scipy.special import rel_entr

    p_x, channel = np.asarray(p_x, float), np.asarray(channel, float)
    if p_x.size > 3:
        raise ValueError("kl_contraction_coefficient grids the simplex of at most three values")
    p_y = p_x @ channel
    if p_x.size == 2:
        t = np.arange(grid + 1) / grid
        q = np.stack([t, 1.0 - t], axis=1)
    else:
        i, j = np.meshgrid(np.arange(grid + 1), np.arange(grid + 1), indexing="ij")
        keep = i + j <= grid
        q = np.stack([i[keep], j[keep], grid - i[keep] - j[keep]], axis=1) / grid

    def ratios(qs):
        dx = rel_entr(qs, p_x).sum(axis=-1)
        dy = rel_entr(qs @ channel, p_y).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(dx > 1e-9, dy / dx, 0.0)

    r = ratios(q)
    best_q, best = q[np.argmax(r)], float(r.max())

    def negative(logits):
        w = np.exp(logits - logits.max())
        return -float(ratios((w / w.sum())[None, :])[0])

    res = minimize(negative, np.log(np.maximum(best_q, 1e-12)), method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
    return max(best, -float(res.fun), maximal_correlation_squared(p_x, channel))
