"""Seed summaries: the one place where records that aggregate seeds are written.

Every aggregated record carries, for each measured ``<metric>``, its mean over seeds, ``<metric>_stderr``
(the standard error of that mean, ddof = 1; NaN with one seed) and ``n_seeds``. Figures read these
columns; they never aggregate.
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


def summarize(per_seed: pd.DataFrame, keys: Sequence[str], metrics: Iterable[str],
              stderr_of: Iterable[str] | None = None, seed: str | None = "seed") -> pd.DataFrame:
    """One record per group of ``keys``: the mean of each of ``metrics``, ``<metric>_stderr`` for each
    of ``stderr_of`` (default: all of ``metrics``) and ``n_seeds``.

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
    out["n_seeds"] = counts.astype(int)
    out = out.reset_index()
    return out.drop(columns="_all") if "_all" in out.columns else out
