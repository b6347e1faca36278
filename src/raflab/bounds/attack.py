"""Brown et al.'s singleton-recovery attack on mixtures of Boolean clusters, beside what the SDPI bound
guarantees it.

Setting (Brown, Bun, Feldman, Smith, Talwar, STOC 2021, in the form of :mod:`raflab.bounds.mixture`):
k clusters of Boolean clustering (theta_c uniform on {+-1}^d, u_j = theta_cj with probability (1 + r)/2),
n examples, each cluster fitted by the learner on its own examples. A *singleton* is a cluster seen
once; its one example u = y x is mostly noise when r is small (each bit disagrees with theta_c with
probability (1 - r)/2, bits the task never needs). The attack reads the trained model only: it guesses
u_j as the sign of the released weight of coordinate j (a fair coin at 0) and scores the fraction of the
singleton's bits it gets right. References: 1/2 (no information), (1 + r)/2 (an attacker who knows
theta_c but not the sample: the most a model that learned only the distribution would give away), and
on the bits where u_j != theta_cj ("unique" bits) the theta-attacker scores 0.

Prediction (:func:`raflab.bounds.mixture.singleton_recovery_floor`): for learners whose coordinate j
depends on u only through u_j (the means; ridge and logistic on one example, whose weights lie along u),
the best guess of each bit from the model is right with mean probability at least
(1 + min(1, (1 - h2(e)) / (rho_1 d))) / 2, rho_1 = r^4, e the error on singleton clusters. The sign guess
is that best guess for a weight equal to a positive multiple of u_j plus symmetric noise. The MLP is
attacked through its input gradient at 0 (a linear read-out); no floor is claimed for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raflab.bounds.instances import draw_examples, draw_theta, linear_error_monte_carlo
from raflab.bounds.mechanisms import MLPConfig, check_learner, mlp_logits, noised_mlps, release_linear
from raflab.bounds.mixture import singleton_recovery_floor
from raflab.bounds.theory import check_sdpi_params, default_noise
from raflab.core.seeding import point_rng
from raflab.core.summary import mean_stderr, t_interval

#: learners whose released coordinate j depends on a singleton's example only through u_j
COORDINATEWISE = ("noisy-mean", "mean", "sign-mean", "ridge", "logistic")


def _guess(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """sign of each weight, a fair coin where it is 0."""
    coin = rng.choice(np.array([-1.0, 1.0]), size=weights.shape)
    return np.where(weights != 0, np.sign(weights), coin)


def mlp_input_gradient(params) -> np.ndarray:
    """d f / d x at x = 0 of f(x) = w2 . tanh(W1 x + b1), per network: W1^T (w2 (1 - tanh(b1)^2)), (R, d)."""
    W1, b1, w2 = params
    return np.einsum("rhd,rh->rd", W1, w2 * (1.0 - np.tanh(b1) ** 2))


def singleton_attack(learner: str, d: int, n: int, clusters: int, r: float | None = None, reps: int = 200,
                     seed: int = 0, noise: float = 0.5, lam: float = 1.0, test_size: int = 512,
                     mlp: MLPConfig | None = None, device: str = "cpu") -> dict:
    """One seed: theta and cluster counts drawn from ``seed``; every singleton cluster fitted ``reps`` times
    (fresh example each time) and attacked. Returns the record: ``singletons`` (clusters seen once),
    ``recovery`` (mean fraction of a singleton's bits guessed right), ``unique_recovery`` (the same on its
    bits that disagree with theta), ``singleton_error`` (the model's error on singleton clusters) and
    ``predicted_floor`` at that error (NaN for the mlp), ``theta_attacker`` (1 + r)/2."""
    learner = check_learner(learner)
    check_sdpi_params(d=d, n=n, clusters=clusters)
    (_, r), = default_noise("boolean", d, r=r).items()
    if reps < 1:
        raise ValueError(f"reps must be >= 1 (got {reps})")
    rng = point_rng(seed, d, n, r, clusters, 17)
    theta = draw_theta("boolean", (clusters, d), rng)
    counts = rng.multinomial(n, np.full(clusters, 1.0 / clusters))
    hits, unique, errors = [], [], []
    for c in np.flatnonzero(counts == 1):
        x, y = draw_examples("boolean", theta[c], r, (reps, 1), rng)
        u = x[:, 0, :] * y[:, :1]
        if learner == "mlp":
            params, _ = noised_mlps(x, y, mlp or MLPConfig(), noise, device, rng)
            readout = mlp_input_gradient(params)
            test_x, test_y = draw_examples("boolean", theta[c], r, (test_size,), rng)
            logits = mlp_logits(params, np.broadcast_to(test_x, (reps, *test_x.shape)))
            errors.append(np.mean(np.sign(logits) != test_y, axis=1).mean())
        else:
            readout, _ = release_linear(learner, x, y, "boolean", r, noise, 0.25, lam, rng)
            errors.append(linear_error_monte_carlo(readout, theta[c], "boolean", r, test_size, rng).mean())
        right = _guess(readout, rng) == u
        hits.append(right.mean())
        disagree = u != theta[c]
        unique.append(right[disagree].mean() if disagree.any() else np.nan)
    singletons = len(hits)
    error = float(np.mean(errors)) if singletons else np.nan
    floor = (float(singleton_recovery_floor(d, r**4, error)) if singletons and learner in COORDINATEWISE else np.nan)
    return {"learner": learner, "seed": seed, "d": d, "n": n, "clusters": clusters, "r": r, "reps": reps,
            "singletons": singletons, "recovery": float(np.mean(hits)) if singletons else np.nan,
            "unique_recovery": float(np.nanmean(unique)) if singletons else np.nan,
            "singleton_error": error, "predicted_floor": floor, "theta_attacker": (1.0 + r) / 2.0}


def attack_table(learners, d: int, n: int, clusters: int, seeds: int = 5, r: float | None = None,
                 progress: bool = False, **kwargs) -> pd.DataFrame:
    """One record per learner over seeds 0..seeds-1: mean recovery with its 95% Student-t interval over
    seeds (:func:`raflab.core.summary.t_interval`), the mean unique-bit recovery, singleton error and
    predicted floor, and ``verdict``: 'above floor' when the interval's low end clears the floor,
    'below floor' when its high end is under it, else 'within noise' (no floor: 'no floor (mlp)')."""
    from raflab.core.progress import track_rows

    if seeds < 2:
        raise ValueError(f"seeds must be >= 2 for an interval over seeds (got {seeds})")
    rows = []
    for learner in track_rows(list(learners), f"singleton attack (d={d}, n={n}, k={clusters})", enabled=progress,
                              unit="learners"):
        per_seed = pd.DataFrame([singleton_attack(learner, d, n, clusters, r=r, seed=s, **kwargs)
                                 for s in range(seeds)])
        low, high = t_interval(per_seed["recovery"])
        floor = float(per_seed["predicted_floor"].mean())
        verdict = ("no floor (mlp)" if np.isnan(floor) else "above floor" if low >= floor
                   else "below floor" if high < floor else "within noise")
        mean, se = mean_stderr(per_seed["recovery"])
        rows.append({"learner": check_learner(learner), "d": d, "n": n, "clusters": clusters,
                     "r": float(per_seed["r"].iloc[0]), "seeds": seeds,
                     "singletons_per_seed": float(per_seed["singletons"].mean()),
                     "recovery": mean, "recovery_stderr": se, "recovery_ci95_low": low, "recovery_ci95_high": high,
                     "unique_recovery": float(per_seed["unique_recovery"].mean()),
                     "singleton_error": float(per_seed["singleton_error"].mean()),
                     "predicted_floor": floor, "theta_attacker": float(per_seed["theta_attacker"].iloc[0]),
                     "verdict": verdict})
    return pd.DataFrame(rows)
