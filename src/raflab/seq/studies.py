"""Sequence-lab runs and studies: one training run as a flat record, and grids of runs stored as they go.

A run (:class:`SeqRun`) is task + network + optimisation in one flat, validated config, so that the
``raflab seq train`` flags, a study's grid axes and a stored row all use the same names. A study
(:class:`SeqStudyConfig`, a YAML file in ``experiments/``) is a base run, a grid over any of its
fields and a number of seeds; its runs go through the sweep engine's pieces: the parallel backends
(:func:`raflab.sweeps.backends.run_units`) and the DuckDB result store, one row per
(point, seed) written as soon as the run ends, so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.memory import FLOAT32, require_memory
from raflab.core.seeding import point_rng
from raflab.core.summary import summarize
from raflab.seq import metrics
from raflab.seq.capacity_claims import capacity_claims, compare_with_references, fit_bits_per_parameter_ci
from raflab.seq.claims import claim_notes, too_big_to_think_claims
from raflab.seq.nets import NetConfig, count_parameters, make_model
from raflab.seq.runs import DEFAULT_STORE, run_stored_units, settings_hash
from raflab.seq.sizing import width_for_parameters
from raflab.seq.tasks import make_task
from raflab.seq.tasks import TokenSplit
from raflab.seq.train import TrainConfig, evaluate_split, sequence_outputs, train_model
from raflab.sweeps.config import read_config_file
from raflab.sweeps.store import ResultStore

TASKS = ("arithmetic", "facts", "both", "mqar", "kg", "walks", "random")
NETWORKS = {"gpt": "attention", "s4d": "s4d", "mamba": "mamba", "mamba2": "mamba2"}  # CLI name -> mixer of raflab.seq.nets
#: the accuracy a task reports: exact match of whole answers, or MQAR's accuracy at the query positions
ACCURACY_KIND = {"mqar": "token_accuracy"}


class SeqRun(BaseModel):
    """One training run of the sequence lab. Task options not used by the task are ignored."""

    model_config = ConfigDict(extra="forbid")

    task: str = "arithmetic"
    layout: Literal["stream", "lines"] = Field("stream", description="arithmetic / facts / both: train on "
                                               "windows of the text stream (the paper) or on aligned lines")
    digits: int = Field(1, ge=1, le=2, description="arithmetic / both: operand digits (1: the paper's 4 held-out "
                        "lines; 2: 5 and 7 held out at both places, 792 held-out lines)")
    # -- task options (MQAR, knowledge graphs, random strings)
    pairs: int = Field(8, ge=1, description="mqar: key-value pairs per sequence")
    seq_len: int = Field(64, ge=2, description="mqar / random: sequence length")
    vocab: int = Field(64, ge=2, description="mqar / random: vocabulary size")
    examples: int = Field(2000, ge=1, description="mqar: training sequences; random: strings")
    heldout: int = Field(256, ge=0, description="mqar: held-out sequences")
    random_fillers: bool = Field(True, description="mqar: random tokens between the queries (Zoology's default); "
                                 "false: token 0 there (the Zoology paper's figures)")
    triplets: int = Field(1000, ge=1, description="kg / walks: triplets of the random graph")
    entities: int = Field(200, ge=2, description="kg / walks: entities of the random graph")
    relations: int = Field(10, ge=1, description="kg / walks: relations of the random graph")
    walks: int = Field(200, ge=1, description="walks: random walks")
    walk_facts: bool = Field(False, description="kg: keep only the facts that the walks task of the same "
                             "settings and seed teaches (triplets and walks of the same facts)")
    graph: Literal["random", "umls"] = "random"
    umls_dir: str | None = Field(None, description="kg / walks: folder of UMLS's train/valid/test.txt "
                                 "(default: the installed pykeen package's)")
    # -- network
    model: str = "gpt"
    layers: int = Field(1, ge=1)
    width: int = Field(56, ge=1)
    target_params: int | None = Field(None, ge=1, description="a size instead of a width: the run takes the "
                                      "width whose parameter count is closest to this (raflab.seq.sizing)")
    heads: int = Field(1, ge=1)
    mlp_ratio: float = Field(1.0, ge=0)
    activation: str = "gelu"
    bias: bool = False
    d_state: int = Field(16, ge=1)
    # -- optimisation
    steps: int = Field(3000, ge=1)
    lr: float = Field(1e-2, gt=0)
    min_lr: float = Field(1e-4, ge=0)
    warmup: int = Field(100, ge=0)
    batch: int = Field(256, ge=1)
    weight_decay: float = Field(0.0, ge=0)
    eval_every: int = Field(250, ge=1)
    target: float | None = Field(None, gt=0, le=1, description="stop when the training accuracy reaches this "
                                 "(in (0, 1])")
    plateau_window: int | None = Field(None, ge=1, description="random: stop once the memorized bits grew by "
                                       "at most plateau_tol (relative) over this many evaluations")
    plateau_tol: float = Field(0.01, ge=0, description="random: the relative growth that counts as a plateau")
    seed: int = Field(0, ge=0)
    device: str = "auto"

    @field_validator("task")
    @classmethod
    def _task(cls, value):
        return one_of(value, TASKS, "task")

    @field_validator("model")
    @classmethod
    def _model(cls, value):
        return one_of(value, NETWORKS, "model")

    @model_validator(mode="after")
    def _shapes(self):
        if self.model == "gpt" and self.width % self.heads and self.target_params is None:
            raise ValueError(f"width must be divisible by heads (got width={self.width}, heads={self.heads})")
        if self.plateau_window is not None and self.task != "random":
            raise ValueError(f"plateau_window stops on memorized bits: task random only (got task {self.task!r})")
        if self.plateau_window is not None and self.target is not None:
            raise ValueError("plateau_window and target are two stopping rules; give one")
        return self

    def task_options(self) -> dict:
        """Keyword arguments of :func:`raflab.seq.tasks.make_task` for this task."""
        if self.task == "mqar":
            return {"vocab_size": self.vocab, "seq_len": self.seq_len, "num_pairs": self.pairs,
                    "num_examples": self.examples, "num_heldout": self.heldout,
                    "random_non_queries": self.random_fillers}
        if self.task in ("kg", "walks"):
            out = {"graph": self.graph, "num_entities": self.entities, "num_relations": self.relations,
                   "num_triplets": self.triplets, "umls_dir": self.umls_dir}
            if self.task == "kg" and self.walk_facts:
                return {**out, "num_walks": self.walks, "walk_facts": True}
            return {**out, "num_walks": self.walks} if self.task == "walks" else out
        if self.task == "random":
            return {"num_strings": self.examples, "length": self.seq_len, "vocab_size": self.vocab}
        if self.task == "facts":
            return {"layout": self.layout}
        return {"layout": self.layout, "digits": self.digits}


#: what a flag left out means, per task: each default shows its paper's effect on 2 CPU cores in minutes
TASK_DEFAULTS: dict[str, dict] = {
    "arithmetic": {"width": 14, "steps": 4000, "lr": 1e-2, "batch": 196},
    "facts": {"width": 56, "steps": 3000, "lr": 1e-2, "batch": 50},
    "both": {"width": 56, "steps": 4000, "lr": 1e-2, "batch": 246},
    # measured: attention passes its induction plateau by ~500-750 steps (held-out 0.99-1.0, 2 seeds);
    # S4D at the same width stays at 0.24
    "mqar": {"layers": 2, "width": 64, "heads": 1, "mlp_ratio": 0.0, "pairs": 4, "seq_len": 32, "vocab": 64,
             "examples": 4000, "heldout": 256, "steps": 1000, "lr": 3e-3, "min_lr": 3e-4, "warmup": 100,
             "batch": 64, "eval_every": 250},
    "kg": {"width": 64, "mlp_ratio": 4.0, "activation": "relu", "triplets": 1000, "entities": 200,
           "relations": 10, "steps": 500, "lr": 1e-2, "batch": 1000},
    "walks": {"width": 64, "mlp_ratio": 4.0, "activation": "relu", "triplets": 600, "entities": 200,
              "relations": 10, "walks": 100, "steps": 600, "lr": 1e-2, "batch": 100},
    # as the bits study: 63K bits of random strings, more than a width-16 GPT holds at 3.6 bits/param
    "random": {"width": 16, "mlp_ratio": 4.0, "seq_len": 32, "vocab": 16, "examples": 512, "steps": 1500,
               "lr": 1e-2, "min_lr": 1e-3, "warmup": 50, "batch": 64},
}


def seq_run(task: str, **given) -> SeqRun:
    """A run of ``task``: the task's defaults, then every setting given (None means: not given)."""
    one_of(task, TASKS, "task")
    return SeqRun(task=task, **{**TASK_DEFAULTS[task], **{k: v for k, v in given.items() if v is not None}})


def build_task(run: SeqRun):
    # the data's stream is keyed by the seed alone: every model of a study sees the same data per seed
    return make_task(run.task, point_rng(run.seed, 1), **run.task_options())


def net_config(run: SeqRun, task):
    return NetConfig(vocab_size=task.vocab_size, block_size=task.block_size, mixer=NETWORKS[run.model],
                     n_layer=run.layers, n_head=run.heads if run.model == "gpt" else 1, n_embd=run.width,
                     mlp_ratio=run.mlp_ratio, activation=run.activation, bias=run.bias, d_state=run.d_state)


def sized_run(run: SeqRun, task) -> SeqRun:
    """``run`` itself, or, with ``target_params``, ``run`` at the width whose parameter count is closest
    to it (:func:`raflab.seq.sizing.width_for_parameters`; every other setting held)."""
    if run.target_params is None:
        return run
    return run.model_copy(update={"width": width_for_parameters(net_config(run, task), run.target_params)})


def train_config(run: SeqRun, progress: bool = False, checkpoint: str | None = None):
    return TrainConfig(steps=run.steps, lr=run.lr, min_lr=min(run.min_lr, run.lr), warmup=run.warmup,
                       batch_size=run.batch, weight_decay=run.weight_decay, beta1=0.9, beta2=0.99,
                       eval_every=run.eval_every, target=run.target, seed=run.seed, device=run.device,
                       checkpoint=checkpoint, progress=progress)


def _evaluator(task, run: SeqRun | None = None):
    curve: list[float] = []  # memorized bits at each evaluation (plateau stop)

    def evaluate(model) -> dict:
        out = evaluate_split(model, task.train, "train")
        if task.heldout is not None:
            out.update(evaluate_split(model, task.heldout, "heldout"))
        if run is not None and run.plateau_window is not None:
            _, nll = sequence_outputs(model, task.train.inputs, task.train.targets)
            curve.append(metrics.memorized_bits(nll, task.vocab_size, task.train.targets))
            out["train_memorized_bits"] = curve[-1]
            out["train_plateau"] = float(metrics.plateau_reached(curve, run.plateau_window, run.plateau_tol))
        return out

    return evaluate


def require_training_memory(run: SeqRun, task) -> None:
    """Refuse a network whose float32 training state (weights, gradients, two AdamW moments) and
    activations (a batch through every layer, and its logits) cannot fit in memory."""
    w, layers, block, vocab = run.width, run.layers, task.block_size, task.vocab_size
    per_layer = (4 + 2 * max(run.mlp_ratio, 0.0) + 2) * w * w + 2 * w * run.d_state
    params = 2 * vocab * w + block * w + layers * per_layer
    activations = run.batch * block * (16 * w * layers + 2 * vocab)
    require_memory(FLOAT32 * (4 * params + activations),
                   f"training {run.model} (width {w}, {layers} layer(s), about {params:,.0f} parameters)")


def _rows(split: TokenSplit, rows: slice) -> TokenSplit:
    return TokenSplit(split.inputs[rows], split.targets[rows], split.answer_mask[rows])


def char_task_accuracies(model, task) -> dict:
    """The arithmetic / facts tasks' accuracies by kind of training line: ``arithmetic_accuracy`` (the
    arithmetic training lines answered exactly) and ``fact_accuracy`` (the capital facts), NaN where
    the task has none of that kind; nothing for the other tasks. In ``both`` the arithmetic lines come
    first, then the facts."""
    if task.name not in ("arithmetic", "facts", "both"):
        return {}
    n_arithmetic = task.info.get("num_arithmetic", 0)
    out = {}
    for key, rows in (("arithmetic_accuracy", slice(0, n_arithmetic)), ("fact_accuracy", slice(n_arithmetic, None))):
        part = _rows(task.train, rows)
        out[key] = evaluate_split(model, part, "part")["part_accuracy"] if len(part) else math.nan
    return out


def run_sequence_experiment(run: SeqRun, progress: bool = False, checkpoint: str | None = None) -> dict:
    """Train one network on one task; return the record of the run.

    Keys: task, model, params, layers, width, heads, steps, seed, train_accuracy, heldout_accuracy
    (NaN where the task has none; MQAR: accuracy at the query positions, otherwise exact match of
    whole answers by greedy decoding), train_loss (mean next-token loss on the training set),
    capacity (training items predicted exactly), mac (the best capacity over training), wall_s,
    tokens_per_s; for the random task also memorized_bits, entropy_bits and bits_per_param; for the
    arithmetic / facts tasks also arithmetic_accuracy and fact_accuracy (:func:`char_task_accuracies`).
    """
    task = build_task(run)
    run = sized_run(run, task)
    require_training_memory(run, task)
    device = resolve_device(run.device)
    model = make_model(net_config(run, task), seed=run.seed, device=device)
    fit = task.fit_split  # the char tasks train on windows of one text stream, evaluate on the lines
    data = {"idx": fit.inputs, "targets": fit.targets}
    config = train_config(run, progress, checkpoint)
    plateau = run.plateau_window is not None
    if plateau:
        config = config.model_copy(update={"target": 1.0})
    result = train_model(model, data, config, evaluate=_evaluator(task, run),
                         target_metric="train_plateau" if plateau else "train_accuracy")
    accuracy = ACCURACY_KIND.get(run.task, "accuracy")
    final, history = result.final, result.history
    params = count_parameters(model)
    record = {"task": run.task, "model": run.model, "params": params, "layers": run.layers, "width": run.width,
              "heads": run.heads if run.model == "gpt" else None, "steps": result.steps, "seed": run.seed,
              "train_accuracy": final[f"train_{accuracy}"],
              "heldout_accuracy": final.get(f"heldout_{accuracy}", math.nan),
              "train_loss": final["train_loss"], "capacity": int(final["train_exact"]),
              "mac": metrics.maximum_attainable_capacity(history["train_exact"]),
              "items": len(task.train.inputs), "wall_s": result.wall_s, "tokens_per_s": result.tokens_per_s}
    record.update(char_task_accuracies(result.model, task))
    if run.task in ("kg", "walks"):
        # a fact = one (node, edge) -> node answer: a triplet, or one scored position of a walk
        facts = int((task.train.targets != metrics.IGNORE_INDEX).sum())
        record.update(facts=facts, fact_accuracy=final["train_token_accuracy"],
                      facts_stored=int(round(final["train_token_accuracy"] * facts)))
    if run.task == "random":
        _, nll = sequence_outputs(result.model, task.train.inputs, task.train.targets)
        bits = metrics.memorized_bits(nll, task.vocab_size, task.train.targets)
        record.update(memorized_bits=bits, entropy_bits=float(task.info["entropy_bits"]),
                      bits_per_param=metrics.bits_per_parameter(bits, params))
        if plateau:
            record["saturated"] = bool(final.get("train_plateau", 0.0) == 1.0)
    return record


# --- studies: a grid of runs, stored as they finish --------------------------------------------

STUDIES = ("too-big-to-think", "capacity", "mqar", "bits")


class SeqStudyConfig(BaseModel):
    """A study: a base run, a grid over run fields (lists; product or zip), seeds, a store."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    study: str
    base: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list] | list[dict[str, list]] = Field(
        default_factory=dict, description="lists of values per run setting; a list of grids is their union")
    combine: Literal["product", "zip"] = "product"
    seeds: int = Field(3, ge=1)
    seed: int = Field(0, ge=0)
    store: str = DEFAULT_STORE

    @field_validator("study")
    @classmethod
    def _study(cls, value):
        return one_of(value, STUDIES, "study")

    @model_validator(mode="after")
    def _valid_runs(self):
        fields = set(SeqRun.model_fields)
        for key in list(self.base) + [k for grid in self.grids() for k in grid]:
            if key not in fields or key == "seed":
                raise ValueError(f"{key!r} is not a run setting; choose from {', '.join(sorted(fields - {'seed'}))}")
        if self.combine == "zip" and any(len({len(v) for v in g.values()}) > 1 for g in self.grids()):
            raise ValueError("combine: zip needs grid lists of one length")
        for point in self.points():  # every run valid before anything trains
            if "task" not in point:
                raise ValueError("each run needs a task (in base or grid)")
            seq_run(**point)
        return self

    def grids(self) -> list[dict]:
        return self.grid if isinstance(self.grid, list) else [self.grid]

    def points(self) -> list[dict]:
        """Every run setting of the study, in order, without repeats (grids of a union may overlap)."""
        out, seen = [], set()
        for grid in self.grids():
            names = list(grid)
            values = [v if isinstance(v, list) else [v] for v in grid.values()]
            combos = itertools.product(*values) if self.combine == "product" else zip(*values)
            for combo in combos:
                point = {**self.base, **dict(zip(names, combo))}
                # equal runs are equal whether a setting is spelled out or left at its default
                key = _run_key(seq_run(**point)) if "task" in point else json.dumps(point, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    out.append(point)
        return out

    def runs(self) -> list[SeqRun]:
        return [seq_run(**point, seed=self.seed + s) for point in self.points() for s in range(self.seeds)]

    @property
    def config_hash(self) -> str:
        return settings_hash(self.model_dump(mode="json", exclude={"name", "store"}))


def load_study_config(path: str | Path, **overrides) -> SeqStudyConfig:
    """A study config from YAML; ``overrides`` replace top-level keys (e.g. seeds, store)."""
    data = read_config_file(path, missing=f"no study config at {path}", keys="name, study, base, grid, ...")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return SeqStudyConfig(**data)


#: the caps :func:`shrink_study_config` applies by default: a unit of seconds on one CPU core
TINY_LIMITS = {"seq_len": 16, "vocab": 32, "pairs": 2, "width": 16, "target_params": 4000, "layers": 1,
               "d_state": 4, "examples": 32, "heldout": 16, "steps": 2, "batch": 8, "eval_every": 1,
               "warmup": 0, "triplets": 50, "entities": 20, "walks": 10}


def shrink_study_config(config: SeqStudyConfig, seeds: int = 1, **limits) -> SeqStudyConfig:
    """``config`` scaled down to run on a CPU in seconds (to check a paper-scale card end to end): every
    numeric setting in ``base`` and in the grid capped at its limit (:data:`TINY_LIMITS`, overridden by
    ``limits``), repeats left out, ``seeds`` seeds, the CPU as device. MQAR's pairs are also capped at
    seq_len / 4 and (vocab / 2 - 1) so every shrunk run is valid."""
    caps = {**TINY_LIMITS, **limits}
    unknown = sorted(set(limits) - set(SeqRun.model_fields))
    if unknown:
        raise ValueError(f"unknown run settings to cap: {', '.join(unknown)}")

    def cap(key, value):
        if key not in caps or isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        return type(value)(min(value, caps[key]))

    def unique(values: list) -> list:  # a zipped grid keeps its lists aligned
        return list(dict.fromkeys(values)) if config.combine == "product" else values

    def shrink_grid(grid: dict) -> dict:
        return {k: unique([cap(k, v) for v in (values if isinstance(values, list) else [values])])
                for k, values in grid.items()}

    grids = [shrink_grid(g) for g in config.grids()]
    base = {**{k: cap(k, v) for k, v in config.base.items()}, "device": "cpu"}

    def smallest(key):
        found = [base[key]] if key in base else []
        return min(found + [v for g in grids for v in g.get(key, [])] + [caps[key]])

    most_pairs = max(1, min(smallest("seq_len") // 4, smallest("vocab") // 2 - 1))
    if "pairs" in base:
        base["pairs"] = min(base["pairs"], most_pairs)
    for grid in grids:
        if "pairs" in grid:
            grid["pairs"] = unique([min(p, most_pairs) for p in grid["pairs"]])
    data = config.model_dump()
    data.update(base=base, grid=grids if isinstance(config.grid, list) else grids[0], seeds=seeds)
    return SeqStudyConfig(**data)


def shipped_study_config(study: str) -> Path:
    """The config file shipped for a study (``experiments/seq_<study>.yaml`` beside the package)."""
    one_of(study, STUDIES, "study")
    return Path(str(files("raflab.seq").joinpath("configs", f"seq_{study.replace('-', '_')}.yaml")))


def _run_key(run: SeqRun) -> str:
    point = run.model_dump(mode="json", exclude={"seed", "device"})
    return json.dumps(point, sort_keys=True, separators=(",", ":"))


def _execute(run: SeqRun) -> dict:
    """A study's unit: the run's record, or a failed row with its one-line reason."""
    start = time.perf_counter()
    try:
        return {"status": "done", "error": None, **run_sequence_experiment(run)}
    except Exception as exc:  # noqa: BLE001 — one failing run must not stop the study
        return {"status": "failed", "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}",
                "wall_s": time.perf_counter() - start}


def _unit_key(run: SeqRun) -> tuple:
    return "seq", _run_key(run), run.seed


def _unit_row(run: SeqRun, row: dict) -> dict:
    point = {k: v for k, v in run.model_dump(mode="json").items() if k not in ("seed", "device")}
    return {**point, **row}  # the record's own keys (e.g. heads=None for SSMs) win


def run_seq_study(config: SeqStudyConfig, store: str | Path | None = None, workers: int | None = 1,
                  backend: str = "local", quiet: bool = False) -> pd.DataFrame:
    """Run the study's runs that the store does not hold yet and return all its rows.

    ``workers=1`` trains in this process (torch already uses the cores); more workers run several
    small networks at once, one thread each.
    """
    store = store or config.store
    runs = config.runs()
    run_stored_units(store, config_hash=config.config_hash, name=config.name, task=f"seq:{config.study}",
                     config=config.model_dump(mode="json"), units=runs, key=_unit_key, execute=_execute,
                     row=_unit_row, backend=backend, workers=workers, quiet=quiet)
    rows = ResultStore(store).rows(config.config_hash)
    # only this code's runs: a row stored under another run key (a setting added to SeqRun since) is stale
    current = {(_run_key(r), r.seed) for r in runs}
    rows = rows[[(p, s) in current for p, s in zip(rows["point"], rows["seed"])]] if len(rows) else rows
    return rows.drop(columns=[c for c in ("config_hash", "kind", "point", "backend", "raflab_version",
                                          "git_commit", "finished_at", "status", "error") if c in rows])


def summarize_study(rows: pd.DataFrame, by: list[str], ci95_of: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean, ``<metric>_stderr`` and ``n_seeds`` over seeds of the accuracies (and bits) per setting
    ``by`` (:func:`raflab.core.summary.summarize`), ordered by ``by``; for each of ``ci95_of`` also its
    95% Student-t interval, ``<metric>_ci95_low`` / ``_high``. Grouping keys missing from ``rows`` are
    left out."""
    by = [k for k in by if k in rows]
    values = [c for c in ("train_accuracy", "heldout_accuracy", "arithmetic_accuracy", "fact_accuracy",
                          "train_loss", "capacity", "mac", "memorized_bits", "bits_per_param", "params",
                          "steps", "wall_s") if c in rows]
    out = summarize(rows, by, values, stderr_of=[c for c in values if c != "params"], ci95_of=ci95_of)
    return out.sort_values(by, kind="stable").reset_index(drop=True)


#: published bits of information per parameter, printed beside the fitted slope of the bits study
REFERENCE_BITS_PER_PARAM = {"Morris et al. 2025 (GPT, random strings)": 3.6,
                            "Allen-Zhu & Li 2024 (knowledge, 1000 exposures)": 2.0,
                            "Gardner 1988 (perceptron, random labels)": 2.0}


def fit_bits_per_parameter(summary: pd.DataFrame) -> float:
    """Least-squares slope through the origin of memorized bits against parameters."""
    x, y = summary["params"].to_numpy(float), summary["memorized_bits"].to_numpy(float)
    return float(x @ y / (x @ x))


#: how each study's rows are grouped over seeds
STUDY_GROUPS = {"too-big-to-think": ["task", "digits", "width"], "capacity": ["task", "walk_facts", "triplets", "target_params", "width", "layers", "activation"],
                "mqar": ["model", "target_params", "width", "pairs"], "bits": ["model", "layers", "width"]}
#: the metrics whose 95% interval a study's table carries (its claims are settled by these intervals)
STUDY_INTERVALS = {"mqar": ("heldout_accuracy", "train_accuracy"),
                   "too-big-to-think": ("heldout_accuracy", "fact_accuracy", "arithmetic_accuracy")}


def study_summary(study: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The study's table: means and standard errors over seeds; notes (e.g. the fitted slope) in attrs."""
    groups = [g for g in STUDY_GROUPS[study] if g in rows]
    summary = summarize_study(rows, groups, ci95_of=STUDY_INTERVALS.get(study, ()))
    notes = []
    if study == "bits":
        fit = fit_bits_per_parameter_ci(rows)
        summary["entropy_bits"] = rows.groupby(groups, sort=True)["entropy_bits"].first().values
        notes.append(f"fitted memorized bits per parameter: {fit['slope']:.3g}, 95% interval "
                     f"[{fit['ci_low']:.3g}, {fit['ci_high']:.3g}] over {fit['runs']} runs ({fit['n_seeds']} seeds, "
                     f"{fit['params_min']:,}-{fit['params_max']:,} parameters, {fit['runs_saturated']} at a plateau)")
        notes += compare_with_references(fit)
        summary.attrs["bits_per_param_slope"] = fit["slope"]
        summary.attrs["bits_fit"] = fit
    if study == "capacity" and "fact_accuracy" in rows:
        claims = capacity_claims(rows)
        summary.attrs["claims"] = claims
        for line in claims.to_dict("records"):
            notes.append(f"{line['claim']} ({line['setting']}): {line['treatment']} - {line['baseline']} = "
                         f"{line['difference']:+.3f} [{line['ci_low']:+.3f}, {line['ci_high']:+.3f}], "
                         f"n_seeds {line['n_seeds']}: {line['verdict']}")
    if study == "too-big-to-think":
        claims = too_big_to_think_claims(summary)
        summary.attrs["claims"] = claims
        notes.extend(claim_notes(claims))
    summary.attrs["notes"] = notes
    return summary


def plot_study(study: str, summary: pd.DataFrame, out=None):
    from raflab.seq import plots

    draw = {"too-big-to-think": plots.plot_too_big_to_think, "capacity": plots.plot_kg_capacity,
            "mqar": plots.plot_mqar, "bits": plots.plot_bits_per_parameter}[study]
    return draw(summary, out=out)


__all__ = ["SeqRun", "SeqStudyConfig", "run_sequence_experiment", "run_seq_study", "load_study_config",
           "shipped_study_config", "shrink_study_config", "summarize_study", "study_summary", "plot_study", "build_task", "net_config", "train_config", "STUDIES",
           "TASKS", "NETWORKS"]
