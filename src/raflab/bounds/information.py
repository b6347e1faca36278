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
