"""Claims of the sequence-model and agent papers and their measurements, each through the system's API.

Per-seed claims train small models at the task's shipped default (``raflab.seq.studies.TASK_DEFAULTS``)
or run the agents' simulations; study claims run a study config through the result store (resumable) and
take the study's own seeds and interval: at the ``full`` budget the shipped config, at ``quick`` its
reduced CPU-scale card with fewer seeds or widths (:data:`QUICK_STUDIES`, :data:`QUICK_CROSS_MODAL`),
whose verdict may be inconclusive (few seeds) but is the study's own. A claim that the ``quick`` budget
cannot reach at all (:func:`full_budget_only`) returns None there: "out of reach at this budget".
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from raflab.core.intervals import mean_interval
from raflab.ledger.registry import Claim, Rule

QUICK = "quick"


def full_budget_only(measure):
    """``measure(budget, x)`` at the full budget; None ("out of reach at this budget") at the quick one."""
    @functools.wraps(measure)
    def at_full(budget, x):
        return None if budget == QUICK else measure(budget, x)
    return at_full


# --------------------------------------------------------------------------- MQAR

@functools.lru_cache(maxsize=32)
def _mqar_heldout(model: str, seed: int) -> float:
    from raflab.seq.studies import run_sequence_experiment, seq_run

    return float(run_sequence_experiment(seq_run("mqar", model=model, seed=seed, device="cpu"))["heldout_accuracy"])


def mqar_attention_solves(budget, seed):
    return _mqar_heldout("gpt", seed)


def mqar_attention_beats_s4d(budget, seed):
    return _mqar_heldout("gpt", seed) - _mqar_heldout("s4d", seed)


@functools.lru_cache(maxsize=16)
def _mqar_study_heldout(model: str, seed: int, target_params: int = 20_000, pairs: int = 4) -> float:
    """Held-out accuracy of one run of the shipped MQAR study (src/raflab/seq/configs/seq_mqar.yaml):
    ``model`` at ``target_params`` parameters and ``pairs`` pairs, with the study's own settings."""
    from raflab.seq.studies import load_study_config, run_sequence_experiment, shipped_study_config

    config = load_study_config(shipped_study_config("mqar"))
    run = next(r for r in config.runs() if r.model == model and r.target_params == target_params
               and r.pairs == pairs and r.seed == seed)
    return float(run_sequence_experiment(run.model_copy(update={"device": "cpu"}))["heldout_accuracy"])


def mqar_mamba_solves(budget, seed):
    return _mqar_study_heldout("mamba", seed)


def mqar_mamba2_solves(budget, seed):
    return _mqar_study_heldout("mamba2", seed)


def _construction_split(pairs: int, seed: int, vocab: int = 64, n: int = 256):
    from raflab.seq.tasks.mqar import MQARConfig, mqar_task

    config = MQARConfig(vocab_size=vocab, seq_len=max(32, 4 * pairs), num_pairs=pairs, num_examples=n,
                        num_heldout=0, random_non_queries=False)
    return mqar_task(config, np.random.default_rng(seed)).train


def mqar_s6_construction_solves(budget, seed):
    """Accuracy of the hand-set S6 (Mamba) weights with a state slot per key, 8 pairs, vocabulary 64."""
    from raflab.seq.constructions import number_of_keys, recall_accuracy, s6_recall_scores

    split = _construction_split(8, seed)
    return recall_accuracy(s6_recall_scores(split.inputs, 64, number_of_keys(64)), split.targets, 64)


def mqar_s4d_construction_fails(budget, seed):
    """Accuracy of the same code with the selectivity removed (S4D: fixed B, C and step), 8 pairs."""
    from raflab.seq.constructions import recall_accuracy, s4d_recall_scores

    split = _construction_split(8, seed)
    return recall_accuracy(s4d_recall_scores(split.inputs, 64), split.targets, 64)


# --------------------------------------------------------------------------- shipped seq studies

#: what the quick budget runs of each shipped study: a reduced config (the study's own CPU-scale card with
#: fewer seeds, widths or runs), overriding the shipped one's top-level keys. Measured CPU-seconds (one
#: thread, 2 loaded cores) in docs/reproduction.md; ``full`` runs the shipped config as it is.
QUICK_STUDIES = {
    # configs/too_big_to_think_reduced.yaml at the smallest and largest widths, 3 seeds: ~175 CPU-s
    "too-big-to-think": {"name": "too-big-to-think-ledger-quick", "seeds": 3, "base": {"eval_every": 500},
                         "grid": [{"task": ["arithmetic"], "width": [14, 56], "steps": [2500], "batch": [256]},
                                  {"task": ["facts", "both"], "width": [14, 56], "steps": [1000], "batch": [64]}]},
    # seq_capacity_reduced.yaml (every comparison) at 3 seeds instead of 5: 117 CPU-s
    "capacity": {"config": "capacity_reduced", "seeds": 3},
    # seq_bits_reduced.yaml (trained to a plateau), widths 6 and 12 only, 3 seeds: ~250 CPU-s (38 s a width-6 run)
    "bits": {"config": "bits_reduced", "grid": {"width": [6, 12]}, "seeds": 3},
}


#: the paper-scale run card (``configs/paper/``) of each shipped study the ledger reads at budget ``paper``
PAPER_CARDS = {"too-big-to-think": "too_big_to_think.yaml", "capacity": "capacity_matters.yaml",
               "bits": "bits_per_parameter.yaml"}


def paper_card_path(card: str) -> Path:
    """``configs/paper/<card>`` of the raflab checkout this package runs from (the cards are run cards
    beside the code, not package data): a clear error where the package was installed without them."""
    path = Path(__file__).resolve().parents[3] / "configs" / "paper" / card
    if not path.is_file():
        raise ValueError(f"the paper-scale run card {card} is not beside this installation ({path}): run "
                         "budget paper from a raflab checkout (pip install -e .)")
    return path


def study_config(study: str, budget: str):
    """The study config a budget runs: the shipped one (full), its paper-scale run card (paper:
    :data:`PAPER_CARDS`) or its :data:`QUICK_STUDIES` reduction (quick)."""
    from raflab.seq.studies import load_study_config, shipped_study_config

    if budget == "paper":
        return load_study_config(paper_card_path(PAPER_CARDS[study]))
    if budget != QUICK:
        return load_study_config(shipped_study_config(study))
    quick = dict(QUICK_STUDIES[study])
    path = shipped_study_config(study)
    if "config" in quick:
        path = path.with_name(f"seq_{quick.pop('config')}.yaml")
    return load_study_config(path, **quick)


@functools.lru_cache(maxsize=8)
def _study_rows(study: str, store: str, budget: str = "full") -> pd.DataFrame:
    from raflab.seq.studies import run_seq_study

    return run_seq_study(study_config(study, budget), store=store, quiet=True)


def _from_interval(value, low, high, n_seeds, note="") -> dict:
    return {"value": float(value), "ci95_low": float(low), "ci95_high": float(high), "n_seeds": int(n_seeds),
            "note": note}


def _budget_note(budget: str, study: str = "") -> str:
    if budget == "paper":
        return f"paper: run card configs/paper/{PAPER_CARDS[study]}; "
    return "quick: reduced config; " if budget == QUICK else ""


def _tbtt_part(claim: str, pick):
    def measure(budget, store):
        from raflab.seq.studies import study_summary

        rows = _study_rows("too-big-to-think", store, budget)
        claims = study_summary("too-big-to-think", rows).attrs["claims"]
        parts = claims[(claims["claim"] == claim) & (claims["task"] != "all") & (claims["digits"] == 1)]
        row = pick(parts)
        layers = int(rows.loc[rows["width"] == row["width"], "layers"].max()) if "layers" in rows else 1
        return _from_interval(row["mean"], row["ci95_low"], row["ci95_high"], row["n_seeds"],
                              f"{_budget_note(budget, 'too-big-to-think')}{row['task']} at width {int(row['width'])}"
                              f"{f' ({layers} layers)' if layers > 1 else ''}, {row['metric']} (the paper's 4 "
                              "held-out lines)")
    return measure


tbtt_small_models_extrapolate = _tbtt_part(
    "a", lambda p: p[(p["task"] == "arithmetic")].iloc[0])
tbtt_large_models_fail_to_extrapolate = _tbtt_part(
    "b", lambda p: p[(p["task"] == "arithmetic")].iloc[0])
tbtt_joint_no_width_extrapolates = _tbtt_part(
    "c", lambda p: p.loc[p["mean"].idxmax()])  # the width that comes closest to extrapolating


def _setting(text: str) -> dict:
    """'triplets=2000, width=16, ...' -> {'triplets': 2000.0, 'width': 16.0, ...} (numbers only)."""
    pairs = (part.split("=", 1) for part in str(text).split(", ") if "=" in part)
    out = {}
    for key, value in pairs:
        try:
            out[key.strip()] = float(value)
        except ValueError:
            pass
    return out


def binding_comparison(lines: pd.DataFrame, side: str, deepest: bool = False) -> pd.Series:
    """The comparison that decides a Capacity Matters claim: where capacity binds, i.e. at the most facts
    (``triplets``) and, there, the smallest model (``width`` or ``target_params``); among what is left
    the least favourable to the claim (``side`` "above": the smallest difference, "below": the largest),
    so that "softmax beats the other activations" must hold against each. ``deepest``: first keep the
    treatment with the most layers ("more layers" is the deepest model of the grid). At saturated settings (every model stores every fact) the difference is
    0 and says nothing about capacity: the earlier rule (the first comparison) read those."""
    settings = lines["setting"].map(_setting)
    facts = settings.map(lambda d: d.get("triplets", 0.0))
    kept = lines[facts == facts.max()]
    size = settings[kept.index].map(lambda d: d.get("width", d.get("target_params", 0.0)))
    kept = kept[size == size.min()]
    kept = kept[kept["n_seeds"] == kept["n_seeds"].max()]
    if deepest:
        layers = kept["treatment"].map(_setting).map(lambda d: d.get("layers", 0.0))
        kept = kept[layers == layers.max()]
    return kept.loc[kept["difference"].idxmin() if side == "above" else kept["difference"].idxmax()]


def _capacity_line(name: str, side: str, deepest: bool = False):
    def measure(budget, store):
        from raflab.seq.capacity_claims import capacity_claims

        lines = capacity_claims(_study_rows("capacity", store, budget))
        lines = lines[lines["claim"] == name] if len(lines) else lines
        if not len(lines):
            return None
        row = binding_comparison(lines, side, deepest)
        return _from_interval(row["difference"], row["ci_low"], row["ci_high"], row["n_seeds"],
                              f"{_budget_note(budget, 'capacity')}{row['treatment']} - {row['baseline']} ({row['setting']}); "
                              f"the binding one of {len(lines)} comparison(s)")
    return measure


def bits_per_parameter(budget, store):
    from raflab.seq.capacity_claims import fit_bits_per_parameter_ci

    fit = fit_bits_per_parameter_ci(_study_rows("bits", store, budget))
    return _from_interval(fit["slope"], fit["ci_low"], fit["ci_high"], fit["n_seeds"],
                          f"{_budget_note(budget, 'bits')}{fit['runs']} runs, {fit['params_min']:,}-{fit['params_max']:,} "
                          f"parameters, {fit['runs_saturated']} at a plateau")


# --------------------------------------------------------------------------- knowledge lab, agents (full budget)

def _per_seed_interval(per_seed: pd.Series, note: str) -> dict | None:
    per_seed = per_seed.dropna()
    if per_seed.empty:
        return None
    mean, low, high = mean_interval(per_seed.to_numpy())
    return _from_interval(mean, low, high, len(per_seed), note)


#: seeds of the full budget's Fictional Q&A study (the shipped long-document protocol, event split)
FICTIONAL_SEEDS = 3


@functools.lru_cache(maxsize=2)
def _fictional_records(store: str) -> pd.DataFrame:
    from raflab.seq.fictional.study import load_fictional_qa_config, run_fictional_qa_study

    return run_fictional_qa_study(load_fictional_qa_config(seeds=FICTIONAL_SEEDS), store=store, workers=2)


def _fictional_gap(store: str, contrast: str, metric: str, sign: float = 1.0) -> dict | None:
    """One of the paper's contrasts (:func:`raflab.seq.fictional.evaluation.fictsheet_gaps`), per seed."""
    from raflab.seq.fictional.evaluation import _per_seed

    records = _fictional_records(store)
    pairs = {"trained-vs-heldout": (("fictions", "knowledge", "same_document"), ("fictions", "knowledge", "heldout_event")),
             "fictsheets-vs-fictions-knowledge": (("fictsheets", "knowledge", "fictsheet"), ("fictions", "knowledge", "same_document")),
             "fictsheets-vs-fictions-verbatim": (("fictsheets", "verbatim", "fictsheet"),
                                                 ("fictions", "verbatim", ["news", "social", "corporate", "blog", "encyclopedia"]))}
    (ca, ma, ga), (cb, mb, gb) = pairs[contrast]
    gap = sign * (_per_seed(records, ca, ma, ga, metric) - _per_seed(records, cb, mb, gb, metric))
    return _per_seed_interval(gap, f"event split, {metric}, long-document protocol")


@full_budget_only
def fictionalqa_fictsheets_verbatim(budget, store):
    """8-word suffix exact recall of trained fictsheets minus trained fictions (event split), per seed."""
    return _fictional_gap(store, "fictsheets-vs-fictions-verbatim", "verbatim_exact")


@full_budget_only
def fictionalqa_knowledge_from_training(budget, store):
    """4-option QA accuracy on facts of trained fictions minus held-out events, per seed."""
    return _fictional_gap(store, "trained-vs-heldout", "mc4")


@full_budget_only
def fictionalqa_generation(budget, store):
    """Closed-book QA by generation (exact match), facts of trained fictions minus held-out events."""
    return _fictional_gap(store, "trained-vs-heldout", "exact_match")


@full_budget_only
def fictionalqa_fictsheets_transfer_worse(budget, store):
    """Generation exact match on facts seen in fictions minus facts seen only in fictsheets (matched
    exposure), per seed."""
    return _fictional_gap(store, "fictsheets-vs-fictions-knowledge", "exact_match", sign=-1.0)


#: the quick budget's cross-modal study: the default world at width 32 without bridge personas, 3 seeds
#: (the claims read only the runs without bridges); full: the default config (widths 16/32/64, bridges 0/0.5)
QUICK_CROSS_MODAL = {"widths": [32], "bridge_fractions": [0.0], "seeds": 3}
#: seeds of the full budget's cross-modal study (the default config runs one: no interval)
FULL_CROSS_MODAL_SEEDS = 3


@functools.lru_cache(maxsize=4)
def _cross_modal_records(store: str, budget: str = "full") -> pd.DataFrame:
    from raflab.seq.cross_modal.study import CrossModalConfig, load_cross_modal_config, run_cross_modal_study

    config = load_cross_modal_config(seeds=FULL_CROSS_MODAL_SEEDS)
    if budget == QUICK:
        config = CrossModalConfig(**{**config.model_dump(), **QUICK_CROSS_MODAL})
    return run_cross_modal_study(config, store=store)


def crossmodal_gap(budget, store):
    """Source minus target accuracy at the end of training (all widths, no bridge), per seed."""
    r = _cross_modal_records(store, budget)
    t = r[(r["part"] == "transfer") & (r["bridge_fraction"] == r["bridge_fraction"].min())]
    t = t[t["step"] == t.groupby(["width", "seed"])["step"].transform("max")]
    return _per_seed_interval(t.groupby("seed")["transfer_gap"].mean(),
                              f"{_budget_note(budget)}final transfer gap, widths {sorted(int(w) for w in t['width'].unique())}")


def crossmodal_gap_after_unlearning(budget, store):
    """After unlearning the forget set through its source modality: its target minus source accuracy
    (positive: the facts stay recoverable through the other modality), all widths, no bridge, per seed."""
    r = _cross_modal_records(store, budget)
    u = r[(r["part"] == "unlearn") & (r["bridge_fraction"] == r["bridge_fraction"].min())]
    u = u[u["step"] == u.groupby(["width", "seed", "direction"])["step"].transform("max")]
    after = u[u["step"] > 0]
    return _per_seed_interval((after["target_accuracy"] - after["source_accuracy"]).groupby(after["seed"]).mean(),
                              f"{_budget_note(budget)}forget set after unlearning, widths "
                              f"{sorted(int(w) for w in after['width'].unique())}, both directions")


def schema_grpo_beats_sft_unseen(budget, seed):
    """Columns filter accuracy of SFT + GRPO minus SFT alone on unseen schemas (one seed's data), default
    data and schedules; the quick budget skips the training curves (evaluated every 1000 steps on 20
    questions: the final policies are the same, the curves are not used here)."""
    from raflab.agents.schema.linker import SchemaTrainConfig, run_schema_study

    train = SchemaTrainConfig(eval_every=1000, eval_size=20) if budget == QUICK else None
    records = run_schema_study(train_cfg=train, seeds=1, seed=seed, device="cpu")[0]
    unseen = records[records["split"] == "unseen_schema"].set_index("method")["columns_filter"]
    return float(unseen["sft+grpo"] - unseen["sft"])


def teaching_beats_practice(budget, store):
    """Delayed recall after teaching minus after self-practice (paired lessons), the mechanism model at
    its defaults: the advantage comes from counted retrievals, corrections and spacing, not a gain
    parameter (raflab.agents.teaching_memory)."""
    from raflab.agents.teaching_memory import memory_seed_records

    records = memory_seed_records(seeds=10 if budget == QUICK else 40, seed=0)
    return _per_seed_interval(records["delayed_teaching"] - records["delayed_practice"],
                              "mechanism model defaults (adaptive items, tutee error 0.5, delay 400)")


def _claim(id, paper, claim, quantity, rule, measure=None, study=None, **kw):
    return Claim(id=id, paper=paper, claim=claim, quantity=quantity, rule=rule, measure=measure, study=study, **kw)


SEQ_CLAIMS = (
    _claim("mqar.attention-solves-mqar", "mqar", "attention solves multi-query associative recall",
           "held-out accuracy of a 2-layer GPT at the MQAR default", Rule(0.9, "above"), mqar_attention_solves,
           source="raflab seq train --task mqar --model gpt"),
    _claim("mqar.attention-beats-s4d", "mqar", "an input-independent SSM (S4D) recalls far worse than "
           "attention", "held-out accuracy, GPT minus S4D (same seed)", Rule(0.0, "above"),
           mqar_attention_beats_s4d, source="raflab seq train --task mqar --model s4d"),
    _claim("mqar.mamba-solves-mqar", "mqar", "selectivity lets Mamba solve MQAR", "held-out accuracy of "
           "Mamba at the shipped MQAR study setting (20K parameters, 4 pairs)", Rule(0.9, "above"),
           mqar_mamba_solves, source="src/raflab/seq/configs/seq_mqar.yaml", note="~45 s per seed on 2 quiet cores",
           revision=2),
    _claim("mqar.mamba2-solves-mqar", "mqar", "Mamba-2 solves MQAR", "held-out accuracy of Mamba-2 at the "
           "shipped MQAR study setting (20K parameters, 4 pairs)", Rule(0.9, "above"), mqar_mamba2_solves,
           source="src/raflab/seq/configs/seq_mqar.yaml", note="~45 s per seed on 2 quiet cores", revision=2),
    _claim("mqar.s6-construction-solves", "mqar", "a one-layer S6 with a state slot per key solves MQAR "
           "exactly (the paper's construction)", "accuracy of hand-set S6 weights, 8 pairs, vocabulary 64",
           Rule(1.0, "within", 1e-12), mqar_s6_construction_solves, seeds={"quick": 3, "full": 5}),
    _claim("mqar.s4d-construction-fails", "mqar", "without selectivity the same construction cannot "
           "answer more than one query per sequence", "accuracy of the S4D counterpart, 8 pairs",
           Rule(0.5, "below"), mqar_s4d_construction_fails),
    _claim("tbtt.small-models-extrapolate", "tbtt", "small models extrapolate arithmetic (and miss facts)",
           "held-out arithmetic accuracy at the smallest width", Rule(0.5, "above"),
           study=tbtt_small_models_extrapolate, revision=2, source="raflab seq study too-big-to-think",
           paper_card=PAPER_CARDS["too-big-to-think"]),
    _claim("tbtt.large-models-fail-to-extrapolate", "tbtt", "large models store facts and fail to "
           "extrapolate", "held-out arithmetic accuracy at the largest width", Rule(0.5, "below"),
           study=tbtt_large_models_fail_to_extrapolate, revision=2, source="raflab seq study too-big-to-think",
           paper_card=PAPER_CARDS["too-big-to-think"]),
    _claim("tbtt.joint-no-width-extrapolates", "tbtt", "trained on facts and arithmetic together, no "
           "width extrapolates", "held-out arithmetic accuracy of joint training, best width",
           Rule(0.5, "below"), study=tbtt_joint_no_width_extrapolates, revision=2, source="raflab seq study too-big-to-think",
           paper_card=PAPER_CARDS["too-big-to-think"]),
    _claim("capacity.width-increases-capacity", "capacity", "embedding size is the primary determinant "
           "of capacity", "fact accuracy, widest minus narrowest (paired by seed)", Rule(0.0, "above"),
           study=_capacity_line("width", "above"), revision=3, source="raflab seq study capacity",
           paper_card=PAPER_CARDS["capacity"]),
    _claim("capacity.layers-hinder", "capacity", "additional layers give limited benefit and may hinder "
           "(matched parameters)", "fact accuracy, more layers minus 1 layer", Rule(0.0, "below"),
           study=_capacity_line("layers", "below", deepest=True), revision=3, source="raflab seq study capacity",
           paper_card=PAPER_CARDS["capacity"]),
    _claim("capacity.softmax-most-capacity", "capacity", "a softmax FFN activation gives the most "
           "capacity", "fact accuracy, softmax minus another activation", Rule(0.0, "above"),
           study=_capacity_line("activation", "above"), revision=3, source="raflab seq study capacity",
           paper_card=PAPER_CARDS["capacity"]),
    _claim("capacity.walks-beat-triplets", "capacity", "more complex data (walks) improves final "
           "memorization", "fact accuracy, walks minus triplets of the same facts", Rule(0.0, "above"),
           study=_capacity_line("walks", "above"), revision=3, source="raflab seq study capacity",
           paper_card=PAPER_CARDS["capacity"]),
    _claim("bits.two-bits-per-parameter", "capacity", "language models store about 2 bits per parameter "
           "(Allen-Zhu & Li; 3.6 in Morris et al.)", "fitted memorized bits per parameter at a plateau",
           Rule(2.0, "above"), study=bits_per_parameter, revision=2, source="raflab seq study bits",
           paper_card=PAPER_CARDS["bits"]),
    _claim("fictionalqa.fictsheets-memorized-verbatim", "fictionalqa", "structured fictsheets are "
           "memorized verbatim far more than prose fictions", "verbatim exact recall, fictsheets minus "
           "fictions", Rule(0.0, "above"), study=fictionalqa_fictsheets_verbatim,
           revision=2, source="raflab seq study fictional-qa"),
    _claim("fictionalqa.knowledge-from-training", "fictionalqa", "training on documents teaches their "
           "facts (QA above held-out events)", "4-option accuracy, trained facts minus held-out events",
           Rule(0.0, "above"), study=fictionalqa_knowledge_from_training,
           revision=2, source="raflab seq study fictional-qa"),
    _claim("fictionalqa.qa-by-generation", "fictionalqa", "facts of training documents are answered by "
           "closed-book generation", "generation exact match, trained facts minus held-out events",
           Rule(0.0, "above"), study=fictionalqa_generation,
           source="raflab seq study fictional-qa"),
    _claim("fictionalqa.fictsheets-transfer-worse", "fictionalqa", "facts seen only in terse fictsheets are "
           "answered worse than facts seen in diverse prose", "generation exact match, fictions minus "
           "fictsheets (matched fact exposure)", Rule(0.0, "above"), study=fictionalqa_fictsheets_transfer_worse,
           seeds={"quick": 1, "full": FICTIONAL_SEEDS}, source="raflab seq study fictional-qa"),
    _claim("crossmodal.gap", "crossmodal", "facts learned in one modality are recalled worse in the other",
           "source minus target accuracy", Rule(0.0, "above"), study=crossmodal_gap,
           revision=3, source="raflab seq cross-modal"),
    _claim("crossmodal.gap-persists-after-unlearning", "crossmodal", "facts unlearned through one "
           "modality stay recoverable through the other", "forget set after unlearning: target minus source "
           "accuracy", Rule(0.0, "above"), study=crossmodal_gap_after_unlearning, revision=3, source="raflab seq study cross-modal"),
    _claim("schema.grpo-beats-sft-unseen", "schema", "GRPO after SFT improves schema linking on unseen "
           "schemas", "columns filter accuracy, SFT+GRPO minus SFT, unseen schemas", Rule(0.0, "above"),
           schema_grpo_beats_sft_unseen, seeds={"quick": 3, "full": 5}, revision=2, source="raflab schema train"),
    _claim("teaching.teaching-beats-practice", "teaching", "teaching a robot helps the child retain "
           "more than practising alone", "delayed recall, teaching minus self-practice (paired lessons)",
           Rule(0.0, "above"), study=teaching_beats_practice, source="raflab teach --mechanism",
           note="the sensitivity map (docs/teaching.md) shows where teaching wins: tutee error > 1 - judging "
                "effort (random items), forgetting 1-2 with tutee error >= 0.5 (adaptive)"),
)
