"""What each claim costs to measure, per budget, in CPU-minutes of one thread (``raflab reproduce --list``).

``quick``: measured, the CPU time (``time.process_time``) of the claim's units in a fresh ``raflab reproduce
--all --budget quick`` (2026-12-06, 2 cores shared with other jobs; :func:`stored_cpu_seconds` reads it back
from any store). ``full``: the full budget was not run (no GPU, hours of CPU); each estimate says where it
comes from (the study's config header or doc, or a one-seed full-size unit timed beside its quick one and
multiplied by the seeds). Claims that read one study share its run: run together (``--all``), the study
is paid once (by the first claim of its ``shares`` group); run alone, each claim pays it. The totals count
each group once.
"""

from __future__ import annotations

import pandas as pd

from raflab.core.checks import one_of
from raflab.ledger.registry import BUDGETS

#: (quick CPU-minutes measured, full CPU-minutes estimated, basis of the full estimate), per claim run alone
COSTS: dict[str, tuple[float, float, str]] = {}

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


def stored_cpu_seconds(budget: str, store=None) -> pd.DataFrame:
    """CPU-seconds and wall seconds of each claim's stored units at ``budget`` (summed over its seeds),
    from what ``store`` holds (claims never measured there are absent)."""
    from raflab.ledger.claims import claims_by_id
    from raflab.ledger.run import claim_hash
    from raflab.seq.runs import DEFAULT_STORE
    from raflab.sweeps.store import ResultStore

    one_of(budget, BUDGETS, "budget")
    result_store = ResultStore(store or DEFAULT_STORE)
    rows = []
    if result_store.path.exists():
        for claim in claims_by_id():
            units = result_store.rows(claim_hash(claim, budget), status=None)
            if len(units):
                cpu = units["cpu_s"].sum() if "cpu_s" in units else float("nan")
                rows.append({"claim": claim.id, "units": len(units), "cpu_s": float(cpu),
                             "wall_s": float(units["wall_s"].sum())})
    return pd.DataFrame(rows, columns=["claim", "units", "cpu_s", "wall_s"])
