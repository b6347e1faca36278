"""The claims of Too Big to Think (Barron & White 2025), each settled (or not) by 95% intervals.

The paper's three findings, as directions against a threshold (``THRESHOLD`` = 0.5: "answers most"
held-out expressions / capital facts), each part judged by :func:`raflab.core.intervals.verdict` on
the interval over seeds of the study table (:func:`raflab.seq.studies.study_summary`):

- (a) the smallest width extrapolates arithmetic (trained on arithmetic: held-out accuracy above)
  and misses facts (trained on facts: fact accuracy below);
- (b) the largest width stores the facts (fact accuracy above) and fails to extrapolate (trained on
  arithmetic: held-out accuracy below);
- (c) trained on both, no width extrapolates (held-out accuracy below, at every width).

A claim is reproduced only when every part is (:func:`raflab.core.intervals.combine_verdicts`).
"""

from __future__ import annotations

import math

import pandas as pd

from raflab.core.intervals import combine_verdicts, verdict

THRESHOLD = 0.5
CLAIMS = {
    "a": "small models extrapolate arithmetic and miss facts",
    "b": "large models store facts and fail to extrapolate",
    "c": "joint training leaves no width extrapolating",
}


def _part(summary: pd.DataFrame, claim: str, task: str, width, metric: str, side: str,
          threshold: float) -> dict:
    rows = summary[(summary["task"] == task) & (summary["width"] == width)]
    if len(rows) != 1:
        raise ValueError(f"the study table needs one row of task {task!r} at width {width} "
                         f"(found {len(rows)}): add it to the grid")
    row = rows.iloc[0]
    low, high = row.get(f"{metric}_ci95_low", math.nan), row.get(f"{metric}_ci95_high", math.nan)
    n = int(row["n_seeds"])
    return {"claim": claim, "task": task, "width": int(width), "metric": metric,
            "side": f"{side} {threshold:g}", "mean": float(row[metric]), "ci95_low": float(low),
            "ci95_high": float(high), "n_seeds": n, "verdict": verdict(low, high, threshold, side, n_seeds=n)}


def too_big_to_think_claims(summary: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """One row per part of each claim (digits, claim, task, width, metric, side, mean, ci95_low,
    ci95_high, n_seeds, verdict) and one row per claim (task "all") with the combined verdict, for
    each operand-digits setting of the arithmetic rows (the facts rows serve every one); empty when
    the table lacks a regime the claims need."""
    needed = {"arithmetic", "facts", "both"}
    if not needed <= set(summary.get("task", pd.Series(dtype=str))):
        return pd.DataFrame(columns=["digits", "claim", "task", "width", "metric", "side", "mean", "ci95_low",
                                     "ci95_high", "n_seeds", "verdict"])
    digits = summary["digits"] if "digits" in summary else pd.Series(1, index=summary.index)
    facts = summary[summary["task"] == "facts"]
    tables = []
    for d in sorted(digits[summary["task"] != "facts"].unique()):
        table = _claims_at(pd.concat([summary[(digits == d) & (summary["task"] != "facts")], facts]), threshold)
        tables.append(table.assign(digits=int(d))[["digits", *table.columns]])
    return pd.concat(tables, ignore_index=True)


def _claims_at(summary: pd.DataFrame, threshold: float) -> pd.DataFrame:
    small, large = summary["width"].min(), summary["width"].max()
    parts = [
        _part(summary, "a", "arithmetic", small, "heldout_accuracy", "above", threshold),
        _part(summary, "a", "facts", small, "fact_accuracy", "below", threshold),
        _part(summary, "b", "facts", large, "fact_accuracy", "above", threshold),
        _part(summary, "b", "arithmetic", large, "heldout_accuracy", "below", threshold),
    ]
    both_widths = sorted(summary.loc[summary["task"] == "both", "width"].unique())
    parts += [_part(summary, "c", "both", w, "heldout_accuracy", "below", threshold) for w in both_widths]
    table = pd.DataFrame(parts)
    combined = [{"claim": c, "task": "all", "verdict": combine_verdicts(table.loc[table["claim"] == c, "verdict"])}
                for c in CLAIMS]
    return pd.concat([table, pd.DataFrame(combined)], ignore_index=True)


def claim_notes(claims: pd.DataFrame) -> list[str]:
    """One line per claim (and operand-digits setting): its verdict and the intervals of its parts."""
    notes = []
    for d in claims["digits"].unique() if len(claims) else []:
        for c, text in CLAIMS.items():
            rows = claims[(claims["claim"] == c) & (claims["digits"] == d)]
            combined = rows.loc[rows["task"] == "all", "verdict"].iloc[0]
            parts = "; ".join(f"{r.task} width {int(r.width)} {r.metric} {r.mean:.3f} [{r.ci95_low:.3f}, "
                              f"{r.ci95_high:.3f}] {r.side} (n={int(r.n_seeds)}): {r.verdict}"
                              for r in rows[rows["task"] != "all"].itertuples())
            notes.append(f"claim ({c}) {text} [digits={int(d)}]: {combined} -- {parts}")
    return notes


__all__ = ["THRESHOLD", "CLAIMS", "too_big_to_think_claims", "claim_notes"]
