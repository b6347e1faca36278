"""``raflab seq train|study``: memorization in sequence models (tiny transformers and state-space models).

``seq train`` trains one network on one task and prints its record; ``seq study NAME`` runs a shipped
study config (a grid of runs x seeds, stored as they finish, resumed after a crash) and draws its
figure. Flags left out take the task's defaults (``raflab.seq.studies.TASK_DEFAULTS``).
"""

from __future__ import annotations

import os
from typing import Optional

import pandas as pd
import typer

from raflab.core.checks import one_of
from raflab.core.cli import Format, FormatOpt, OutOpt, _emit, check_out_path, device_option, user_errors
from raflab.sweeps.cli import StoreOpt

seq_app = typer.Typer(no_args_is_help=True,
                      help="sequence models: rule and fact tasks, MQAR, capacity in bits per parameter")


def _note(out) -> None:
    typer.echo(f"figure written to {out}", err=True)


#: the options a task or a network reads (the others it would silently ignore)
_TASK_OPTIONS = {"pairs": ("mqar",), "seq_len": ("mqar", "random"), "vocab": ("mqar", "random"),
                 "examples": ("mqar", "random"), "triplets": ("kg", "walks"), "entities": ("kg", "walks"),
                 "relations": ("kg", "walks"), "walks": ("walks",), "graph": ("kg", "walks"),
                 "umls_dir": ("kg", "walks")}
_MODEL_OPTIONS = {"heads": ("gpt",), "d_state": ("s4d", "mamba", "mamba2")}


def _reject_unused(run, given: dict) -> None:
    for name, value in given.items():
        flag = "--" + name.replace("_", "-")
        if value is None:
            continue
        if name in _TASK_OPTIONS and run.task not in _TASK_OPTIONS[name]:
            raise ValueError(f"{flag} does not apply to --task {run.task}, only to --task "
                             f"{' | '.join(_TASK_OPTIONS[name])}")
        if name in _MODEL_OPTIONS and run.model not in _MODEL_OPTIONS[name]:
            raise ValueError(f"{flag} does not apply to --model {run.model}, only to --model "
                             f"{' | '.join(_MODEL_OPTIONS[name])}")


@seq_app.command()
@user_errors
def train(task: str = typer.Option("arithmetic", "--task", help="arithmetic | facts | both | mqar | kg | walks | random"),
          model: str = typer.Option("gpt", "--model", help="gpt (attention) | s4d (fixed-step diagonal SSM) | mamba (selective SSM) | mamba2 (Mamba-2, SSD)"),
          layers: Optional[int] = typer.Option(None, "--layers", help="layers (blocks) (default: the task's; 1, mqar 2)"),
          width: Optional[int] = typer.Option(None, "--width", help="embedding width (n_embd)"),
          heads: Optional[int] = typer.Option(None, "--heads", help="attention heads (gpt)"),
          mlp_ratio: Optional[float] = typer.Option(None, "--mlp-ratio", help="MLP hidden = ratio x width; 0: none"),
          activation: Optional[str] = typer.Option(None, "--activation", help="FFN: relu | gelu | rrelu | softmax"),
          d_state: Optional[int] = typer.Option(None, "--d-state", help="SSM state size per channel"),
          steps: Optional[int] = typer.Option(None, "--steps", help="training steps at most (default: the task's: "
                                                                     "arithmetic 4000, facts 3000, mqar 1000, ...)"),
          lr: Optional[float] = typer.Option(None, "--lr", help="peak learning rate (cosine to --min-lr)"),
          min_lr: Optional[float] = typer.Option(None, "--min-lr", help="final learning rate of the cosine "
                                                                       "(default: the task's; 1e-4, mqar 3e-4, random 1e-3)"),
          batch: Optional[int] = typer.Option(None, "--batch", help="sequences per step"),
          target: Optional[float] = typer.Option(None, "--target", help="stop once the training accuracy reaches this"),
          eval_every: Optional[int] = typer.Option(None, "--eval-every", help="steps between evaluations"),
          pairs: Optional[int] = typer.Option(None, "--pairs", help="mqar: key-value pairs"),
          seq_len: Optional[int] = typer.Option(None, "--seq-len", help="mqar / random: sequence length"),
          vocab: Optional[int] = typer.Option(None, "--vocab", help="mqar / random: vocabulary"),
          examples: Optional[int] = typer.Option(None, "--examples", help="mqar: training sequences; random: strings"),
          triplets: Optional[int] = typer.Option(None, "--triplets", help="kg / walks: triplets of the random graph"),
          entities: Optional[int] = typer.Option(None, "--entities", help="kg / walks: entities of the random graph"),
          relations: Optional[int] = typer.Option(None, "--relations", help="kg / walks: relations of the random graph"),
          walks: Optional[int] = typer.Option(None, "--walks", help="walks: random walks"),
          graph: Optional[str] = typer.Option(None, "--graph", help="kg / walks: random | umls (from pykeen)"),
          umls_dir: Optional[str] = typer.Option(None, "--umls-dir", help="UMLS files instead of pykeen's"),
          seed: int = typer.Option(0, "--seed"),
          device: str = device_option("where the network trains"),
          checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="save here and resume from here"),
          quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
          fmt: Format = FormatOpt):
    """Train one network on one task; print task, model, params, steps, seed, accuracies, loss, wall_s."""
    from raflab.seq.studies import run_sequence_experiment, seq_run

    given = dict(layers=layers, width=width, heads=heads, mlp_ratio=mlp_ratio, activation=activation,
                 d_state=d_state, steps=steps, lr=lr, min_lr=min_lr, batch=batch, target=target, eval_every=eval_every, pairs=pairs,
                 seq_len=seq_len, vocab=vocab, examples=examples, triplets=triplets, entities=entities,
                 relations=relations, walks=walks, graph=graph, umls_dir=umls_dir)
    run = seq_run(task, model=model, seed=seed, device=device, **given)
    _reject_unused(run, given)
    check_out_path(checkpoint, suffixes=None, option="--checkpoint")
    if checkpoint is not None and os.path.exists(checkpoint):  # to resume: read it before any work
        from raflab.core.checkpoints import load_checkpoint
        from raflab.seq.train import CHECKPOINT_KEYS

        load_checkpoint(checkpoint, what="raflab seq train", required=CHECKPOINT_KEYS)
    record = run_sequence_experiment(run, progress=not quiet, checkpoint=checkpoint)
    _emit(pd.DataFrame([record]), fmt, f"seq train: {task} / {model}")


@seq_app.command()
@user_errors
def study(name: str = typer.Argument(..., help="too-big-to-think | capacity | mqar | bits | fictional-qa | cross-modal"),
          config: Optional[str] = typer.Option(None, "--config", help="a study YAML instead of the shipped one"),
          seeds: Optional[int] = typer.Option(None, "--seeds", help="override the config's seeds"),
          store: Optional[str] = StoreOpt,
          workers: int = typer.Option(1, "--workers", help="runs trained at once (processes)"),
          data_dir: Optional[str] = typer.Option(None, "--data-dir", help="fictional-qa: the real release's files; capacity: a knowledge graph's train/valid/test.txt (head TAB relation TAB tail, UMLS layout) instead of the random graph"),
          quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
          out: str = OutOpt, fmt: Format = FormatOpt):
    """Run a study's shipped config (runs x seeds, each stored as it ends: resumable) and print its summary table."""
    from raflab.seq.registry import run_named_study

    check_out_path(out)
    check_out_path(store, suffixes=None, option="--store")
    summary, figure = run_named_study(name, config=config, seeds=seeds, store=store, workers=workers,
                                      quiet=quiet, out=out, data_dir=data_dir)
    _emit(summary, fmt, f"seq study: {name}")
    for note in summary.attrs.get("notes", []):
        typer.echo(note, err=True)
    if figure is not None:
        _note(out)


@seq_app.command()
@user_errors
def probe(name: str = typer.Argument("all", help="haar | impulse | memory | all: the selectivity probes (S4D vs S6)"),
          seeds: int = typer.Option(1, "--seeds", help="seeds of the trained probes (haar, memory)"),
          out: str = OutOpt, fmt: Format = FormatOpt):
    """Selectivity probes of Mamba (S4D vs S6 at equal state): piecewise-constant fit, impulse response, memory."""
    from raflab.seq import probes as ssm_probes

    if seeds < 1:  # the probes themselves take any tuple of seeds
        raise ValueError(f"seeds must be >= 1 (got {seeds})")
    check_out_path(out)
    runners = {"haar": lambda: ssm_probes.haar_probe(seeds=tuple(range(seeds))),
               "impulse": ssm_probes.impulse_probe,
               "memory": lambda: ssm_probes.memory_probe(seeds=tuple(range(seeds)))}
    one_of(name, (*runners, "all"), "probe")
    records = {k: run() for k, run in runners.items() if name in (k, "all")}
    for kind, frame in records.items():
        _emit(frame, fmt, f"seq probe: {kind}")
    for note in ssm_probes.probe_notes(**records):
        typer.echo(note, err=True)
    if out:
        from raflab.seq import plots

        plots.plot_ssm_probes(**records, out=out)
        _note(out)
