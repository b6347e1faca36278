"""What each claim costs to measure, per budget, in CPU-minutes of one thread (``raflab reproduce --list``).

``quick``: measured, the CPU time (``time.process_time``) of the claim's units in a fresh ``raflab reproduce
--all --budget quick`` (2026-12-06, 2 cores shared with other jobs; :func:`raflab.ledger.run.stored_cpu_seconds`
reads it back from any store). ``full``: measured likewise (2026-12-06, ``--budget full``, 12 CPU-minutes) for
every claim but ``tbtt.*``, ``capacity.*``, ``bits.*`` and ``fictionalqa.*`` (hours of CPU, or a study being
rewritten); for those each estimate says where it comes from (the study's config header or doc). Claims
that read one study share its run: run together (``--all``), the study is paid once (by the first claim of
its ``shares`` group); run alone, each claim pays it. The totals count each group once.
"""

from __future__ import annotations

import pandas as pd

from raflab.core.checks import in_range, one_of

#: the budgets costs are known at, in CPU-minutes (budget paper runs GPU run cards: no CPU cost)
COST_BUDGETS = ("quick", "full")

#: (quick CPU-minutes measured, full CPU-minutes estimated, basis of the full estimate), per claim run alone;
#: 0.001 stands for "at most 0.001" (a theory evaluation of milliseconds), 0 for "nothing runs" (out of reach)
COSTS: dict[str, tuple[float, float, str]] = {
    "raf.gardner-capacity": (0.001, 0.001, "measured at full (2026-12-06)"),
    "raf.capacity-falls-with-facts": (0.001, 0.001, "measured at full (2026-12-06)"),
    "raf.square-theory-matches-fits": (0.00465, 0.0377, "measured at full (2026-12-06)"),
    "raf.hinge-theory-matches-fits": (0.0114, 0.0323, "measured at full (2026-12-06)"),
    "raf.ridge-helps-the-rule": (0.001, 0.001, "measured at full (2026-12-06)"),
    "raf.memorization-needs-small-ridge": (0.001, 0.001, "measured at full (2026-12-06)"),
    "raf.features-store-more-facts": (0.001, 0.001, "measured at full (2026-12-06)"),
    "attention.reversal-with-alignment": (0.001, 0.001, "measured at full (2026-12-06)"),
    "attention.worse-without-structure": (0.001, 0.001, "measured at full (2026-12-06)"),
    "attention.theory-matches-monte-carlo": (0.0076, 0.14, "measured at full (2026-12-06)"),
    "attention.ridge-closed-form": (0.0109, 0.14, "measured at full (2026-12-06)"),
    "hopfield.capacity-0138": (0.001, 0.001, "measured at full (2026-12-06)"),
    "hopfield.dense-capacity-exponent": (0.001, 0.001, "measured at full (2026-12-06)"),
    "diffusion.memorization-at-small-K": (0.423, 1.13, "measured at full (2026-12-06): the diffusion fractions, paid once"),
    "diffusion.generalization-at-large-K": (0.423, 1.13, "measured at full (2026-12-06): the diffusion fractions, paid once"),
    "diffusion.spurious-at-transition": (0.423, 1.13, "measured at full (2026-12-06): the diffusion fractions, paid once"),
    "diffusion.optimal-denoiser-memorizes": (0.00338, 0.0155, "measured at full (2026-12-06)"),
    "sdpi.omega-d-bits-at-constant-n": (0.001, 0.001, "measured at full (2026-12-06)"),
    "sdpi.bound-is-tight": (0.001, 0.001, "measured at full (2026-12-06)"),
    "sdpi.sparse-omega-d-bits": (0.001, 0.001, "measured at full (2026-12-06)"),
    "sdpi.singleton-recovery": (0.0385, 0.0976, "measured at full (2026-12-06)"),
    "mqar.attention-solves-mqar": (0.666, 0.929, "measured at full (2026-12-06): the GPT runs"),
    "mqar.attention-beats-s4d": (1.65, 2.53, "measured at full (2026-12-06): its S4D runs, plus the GPT runs "
                                 "it shares when run alone"),
    "mqar.mamba-solves-mqar": (2.44, 4.16, "measured at full (2026-12-06)"),
    "mqar.mamba2-solves-mqar": (1.69, 2.4, "measured at full (2026-12-06)"),
    "mqar.s6-construction-solves": (0.00259, 0.00279, "measured at full (2026-12-06)"),
    "mqar.s4d-construction-fails": (0.001, 0.001, "measured at full (2026-12-06)"),
    "tbtt.small-models-extrapolate": (2.65, 56.4, "measured at full (2026-12-06): the 75 runs' wall seconds summed, 2 workers on 2 cores"),
    "tbtt.large-models-fail-to-extrapolate": (2.65, 56.4, "measured at full (2026-12-06): the 75 runs' wall seconds summed, 2 workers on 2 cores"),
    "tbtt.joint-no-width-extrapolates": (2.65, 56.4, "measured at full (2026-12-06): the 75 runs' wall seconds summed, 2 workers on 2 cores"),
    "capacity.width-increases-capacity": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "capacity.layers-hinder": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "capacity.softmax-most-capacity": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "capacity.walks-beat-triplets": (1.94, 60, "shipped config header (seq_capacity.yaml): ~1 CPU-hour on one core"),
    "bits.two-bits-per-parameter": (3.8, 20.0, "measured at full (2026-12-06): the 18 runs' wall seconds summed, 2 workers on 2 cores"),
    "fictionalqa.fictsheets-memorized-verbatim": (0, 15, "docs/fictional_qa.md: the long-document protocol, ~5 CPU-min per seed (fictions + fictsheets runs) x 3 seeds"),
    "fictionalqa.knowledge-from-training": (0, 15, "docs/fictional_qa.md: the long-document protocol, ~5 CPU-min per seed (fictions + fictsheets runs) x 3 seeds"),
    "fictionalqa.qa-by-generation": (0, 15, "docs/fictional_qa.md: the long-document protocol, ~5 CPU-min per seed (fictions + fictsheets runs) x 3 seeds"),
    "fictionalqa.fictsheets-transfer-worse": (0, 15, "docs/fictional_qa.md: the long-document protocol, ~5 CPU-min per seed (fictions + fictsheets runs) x 3 seeds"),
    "crossmodal.gap": (0.323, 1.93, "measured at full (2026-12-06, 1 seed: 0.64 CPU-min) x 3 seeds: the cross-modal study, paid once"),
    "crossmodal.gap-persists-after-unlearning": (0.323, 1.93, "measured at full (2026-12-06, 1 seed: 0.64 CPU-min) x 3 seeds: the cross-modal study, paid once"),
    "schema.grpo-beats-sft-unseen": (0.341, 0.597, "measured at full (2026-12-06)"),
    "teaching.teaching-beats-practice": (0.001, 0.001, "measured at full (2026-12-06)"),
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
    "fictionalqa.qa-by-generation": "fictional-qa study",
    "fictionalqa.fictsheets-transfer-worse": "fictional-qa study",
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
    return pd.DataFrame(rows, columns=["claim", "cpu_min_quick", "cpu_min_full", "shares", "cost_basis"])


def total_cpu_minutes(costs: pd.DataFrame, budget: str) -> float:
    """CPU-minutes of running every claim of ``costs`` together: each shared study counted once."""
    one_of(budget, COST_BUDGETS, "budget")
    column = f"cpu_min_{budget}"
    alone = costs[costs["shares"] == ""][column].sum()
    shared = costs[costs["shares"] != ""].groupby("shares")[column].max().sum()
    return float(alone + shared)


def split_by_cost(ids, budget: str, max_cpu_min: float) -> tuple[list[str], pd.DataFrame]:
    """The claims ``ids`` whose estimated cost at ``budget`` (run alone, :data:`COSTS`) is at most
    ``max_cpu_min`` CPU-minutes, in their order, and the others (claim, cpu_min at ``budget``, reason; an
    unknown cost counts as too large) for ``raflab reproduce --max-cpu-min``. At budget ``paper`` (``full``
    on a CUDA machine) the claims with a paper-scale run card are left out (a GPU run card has no CPU cost
    to compare) and the others are judged at their ``full`` cost."""
    from raflab.ledger.claims import claims_by_id

    one_of(budget, (*COST_BUDGETS, "paper"), "budget")
    max_cpu_min = in_range(max_cpu_min, "--max-cpu-min", low=0)
    ids = list(ids)
    on_gpu = {c.id for c in claims_by_id(ids) if c.paper_card} if budget == "paper" else set()
    costs = claim_costs(ids)
    cost_budget = "full" if budget == "paper" else budget
    column = f"cpu_min_{cost_budget}"
    gpu = costs["claim"].isin(on_gpu)
    affordable = (costs[column] <= max_cpu_min) & ~gpu  # NaN (unknown) compares False: skipped
    skipped = costs.loc[~affordable, ["claim", column]].rename(columns={column: "cpu_min"})
    skipped["reason"] = [
        "a paper-scale GPU run card (budget paper): not counted in CPU-minutes" if claim in on_gpu
        else f"~{cpu:.3g} CPU-min at --budget {cost_budget} > --max-cpu-min "
             f"{max_cpu_min:g}" for claim, cpu in zip(skipped["claim"], skipped["cpu_min"])]
    return list(costs.loc[affordable, "claim"]), skipped.reset_index(drop=True)
