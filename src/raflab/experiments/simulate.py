"""Finite-size RAF experiments: config -> data -> fit -> metrics -> records (mean and stderr).

The same records as :func:`raflab.theory.linear_erm_theory` (same keys, same error definitions),
plus ``d``, ``n_seeds`` and a ``<error>_stderr`` column per error, so theory and simulation join
on (model, loss, alpha, eps, lam).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from raflab.config import RAFConfig, check_raf_params
from raflab.data.raf import RAFSample, sample_raf
from raflab.learners.erm import LinearERM, NotSeparableError, ridge_path
from raflab.losses import get_loss
from raflab.metrics import generalization_error_from_overlaps, raf_training_errors
from raflab.seeding import point_rng

#: per-seed quantities averaged into a record; the errors also get a ``_stderr`` column
MEASURED = ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss", "m", "q")
STDERR_OF = ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss")


def linear_fit_metrics(sample: RAFSample, coef: np.ndarray, loss: str) -> dict[str, float]:
    """The RAF metrics of a linear student ``coef`` on its own training set.

    The generalization error is the exact population error on Gaussian inputs, arccos of the
    student-teacher angle over pi, rather than a noisy test-set estimate.
    """
    d = sample.X.shape[1]
    scores = sample.X @ coef / np.sqrt(d)
    teacher_norm2 = sample.teacher @ sample.teacher / d
    m, q = float(coef @ sample.teacher / d), float(coef @ coef / d)
    return {
        "gen_error": float(generalization_error_from_overlaps(m, q, teacher_norm2)),
        **raf_training_errors(sample.y, scores, sample.is_fact),
        "train_loss": float(np.mean(get_loss(loss).value(sample.y, scores))),
        "m": m,
        "q": q,
    }


def fit_lam_path(sample: RAFSample, loss: str, lams) -> list[np.ndarray]:
    """Coefficients for every lam on one training set (square loss: one SVD for the path)."""
    if loss == "square":
        return list(ridge_path(sample.X, sample.y, lams))
    return [LinearERM(loss=loss, lam=lam).fit(sample.X, sample.y).coef_ for lam in lams]


def simulate_linear_erm(
    loss: str,
    alpha,
    eps=0.0,
    lam=0.0,
    *,
    d: int = 1000,
    seeds: int = 5,
    seed: int = 0,
    fact_count: str = "exact",
    progress: bool = False,
    raw: bool = False,
) -> pd.DataFrame:
    """Fit linear ERM on RAF data over the grid alpha x eps x lam, ``seeds`` draws per point.

    Each (alpha, eps, seed) draws one data set (from :func:`raflab.seeding.point_rng`) that serves
    the whole lam path.

    Returns
    -------
    pandas.DataFrame
        One record per grid point ordered by (eps, lam, alpha): means of the metrics, ``d``,
        ``n_seeds`` and ``<error>_stderr`` (standard error of the mean over seeds, ddof=1; undefined,
        NaN, with a single seed). With ``raw=True``, one row per (point, seed) instead.

    Raises
    ------
    raflab.learners.erm.NotSeparableError
        For hinge with lam = 0 (max-margin) on data that no hyperplane separates. (Logistic at
        lam = 0 then returns the maximum-likelihood fit instead.)
    """
    alpha, eps, lam = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (alpha, eps, lam))
    check_raf_params(alpha=alpha, eps=eps, lam=lam, loss=loss, d=d)
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1 (got {seeds})")
    jobs = list(itertools.product(eps, alpha, range(seeds)))
    if progress:
        from rich.progress import track

        jobs = track(jobs, description=f"fitting linear {loss} (d={d})", transient=True)
    rows = []
    for e, a, s in jobs:
        config = RAFConfig(d=d, alpha=a, eps=e, loss=loss, fact_count=fact_count)
        sample = sample_raf(config, point_rng(seed + s, d, a, e))
        try:
            coefs = fit_lam_path(sample, loss, lam)
        except NotSeparableError as exc:
            raise NotSeparableError(f"{exc} (alpha={a:g}, eps={e:g}, d={d}, seed {seed + s})") from None
        for l_, coef in zip(lam, coefs):
            rows.append({"model": "linear", "loss": loss, "alpha": a, "eps": e, "lam": l_, "seed": seed + s,
                         **linear_fit_metrics(sample, coef, loss)})
    per_seed = pd.DataFrame(rows)
    if raw:
        return per_seed.sort_values(["eps", "lam", "alpha", "seed"], ignore_index=True)
    return summarize_seeds(per_seed, d)


def summarize_seeds(per_seed: pd.DataFrame, d: int) -> pd.DataFrame:
    """Mean over seeds, with the standard error of each error and loss."""
    keys = ["model", "loss", "alpha", "eps", "lam"]
    g = per_seed.groupby(keys, sort=False)
    out = g[list(MEASURED)].mean()
    out.insert(0, "d", d)
    out["n_seeds"] = g.size()
    sem = g[list(STDERR_OF)].sem(ddof=1)
    for k in STDERR_OF:
        out[f"{k}_stderr"] = sem[k]
    return out.reset_index().sort_values(["eps", "lam", "alpha"], ignore_index=True)
