"""Hopfield experiments (NumPy only): the capacity record, the AGS theory line drawn beside simulations,
the dense associative memory capacities, and the ring toy's radius beside the dense AM's fixed point.
Each returns records; the command line (:mod:`raflab.memory.cli`) only parses, calls and prints.
The simulations over seeds are :func:`raflab.memory.associative.simulate_hopfield` and
:func:`raflab.memory.experiments.attractors_against_K`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raflab.core.memory import FLOAT64, require_memory
from raflab.memory.associative import DenseAM
from raflab.memory.hopfield_theory import (
    capacity_alpha_c,
    dense_am_capacity_exponential,
    dense_am_capacity_polynomial,
    retrieval_overlap,
    ring_energy,
    ring_radius,
)


def check_Ks(Ks) -> list[int]:
    """The numbers of memories / training points: integers >= 1."""
    values = np.atleast_1d(np.asarray(Ks, dtype=float))
    if values.size == 0 or np.any(values < 1) or np.any(values != np.round(values)):
        raise ValueError(f"K must be integers >= 1 (got {values.tolist()})")
    return [int(v) for v in values]


def capacity_records(xtol: float = 1e-7) -> list[dict]:
    """alpha_c of the T = 0 Hopfield model (:func:`raflab.memory.hopfield_theory.capacity_alpha_c`) as a record."""
    if not xtol > 0:
        raise ValueError(f"xtol must be > 0 (got {xtol:g})")
    c = capacity_alpha_c(xtol=xtol)
    return [{"alpha_c": c["alpha_c"], "overlap_c": c["overlap_c"], "alpha_lo": c["bracket"][0],
             "alpha_hi": c["bracket"][1], "method": "continuation + bisection"}]


def hopfield_theory_line(alphas, points: int = 400) -> tuple[pd.DataFrame, float]:
    """The AGS retrieval overlap on a fine grid covering ``alphas`` (and at least [0.01, 0.2]), and alpha_c:
    what :func:`raflab.memory.plots.plot_hopfield_overlap` draws beside simulations."""
    alphas = np.asarray(alphas, dtype=float)
    line = pd.DataFrame(retrieval_overlap(np.linspace(min(0.01, alphas.min()), max(0.2, alphas.max()), points)))
    return line, capacity_alpha_c()["alpha_c"]


def dense_capacity_records(Ns, degrees, rhos, error_rate: float = 0.01) -> list[dict]:
    """Dense associative memory capacities: K for F(x) = x^degree (three criteria) at each N, and
    exp(a N) for F = exp at each cue corruption rho (both criteria)."""
    Ns, degrees, rhos = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (Ns, degrees, rhos))
    if np.any(Ns < 2):
        raise ValueError(f"n must be >= 2 (got {Ns.tolist()})")
    if np.any(degrees < 2) or np.any(degrees != np.round(degrees)):
        raise ValueError(f"degree must be integers >= 2 (got {degrees.tolist()})")
    rows = []
    for d in degrees.astype(int):
        for N in Ns:
            rows.append({"separation": f"x^{d}", "N": int(N), "rho": 0.0,
                         **{f"K_{c}": float(dense_am_capacity_polynomial(N, d, c, error_rate))
                            for c in ("pattern", "all", "error_rate")}})
    for r in rhos:
        a_all = float(dense_am_capacity_exponential(r, "all"))
        a_typ = float(dense_am_capacity_exponential(r, "typical"))
        for N in Ns:
            rows.append({"separation": "exp", "N": int(N), "rho": float(r), "K_pattern": float(np.exp(a_typ * N)),
                         "K_all": float(np.exp(a_all * N)), "K_error_rate": np.nan,
                         "exponent_all": a_all, "exponent_typical": a_typ})
    return rows


def ring_records(betas, K: int = 4096) -> pd.DataFrame:
    """R*(beta), the minimum of the K -> infinity ring energy, beside the dense AM's fixed point on K
    equally spaced memories from (0.5, 0.2) (``K = 0``: theory only)."""
    betas = np.atleast_1d(np.asarray(betas, dtype=float))
    R = ring_radius(betas)  # checks beta > 0
    if K < 0:
        raise ValueError(f"K must be >= 1 (or 0 for theory only), got {K}")
    require_memory(FLOAT64 * 8 * K, f"the ring of K={K:,} memories")
    df = pd.DataFrame({"beta": betas, "R_star": R, "R_large_beta": 1.0 - 1.0 / (4.0 * betas),
                       "energy_min": ring_energy(R, betas)})
    if K > 0:
        theta = 2.0 * np.pi * np.arange(K) / K
        X = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        found = []
        for b in betas:
            x, ok, _ = DenseAM(float(b), device="cpu").fit(X).run([[0.5, 0.2]], tol=1e-13)
            found.append(float(np.linalg.norm(x[0])) if ok[0] else np.nan)
        df["K"] = K
        df["R_dense_am"] = found
    return df
