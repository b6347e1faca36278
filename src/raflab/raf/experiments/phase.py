"""Phase diagram of the RAF model: where the rule is learned AND the facts are memorized.

From theory over a plane of two parameters (any of alpha, eps, lam, kappa), with simulation spot
checks classified by the same two criteria:

* rule learned: generalization error within ``gen_margin`` of the same learner's error at eps = 0
  (same alpha, lam, kappa): the facts did not spoil the rule;
* facts memorized: fact memorization error at most ``fact_threshold`` (at eps = 0 there is nothing
  to memorize, which counts as memorized).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raflab.core.progress import track_rows
from raflab.raf.experiments.simulate import simulate_erm
from raflab.raf.learner_spec import LearnerSpec, as_options
from raflab.raf.learners.erm import NotSeparableError
from raflab.raf.theory.erm import erm_theory

PLANE_AXES = ("alpha", "eps", "lam", "kappa")


def _classify(df: pd.DataFrame, reference: pd.Series, gen_margin: float, fact_threshold: float) -> pd.DataFrame:
    out = df.copy()
    out["gen_error_no_facts"] = reference.to_numpy()
    out["rule_learned"] = out["gen_error"] <= out["gen_error_no_facts"] + gen_margin
    out["facts_memorized"] = out["fact_memorization_error"].fillna(0.0) <= fact_threshold
    out["rule_and_facts"] = out["rule_learned"] & out["facts_memorized"]
    return out


def _reference(loss, df: pd.DataFrame, model_options: dict, tol: float) -> pd.Series:
    """Theory generalization error at eps = 0 for every row's (alpha, lam, kappa)."""
    keys = ["alpha", "lam"] + (["kappa"] if "kappa" in df.columns else [])
    opts = dict(model_options)
    if "kappa" in df.columns:
        opts["kappa"] = np.unique(df["kappa"])
    ref = erm_theory(loss, np.unique(df["alpha"]), 0.0, np.unique(df["lam"]), tol=tol, **opts)
    ref = ref[keys + ["gen_error"]].rename(columns={"gen_error": "_ref"})
    return df[keys].merge(ref, on=keys, how="left")["_ref"]


def phase_diagram(loss: str, grid: dict, *, model_options: LearnerSpec | dict | None = None, gen_margin: float = 0.02,
                  fact_threshold: float = 0.01, tol: float = 1e-10) -> pd.DataFrame:
    """Theory records over ``grid`` (values for alpha, eps, lam and, for rf, kappa) with the flags
    ``rule_learned``, ``facts_memorized``, ``rule_and_facts`` and the reference ``gen_error_no_facts``.

    Examples
    --------
    >>> df = phase_diagram("square", {"alpha": [1.0, 3.0], "eps": [0.0, 0.5], "lam": [0.1]})
    >>> df[["alpha", "eps", "rule_learned"]].shape
    (4, 3)
    """
    if not (gen_margin >= 0 and 0 <= fact_threshold <= 1):
        raise ValueError(f"gen_margin must be >= 0 and fact_threshold in [0, 1] (got {gen_margin}, {fact_threshold})")
    model_options = as_options(model_options)
    if "kappa" in grid:
        model_options["kappa"] = grid["kappa"]
    df = erm_theory(loss, grid["alpha"], grid["eps"], grid["lam"], tol=tol, **model_options)
    return _classify(df, _reference(loss, df, model_options, tol), gen_margin, fact_threshold)


def phase_spot_checks(loss: str, points: pd.DataFrame, *, model_options: LearnerSpec | dict | None = None, d: int = 200,
                      seeds: int = 2, seed: int = 0, gen_margin: float = 0.02, fact_threshold: float = 0.01,
                      tol: float = 1e-10, progress: bool = False) -> pd.DataFrame:
    """Fits at the (alpha, eps, lam, kappa) rows of ``points``, classified as in the theory.

    The rule criterion compares the measured generalization error with the theory's eps = 0 value.
    """
    model_options = as_options(model_options)
    rows = []
    for _, p in track_rows(points.iterrows(), f"spot checks (d={d})", total=len(points), enabled=progress,
                           unit="points"):
        opts = dict(model_options)
        if "kappa" in p:
            opts["kappa"] = p["kappa"]
        try:
            rows.append(simulate_erm(loss, p["alpha"], p["eps"], p["lam"], d=d, seeds=seeds, seed=seed, **opts)
                        .assign(separable=True))
        except NotSeparableError:
            # hinge at lam = 0 beyond capacity: the max-margin fit does not exist, so not every
            # training sample (fact or rule) can be stored; no errors are reported for the point
            rows.append(pd.DataFrame([{**{k: p[k] for k in points.columns}, "model": opts.get("model", "linear"),
                                       "loss": loss, "d": d, "separable": False}]))
    sim = pd.concat(rows, ignore_index=True)
    out = _classify(sim, _reference(loss, sim, model_options, tol), gen_margin, fact_threshold)
    out.loc[~out["separable"].astype(bool), ["rule_learned", "facts_memorized", "rule_and_facts"]] = False
    return out


def spot_check_points(df: pd.DataFrame, x: str, y: str, per_axis: int = 3) -> pd.DataFrame:
    """A per_axis x per_axis sub-grid of a phase diagram (inner points of each axis)."""
    picks = {}
    for axis in (x, y):
        values = np.unique(df[axis])
        idx = np.unique(np.round(np.linspace(0, values.size - 1, per_axis + 2)[1:-1]).astype(int))
        picks[axis] = values[idx]
    sel = df[x].isin(picks[x]) & df[y].isin(picks[y])
    cols = [c for c in PLANE_AXES if c in df.columns]
    return df.loc[sel, cols].drop_duplicates().reset_index(drop=True)
