"""Storage capacity: the largest alpha (or eps) at which hinge ERM with lam -> 0+ stores every fact.

With lam -> 0+ the hinge learner is the max-margin classifier, which exists (and then has zero
training error, facts included) exactly while the training set is separable in feature space. The
capacity is where the interpolating (rescaled) fixed point of :mod:`raflab.raf.theory.erm` ceases to
exist: its norm q diverges and its rescaled susceptibility V_tilde vanishes. Taking that limit in
closed form (xi = omega / sqrt q, zero margin) leaves two equations for the threshold alpha_c and the
student-teacher correlation c = m / sqrt q there:

    c B(c) = A(c) (G - c^2),      alpha_c / kappa = nu (1 - c^2 / G) / B(c),

with, for labels y of the RAF mixture given the student field xi (rule: P(y = sign(teacher)), fact:
a fair coin),

    B(c) = E[(y xi)^2 1{y xi < 0}],   A(c) = 2 (1 - eps) E[(-xi)_+ phi(a xi)] / s,

s = sqrt(1 - c^2), a = c / s, and two constants of the feature map: G = mu1^2 kappa E[s/omega(s)]
(the largest c^2 the features can reach) and nu = P(omega(s) > 0) over the Marchenko-Pastur
spectrum (1 for the linear learner and for random features with mu_star > 0). At eps = 1, A = 0 and
B = 1/2: alpha_c = 2 kappa nu, Gardner's 2 for the linear learner and Cover's n = 2p for random
features. A kernel with k(1) > k(0) + k'(0) interpolates any data: its capacity is infinite.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from raflab.core.quadrature import gaussian_nodes
from raflab.raf.config import check_raf_params
from raflab.raf.theory.marchenko_pastur import resolvent_moments
from raflab.raf.theory.priors import KernelPrior, RandomFeaturesPrior, RidgePrior

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def feature_constants(prior) -> tuple[float, float, float]:
    """(G, nu, kappa) of a prior; G = inf marks a feature map that interpolates anything."""
    if isinstance(prior, RidgePrior):
        return 1.0, 1.0, 1.0
    if isinstance(prior, KernelPrior):
        if prior.mu_star > 0:
            return np.inf, 1.0, 1.0
        return 1.0, 1.0, 1.0  # a linear kernel is the linear learner
    if isinstance(prior, RandomFeaturesPrior):
        a2, b2, kappa = prior.mu1**2, prior.mu_star**2, prior.kappa
        if b2 > 0:
            G = a2 * kappa * float(resolvent_moments(a2, b2, kappa).s1_1)
            return G, 1.0, kappa
        # linear activation: omega = mu1^2 s vanishes on the null space of F (kappa > 1)
        return min(kappa, 1.0), min(1.0, 1.0 / kappa), kappa
    raise TypeError(f"no capacity for prior {prior!r}")


def zero_margin_conjugates(eps: float, c: float, nodes_per_piece: int = 24) -> tuple[float, float]:
    """A(c), B(c) of the module docstring (the hinge projection at zero margin)."""
    c = min(max(c, 0.0), 1.0 - 1e-15)
    s = np.sqrt(1.0 - c * c)
    a = c / s
    inv_a = 1.0 / a if a > 0 else np.inf
    breaks = np.array([[0.0] + [k * inv_a for k in (-4.0, -1.5, 1.5, 4.0)]])
    xi, w = gaussian_nodes(breaks, nodes_per_piece)
    xi, w = xi[0], w[0]
    below = xi < 0  # y = +1 by symmetry: active (misclassified at zero margin) where xi < 0
    rule_weight = 2.0 * ndtr(a * xi)
    mix = (1.0 - eps) * rule_weight + eps
    B = np.sum((w * mix * xi**2)[below])
    A = 2.0 * (1.0 - eps) * np.sum((w * -xi * np.exp(-0.5 * (a * xi) ** 2) * _INV_SQRT_2PI)[below]) / s
    return float(A), float(B)


def capacity_alpha(prior, eps: float) -> tuple[float, float]:
    """(alpha_c, c) at fact fraction eps: the largest alpha at which all training data are stored."""
    check_raf_params(eps=eps)
    G, nu, kappa = feature_constants(prior)
    if not np.isfinite(G):
        return np.inf, np.nan
    if eps == 1.0:
        c = 0.0
    elif eps == 0.0 and G >= 1.0 - 1e-12:
        return np.inf, 1.0  # the rule itself is in the span of the features: always separable
    else:
        def balance(c):
            A, B = zero_margin_conjugates(eps, c)
            return c * B - A * (G - c * c)

        c = brentq(balance, 0.0, np.sqrt(G) * (1.0 - 1e-12), xtol=1e-14, rtol=1e-13)
    _, B = zero_margin_conjugates(eps, c)
    return kappa * nu * (1.0 - c * c / G) / B, c


def capacity_eps(prior, alpha: float) -> float:
    """The largest fact fraction whose facts (and rule samples) are all stored at sample ratio alpha.

    1.0 when even pure facts fit; NaN when not even the noiseless rule data are separable.
    """
    check_raf_params(alpha=alpha)
    if capacity_alpha(prior, 1.0)[0] >= alpha:
        return 1.0
    if capacity_alpha(prior, 0.0)[0] < alpha:
        return np.nan
    # alpha_c decreases with eps (to infinity at eps -> 0 when the rule is representable): bracket
    # from below by halving, then find the last eps whose capacity still covers alpha
    gap = lambda e: np.log(capacity_alpha(prior, e)[0] / alpha)  # noqa: E731
    lo = 0.5
    while gap(lo) < 0:
        lo *= 0.5
        if lo < 1e-12:
            return 0.0
    return brentq(gap, lo, 1.0, xtol=1e-12, rtol=1e-12)
