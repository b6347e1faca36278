"""Seed summaries: the one place where records that aggregate seeds are written.

Every aggregated record carries, for each measured ``<metric>``, its mean over seeds, ``<metric>_stderr``
(the standard error of that mean, ddof = 1; NaN with one seed) and ``n_seeds``. Where a claim is
settled by an interval, ``summarize(..., ci95_of=[...])`` adds the two-sided 95% Student-t interval of
the mean, ``<metric>_ci95_low`` and ``<metric>_ci95_high`` (mean -+ t_{0.975, n-1} stderr; NaN with one
seed). Figures read these columns; they never aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def stderr(values) -> float:
    """Standard error of the mean of ``values`` (ddof = 1), NaN values dropped; NaN with fewer than two."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return float("nan")
    return float(x.std(ddof=1) / np.sqrt(x.size))


def mean_stderr(values) -> tuple[float, float]:
    """(mean, standard error) of ``values``: one metric over seeds (NaN values dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    return (float(x.mean()) if x.size else float("nan")), stderr(x)


def t_quantile(n: int, level: float = 0.95) -> float:
    """The two-sided Student-t factor of an interval of the mean of ``n`` values: t_{(1+level)/2, n-1}
    (NaN for n < 2).

    >>> round(t_quantile(3), 3), round(t_quantile(10), 3)
    (4.303, 2.262)
    """
    from scipy.stats import t  # late: scipy is slow to import and most summaries need no interval

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return float(t.ppf(0.5 + level / 2, n - 1)) if n >= 2 else float("nan")


def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """(low, high): the two-sided Student-t interval of the mean of ``values`` (NaN values dropped;
    NaN with fewer than two), mean -+ t_{(1+level)/2, n-1} * stderr.

    >>> low, high = t_interval([0.9, 1.0, 1.0])
    >>> round(low, 3), round(high, 3)
    (0.823, 1.11)
    """
    mean, se = mean_stderr(values)
    half = t_quantile(int(np.sum(~np.isnan(np.asarray(values, dtype=float)))), level) * se
    return mean - half, mean + half


def summarize(per_seed: pd.DataFrame, keys: Sequence[str], metrics: Iterable[str],
              stderr_of: Iterable[str] | None = None, seed: str | None = "seed",
              ci95_of: Iterable[str] = ()) -> pd.DataFrame:
    """One record per group of ``keys``: the mean of each of ``metrics``, ``<metric>_stderr`` for each
    of ``stderr_of`` (default: all of ``metrics``) and ``n_seeds``; for each of ``ci95_of`` also the 95%
    Student-t interval of the mean, ``<metric>_ci95_low`` / ``<metric>_ci95_high`` (:func:`t_interval`,
    over the metric's non-missing values in the group).

    ``n_seeds`` counts the distinct values of column ``seed`` when it is there, rows otherwise. Groups
    keep their first-seen order; missing keys (NaN) form their own group. Metrics missing from
    ``per_seed`` are skipped.
    """
    keys = [k for k in keys if k in per_seed.columns]
    metrics = [m for m in metrics if m in per_seed.columns]
    stderr_of = metrics if stderr_of is None else [m for m in stderr_of if m in metrics]
    if not keys:
        per_seed = per_seed.assign(_all=0)
        keys = ["_all"]
    g = per_seed.groupby(keys, sort=False, dropna=False)
    out = g[metrics].mean() if metrics else g.size().to_frame("_n").drop(columns="_n")
    counts = g[seed].nunique() if seed is not None and seed in per_seed.columns else g.size()
    for m in stderr_of:
        out[f"{m}_stderr"] = g[m].sem(ddof=1)
    for m in [m for m in ci95_of if m in metrics]:
        bounds = g[m].apply(lambda x: pd.Series(t_interval(x.to_numpy(float)), index=["low", "high"])).unstack()
        out[f"{m}_ci95_low"], out[f"{m}_ci95_high"] = bounds["low"], bounds["high"]
    out["n_seeds"] = counts.astype(int)
    out = out.reset_index()
    return out.drop(columns="_all") if "_all" in out.columns else out
