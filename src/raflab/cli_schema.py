"""``raflab schema generate|train|eval``: rote SFT vs GRPO for schema linking on synthetic databases.

``generate`` prints (and with ``--out`` writes as JSONL) questions of a split with their gold tables
and columns; ``train --method sft|grpo|sft+grpo`` (several, comma-separated) trains over seeds and
prints one record per (method, split): mean over seeds and standard errors, ``--out`` draws the reward
and accuracy curves, ``--save`` keeps the last seed's policy; ``train --method eval --load CKPT``
(or ``eval CKPT``) evaluates a saved policy on the splits regenerated from its own config and seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from raflab.cli_common import Format, FormatOpt, OutOpt, SeedOpt, _emit, device_option, user_errors

schema_app = typer.Typer(no_args_is_help=True,
                         help="schema linking: rote supervised fine-tuning vs GRPO on synthetic databases")

NTrainOpt = typer.Option(30, "--train-dbs", help="training databases (train and unseen-paraphrase splits)")
NTestOpt = typer.Option(10, "--test-dbs", help="unseen-schema databases")
QuestionsOpt = typer.Option(20, "--questions", help="questions per database and split")
SynonymOpt = typer.Option(0.5, "--synonym-prob", help="probability that a mention uses a synonym")


def _data_config(train_dbs, test_dbs, questions, synonym_prob):
    from raflab.data.schemas import SchemaDataConfig

    return SchemaDataConfig(n_train_dbs=train_dbs, n_test_dbs=test_dbs, questions_per_db=questions,
                            synonym_prob=synonym_prob)


@schema_app.command()
@user_errors
def generate(split: str = typer.Option("train", "--split", help="train | unseen_paraphrase | unseen_schema | all"),
             n: int = typer.Option(5, "--n", help="questions printed (0: all)"),
             train_dbs: int = NTrainOpt, test_dbs: int = NTestOpt, questions: int = QuestionsOpt,
             synonym_prob: float = SynonymOpt, seed: int = SeedOpt,
             out: str = typer.Option(None, "--out", help="write the questions of the split(s) as JSONL here"),
             fmt: Format = FormatOpt):
    """Synthetic databases and questions with their gold tables and columns."""
    import numpy as np
    import pandas as pd

    from raflab.data.schemas import SPLITS, make_splits

    if split not in (*SPLITS, "all"):
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}, all")
    if n < 0:
        raise ValueError(f"n must be >= 0 (got {n})")
    from raflab.cli_common import check_out_path

    check_out_path(out, suffixes=None)
    cfg = _data_config(train_dbs, test_dbs, questions, synonym_prob)
    splits = make_splits(cfg, np.random.default_rng(np.random.SeedSequence([seed, 2506])))
    examples = [e for s in (SPLITS if split == "all" else (split,)) for e in splits[s]]
    if out is not None:
        Path(out).expanduser().parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w") as f:
            for e in examples:
                f.write(json.dumps({**e.record(), "schema": e.db.schema_text(), "answer": e.gold_answer()}) + "\n")
        typer.echo(f"{len(examples)} questions written to {out}", err=True)
    shown = examples if n == 0 else examples[:n]
    df = pd.DataFrame([{k: v for k, v in e.record().items() if k != "template"} for e in shown])
    _emit(df, fmt, f"schema linking data ({split}, seed {seed})")


def _parse_methods(text: str) -> list[str]:
    from raflab.agents.schema import METHODS

    methods = [m.strip() for m in text.split(",") if m.strip()]
    if not methods:
        raise ValueError("no method given")
    for m in methods:
        if m not in (*METHODS, "eval"):
            raise ValueError(f"unknown method {m!r}; choose one of {', '.join(METHODS)}, eval")
    if "eval" in methods and len(methods) > 1:
        raise ValueError("method eval cannot be combined with training methods")
    return methods


COLUMNS = ["method", "split", "seeds", "tables_exact", "tables_filter", "columns_exact", "columns_filter",
           "mean_reward", "tables_filter_se", "columns_filter_se", "columns_exact_se", "tables_recall",
           "columns_recall", "items_predicted", "format_ok"]
TABLE_COLUMNS = ["method", "split", "seeds", "tables_exact", "tables_filter", "columns_exact", "columns_filter",
                 "mean_reward"]  # standard errors and the rest: --format json / csv


@schema_app.command()
@user_errors
def train(method: str = typer.Option("sft,sft+grpo", "--method",
                                     help="sft | grpo | sft+grpo (comma-separated for several) | eval (with --load)"),
          seeds: int = typer.Option(3, "--seeds", help="seeds (each draws its own data and initial policy)"),
          seed: int = SeedOpt,
          sft_steps: int = typer.Option(None, "--sft-steps", help="SFT steps (default of SchemaTrainConfig)"),
          grpo_steps: int = typer.Option(None, "--grpo-steps", help="GRPO steps (default of SchemaTrainConfig)"),
          group_size: int = typer.Option(None, "--group-size", help="GRPO completions per question (>= 2)"),
          beta: float = typer.Option(None, "--beta", help="KL penalty to the reference policy"),
          train_dbs: int = NTrainOpt, test_dbs: int = NTestOpt, questions: int = QuestionsOpt,
          synonym_prob: float = SynonymOpt, device: str = device_option("where the policy trains and decodes"),
          save: str = typer.Option(None, "--save", help="save the last seed's policy of the last method here"),
          load: str = typer.Option(None, "--load", help="checkpoint to evaluate (--method eval)"),
          out: str = OutOpt, fmt: Format = FormatOpt):
    """Train by SFT, GRPO or SFT then GRPO; one record per (method, split): means over seeds (s.e.: json, csv)."""
    methods = _parse_methods(method)
    from raflab.cli_common import check_out_path

    check_out_path(out)
    check_out_path(save, suffixes=None, option="--save")
    if methods == ["eval"]:
        if load is None:
            raise ValueError("--method eval needs --load CHECKPOINT")
        _eval(load, device, fmt)
        return
    from raflab.agents.schema import SchemaTrainConfig, run_schema_study, save_checkpoint, summarize
    from raflab.device import resolve_device

    dev = resolve_device(device)
    given = {"sft_steps": sft_steps, "grpo_steps": grpo_steps, "group_size": group_size, "beta": beta}
    tcfg = SchemaTrainConfig(**{k: v for k, v in given.items() if v is not None})
    dcfg = _data_config(train_dbs, test_dbs, questions, synonym_prob)
    records, curves, policies = run_schema_study(dcfg, tcfg, methods=methods, seeds=seeds, seed=seed, device=dev,
                                                 keep=True)
    if save is not None:
        last = seed + seeds - 1
        save_checkpoint(save, policies[methods[-1]], methods[-1], dcfg, tcfg, last)
        typer.echo(f"policy ({methods[-1]}, seed {last}) saved to {save}", err=True)
    if out is not None:
        from raflab.plots import plot_schema_curves

        plot_schema_curves(curves, records, out=out)
        typer.echo(f"figure written to {out}", err=True)
    table = summarize(records)
    cols = TABLE_COLUMNS if fmt == Format.table else COLUMNS
    _emit(table[[c for c in cols if c in table.columns]], fmt,
          f"schema linking: {', '.join(methods)}; {seeds} seed(s), greedy decoding")


def _eval(path: str, device: str, fmt: Format) -> None:
    from raflab.agents.schema import evaluate_checkpoint

    df = evaluate_checkpoint(path, device)
    _emit(df[[c for c in ["method", "seed", "split", "tables_exact", "tables_filter", "columns_exact",
                          "columns_filter", "mean_reward", "items_predicted", "format_ok"]]],
          fmt, f"schema linking: checkpoint {path}")


@schema_app.command("eval")
@user_errors
def eval_(checkpoint: str = typer.Argument(..., help="a policy saved by `raflab schema train --save`"),
          device: str = device_option("where the policy decodes"), fmt: Format = FormatOpt):
    """Evaluate a saved policy on every split (same as ``train --method eval --load CHECKPOINT``)."""
    _eval(checkpoint, device, fmt)
