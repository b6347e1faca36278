"""Claims, their decision rules and the papers they come from.

A :class:`Claim` names a measured quantity and a :class:`Rule` that turns its values into a verdict:

- ``side="above"`` / ``"below"``: the claim is "the quantity is above (below) ``threshold``". Over
  seeds, the verdict of :func:`raflab.core.intervals.verdict` on the 95% Student-t interval of the
  mean (reproduced only when the interval excludes the opposite); for an exact quantity (theory,
  one evaluation) the interval is the value itself.
- ``side="within"``: the claim is "the quantity equals ``threshold`` within ``tolerance``"
  (reproduced when the whole interval lies inside, contradicted when it lies wholly outside).

A claim is measured per seed (``measure(budget, seed) -> float``) or per study (``study(budget,
store) -> dict`` with value, ci95_low, ci95_high, n_seeds: the study's own seeds and interval). A
measure returns None when its budget cannot reach the claim: the verdict is then "out of reach at
this budget", never a guess.

Budgets, from small to large: ``quick`` (reduced configs, ~15 CPU-minutes for every claim), ``full`` (the
shipped study configs, CPU scale) and ``paper`` (the paper-scale run cards of ``configs/paper/``, for a GPU,
for the claims that name one in ``paper_card``; the other claims are measured at ``full`` under it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from raflab.core.checks import one_of
from raflab.core.intervals import VERDICTS as INTERVAL_VERDICTS
from raflab.core.intervals import mean_interval, verdict

BUDGETS = ("quick", "full", "paper")
OUT_OF_REACH = "out of reach at this budget"
FAILED = "failed"
#: every verdict a ledger line can carry
LEDGER_VERDICTS = INTERVAL_VERDICTS + (OUT_OF_REACH, FAILED)
RULE_SIDES = ("above", "below", "within")

#: the papers raflab implements (../shared/README.md), by the key claims use
PAPERS = {
    "raf": "Farné, Boncoraglio, Zdeborová: The Rules-and-Facts Model for Simultaneous Generalization and "
           "Memorization in Neural Networks",
    "attention": "Liao, Liu, Hou, Zou, Ling: A Random Matrix Analysis of In-context Memorization for "
                 "Nonlinear Attention (arXiv 2506.18656)",
    "diffusion": "Pham, Raya, Negri, Zaki, Ambrogioni, Krotov: Memorization to Generalization: Emergence of "
                 "Diffusion Models from Associative Memory",
    "tbtt": "Too Big to Think: Capacity, Memorization, and Generalization in Pre-Trained Transformers",
    "capacity": "Capacity Matters: a Proof-of-Concept for Transformer Memorization on Real-World Data",
    "mqar": "Understanding Input Selectivity in Mamba: Approximation Power, Memorization, Associative Recall",
    "fictionalqa": "A Fictional Q&A Dataset for Studying Memorization and Knowledge Acquisition",
    "crossmodal": "Quantifying Cross-Modality Memorization in Vision-Language Models",
    "sdpi": "Feldman, Kornowski, Lyu: Trade-offs in Data Memorization via Strong Data Processing Inequalities",
    "teaching": "Robots and Children that Learn Together (interactive RL teachable agent)",
    "schema": "Schema-R1: a reasoning training approach for schema linking in Text-to-SQL",
}


@dataclass(frozen=True)
class Rule:
    """How a claim's measured values decide it (see the module docstring)."""

    threshold: float
    side: str = "above"
    tolerance: float = 0.0

    def __post_init__(self):
        one_of(self.side, RULE_SIDES, "rule side")
        if not math.isfinite(self.threshold):
            raise ValueError(f"a rule's threshold must be finite, got {self.threshold}")
        if self.side == "within" and not self.tolerance > 0:
            raise ValueError("a 'within' rule needs a tolerance > 0")

    def describe(self) -> str:
        if self.side == "within":
            return f"= {self.threshold:g} +- {self.tolerance:g}"
        return f"{'>' if self.side == 'above' else '<'} {self.threshold:g}"

    def decide(self, low: float, high: float, n_seeds: int | None) -> str:
        """The verdict of the interval (low, high) over ``n_seeds`` seeds (None: an exact value)."""
        if self.side != "within":
            return verdict(low, high, self.threshold, self.side, n_seeds=n_seeds)
        if not (math.isfinite(low) and math.isfinite(high)):
            return "inconclusive"
        lo, hi = self.threshold - self.tolerance, self.threshold + self.tolerance
        if lo <= low and high <= hi:
            return "reproduced" if n_seeds is None or n_seeds >= 3 else "inconclusive"
        if high < lo or low > hi:
            return "contradicted"
        return "inconclusive" if lo <= (low + high) / 2 <= hi else "not reproduced"


@dataclass(frozen=True)
class Claim:
    """One claim of one paper, with what measures it at each budget."""

    id: str
    paper: str
    claim: str
    quantity: str
    rule: Rule
    measure: Callable | None = None   # (budget, seed) -> float | None
    study: Callable | None = None     # (budget, store) -> dict | None
    exact: bool = False               # a deterministic quantity: one evaluation, no interval
    seeds: dict = field(default_factory=lambda: {"quick": 3, "full": 5})
    source: str = ""                  # the config or command that measures it at full budget
    paper_card: str = ""              # configs/paper/<file>: the run card that measures it at budget paper (GPU)
    note: str = ""
    revision: int = 1                 # bump when this claim's measurement changes: its stored rows are not reused

    def __post_init__(self):
        if self.paper not in PAPERS:
            raise ValueError(f"claim {self.id}: unknown paper {self.paper!r}")
        if (self.measure is None) == (self.study is None):
            raise ValueError(f"claim {self.id}: give exactly one of measure (per seed) or study")
        prefix = self.id.split(".")[0]
        if PAPERS_ALIASES.get(prefix, prefix) != self.paper:
            raise ValueError(f"claim {self.id}: its id must start with its paper key {self.paper!r}")

    def n_seeds(self, budget: str) -> int:
        one_of(budget, BUDGETS, "budget")
        return 1 if self.exact or self.study is not None else int(self.seeds.get(budget, self.seeds["full"]))

    def line_budget(self, budget: str) -> str:
        """The budget this claim is measured (and stored) at when ``budget`` is asked for: ``paper`` only
        where the claim has a paper-scale run card; elsewhere ``paper`` is ``full`` (same config, same rows)."""
        one_of(budget, BUDGETS, "budget")
        return "full" if budget == "paper" and not self.paper_card else budget


#: id prefixes for claims of one paper measured by another system (e.g. Hopfield capacity, a classical
#: result the diffusion paper builds on)
PAPERS_ALIASES = {"hopfield": "diffusion", "bits": "capacity"}


def decide(claim: Claim, values) -> dict:
    """Value, interval, seeds and verdict of a per-seed claim from its values (NaN: out of reach)."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    if x.size == 0 or np.isnan(x).all():
        return {"value": math.nan, "ci95_low": math.nan, "ci95_high": math.nan, "n_seeds": 0,
                "verdict": OUT_OF_REACH}
    x = x[~np.isnan(x)]
    if claim.exact:
        value = float(x[0])
        return {"value": value, "ci95_low": value, "ci95_high": value, "n_seeds": 1,
                "verdict": claim.rule.decide(value, value, None)}
    mean, low, high = mean_interval(x)
    return {"value": mean, "ci95_low": low, "ci95_high": high, "n_seeds": int(x.size),
            "verdict": claim.rule.decide(low, high, int(x.size))}


def decide_study(claim: Claim, result: dict | None) -> dict:
    """The verdict of a study-level claim from its study's value and interval."""
    if result is None or not math.isfinite(result.get("value", math.nan)):
        return {"value": math.nan, "ci95_low": math.nan, "ci95_high": math.nan, "n_seeds": 0,
                "verdict": OUT_OF_REACH}
    low, high, n = result["ci95_low"], result["ci95_high"], int(result["n_seeds"])
    return {"value": float(result["value"]), "ci95_low": low, "ci95_high": high, "n_seeds": n,
            "verdict": claim.rule.decide(low, high, n)}
