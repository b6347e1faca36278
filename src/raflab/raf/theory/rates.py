"""Learning rates at large alpha: the exponent b of eg ~ C alpha^(-b), fitted on the theory.

The fit is least squares of log eg on log alpha over a stated window (log-spaced points). Known
values, printed beside the fits:

- square loss, any fixed lam (linear learner): b = 1/2, C = sqrt(1 - c^2) / (pi c) with
  c = (1 - eps) sqrt(2/pi), the correlation of a label with the teacher's field. (At large alpha the
  ridge estimator tends to the direction E[y x] with Gaussian fluctuations of order alpha^(-1/2):
  the angle is sqrt(1 - c^2)/(c sqrt(alpha)).)
- Bayes-optimal, eps = 0: b = 1, C = 0.4417 (Opper & Haussler 1991).
Everything else (hinge, logistic, kernels, Bayes-optimal with facts) is measured, not assumed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raflab.raf.learner_spec import LearnerSpec, as_options
from raflab.raf.theory.erm import erm_theory

OPPER_HAUSSLER = 0.4417


def known_rate(model: str, loss: str | None, eps: float) -> tuple[float, float]:
    """(exponent, prefactor) where a closed form is known, else (nan, nan)."""
    if model == "bayes":
        return (1.0, OPPER_HAUSSLER) if eps == 0 else (np.nan, np.nan)
    if model == "linear" and loss == "square" and eps < 1:
        c = (1.0 - eps) * np.sqrt(2.0 / np.pi)
        return 0.5, float(np.sqrt(1.0 - c**2) / (np.pi * c))
    return np.nan, np.nan


def fit_rate(alpha: np.ndarray, gen_error: np.ndarray) -> tuple[float, float, float]:
    """(exponent b, prefactor C, max |log residual|) of eg = C alpha^(-b) by least squares in logs."""
    x, y = np.log(alpha), np.log(gen_error)
    slope, intercept = np.polyfit(x, y, 1)
    residual = float(np.max(np.abs(y - (slope * x + intercept))))
    return float(-slope), float(np.exp(intercept)), residual


def learning_rates(loss: str, eps, lam, *, alpha_min: float = 100.0, alpha_max: float = 10_000.0,
                   points: int = 12, model_options: LearnerSpec | dict | None = None,
                   tol: float = 1e-10) -> pd.DataFrame:
    """Fitted large-alpha exponents of the generalization error, one record per (eps, lam).

    Parameters
    ----------
    alpha_min, alpha_max, points : the window (log-spaced alpha) of the fit.
    model_options : a :class:`~raflab.raf.learner_spec.LearnerSpec`, or its keyword arguments of
        :func:`raflab.raf.theory.erm_theory` (model, kappa, ...).

    Returns
    -------
    pandas.DataFrame
        ``model, loss, eps, lam, alpha_min, alpha_max, points, exponent, prefactor, log_residual,
        known_exponent, known_prefactor, prefactor_at_known`` (mean of eg alpha^b_known over the top
        quarter of the window: the prefactor with the exponent held at its known value),
        ``converged`` (every point of the window).
    """
    if not 0 < alpha_min < alpha_max:
        raise ValueError(f"the window needs 0 < alpha_min < alpha_max (got {alpha_min:g}, {alpha_max:g})")
    if points < 3:
        raise ValueError(f"points must be >= 3 to fit a rate (got {points})")
    options = as_options(model_options) or {"model": "linear"}
    model = options.get("model", "linear")
    alphas = np.geomspace(alpha_min, alpha_max, points)
    eps, lam = np.atleast_1d(np.asarray(eps, dtype=float)), np.atleast_1d(np.asarray(lam, dtype=float))
    lams = lam if model != "bayes" else lam[:1]
    df = erm_theory(loss, alphas, eps, lams, tol=tol, **options)
    rows = []
    for e in eps:
        for l_ in lams:
            sel = df[(df["eps"] == e) & ((df["lam"] == l_) if "lam" in df else True)].sort_values("alpha")
            ok = sel["converged"].to_numpy(bool) & (sel["gen_error"].to_numpy() > 0)
            exponent, prefactor, residual = (fit_rate(sel["alpha"].to_numpy()[ok], sel["gen_error"].to_numpy()[ok])
                                             if ok.sum() >= 3 else (np.nan, np.nan, np.nan))
            b_known, c_known = known_rate(model, loss, e)
            top = sel.tail(max(1, points // 4))
            at_known = float(np.mean(top["gen_error"] * top["alpha"] ** b_known)) if np.isfinite(b_known) else np.nan
            row = {"model": model, "eps": e}
            if model != "bayes":
                row |= {"loss": loss, "lam": l_}
            rows.append(row | {"alpha_min": alpha_min, "alpha_max": alpha_max, "points": points,
                               "exponent": exponent, "prefactor": prefactor, "log_residual": residual,
                               "known_exponent": b_known, "known_prefactor": c_known,
                               "prefactor_at_known": at_known, "converged": bool(ok.all())})
    return pd.DataFrame(rows)
