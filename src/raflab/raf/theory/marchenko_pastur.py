"""The Marchenko-Pastur law and the resolvent traces the random-features theory needs, in closed form.

s ~ MP(kappa) is the eigenvalue distribution of F F^T / d for F (p x d) with i.i.d. N(0, 1) entries
and p / d -> kappa: mean 1, support [(1 - sqrt kappa)^2, (1 + sqrt kappa)^2], plus an atom of mass
1 - 1/kappa at 0 when kappa > 1.

Every trace of the random-features prior is a moment E[s^k / (A s + c)^j], k, j in {0, 1, 2}, with
A = V^ mu1^2 >= 0 and c = lam + V^ mu_star^2 >= 0. They all follow from the Stieltjes transform,
written here in the form without cancellations (rationalized numerators):

    E[1 / (A s + c)] = 2 / (D + c + A (1 - kappa)),
    E[s / (A s + c)] = 2 / (D + c + A (1 + kappa)),     D = sqrt((c + A (1 + kappa))^2 - 4 kappa A^2),

and their derivatives in c and A. Both stay finite at A = 0 (they give 1/c), so no case split is
needed for an activation with mu1 = 0 or a vanishing V^.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def marchenko_pastur_support(kappa: float) -> tuple[float, float]:
    """Edges of the continuous part of MP(kappa)."""
    r = np.sqrt(kappa)
    return (1.0 - r) ** 2, (1.0 + r) ** 2


def marchenko_pastur_density(s, kappa: float):
    """Density of the continuous part of MP(kappa) (mass min(1, 1/kappa)); the atom is not included."""
    s = np.asarray(s, dtype=float)
    lo, hi = marchenko_pastur_support(kappa)
    inside = (s > lo) & (s < hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.sqrt(np.clip((hi - s) * (s - lo), 0.0, None)) / (2.0 * np.pi * kappa * s)
    return np.where(inside, rho, 0.0)


@dataclass(frozen=True)
class ResolventMoments:
    """E[s^k / (A s + c)^j] for s ~ MP(kappa); names are ``s<k>_<j>``."""

    s0_1: np.ndarray
    s1_1: np.ndarray
    s0_2: np.ndarray
    s1_2: np.ndarray
    s2_2: np.ndarray


def resolvent_moments(A, c, kappa) -> ResolventMoments:
    """The five moments E[s^k / (A s + c)^j] used by the random-features prior (A, c >= 0)."""
    A, c, kappa = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (A, c, kappa)))
    b = c + A * (1.0 + kappa)
    D = np.sqrt(np.maximum(b * b - 4.0 * kappa * A * A, 0.0))
    inv_plain = 2.0 / (D + c + A * (1.0 - kappa))  # E[1/(As+c)]
    inv_s = 2.0 / (D + b)                          # E[s/(As+c)]
    with np.errstate(invalid="ignore", divide="ignore"):
        dD_dc = np.where(D > 0, b / D, 1.0)
        dD_dA = np.where(D > 0, (b * (1.0 + kappa) - 4.0 * kappa * A) / D, 1.0 + kappa)
    # -d/dc E[s^k/(As+c)] = E[s^k/(As+c)^2]; -d/dA E[s/(As+c)] = E[s^2/(As+c)^2]
    return ResolventMoments(
        s0_1=inv_plain,
        s1_1=inv_s,
        s0_2=0.5 * inv_plain**2 * (dD_dc + 1.0),
        s1_2=0.5 * inv_s**2 * (dD_dc + 1.0),
        s2_2=0.5 * inv_s**2 * (dD_dA + 1.0 + kappa),
    )
