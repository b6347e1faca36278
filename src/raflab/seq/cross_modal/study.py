"""Cross-modal memorization of persona facts (issue 12, part 3; Wen et al., arXiv 2506.05198).

Protocol (one seed, one model width, one bridge fraction):

1. Draw the persona world and its questions (:func:`raflab.seq.cross_modal.data.make_cross_modal_data`):
   every persona's face is aligned with its name (image -> first / last name), every persona's facts
   are taught in *one* modality (half the non-bridge personas through text, half through images),
   the bridge personas' facts in both.
2. Train the joint model (:mod:`raflab.seq.cross_modal.models`) with
   :func:`raflab.seq.train.train_model` in three stages (:func:`train_cross_modal`): the language
   model on text (names; bridge facts), the vision encoder on captions (and bridge image facts) with
   the language model frozen, then everything on everything. Every ``eval_every`` steps of the last
   stage measure, per direction (``text->image``: facts taught in text; ``image->text``: facts taught
   through images), the *source accuracy* (the facts asked in the modality that taught them; images
   are fresh augmented views) and the *target accuracy* (the same facts asked through the other
   modality). The transfer gap is source minus target.
3. Two-hop: the persona -> country-of-its-city question, trained for ``two_hop_fraction`` of the
   personas; measured on the others in their source and target modality.
4. Unlearning (:mod:`raflab.seq.cross_modal.unlearn`): the facts of ``forget_fraction`` of the
   non-bridge personas are unlearned in the modality that taught them, NPO (default) or gradient
   ascent, with a retain loss (weight ``unlearn_retain_weight``) on every other training row, at most
   ``unlearn_steps`` steps, stopped as soon as their source accuracy is at most ``unlearn_until``;
   then recall of those facts through the source and the target modality, and the source and target
   accuracy of the other personas (``retain_accuracy``, ``retain_target_accuracy``).

The default world (32 personas, ``name_tie = 1``) is one where facts transfer in part (target
accuracy 0.5-0.9 against chance 0.0625): the name tie pulls each caption's visual token towards the
embedding of the name it stands for, a stand-in for the shared entity representation a pretrained
VLM brings. With ``name_tie = 0`` the two modalities share only the answers and transfer is barely
above chance; the tie is then raflab's mitigation. *Bridge personas* (``bridge_fractions``: facts
taught in both modalities) are the spec's mitigation; they do not narrow the gap of the other
personas in this model (docs/cross_modal.md).

Records (:func:`run_cross_modal_study`) are flat rows with the keys ``part`` (``transfer``,
``two_hop``, ``unlearn``), ``width``, ``n_params``, ``bridge_fraction``, ``name_tie``, ``seed``, ``step``,
``direction``, ``source_accuracy``, ``target_accuracy``, ``transfer_gap``, plus
``alignment_accuracy`` (transfer rows), ``retain_accuracy`` and ``retain_target_accuracy`` (unlearn
rows). Chance is
``1 / n_values`` for facts and ``1 / n_countries`` for two-hop questions.

Example
-------
>>> cfg = CrossModalConfig(n_personas=8, widths=[8], bridge_fractions=[0.0], steps=4, eval_every=2,
...                        pretrain_steps=2, align_steps=2, name_tie=0.0,
...                        unlearn_steps=1, train_views=1, test_views=1, device="cpu")
>>> df = run_cross_modal_study(cfg)
>>> sorted(df["part"].unique()), sorted(df["direction"].unique())
(['transfer', 'two_hop', 'unlearn'], ['image->text', 'text->image'])
"""

from __future__ import annotations

import functools
import json
import time

import numpy as np
import pandas as pd
import torch
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raflab.core.device import resolve_device
from raflab.core.seeding import point_rng, stream_seeds
from raflab.core.summary import summarize
from raflab.seq.cross_modal.data import CrossModalData, PersonaConfig, PersonaVocab, make_cross_modal_data
from raflab.seq.cross_modal.models import JointConfig, joint_parameter_count, make_joint_model, predict_answers
from raflab.seq.cross_modal.unlearn import unlearn_facts
from raflab.seq.runs import DEFAULT_STORE, read_study_file, run_study_units, settings_hash
from raflab.seq.train import TrainConfig, train_model

__all__ = ["CrossModalConfig", "run_cross_modal_study", "train_cross_modal", "summarize_cross_modal",
           "load_cross_modal_config", "run_cross_modal_cli", "cross_modal_figure_data",
           "DIRECTIONS", "MODEL_INPUTS"]

#: (direction, source modality, target modality)
DIRECTIONS = (("text->image", "text", "image"), ("image->text", "image", "text"))
#: the arrays of a question row that the model reads (the rest is bookkeeping)
MODEL_INPUTS = ("patches", "tokens", "has_image", "answer")


class CrossModalConfig(BaseModel):
    """The study: persona world, model widths, bridge fractions, training, two-hop and unlearning.

    The defaults run in a few minutes on two busy CPU cores; the same config runs unchanged on a GPU
    (``device``), where paper-like sizes (more personas, wider and deeper models) are affordable.
    """

    model_config = ConfigDict(extra="forbid")

    n_personas: int = Field(32, ge=8, description="personas in the world")
    n_attributes: int = Field(3, ge=1, le=6, description="facts per persona")
    n_values: int = Field(16, ge=2, description="values per attribute (chance = 1 / n_values)")
    n_countries: int = Field(8, ge=2, description="countries of the cities (two-hop chance = 1 / n_countries)")
    image_size: int = Field(12, ge=8, description="face image side in pixels")
    max_shift: int = Field(0, ge=0, le=4, description="augmentation: largest shift in pixels")
    brightness: float = Field(0.15, ge=0, lt=1, description="augmentation: brightness jitter")
    noise: float = Field(0.05, ge=0, description="augmentation: pixel noise std")
    patch_size: int = Field(4, ge=1, description="patch side in pixels")
    train_views: int = Field(4, ge=1, description="augmented views per image training question")
    test_views: int = Field(2, ge=1, description="fresh augmented views per image test question")
    two_hop_fraction: float = Field(0.5, ge=0, le=1, description="personas whose two-hop questions are trained")
    shared_attributes: int = Field(0, ge=0, description="bridge facts: the last k attributes of every persona "
                                   "taught in both modalities; accuracies are measured on the other attributes")
    widths: list[int] = Field([16, 32, 64], min_length=1, description="model widths d_model (model size)")
    n_layers: int = Field(2, ge=1)
    n_heads: int = Field(2, ge=1)
    bridge_fractions: list[float] = Field([0.0, 0.5], min_length=1,
                                          description="fractions of bridge personas (facts in both modalities)")
    name_tie: float = Field(1.0, ge=0, description="shared entity embedding: weight of the squared distance between a "
                            "caption's visual token and the (fixed) embedding of the name it stands for "
                            "(0: the visual tokens are tied to the names only through the answers)")
    seeds: int = Field(1, ge=1, description="independent worlds and initialisations per point")
    seed: int = Field(0, description="base seed")
    pretrain_steps: int = Field(100, ge=0, description="stage 1: language model on text alignment")
    align_steps: int = Field(300, ge=0, description="stage 2: vision encoder on captions, language model frozen")
    steps: int = Field(500, ge=1, description="stage 3: fact training, all parameters")
    weight_decay: float = Field(0.1, ge=0)
    lr: float = Field(3e-3, gt=0)
    batch_size: int = Field(64, ge=1)
    eval_every: int = Field(100, ge=1)
    forget_fraction: float = Field(0.25, gt=0, le=1, description="non-bridge personas whose facts are unlearned")
    unlearn_steps: int = Field(300, ge=0, description="most gradient-ascent steps (0: no unlearning part)")
    unlearn_until: float = Field(0.1, ge=0, le=1, description="stop the ascent once the forget set's "
                                 "source accuracy is at most this")
    unlearn_lr: float = Field(1e-4, gt=0)
    unlearn_method: Literal["ascent", "npo"] = Field("npo", description="unlearning objective: gradient "
                                                     "ascent or NPO (raflab.seq.cross_modal.unlearn)")
    unlearn_retain_weight: float = Field(20.0, ge=0, description="weight of the retain set's cross-entropy "
                                         "during unlearning (0: no retain term)")
    unlearn_beta: float = Field(0.1, gt=0, description="NPO's inverse temperature")
    device: str = "auto"
    progress: bool = False

    @field_validator("widths")
    @classmethod
    def _widths(cls, v):
        bad = [w for w in v if w < 2]
        if bad:
            raise ValueError(f"widths must be >= 2 (got {bad[0]})")
        return v

    @field_validator("bridge_fractions")
    @classmethod
    def _bridges(cls, v):
        bad = [b for b in v if not 0 <= b < 1]
        if bad:
            raise ValueError(f"bridge_fractions must be in [0, 1) (got {bad[0]:g})")
        return v

    def persona_config(self, bridge_fraction: float) -> PersonaConfig:
        return PersonaConfig(n_personas=self.n_personas, n_attributes=self.n_attributes, n_values=self.n_values,
                             n_countries=self.n_countries, image_size=self.image_size, patch_size=self.patch_size,
                             max_shift=self.max_shift, brightness=self.brightness, noise=self.noise,
                             bridge_fraction=bridge_fraction, two_hop_fraction=self.two_hop_fraction,
                             shared_attributes=self.shared_attributes,
                             train_views=self.train_views, test_views=self.test_views)

    def joint_config(self, width: int, vocab_size: int) -> JointConfig:
        n_heads = self.n_heads if width % self.n_heads == 0 else 1
        pc = self.persona_config(0.0)
        return JointConfig(vocab_size=vocab_size, n_patches=pc.n_patches, patch_dim=pc.patch_dim, d_model=width,
                           n_layers=self.n_layers, n_heads=n_heads,
                           name_relations=(PersonaVocab.ASK_FIRST, PersonaVocab.ASK_LAST), name_tie=self.name_tie)


def _accuracy(hits: np.ndarray, mask: np.ndarray) -> float:
    return float(hits[mask].mean()) if mask.any() else float("nan")


def _hits(model, rows: dict) -> np.ndarray:
    return predict_answers(model, rows) == rows["answer"]


def _direction_metrics(model, data: CrossModalData, kind: str, people: np.ndarray | None = None) -> dict:
    """Source and target accuracy per direction on the ``kind`` test sets (``facts`` or ``two_hop``),
    restricted to the persona mask ``people`` (all personas when None)."""
    hits = {m: _hits(model, data.tests[f"{kind}_{m}"]) for m in ("text", "image")}
    out = {}
    for direction, src, tgt in DIRECTIONS:
        acc = {}
        for m in (src, tgt):
            t = data.tests[f"{kind}_{m}"]
            mask = t["source"] == src
            if kind == "facts":  # bridge facts (taught in both modalities) are not transfer
                mask &= t["attribute"] < data.config.n_attributes - data.config.shared_attributes
            if people is not None:
                mask &= people[t["persona"]]
            acc[m] = _accuracy(hits[m], mask)
        out[direction] = (acc[src], acc[tgt])
    return out


def _is_alignment(data: CrossModalData) -> np.ndarray:
    relation = data.train["tokens"][:, 2]
    return (relation == data.vocab.ASK_FIRST) | (relation == data.vocab.ASK_LAST)


#: the training stages before fact training, each with its own batch seed (stream_seeds of the run's seed)
STAGES = ("pretrain", "align")


def train_cross_modal(data: CrossModalData, joint: JointConfig, train: TrainConfig, seed: int,
                      pretrain_steps: int = 200, align_steps: int = 600):
    """Train one joint model on ``data`` in the three stages of a vision-language model.

    1. *language pretraining* (``pretrain_steps``): the text alignment questions (the name of a
       named person) and the bridge personas' facts in text, so the language model reads names and
       knows some facts before it sees a face;
    2. *vision alignment* (``align_steps``): the image -> name captions and the bridge personas' facts
       asked with their faces, language model frozen (only the vision encoder and projector learn,
       as in LLaVA's first stage), so the visual tokens are made to work through the language
       model's existing circuits -- the bridges make them drive its fact circuits, not only its
       name-copying one;
    3. *fact training* (``train.steps``): everything, all parameters; facts in one modality each.

    Returns stage 3's TrainResult (history: step, train_loss, ``<direction>/source_accuracy``,
    ``<direction>/target_accuracy``, ``alignment_accuracy``).
    """
    model = make_joint_model(joint, seed=seed)
    tr = data.train
    align = _is_alignment(data)
    bridge_facts = (tr["attribute"] >= 0) & (data.personas.source[np.maximum(tr["persona"], 0)] == "both")
    stage = train.model_copy(update={"warmup": min(train.warmup, 50), "checkpoint": None})
    # each earlier stage draws its batches (and noise) from its own seed; stage 3 keeps the run's seed
    stage_seeds = stream_seeds(train.seed, STAGES)
    if pretrain_steps:
        rows = (align | bridge_facts) & ~tr["has_image"]
        train_model(model, {k: tr[k][rows] for k in MODEL_INPUTS},
                    stage.model_copy(update={"steps": pretrain_steps, "eval_every": pretrain_steps,
                                             "seed": stage_seeds["pretrain"]}))
    if align_steps:
        rows = (align | bridge_facts) & tr["has_image"]
        language = list(model.language_parameters())
        for p in language:
            p.requires_grad_(False)
        try:
            train_model(model, {k: tr[k][rows] for k in MODEL_INPUTS},
                        stage.model_copy(update={"steps": align_steps, "eval_every": align_steps,
                                                 "seed": stage_seeds["align"]}))
        finally:
            for p in language:
                p.requires_grad_(True)

    def evaluate(model) -> dict:
        row = {}
        for direction, (src, tgt) in _direction_metrics(model, data, "facts").items():
            row[f"{direction}/source_accuracy"] = src
            row[f"{direction}/target_accuracy"] = tgt
        row["alignment_accuracy"] = float(_hits(model, data.tests["align"]).mean())
        return row

    return train_model(model, {k: data.train[k] for k in MODEL_INPUTS}, train, evaluate=evaluate)


def _unlearn(model, data: CrossModalData, config: CrossModalConfig, rng: np.random.Generator, seed: int,
             device: str) -> list[dict]:
    """Unlearn the forget personas' facts in their source modality with a retain set
    (:func:`raflab.seq.cross_modal.unlearn.unlearn_facts`); records before and after."""
    personas = data.personas
    single = np.flatnonzero(personas.source != "both")
    forget = np.zeros(config.n_personas, dtype=bool)
    forget[rng.choice(single, size=max(1, int(round(config.forget_fraction * len(single)))), replace=False)] = True
    tr = data.train
    taught_in = np.where(tr["has_image"], "image", "text")
    in_forget = (tr["persona"] >= 0) & forget[np.maximum(tr["persona"], 0)]
    rows = in_forget & (tr["attribute"] >= 0) & (taught_in == personas.source[np.maximum(tr["persona"], 0)])
    # retain: every row that is not a fact of a forget persona (their captions stay: the face is still known)
    retain = ~(in_forget & (tr["attribute"] >= 0))
    forget_rows = {k: tr[k][rows] for k in MODEL_INPUTS}
    retain_rows = {k: tr[k][retain] for k in MODEL_INPUTS}

    def measure(step: int) -> list[dict]:
        on_forget = _direction_metrics(model, data, "facts", forget)
        retained = _direction_metrics(model, data, "facts", ~forget)
        return [{"part": "unlearn", "step": step, "direction": d, "source_accuracy": s, "target_accuracy": t,
                 "transfer_gap": s - t, "retain_accuracy": retained[d][0], "retain_target_accuracy": retained[d][1]}
                for d, (s, t) in on_forget.items()]

    # the forget set asked in its source modality: the unlearning stops once it is forgotten
    asked = [{k: v[forget[t["persona"]] & (t["source"] == m)] for k, v in t.items()}
             for m, t in ((m, data.tests[f"facts_{m}"]) for m in ("text", "image"))]

    def forgotten(m) -> bool:
        # the worse-forgotten direction decides: both must be at most unlearn_until
        return max(float(_hits(m, t).mean()) for t in asked if len(t["answer"])) <= config.unlearn_until

    records = measure(0)
    if config.unlearn_steps and rows.any():
        taken = unlearn_facts(model, forget_rows, retain_rows, forgotten, method=config.unlearn_method,
                              steps=config.unlearn_steps, lr=config.unlearn_lr,
                              retain_weight=config.unlearn_retain_weight, beta=config.unlearn_beta, seed=seed)
        records += measure(taken)
    return records


def _run_unit(unit: tuple, config: CrossModalConfig) -> list[dict]:
    """The records of one (width, bridge fraction, seed)."""
    device = resolve_device(config.device)
    records = []
    width, bridge, seed = unit
    # the world depends on (seed, bridge) only: every width of one seed sees the same personas
    data = make_cross_modal_data(config.persona_config(bridge), point_rng(seed, bridge))
    joint = config.joint_config(width, data.vocab.size)
    train = TrainConfig(steps=config.steps, lr=config.lr, batch_size=config.batch_size, warmup=50,
                        weight_decay=config.weight_decay,
                        eval_every=config.eval_every, seed=seed, device=device)
    result = train_cross_modal(data, joint, train, seed, config.pretrain_steps, config.align_steps)
    key = {"width": width, "n_params": joint_parameter_count(joint), "bridge_fraction": bridge, "seed": seed,
           "name_tie": config.name_tie}
    tokens = result.steps * min(config.batch_size, len(data.train["answer"])) * (joint.n_patches + 3)
    for row in result.history.to_dict("records"):
        for direction, _, _ in DIRECTIONS:
            src, tgt = row[f"{direction}/source_accuracy"], row[f"{direction}/target_accuracy"]
            records.append({"part": "transfer", **key, "step": int(row["step"]), "direction": direction,
                            "source_accuracy": src, "target_accuracy": tgt, "transfer_gap": src - tgt,
                            "alignment_accuracy": row["alignment_accuracy"],
                            "train_loss": row["train_loss"], "wall_s": result.wall_s,
                            "tokens_per_s": tokens / result.wall_s if result.wall_s > 0 else float("nan")})
    model = result.model
    held_out = ~data.personas.two_hop_train
    for direction, (src, tgt) in _direction_metrics(model, data, "two_hop", held_out).items():
        records.append({"part": "two_hop", **key, "step": result.steps, "direction": direction,
                        "source_accuracy": src, "target_accuracy": tgt, "transfer_gap": src - tgt})
    if config.unlearn_steps:
        for row in _unlearn(model, data, config, point_rng(seed, bridge, 1), seed, device):
            records.append({**row, **key, "step": result.steps + row["step"]})
    return records


def _unit_key(unit: tuple) -> tuple:
    width, bridge, seed = unit
    return "cross-modal", json.dumps({"bridge_fraction": bridge, "width": width}, sort_keys=True), seed


def _unit_columns(unit: tuple, records: list[dict]) -> dict:
    first = records[0]
    return {k: first[k] for k in ("width", "n_params", "bridge_fraction", "name_tie", "wall_s", "tokens_per_s")}


def run_cross_modal_study(config: CrossModalConfig | None = None, store: str | None = None,
                          workers: int | None = 1) -> pd.DataFrame:
    """Every (width, bridge fraction, seed): transfer curves, two-hop and unlearning records. With a
    ``store`` (:func:`raflab.seq.runs.run_study_units`) each run is stored as it ends and a rerun
    trains only the runs the store lacks."""
    config = config or CrossModalConfig()
    units = [(w, b, config.seed + s) for b in config.bridge_fractions for w in config.widths
             for s in range(config.seeds)]
    content = config.model_dump(mode="json", exclude={"progress"})
    records = run_study_units(units, functools.partial(_run_unit, config=config), store=store,
                              config_hash=settings_hash(content), name="cross-modal", task="seq:cross-modal",
                              config=content, key=_unit_key, columns=_unit_columns, workers=workers,
                              quiet=not config.progress)
    columns = ["part", "width", "n_params", "bridge_fraction", "name_tie", "seed", "step", "direction",
               "source_accuracy", "target_accuracy", "transfer_gap", "alignment_accuracy", "retain_accuracy", "retain_target_accuracy",
               "train_loss", "wall_s",
               "tokens_per_s"]
    df = pd.DataFrame(records)
    return df.reindex(columns=columns)


def summarize_cross_modal(records: pd.DataFrame) -> pd.DataFrame:
    """The table of the study: final transfer, two-hop and unlearning rows, averaged over seeds.

    One row per (part, width, bridge fraction, direction, and for unlearning before/after), with the
    mean accuracies, their ``<metric>_stderr`` and ``n_seeds`` (:func:`raflab.core.summary.summarize`).
    """
    df = records.copy()
    last = df[df["part"] == "transfer"].groupby(["width", "bridge_fraction", "seed"])["step"].transform("max")
    df = df.drop(df[df["part"] == "transfer"].index[df.loc[df["part"] == "transfer", "step"] != last])
    df["phase"] = np.where(df["part"] != "unlearn", "",
                           np.where(df.groupby(["part", "width", "bridge_fraction", "seed", "direction"])["step"]
                                    .transform("min") == df["step"], "before", "after"))
    keys = ["part", "phase", "width", "n_params", "bridge_fraction", "direction"]
    if "name_tie" in df:  # records written before the name tie existed lack the column
        keys.insert(5, "name_tie")
    values = [c for c in ("source_accuracy", "target_accuracy", "transfer_gap", "alignment_accuracy",
                          "retain_accuracy", "retain_target_accuracy") if c in df]
    return summarize(df, keys, values, ci95_of=values).dropna(axis=1, how="all")


def cross_modal_figure_data(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What :func:`raflab.seq.plots.plot_cross_modal` draws, averaged here over seeds and directions:
    ``curves`` (source and target accuracy per step at the widest model, per bridge fraction),
    ``summary`` (:func:`summarize_cross_modal`: the final gap per size, bridge and direction) and
    ``bars`` (at the smallest bridge fraction: the unlearned facts before and after the ascent, and the
    two-hop questions, in the source and the target modality)."""
    accuracies = ["source_accuracy", "target_accuracy"]
    tr = records[records["part"] == "transfer"]
    widest = tr[tr["width"] == tr["width"].max()]
    curves = summarize(widest, ["width", "bridge_fraction", "step"], accuracies)
    b0 = tr["bridge_fraction"].min()
    un = records[(records["part"] == "unlearn") & (records["bridge_fraction"] == b0)]
    first = un["step"] == un.groupby(["width", "seed", "direction"])["step"].transform("min")
    hop = records[(records["part"] == "two_hop") & (records["bridge_fraction"] == b0)]
    parts = [rows.assign(bar=label) for label, rows in (("unlearned\nbefore", un[first]), ("unlearned\nafter", un[~first]),
                                                        ("two-hop", hop)) if len(rows)]
    bars = summarize(pd.concat(parts), ["bridge_fraction", "bar"], accuracies) if parts else \
        pd.DataFrame(columns=["bridge_fraction", "bar", *accuracies])
    return {"curves": curves.sort_values(["bridge_fraction", "step"], ignore_index=True),
            "summary": summarize_cross_modal(records), "bars": bars}


def load_cross_modal_config(path: str | None = None, seeds: int | None = None) -> CrossModalConfig:
    """The study config: the defaults, or a YAML file of :class:`CrossModalConfig` fields (``name`` and
    ``study: cross-modal`` keys allowed), with ``seeds`` overriding the file."""
    values: dict = read_study_file(path, "cross-modal") if path is not None else {}
    if seeds is not None:
        values["seeds"] = seeds
    return CrossModalConfig(**values)


def run_cross_modal_cli(config: str | None = None, seeds: int | None = None, store: str | None = None,
                        workers: int = 1, quiet: bool = False, out: str | None = None):
    """What ``raflab seq study cross-modal`` runs: (summary table, figure or None); the runs are
    stored in ``store`` (default ``results/raflab.duckdb``) as they end."""
    cfg = load_cross_modal_config(config, seeds).model_copy(update={"progress": not quiet})
    start = time.perf_counter()
    records = run_cross_modal_study(cfg, store=store or DEFAULT_STORE, workers=workers)
    wall = time.perf_counter() - start
    summary = summarize_cross_modal(records)
    runs = records[records["part"] == "transfer"].groupby(["width", "bridge_fraction", "seed"]).first()
    summary.attrs["notes"] = [f"cross-modal: {len(runs)} runs in {wall:.0f} s, "
                              f"{runs['tokens_per_s'].mean():.0f} training tokens/s (fact stage), "
                              f"chance {1 / cfg.n_values:.3g} (facts), {1 / cfg.n_countries:.3g} (two-hop)"]
    figure = None
    if out is not None:
        from raflab.seq.plots import plot_cross_modal

        figure = plot_cross_modal(**cross_modal_figure_data(records), out=out,
                                  title=f"cross-modal personas: {cfg.n_personas} personas, {cfg.seeds} seed(s)")
    return summary, figure
