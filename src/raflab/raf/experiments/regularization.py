"""How regularization splits capacity between the rule and the facts (theory).

* :func:`optimal_lambda` -- the ridge penalty minimizing the generalization error at each
  (alpha, eps): a vectorized scan over lam in log scale (plus lam = 0, the lam -> 0+ limit), then a
  bounded 1-d refinement of the best bracket;
* :func:`pareto_front` -- the (generalization error, fact memorization error) pairs traced by lam,
  with the non-dominated ones marked: no lam does better on both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from raflab.core.progress import track_rows
from raflab.raf.config import check_raf_params
from raflab.raf.learner_spec import LearnerSpec, as_options
from raflab.raf.theory.erm import erm_theory


def optimal_lambda(loss: str, alpha, eps, *, model_options: LearnerSpec | dict | None = None, lam_min: float = 1e-4,
                   lam_max: float = 1e2, scan_points: int = 25, include_zero: bool = True,
                   xtol: float = 1e-6, tol: float = 1e-10, progress: bool = False) -> pd.DataFrame:
    """The generalization-optimal lam at each (alpha, eps) and the errors there.

    Returns
    -------
    pandas.DataFrame
        The theory record at the optimum for every (alpha, eps) (and kappa for rf), plus
        ``at_boundary`` (True when the optimum is lam_min or lam_max: widen the range).
        ``lam = 0`` in the result means the lam -> 0+ limit is optimal.

    Examples
    --------
    >>> best = optimal_lambda("square", alpha=2.0, eps=0.2)
    >>> float(best.lam[0]) > 0
    True
    """
    if not (np.isfinite(lam_min) and np.isfinite(lam_max) and 0 < lam_min < lam_max):
        raise ValueError(f"need 0 < lam_min < lam_max, both finite (got lam_min={lam_min:g}, lam_max={lam_max:g})")
    if scan_points < 3:
        raise ValueError(f"scan_points must be >= 3 (got {scan_points})")
    model_options = as_options(model_options)
    alpha, eps = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (alpha, eps))
    check_raf_params(alpha=alpha, eps=eps)
    lams = np.geomspace(lam_min, lam_max, scan_points)
    scan = erm_theory(loss, alpha, eps, np.concatenate([[0.0], lams]) if include_zero else lams,
                      tol=tol, **model_options)
    scan = scan[scan["converged"].astype(bool)]
    keys = [k for k in ("kappa", "eps", "alpha") if k in scan.columns]
    rows = []
    for key, part in track_rows(list(scan.groupby(keys, sort=True)), "optimal lam", enabled=progress,
                                unit="points"):
        best = part.loc[part["gen_error"].idxmin()]
        lam_best, record = float(best["lam"]), best.to_dict()
        opts = dict(model_options)
        if "kappa" in part.columns:
            opts["kappa"] = best["kappa"]
        if lam_best > 0:
            i = int(np.argmin(np.abs(lams - lam_best)))
            lo, hi = np.log(lams[max(i - 1, 0)]), np.log(lams[min(i + 1, lams.size - 1)])

            def gen(log_lam):
                r = erm_theory(loss, best["alpha"], best["eps"], np.exp(log_lam), tol=tol, **opts)
                return float(r["gen_error"].iloc[0]) if bool(r["converged"].iloc[0]) else np.inf

            res = minimize_scalar(gen, bounds=(lo, hi), method="bounded", options={"xatol": xtol})
            if res.fun <= best["gen_error"]:
                record = erm_theory(loss, best["alpha"], best["eps"], np.exp(res.x), tol=tol, **opts).iloc[0].to_dict()
        record["at_boundary"] = bool(np.isclose(record["lam"], lam_min, rtol=1e-3)
                                     or np.isclose(record["lam"], lam_max, rtol=1e-3))
        rows.append(record)
    return pd.DataFrame(rows).reset_index(drop=True)


def pareto_front(loss: str, alpha: float, eps: float, lams, *, model_options: LearnerSpec | dict | None = None,
                 tol: float = 1e-10) -> pd.DataFrame:
    """Theory records along a lam path with ``pareto`` marking the non-dominated (gen, fact) pairs.

    A point is dominated when another lam has both a generalization error and a fact memorization
    error at most as large, one of them strictly smaller.
    """
    df = erm_theory(loss, alpha, eps, lams, tol=tol, **as_options(model_options))
    df = df[df["converged"].astype(bool)].sort_values(["lam"], ignore_index=True)
    g, f = df["gen_error"].to_numpy(), df["fact_memorization_error"].fillna(0.0).to_numpy()
    # differences below the fixed point's accuracy are ties, not dominance
    df["pareto"] = non_dominated(g, f, 1e-8)
    return df


def non_dominated(g, f, tol: float = 0.0) -> np.ndarray:
    """Mask of the points (g_i, f_i) that no other point beats: at most as large on both, smaller on
    one (by more than ``tol``; smaller differences are ties).

    Examples
    --------
    >>> non_dominated([0.1, 0.2, 0.3], [0.3, 0.1, 0.2]).tolist()
    [True, True, False]
    """
    g, f, t = np.asarray(g, dtype=float), np.asarray(f, dtype=float), tol
    dominated = ((g[None, :] <= g[:, None] + t) & (f[None, :] <= f[:, None] + t)
                 & ((g[None, :] < g[:, None] - t) | (f[None, :] < f[:, None] - t))).any(axis=1)
    return ~dominated
