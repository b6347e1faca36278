"""What each claim costs to measure, per budget, in CPU-minutes of one thread (``raflab reproduce --list``).

``quick``: measured, the CPU time (``time.process_time``) of the claim's units in a fresh ``raflab reproduce
--all --budget quick`` (2026-12-06, 2 cores shared with other jobs; :func:`raflab.ledger.run.stored_cpu_seconds`
reads it back from any store). ``full``: the full budget was not run (no GPU, hours of CPU); each estimate says where it
comes from (the study's config header or doc, or a one-seed full-size unit timed beside its quick one and
multiplied by the seeds). Claims that read one study share its run: run together (``--all``), the study
is paid once (by the first claim of its ``shares`` group); run alone, each claim pays it. The totals count
each group once.
"""

from __future__ import annotations

import pandas as pd

from raflab.core.checks import in_range, one_of
from raflab.ledger.registry import BUDGETS

#: (quick CPU-minutes measured, full CPU-minutes estimated, basis of the full estimate), per claim run alone;
#: 0.001 stands for "at most 0.001" (a theory evaluation of milliseconds), 0 for "nothing runs" (out of reach)
COSTS: dict[str, tuple[float, float, str]] = {
    "raf.gardner-capacity": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "raf.capacity-falls-with-facts": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "raf.square-theory-matches-fits": (0.00465, 0.05, "one full-size unit timed (0.3 CPU-s) x 10 seeds"),
    "raf.hinge-theory-matches-fits": (0.0114, 0.0333, "one full-size unit timed (0.2 CPU-s) x 10 seeds"),
    "raf.ridge-helps-the-rule": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "raf.memorization-needs-small-ridge": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "raf.features-store-more-facts": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "attention.reversal-with-alignment": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "attention.worse-without-structure": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "attention.theory-matches-monte-carlo": (0.0076, 0.133, "one full-size unit timed (0.4 CPU-s) x 20 seeds"),
    "attention.ridge-closed-form": (0.0109, 0.133, "one full-size unit timed (0.4 CPU-s) x 20 seeds"),
    "hopfield.capacity-0138": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "hopfield.dense-capacity-exponent": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "diffusion.memorization-at-small-K": (0.423, 1.12, "one full-size unit timed (13.4 CPU-s) x 5 seeds"),
    "diffusion.generalization-at-large-K": (0.423, 1.12, "one full-size unit timed (13.4 CPU-s) x 5 seeds"),
    "diffusion.spurious-at-transition": (0.423, 1.12, "one full-size unit timed (13.4 CPU-s) x 5 seeds"),
    "diffusion.optimal-denoiser-memorizes": (0.00338, 0.0167, "one full-size unit timed (0.2 CPU-s) x 5 seeds"),
    "sdpi.omega-d-bits-at-constant-n": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "sdpi.bound-is-tight": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "sdpi.sparse-omega-d-bits": (0.001, 0.001, "the quick measurement (budget-independent)"),
    "sdpi.singleton-recovery": (0.0385, 0.125, "one full-size unit timed (1.5 CPU-s) x 5 seeds"),
    "mqar.attention-solves-mqar": (0.666, 1.11, "the quick measurement x 5/3 seeds (budget-independent)"),
    "mqar.attention-beats-s4d": (1.65, 2.74, "the quick measurement x 5/3 seeds (budget-independent); alone it trains the GPT runs too"),
    "mqar.mamba-solves-mqar": (2.44, 4.06, "the quick measurement x 5/3 seeds (budget-independent)"),
    "mqar.mamba2-solves-mqar": (1.69, 2.81, "the quick measurement x 5/3 seeds (budget-independent)"),
    "mqar.s6-construction-solves": (0.00259, 0.00432, "the quick measurement x 5/3 seeds (budget-independent)"),
    "mqar.s4d-construction-fails": (0.001, 0.001, "the quick measurement x 5/3 seeds (budget-independent)"),
    "tbtt.small-models-extrapolate": (2.65, 150, "shipped config header: ~2.5 h on one thread (75 runs; not run to the end)"),
    "tbtt.large-models-fail-to-extrapolate": (2.65, 150, "shipped config header: ~2.5 h on one thread (75 runs; not run to the end)"),
    "tbtt.joint-no-width-extrapolates": (2.65, 150, "shipped config header: ~2.5 h on one thread (75 runs; not run to the end)"),
    "capacity.width-increases-capacity": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "capacity.layers-hinder": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "capacity.softmax-most-capacity": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "capacity.walks-beat-triplets": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "bits.two-bits-per-parameter": (3.8, 120, "shipped config header (seq_bits.yaml): ~1-3 CPU-hours on one core"),
    "fictionalqa.fictsheets-memorized-verbatim": (0, 5, "docs/fictional_qa.md: the default study ~4-5 min on a quiet 2-core machine"),
    "fictionalqa.knowledge-from-training": (0, 5, "docs/fictional_qa.md: the default study ~4-5 min on a quiet 2-core machine"),
    "crossmodal.gap": (0.323, 4, "docs/cross_modal.md: the default study (6 runs) ~3-4 CPU-minutes on one quiet core"),
    "crossmodal.gap-persists-after-unlearning": (0.323, 4, "docs/cross_modal.md: the default study (6 runs) ~3-4 CPU-minutes on one quiet core"),
    "schema.grpo-beats-sft-unseen": (0.341, 0.767, "one seed at the default schedules timed: 9.2 CPU-s, x 5 seeds"),
    "teaching.teaching-beats-practice": (0.001, 0.00246, "quick x 4 (40 seeds instead of 10, same model)"),
}

#: claims that read the same study run (or the same cached measurements), by group
SHARES = {
    "diffusion.memorization-at-small-K": "diffusion fractions",
    "diffusion.generalization-at-large-K": "diffusion fractions", "diffusion.spurious-at-transition":
        "diffusion fractions",
    "mqar.attention-solves-mqar": "mqar gpt runs", "mqar.attention-beats-s4d": "mqar gpt runs",
    "tbtt.small-models-extrapolate": "too-big-to-think study", "tbtt.large-models-fail-to-extrapolate":
        "too-big-to-think study", "tbtt.joint-no-width-extrapolates": "too-big-to-think study",
    "capacity.width-increases-capacity": "capacity study", "capacity.layers-hinder": "capacity study",
    "capacity.softmax-most-capacity": "capacity study", "capacity.walks-beat-triplets": "capacity study",
    "fictionalqa.fictsheets-memorized-verbatim": "fictional-qa study",
    "fictionalqa.knowledge-from-training": "fictional-qa study",
    "crossmodal.gap": "cross-modal study", "crossmodal.gap-persists-after-unlearning": "cross-modal study",
}


def claim_costs(ids) -> pd.DataFrame:
    """Per claim: ``cpu_min_quick``, ``cpu_min_full`` (run alone), ``shares`` (its study group) and
    ``cost_basis``; NaN where no cost is known."""
    rows = []
    for claim_id in ids:
        quick, full, basis = COSTS.get(claim_id, (float("nan"), float("nan"), "not measured"))
        rows.append({"claim": claim_id, "cpu_min_quick": quick, "cpu_min_full": full,
                     "shares": SHARES.get(claim_id, ""), "cost_basis": basis})
    return pd.DataFrame(rows)


def total_cpu_minutes(costs: pd.DataFrame, budget: str) -> float:
    """CPU-minutes of running every claim of ``costs`` together: each shared study counted once."""
    one_of(budget, BUDGETS, "budget")
    column = f"cpu_min_{budget}"
    alone = costs[costs["shares"] == ""][column].sum()
    shared = costs[costs["shares"] != ""].groupby("shares")[column].max().sum()
    return float(alone + shared)


def split_by_cost(ids, budget: str, max_cpu_min: float) -> tuple[list[str], pd.DataFrame]:
    """The claims ``ids`` whose estimated cost at ``budget`` (run alone, :data:`COSTS`) is at most
    ``max_cpu_min`` CPU-minutes, in their order, and the others (claim, cpu_min at ``budget``; an unknown
    cost counts as too large) for ``raflab reproduce --max-cpu-min``."""
    one_of(budget, BUDGETS, "budget")
    max_cpu_min = in_range(max_cpu_min, "--max-cpu-min", low=0)
    costs = claim_costs(list(ids))
    column = f"cpu_min_{budget}"
    affordable = costs[column] <= max_cpu_min  # NaN (unknown) compares False: skipped
    skipped = costs.loc[~affordable, ["claim", column]].rename(columns={column: "cpu_min"})
    return list(costs.loc[affordable, "claim"]), skipped.reset_index(drop=True)
