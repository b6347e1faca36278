"""Capacity Matters' claims and the bits-per-parameter fit, each with a 95% interval over seeds and a verdict.

Changalidis & Härmä (arXiv 2506.14704) state: embedding size is the primary determinant of capacity;
additional layers give limited benefits and may hinder; Softmax (over the FFN hidden units) shows
greater stability and capacity; more complex data (graph walks instead of triplets) improves the final
memorization. :func:`capacity_claims` turns a capacity study's rows (one per run and seed) into one
line per comparison: the paired difference over seeds (treatment minus baseline, the same data per
seed), its 95% interval and a verdict that is "reproduced" only when the interval, over >= 3 seeds,
lies on the claimed side of 0 ("contradicted" when it lies on the other side, "inconclusive" when it
holds 0 or fewer than 3 seeds were run).

Bits per parameter (Morris et al. 2025): :func:`fit_bits_per_parameter_ci` fits memorized bits =
slope x parameters through the origin over every run and gives the slope's 95% interval.

The 95% intervals come from :func:`raflab.core.intervals.mean_interval` (Student t, ddof = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from raflab.core.checks import one_of
from raflab.core.intervals import mean_interval as _ci95  # (mean, low, high), Student t, ddof = 1
from raflab.core.summary import mean_stderr, t_quantile

#: verdicts of a claim
VERDICTS = ("reproduced", "contradicted", "inconclusive")
#: the fewest seeds for a verdict other than "inconclusive"
MIN_SEEDS = 3


def verdict(low: float, high: float, claimed_sign: int, n_seeds: int) -> str:
    """"reproduced" when the 95% interval [low, high] over >= 3 seeds lies on the claimed side of 0
    (``claimed_sign`` +1: the difference is positive; -1: negative), "contradicted" when it lies on
    the other side, "inconclusive" otherwise."""
    if claimed_sign not in (1, -1):
        raise ValueError(f"claimed_sign must be +1 or -1, got {claimed_sign!r}")
    if n_seeds < MIN_SEEDS or not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if low > 0 or high < 0:
        return "reproduced" if (low > 0) == (claimed_sign > 0) else "contradicted"
    return "inconclusive"


def paired_difference(treatment: pd.Series, baseline: pd.Series) -> dict:
    """Treatment minus baseline over the seeds both have (Series indexed by seed): mean, stderr,
    95% interval, n_seeds."""
    common = treatment.index.intersection(baseline.index)
    diff = (treatment.loc[common].astype(float) - baseline.loc[common].astype(float)).to_numpy()
    mean, low, high = _ci95(diff)
    return {"difference": mean, "difference_stderr": mean_stderr(diff)[1], "ci_low": low, "ci_high": high,
            "n_seeds": int(np.sum(~np.isnan(diff)))}


@dataclass(frozen=True)
class Claim:
    """One comparison of a study: rows where ``where`` holds, compared on ``vary`` (treatment against
    baseline, paired by seed within each group of the other settings ``match``)."""

    name: str
    statement: str      # the paper's words
    vary: str           # the column compared
    treatment: object   # its value in the treated runs; "max"/"min" for the largest/smallest value
    baseline: object    # its value in the baseline runs ("max"/"min" likewise; "others": each other value)
    claimed_sign: int   # +1: treatment above baseline
    where: tuple = ()   # (column, value) pairs the rows must have; value None: the column is missing
    match: tuple = ("triplets", "width", "layers", "activation", "target_params", "graph", "entities",
                    "relations")


#: the paper's four claims, as comparisons of the capacity study's grids
CAPACITY_CLAIMS = (
    Claim("width", "embedding size is the primary determinant of capacity", "width", "max", "min", +1,
          where=(("data", "triplets"), ("layers", 1), ("activation", "relu"), ("target_params", None))),
    Claim("layers", "additional layers give limited benefits and may hinder (matched parameters)", "layers",
          "others", 1, -1, where=(("data", "triplets"), ("target_params", "set")),
          match=("triplets", "activation", "target_params", "graph", "entities", "relations")),
    Claim("activation", "Softmax shows greater stability and capacity", "activation", "softmax", "others", +1,
          where=(("data", "triplets"), ("layers", 1), ("target_params", None))),
    Claim("walks", "more complex data (walks) improves the final memorization", "data", "walks",
          "triplets of the walks' facts", +1, where=(("target_params", None),),
          match=("triplets", "width", "layers", "activation", "target_params", "graph", "entities", "relations",
                 "walks")),
)


def data_kind(rows: pd.DataFrame) -> pd.Series:
    """What a kg / walks row was trained on: "triplets", "walks" or "triplets of the walks' facts"."""
    walk_facts = rows["walk_facts"].fillna(False).astype(bool) if "walk_facts" in rows else False
    kind = np.where(rows["task"] == "walks", "walks",
                    np.where(walk_facts, "triplets of the walks' facts", "triplets"))
    return pd.Series(kind, index=rows.index)


def _select(rows: pd.DataFrame, where) -> pd.DataFrame:
    keep = pd.Series(True, index=rows.index)
    for column, value in where:
        if column not in rows:
            if value is None:
                continue
            return rows.iloc[:0]
        if value is None:
            keep &= rows[column].isna()
        elif value == "set":
            keep &= rows[column].notna()
        else:
            keep &= rows[column] == value
    return rows[keep]


def _resolve(values, which):
    values = sorted(values, key=lambda v: (isinstance(v, str), v))
    if which == "max":
        return [values[-1]]
    if which == "min":
        return [values[0]]
    return [which]


def compare(rows: pd.DataFrame, claim: Claim, metric: str = "fact_accuracy") -> list[dict]:
    """The claim's lines: for each group of matched settings, treatment minus baseline over seeds."""
    frame = rows.assign(data=data_kind(rows)) if "task" in rows else rows
    frame = _select(frame[frame["status"] == "done"] if "status" in frame else frame, claim.where)
    if frame.empty or claim.vary not in frame:
        return []
    match = [c for c in claim.match if c in frame and c != claim.vary]
    out = []
    for key, group in frame.groupby(match, dropna=False, sort=True) if match else [((), frame)]:
        present = list(pd.unique(group[claim.vary]))
        treatments = _resolve(present, claim.treatment)
        baselines = [v for v in present if v not in treatments] if claim.baseline == "others" \
            else _resolve(present, claim.baseline)
        if claim.treatment == "others":
            treatments = [v for v in present if v not in baselines]
        for t in treatments:
            for b in baselines:
                if t == b or t not in present or b not in present:
                    continue
                a = group[group[claim.vary] == t].set_index("seed")
                c = group[group[claim.vary] == b].set_index("seed")
                line = {"claim": claim.name, "statement": claim.statement,
                        "setting": ", ".join(f"{k}={v}" for k, v in zip(match, key if isinstance(key, tuple)
                                                                          else (key,)) if not pd.isna(v)),
                        "treatment": f"{claim.vary}={t}", "baseline": f"{claim.vary}={b}",
                        "treatment_mean": float(a[metric].mean()), "baseline_mean": float(c[metric].mean()),
                        **paired_difference(a[metric], c[metric])}
                if "params" in group:
                    line["params_ratio"] = float(a["params"].mean() / c["params"].mean())
                line["verdict"] = verdict(line["ci_low"], line["ci_high"], claim.claimed_sign, line["n_seeds"])
                out.append(line)
    return out


def capacity_claims(rows: pd.DataFrame, metric: str = "fact_accuracy", claims=CAPACITY_CLAIMS) -> pd.DataFrame:
    """One line per comparison of each claim found in a capacity study's per-seed rows (claims whose
    grid the study did not run give no line). ``metric``: "fact_accuracy" (the fraction of the
    (node, edge) -> node facts answered, the paper's accuracy for triplets and walks alike) or "mac"."""
    one_of(metric, tuple(rows.columns), "metric")
    lines = [line for claim in claims for line in compare(rows, claim, metric)]
    return pd.DataFrame(lines)


# --- bits per parameter ------------------------------------------------------------------------

#: published capacities in bits per parameter, and what differs in their protocol from raflab's
REFERENCE_CAPACITIES = {
    "Morris et al. 2025": (3.6, "GPT-style models on uniform random token strings, trained to convergence; "
                           "~3.5 bits/param in bf16, ~3.8 in fp32, vocabulary 2048, length 64"),
    "Allen-Zhu & Li 2024": (2.0, "knowledge bits of synthetic biographies (attribute entropy, not random "
                            "tokens) at 1000 exposures per fact; holds under int8 quantization"),
}


def fit_through_origin(x, y) -> dict:
    """Least squares y = slope x (no intercept): slope, its standard error (residual variance with
    n - 1 degrees of freedom over sum x^2), its t-based 95% interval and n."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d of one length, got shapes {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"a slope with an interval needs >= 2 points, got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()) or not np.any(x != 0):
        raise ValueError("x and y must be finite and x not all 0")
    sxx = float(x @ x)
    slope = float(x @ y) / sxx
    resid = y - slope * x
    se = float(np.sqrt(resid @ resid / (x.size - 1) / sxx))
    half = t_quantile(x.size) * se
    return {"slope": slope, "slope_stderr": se, "ci_low": slope - half, "ci_high": slope + half, "n": int(x.size)}


def fit_bits_per_parameter_ci(rows: pd.DataFrame) -> dict:
    """Memorized bits = slope x parameters over every run (one point per run and seed), with its 95%
    interval; also the ordinary regression with an intercept (``scipy.stats.linregress``), the
    parameter span, the seeds and how many runs reached the plateau (``saturated``)."""
    done = rows[rows["status"] == "done"] if "status" in rows else rows
    done = done.dropna(subset=["memorized_bits", "params"])
    fit = fit_through_origin(done["params"], done["memorized_bits"])
    line = stats.linregress(done["params"].astype(float), done["memorized_bits"].astype(float))
    saturated = done["saturated"].fillna(False).astype(bool) if "saturated" in done else pd.Series(False, index=done.index)
    return {**fit, "slope_with_intercept": float(line.slope), "intercept": float(line.intercept),
            "params_min": int(done["params"].min()), "params_max": int(done["params"].max()),
            "n_seeds": int(done["seed"].nunique()) if "seed" in done else 1,
            "runs_saturated": int(saturated.sum()), "runs": int(len(done))}


def compare_with_references(fit: dict) -> list[str]:
    """One sentence per published capacity: where it falls against the fitted slope's 95% interval."""
    out = []
    for source, (value, protocol) in REFERENCE_CAPACITIES.items():
        if fit["ci_high"] < value:
            where = "above the interval"
        elif fit["ci_low"] > value:
            where = "below the interval"
        else:
            where = "inside the interval"
        out.append(f"{source}: {value:g} bits/param, {where} [{fit['ci_low']:.3g}, {fit['ci_high']:.3g}] "
                   f"({protocol})")
    return out


__all__ = ["CAPACITY_CLAIMS", "Claim", "REFERENCE_CAPACITIES", "VERDICTS", "capacity_claims", "compare",
           "compare_with_references", "data_kind", "fit_bits_per_parameter_ci", "fit_through_origin",
           "paired_difference", "verdict"]
