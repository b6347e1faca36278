"""Mixtures of clusters: k independent copies of a base problem, one per cluster, behind one learner.

The instance: k clusters of equal weight; cluster c has its own theta_c drawn as the base problem's
(gaussian, boolean or sparse); an example names its cluster c (uniform) and is a base example of theta_c.
With n examples the cluster counts N = (N_1..N_k) are multinomial(n, 1/k).

Lower bound (derived here). N is a function of the sample S, and given (theta, N) the clusters' samples
S_c are independent, so mem_n(A) = I(A; S | theta) >= I(A; S | theta, N) >= sum_c I(A; S_c | theta, N)
(mutual information with independent parts is superadditive). Given (theta_{-c}, N) the other clusters'
data are the learner's own randomness for cluster c, so the base bound applies cluster by cluster:

    mem_n(A) >= sum_c E_N[ F(N_c) (1 - h2(e_c)) ],     F(m) = (1 - tau_m) / rho_m,  F(0) (1 - h2) = 0,

e_c the error on cluster c's examples (Fano on each cluster: its label is a fair coin given the input).
Clusters seen once (singletons) pay F(1) each: the long tail of Feldman (2020) and Brown et al. (2021).
A learner chooses where to be accurate; at overall error e = mean_c e_c the least memorization is the
minimum of the right side over error profiles (x_m for clusters seen m times), a convex problem whose
KKT point is x_m = 1 / (1 + 2^(lambda / F(m))), lambda set by bisection so that E[x_{N_c}] = e; unseen
clusters are at x_0 = 1/2, so no learner has e < P(N_c = 0) / 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import binom

from raflab.bounds.information import fano_information_bits
from raflab.bounds.theory import bound_factor, check_sdpi_params


def cluster_factors(base: str, counts, noise: float) -> np.ndarray:
    """F(m) of the base problem at each count m, 0 where m = 0 (an unseen cluster costs nothing)."""
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = bound_factor(base, np.maximum(counts, 1.0), noise)
    return np.where(counts > 0, f, 0.0)


def profile_bound_bits(base: str, counts, errors, noise: float) -> float:
    """sum_c F(N_c) (1 - h2(e_c)) at given cluster counts and per-cluster errors (the measured profile)."""
    return float(np.sum(cluster_factors(base, counts, noise) * fano_information_bits(np.clip(errors, 0.0, 0.5))))


def allocated_errors(factors: np.ndarray, weights: np.ndarray, error: float) -> np.ndarray | None:
    """The minimizing error profile x_m = 1 / (1 + 2^(lambda / F_m)) with sum_m weights_m x_m = error (x = 1/2
    where F = 0); None when ``error`` is below the floor sum_{F = 0} weights / 2."""
    seen = factors > 0
    floor = 0.5 * float(weights[~seen].sum())
    if error >= 0.5:
        return np.full_like(factors, 0.5)
    if error <= floor + 1e-15:
        return None

    def profile(log_lam):
        with np.errstate(over="ignore", divide="ignore"):
            x = 1.0 / (1.0 + np.exp2(np.exp(log_lam) / np.where(seen, factors, 1.0)))
        return np.where(seen, x, 0.5)

    lo, hi = -60.0, 60.0
    log_lam = brentq(lambda t: float(weights @ profile(t)) - error, lo, hi, xtol=1e-13)
    return profile(log_lam)


def mixture_bound(base: str, d: int, n, clusters: int, error: float, **noise) -> pd.DataFrame:
    """Records per total sample size n of the mixture's least memorization at overall error ``error``.

    Columns: ``lower_bound_bits`` (the minimum over error profiles, see the module docstring),
    ``expected_singletons`` k P(N_c = 1), ``singleton_factor`` F(1), ``singleton_error`` (the allocated
    error on clusters seen once) and ``singleton_bits`` (what all of them pay together),
    ``uniform_profile_bits`` (the bound when every seen cluster has the same error, unseen ones 1/2),
    ``error_floor`` P(N_c = 0) / 2 (NaN bounds below it).
    """
    check_sdpi_params(d=d, n=n, error=error, clusters=clusters, base=base)
    (name, value), = noise.items()
    rows = []
    for n_i in np.atleast_1d(np.asarray(n, dtype=int)):
        m = np.arange(n_i + 1)
        w = binom.pmf(m, n_i, 1.0 / clusters)
        f = cluster_factors(base, m, value)
        x = allocated_errors(f, w, error)
        floor = 0.5 * w[0]
        bits = np.nan if x is None else clusters * float(np.sum(w * f * fano_information_bits(x)))
        # the same error e' on every seen cluster: (1 - w_0) e' + w_0 / 2 = error
        e_uniform = (error - floor) / (1.0 - w[0]) if w[0] < 1 else np.nan
        uniform = (clusters * float(np.sum(w * f)) * float(fano_information_bits(min(e_uniform, 0.5)))
                   if np.isfinite(e_uniform) and e_uniform >= 0 else np.nan)
        single = 1 if n_i >= 1 else 0
        rows.append({"instance": "mixture", "base": base, "d": d, name: value, "clusters": clusters, "n": int(n_i),
                     "error": error, "error_floor": floor, "lower_bound_bits": bits,
                     "expected_singletons": clusters * float(w[single]) if single else 0.0,
                     "singleton_factor": float(f[single]) if single else np.nan,
                     "singleton_error": float(x[single]) if (x is not None and single) else np.nan,
                     "singleton_bits": (clusters * float(w[single] * f[single] * fano_information_bits(x[single]))
                                        if (x is not None and single) else np.nan),
                     "uniform_profile_bits": uniform})
    return pd.DataFrame(rows)


def singleton_recovery_floor(d: int, rho_one: float, error) -> np.ndarray:
    """Least mean bit accuracy of the best coordinatewise guess of a singleton's example from the model.

    For a cluster seen once, X - theta - u - A with u the singleton's example (u_j a fair coin a priori),
    so I(A; u) >= I(A; X) / rho_1 >= (1 - h2(e)) / rho_1 (Fano, e the cluster's error). When the model's
    coordinate j depends on u only through u_j and the coordinates are independent (the per-cluster means
    and, at one sample, ridge and logistic, whose weights are along u), I(A; u) = sum_j I(A_j; u_j), and
    Hellman-Raviv (error <= H(u_j | A_j) / 2 for a binary u_j) gives the best guess of u_j from A_j a
    mean accuracy >= (1 + I(A; u) / d) / 2 over the d coordinates.
    """
    info = np.minimum(fano_information_bits(np.clip(error, 0.0, 0.5)) / rho_one, d)
    return 0.5 * (1.0 + info / d)

