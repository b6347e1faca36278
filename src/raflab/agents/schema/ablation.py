"""Reward ablation of the Schema-R1 analogue (issue 22 part 3): which part of the reward, of the KL
penalty or of the group size makes GRPO include more items (filter accuracy up, exact match down)?

Each variant changes :class:`~raflab.agents.schema.linker.SchemaTrainConfig` fields of the GRPO stage
(``VARIANTS``: reward weights, the accuracy reward's ``wrong_cost``, ``beta``, ``group_size``). On each
seed the SFT cold start is trained once and shared by every variant's ``sft+grpo`` run (SFT does not
read the reward): each variant's run restores the policy and the batch / sampling streams exactly as
they stand after SFT, so its ``authors`` run is the ``sft+grpo`` run of
:func:`~raflab.agents.schema.linker.run_schema_study` for the same seed. ``grpo`` (from the random
initial policy) is trained per variant as well.

``ablation_gains`` pairs by seed: ``sft+grpo`` minus ``sft`` per (variant, split), mean and the 95 %
Student-t interval over seeds (:func:`raflab.core.summary.t_interval`), next to what ``grpo`` from
scratch reaches.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from raflab.agents.schema.data import SchemaDataConfig, seed_splits
from raflab.agents.schema.linker import METRICS, SchemaTrainConfig, SchemaTrainer, encode_splits, evaluate
from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.summary import t_interval

#: the grid: name -> SchemaTrainConfig fields that differ from the authors' protocol
VARIANTS: dict[str, dict] = {
    "authors": {},
    "accuracy_only": {"reward_weights": {"accuracy": 1.0}},
    "format_only": {"reward_weights": {"format": 0.5, "tag_count": 0.5, "length": 1.0}},
    "recall_only": {"wrong_cost": "none"},
    "per_item_cost": {"wrong_cost": "per_item"},
    "beta_0": {"beta": 0.0},
    "beta_0.4": {"beta": 0.4},
    "group_4": {"group_size": 4},
    "group_16": {"group_size": 16},
    "sft_continued": {},
}
#: controls, not GRPO variants: ``sft_continued`` replaces the GRPO stage by ``grpo_steps`` more SFT steps
#: (a fresh Adam, like the GRPO stage), so its "gain" is what the extra training on the same questions
#: gives without any reward; it has no from-scratch run
CONTROLS = ("sft_continued",)
ABLATION_METHODS = ("sft+grpo", "grpo")
#: the measures of ``ablation_gains``
GAIN_METRICS = ("tables_filter", "columns_filter", "tables_exact", "columns_exact", "items_predicted")


def variant_config(name: str, base: SchemaTrainConfig | None = None) -> SchemaTrainConfig:
    """``base`` (default: the authors' protocol) with the fields of variant ``name``."""
    one_of(name, VARIANTS, "variant")
    base = base or SchemaTrainConfig()
    return base.model_copy(update=copy.deepcopy(VARIANTS[name]))


def _snapshot(tr: SchemaTrainer) -> dict:
    return {"state": copy.deepcopy(tr.policy.state_dict()), "rng": copy.deepcopy(tr.rng.bit_generator.state),
            "gen": tr.gen.get_state(), "step": tr.step}


def _restore(tr: SchemaTrainer, snap: dict) -> None:
    tr.policy.load_state_dict(snap["state"])
    tr.rng.bit_generator.state = copy.deepcopy(snap["rng"])
    tr.gen.set_state(snap["gen"])
    tr.step = snap["step"]


def run_reward_ablation(variants: Sequence[str] = tuple(VARIANTS), seeds: int = 3, seed: int = 0,
                        data_cfg: SchemaDataConfig | None = None, base: SchemaTrainConfig | None = None,
                        methods: Sequence[str] = ABLATION_METHODS, device: str = "auto",
                        progress: Callable[[str], None] | None = None, records_path=None) -> pd.DataFrame:
    """One record per (variant, method, seed, split) with ``METRICS``; the shared ``sft`` cold start
    appears once per seed with variant ``"-"``; the control ``sft_continued`` is recorded under method
    ``sft+grpo`` (its second stage is SFT, see ``CONTROLS``). ``progress`` (if given) is called with a line per run;
    with ``records_path``, the records so far are written there (CSV) after every variant."""
    variants, methods = list(variants), list(methods)
    if not variants:
        raise ValueError("no variant given")
    for v in variants:
        one_of(v, VARIANTS, "variant")
    for m in methods:
        one_of(m, ABLATION_METHODS, "ablation method")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1 (got {seeds})")
    data_cfg = data_cfg or SchemaDataConfig()
    base = (base or SchemaTrainConfig()).model_copy(update={"eval_every": 10**9})  # no curves: final records only
    device = resolve_device(device)
    records = []

    def record(variant, method, s, policy, encoded):
        for split, enc in encoded.items():
            records.append({"variant": variant, "method": method, "seed": s, "split": split,
                            **evaluate(policy, enc.to(device))})

    for s in range(seed, seed + seeds):
        encoded = encode_splits(seed_splits(data_cfg, s))
        if "sft+grpo" in methods:
            tr = SchemaTrainer(encoded, base, seed=s, device=device)
            tr.sft(base.sft_steps)
            snap = _snapshot(tr)
            record("-", "sft", s, tr.policy, encoded)
        for v in variants:
            cfg = variant_config(v, base)
            if "sft+grpo" in methods:
                tr = SchemaTrainer(encoded, cfg, seed=s, device=device)
                _restore(tr, snap)
                if v == "sft_continued":
                    tr.sft(cfg.grpo_steps)
                else:
                    tr.grpo(cfg.grpo_steps)
                record(v, "sft+grpo", s, tr.policy, encoded)
            if "grpo" in methods and v not in CONTROLS:
                tr = SchemaTrainer(encoded, cfg, seed=s, device=device)
                tr.grpo(cfg.grpo_steps)
                record(v, "grpo", s, tr.policy, encoded)
            if records_path is not None:
                pd.DataFrame(records).to_csv(records_path, index=False)
            if progress is not None:
                progress(f"seed {s}: variant {v} done")
    return pd.DataFrame(records)


def ablation_gains(records: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (variant, split): ``<m>_gain`` = mean over seeds of ``sft+grpo`` minus ``sft`` (paired by
    seed) with ``<m>_gain_low`` / ``<m>_gain_high`` (Student-t, ``level``), for ``GAIN_METRICS``; and
    ``grpo_<m>``, the mean of ``grpo`` from scratch, where those runs exist."""
    need = {"variant", "method", "seed", "split", *GAIN_METRICS}
    missing = sorted(need - set(records.columns))
    if missing:
        raise ValueError(f"ablation records lack column(s) {missing}")
    dup = records.duplicated(["variant", "method", "seed", "split"])
    if dup.any():
        first = records.loc[dup, ["variant", "method", "seed", "split"]].iloc[0].to_dict()
        raise ValueError(f"{int(dup.sum())} duplicate ablation record(s), e.g. {first}: concatenated runs of the "
                         "same seed? drop duplicates (the shared sft record repeats in every run of a seed)")
    sft = records[records["method"] == "sft"].set_index(["seed", "split"])
    rows = []
    order = {v: i for i, v in enumerate(VARIANTS)}
    for (variant, split), grp in records[records["variant"] != "-"].groupby(["variant", "split"], sort=False):
        row = {"variant": variant, "split": split}
        tuned = grp[grp["method"] == "sft+grpo"].set_index(["seed", "split"])
        if len(tuned) and len(sft):
            both = tuned.index.intersection(sft.index)
            row["n_seeds"] = len(both)
            for m in GAIN_METRICS:
                d = (tuned.loc[both, m] - sft.loc[both, m]).to_numpy(float)
                low, high = t_interval(d, level) if len(d) > 1 else (np.nan, np.nan)
                row.update({f"{m}_gain": float(d.mean()), f"{m}_gain_low": low, f"{m}_gain_high": high})
        scratch = grp[grp["method"] == "grpo"]
        if len(scratch):
            row.setdefault("n_seeds", scratch["seed"].nunique())
            for m in GAIN_METRICS:
                row[f"grpo_{m}"] = float(scratch[m].mean())
        rows.append(row)
    out = pd.DataFrame(rows)
    split_order = {s: i for i, s in enumerate(("train", "unseen_paraphrase", "unseen_schema"))}
    return out.sort_values(["variant", "split"], key=lambda c: c.map(order if c.name == "variant" else split_order),
                           kind="stable").reset_index(drop=True)


__all__ = ["VARIANTS", "CONTROLS", "ABLATION_METHODS", "GAIN_METRICS", "METRICS", "variant_config", "run_reward_ablation",
           "ablation_gains"]
