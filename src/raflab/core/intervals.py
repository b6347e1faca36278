"""95% intervals of a mean over seeds, and the verdict a paper's claim gets from one.

The interval is Student's t: ``mean +- t_{0.975, n-1} * stderr`` with ``stderr`` the standard error
of the mean (ddof = 1, as :mod:`raflab.core.summary` writes it). It is NaN with fewer than two seeds.
Seeds that all give one value (e.g. every seed answers nothing held out) give a zero-width interval:
the seeds agree exactly, which is the data, not a failure of the interval.

A claim is a direction against a threshold ("held-out accuracy above 0.5"). Its verdict:

- ``reproduced``: the whole interval lies on the claim's side (it excludes the opposite);
- ``contradicted``: the whole interval lies on the opposite side;
- ``not reproduced``: the interval straddles the threshold and the mean is on the opposite side;
- ``inconclusive``: the interval straddles the threshold with the mean on the claim's side, or it
  is undefined (fewer than ``MIN_SEEDS`` seeds).

A bound equal to the threshold does not exclude it.
"""

from __future__ import annotations

import math

import numpy as np
from raflab.core.checks import in_range, one_of
from raflab.core.summary import mean_stderr, t_interval
from raflab.core.summary import t_quantile as summary_t_quantile

VERDICTS = ("reproduced", "not reproduced", "contradicted", "inconclusive")
SIDES = ("above", "below")
#: the fewest seeds an interval may settle a claim with
MIN_SEEDS = 3


def t_quantile(n_seeds: int, confidence: float = 0.95) -> float:
    """The two-sided Student-t quantile for a mean over ``n_seeds`` values (NaN below two):
    :func:`raflab.core.summary.t_quantile`, with ``confidence`` checked by name."""
    in_range(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    return summary_t_quantile(n_seeds, confidence)


def interval_from_stderr(mean: float, stderr: float, n_seeds: int,
                         confidence: float = 0.95) -> tuple[float, float]:
    """(low, high) of the t interval from a summary's mean, ``<metric>_stderr`` and ``n_seeds``."""
    half = t_quantile(int(n_seeds), confidence) * float(stderr)
    return float(mean) - half, float(mean) + half


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of ``values`` (one metric over seeds, NaN values dropped)."""
    in_range(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    x = np.asarray(values, dtype=float).ravel()
    mean = mean_stderr(x)[0]
    return (mean, *t_interval(x, confidence))


def add_intervals(summary, metrics, confidence: float = 0.95):
    """A copy of a :func:`raflab.core.summary.summarize` table with ``<metric>_ci95_low`` and
    ``<metric>_ci95_high`` for each of ``metrics`` that has its ``_stderr`` column."""
    out = summary.copy()
    for m in metrics:
        if m not in out or f"{m}_stderr" not in out:
            continue
        bounds = [interval_from_stderr(mu, se, n, confidence)
                  for mu, se, n in zip(out[m], out[f"{m}_stderr"], out["n_seeds"])]
        out[f"{m}_ci95_low"] = [b[0] for b in bounds]
        out[f"{m}_ci95_high"] = [b[1] for b in bounds]
    return out


def verdict(low: float, high: float, threshold: float, side: str = "above", n_seeds: int | None = None) -> str:
    """The verdict of the claim "the mean is ``side`` ``threshold``" from its interval (low, high).

    ``n_seeds`` below :data:`MIN_SEEDS` makes it ``inconclusive`` whatever the interval.
    """
    one_of(side, SIDES, "side")
    threshold = in_range(threshold, "threshold")
    if any(v is None for v in (low, high)) or not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    if low > high:
        raise ValueError(f"the interval's low bound {low} is above its high bound {high}")
    if n_seeds is not None and n_seeds < MIN_SEEDS:
        return "inconclusive"
    sign = 1.0 if side == "above" else -1.0
    near, far = (low, high) if side == "above" else (high, low)  # near: the bound that must clear
    if sign * (near - threshold) > 0:
        return "reproduced"
    if sign * (far - threshold) < 0:
        return "contradicted"
    mean = (low + high) / 2
    return "inconclusive" if sign * (mean - threshold) > 0 else "not reproduced"


def combine_verdicts(verdicts) -> str:
    """The verdict of a claim made of parts that must all hold: reproduced when every part is,
    contradicted when any part is, otherwise not reproduced when any part is, else inconclusive."""
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("combine_verdicts needs at least one verdict")
    for v in verdicts:
        one_of(v, VERDICTS, "verdict")
    for outcome in ("contradicted", "not reproduced", "inconclusive"):
        if outcome in verdicts:
            return outcome
    return "reproduced"


__all__ = ["VERDICTS", "SIDES", "MIN_SEEDS", "t_quantile", "interval_from_stderr", "mean_interval",
           "add_intervals", "verdict", "combine_verdicts"]
