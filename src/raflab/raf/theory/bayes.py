r"""Bayes-optimal learning of the rule: the replica-symmetric fixed point of the teacher-student
perceptron with the facts seen as label noise.

A learner that knows the model sees each label as the teacher's sign flipped with probability
eps/2 (a fact is a fair coin): the channel is P(y | z) = eps/2 + (1 - eps) 1[y z > 0], with a
Gaussian prior N(0, I) on the teacher. On the Nishimori line the overlaps obey m = q and

.. math::

    q = \frac{\hat q}{1 + \hat q}, \qquad
    \hat q = \alpha \, \mathbb{E}_{\xi}\sum_{y=\pm1} \frac{(\partial_\omega Z)^2}{Z}(y, \sqrt q\,\xi, 1-q),
    \quad Z(y, \omega, V) = \tfrac{\varepsilon}{2} + (1-\varepsilon)\,\Phi(y\omega/\sqrt V).

The Gaussian factors combine (phi(xi) phi(x)^2 with x = sqrt(q/(1-q)) xi is a Gaussian in xi of
variance (1-q)/(1+q)), which leaves one expectation over t ~ N(0, 1):

.. math::

    \hat q = \frac{\alpha (1-\varepsilon)^2}{\pi}\,\frac{1+\hat q}{\sqrt{1+2\hat q}}\;
    \mathbb{E}_t\!\left[\frac{1}{\varepsilon/2 + (1-\varepsilon)\,\Phi(c\,t)}\right],
    \qquad c^2 = \frac{\hat q}{1 + 2\hat q} < \tfrac12 .

At eps = 0 the integrand grows like exp(c^2 t^2 / 2) where Phi(ct) underflows (the Opper-Haussler
limit): it is evaluated in log space (``log_ndtr``), and the Gauss-Hermite rule is stretched by
s = 1/sqrt(1 - c^2) so that the growth cancels against the Gaussian weight exactly. The rule's
generalization error of the Bayes-optimal classifier is arccos(sqrt(q)) / pi.

Checks (tests): small alpha, q_hat = 2 alpha (1-eps)^2 / pi + O(alpha^2); eps = 0, large alpha,
eg -> 0.4417 / alpha (Opper & Haussler 1991); eps = 1, q = 0 and eg = 1/2; below every ERM error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from raflab.core.fixed_point import solve_fixed_point, warn_unconverged
from raflab.raf.config import check_raf_params

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(96)
_LOG_WEIGHTS = np.log(_WEIGHTS / np.sqrt(2.0 * np.pi))  # probabilists' rule, weights summing to 1


def _mean_inverse_likelihood(c: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """E_t[1 / (eps/2 + (1-eps) Phi(c t))], t ~ N(0,1), for c^2 < 1/2; stable at eps = 0."""
    c, eps = c[:, None], eps[:, None]
    s = 1.0 / np.sqrt(1.0 - c**2)
    t = s * _NODES[None, :]
    with np.errstate(divide="ignore"):  # log(0) at eps = 0 or eps = 1 is the intended -inf
        log_z = np.logaddexp(np.log(eps / 2.0), np.log1p(-eps) + log_ndtr(c * t))
    # t = s u: phi(s u) s / phi(u) = s exp(-(s^2 - 1) u^2 / 2) moves the Gaussian weight to u
    log_terms = _LOG_WEIGHTS[None, :] + np.log(s) - 0.5 * (s**2 - 1.0) * _NODES[None, :] ** 2 - log_z
    top = log_terms.max(axis=1, keepdims=True)
    return np.exp(top[:, 0]) * np.exp(log_terms - top).sum(axis=1)


def bayes_qhat_update(q_hat: np.ndarray, alpha: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """One step q_hat -> alpha E[...] of the Bayes-optimal fixed point (vectorized)."""
    c = np.sqrt(q_hat / (1.0 + 2.0 * q_hat))
    return (alpha * (1.0 - eps) ** 2 / np.pi * (1.0 + q_hat) / np.sqrt(1.0 + 2.0 * q_hat)
            * _mean_inverse_likelihood(c, eps))


def bayes_optimal_theory(alpha, eps=0.0, *, tol: float = 1e-12, max_iter: int = 10_000) -> pd.DataFrame:
    """Bayes-optimal generalization error of the rule over the grid alpha x eps.

    Parameters
    ----------
    alpha : float or 1-d array-like
        Samples per dimension n/d (> 0).
    eps : float or 1-d array-like
        Fraction of facts in [0, 1] (seen by the Bayes-optimal learner as flip noise eps/2).
    tol : float
        Relative fixed-point residual on q_hat.

    Returns
    -------
    pandas.DataFrame
        One row per (eps, alpha): ``model='bayes', alpha, eps, gen_error, rule_train_error,
        fact_memorization_error`` (both NaN: the posterior-mean predictor's training errors are not
        part of this theory), ``m, q`` (equal: Nishimori), ``q_hat, converged, iterations, residual``.

    Examples
    --------
    >>> round(float(bayes_optimal_theory(100.0).gen_error[0] * 100), 3)  # Opper-Haussler 0.442
    0.443
    """
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float)).ravel()
    eps = np.atleast_1d(np.asarray(eps, dtype=float)).ravel()
    check_raf_params(alpha=alpha, eps=eps)
    E, A = np.meshgrid(eps, alpha, indexing="ij")
    E, A = E.ravel(), A.ravel()
    # warm start: q_hat grows like 2 alpha (1-eps)^2 / pi at small alpha and like alpha^2 at large
    init = (2.0 / np.pi * A * (1.0 - E) ** 2 * (1.0 + A * (1.0 - E) ** 2))[:, None] + 1e-12

    def update(state, index):
        return bayes_qhat_update(state[:, 0], A[index], E[index])[:, None] + 1e-300

    result = solve_fixed_point(update, init, tol=tol, max_iter=max_iter, positive=(0,))
    warn_unconverged(result, "Bayes-optimal fixed point")
    q_hat = result.state[:, 0]
    at_one = E >= 1.0  # no information on the rule: q = 0 exactly
    q_hat = np.where(at_one, 0.0, q_hat)
    q = q_hat / (1.0 + q_hat)
    return pd.DataFrame({
        "model": "bayes", "alpha": A, "eps": E,
        "gen_error": np.arccos(np.sqrt(np.clip(q, 0.0, 1.0))) / np.pi,
        "rule_train_error": np.nan, "fact_memorization_error": np.nan,
        "m": q, "q": q, "q_hat": q_hat,
        "converged": result.converged | at_one, "iterations": result.iterations, "residual": result.residual,
    })
