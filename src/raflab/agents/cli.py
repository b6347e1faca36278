"""``raflab teach`` and ``raflab schema``: rote vs rule learning in agents, a thin layer over
:mod:`raflab.agents`.

teach: ``raflab teach``: the learning-by-teaching simulation (robot learners taught by simulated children).

Records: one per (task, condition, teacher_knowledge), means and standard errors over seeds; ``--out``
draws the robot's learning curves (taught vs unseen items, one panel per task), ``--out-gain`` the
teacher's retention gain by condition and prior-knowledge group. The model is documented in
``docs/teaching.md`` and ``raflab.agents.teaching``. ``--mechanism``: the memory model of
``raflab.agents.teaching_memory`` (one learning rule for both conditions, forgetting, immediate and delayed
tests) over the grid of its options, one record per grid point; ``--out`` draws the region map.

schema: ``raflab schema generate|train|eval|ablate``: rote SFT vs GRPO for schema linking on synthetic databases.

``generate`` prints (and with ``--out`` writes as JSONL) questions of a split with their gold tables
and columns; ``train --method sft|grpo|sft+grpo`` (several, comma-separated) trains over seeds and
prints one record per (method, split): mean over seeds and standard errors, ``--out`` draws the reward
and accuracy curves, ``--save`` keeps the last seed's policy; ``train --method eval --load CKPT``
(or ``eval CKPT``) evaluates a saved policy on the splits regenerated from its own config and seed.
"""

from __future__ import annotations

from pathlib import Path

import typer

from raflab.core.cli import Format, FormatOpt, OutOpt, SeedOpt, _emit, check_out_path, device_option, user_errors

_SETTINGS = ("feedback_accuracy", "choice", "episodes", "n_seeds")


def _tasks(text: str) -> list[str]:
    """``vocabulary,grammar`` -> the names (the library checks them)."""
    return [t.strip() for t in text.split(",") if t.strip()]


@user_errors
def teach(task: str = typer.Option("vocabulary,grammar", "--task",
                                   help="vocabulary | grammar | vocabulary,grammar"),
          teacher_knowledge: str = typer.Option("0.3:0.9:4", "--teacher-knowledge",
                                                help="prior knowledge: probability the child knows each item, "
                                                     "in [0,1]; start:stop:num or a,b,c"),
          episodes: int = typer.Option(400, "--episodes", help="teaching interactions (feedback events) per lesson"),
          seeds: int = typer.Option(20, "--seeds", help="independent lessons per knowledge level"),
          seed: int = SeedOpt,
          feedback_accuracy: float = typer.Option(0.9, "--feedback-accuracy",
                                                  help="probability the feedback is right when the child "
                                                       "recalls the item, in [0,1] (otherwise a coin flip)"),
          choice: str = typer.Option("adaptive", "--choice",
                                     help="item choice: random | adaptive (items not yet asked or last judged wrong)"),
          taught: int = typer.Option(40, "--taught", help="nouns in the lesson; the other nouns are the unseen ones"),
          candidates: int = typer.Option(4, "--candidates", help="vocabulary: candidate translations per word"),
          exposure_gain: float = typer.Option(0.05, "--exposure-gain",
                                              help="teacher recall gain per interaction, both conditions"),
          correction_gain: float = typer.Option(0.05, "--correction-gain",
                                                help="extra gain when correcting the robot, vocabulary"),
          rule_correction_gain: float = typer.Option(0.10, "--rule-correction-gain",
                                                     help="extra gain when correcting the robot, grammar"),
          learning_rate: float = typer.Option(0.5, "--learning-rate", help="robot learning rate in (0,1]"),
          epsilon: float = typer.Option(0.1, "--epsilon", help="robot exploration probability in [0,1]"),
          mechanism: bool = typer.Option(False, "--mechanism",
                                         help="the memory model instead: one learning rule, forgetting, "
                                              "immediate and delayed tests; a grid over the options below"),
          retrieval_strength: str = typer.Option("0.5", "--retrieval-strength",
                                                 help="--mechanism: stability gained per retrieval, >= 0; "
                                                      "start:stop:num or a,b,c"),
          forgetting_rate: str = typer.Option("1", "--forgetting-rate",
                                              help="--mechanism: f of recall = m exp(-f t / S), >= 0; a range"),
          tutee_error_rate: str = typer.Option("0.5", "--tutee-error-rate",
                                               help="--mechanism: probability the tutee answers wrong; a range"),
          judging_effort: str = typer.Option("0.5", "--judging-effort",
                                             help="--mechanism: effort of judging a shown answer (producing "
                                                  "one: 1); a range"),
          encoding_rate: float = typer.Option(0.3, "--encoding-rate",
                                              help="--mechanism: m <- m + rate (1 - m) when the answer is shown"),
          initial_stability: float = typer.Option(50.0, "--initial-stability",
                                                  help="--mechanism: initial stability S0, in episodes"),
          delay: float = typer.Option(400.0, "--delay", help="--mechanism: episodes between the two tests"),
          format: Format = FormatOpt,
          out: Path = typer.Option(None, "--out", help="write the robot learning-curve figure here (png, pdf, svg); "
                                                       "--mechanism: the region map"),
          out_gain: Path = typer.Option(None, "--out-gain",
                                        help="write the retention-gain figure here (png, pdf, svg)")):
    """Learning by teaching: robot accuracy on taught and unseen items, the teacher's retention gain."""
    if mechanism:
        _mechanism(teacher_knowledge, retrieval_strength, forgetting_rate, tutee_error_rate, judging_effort,
                   encoding_rate=encoding_rate, initial_stability=initial_stability, delay=delay,
                   episodes=episodes, seeds=seeds, seed=seed, choice=choice, n_taught=taught, format=format,
                   out=out)
        return
    from raflab.agents.teaching import RobotParams, TeacherLearning, teaching_experiment
    from raflab.core.ranges import parse_range

    tasks = _tasks(task)
    check_out_path(out)
    check_out_path(out_gain, option="--out-gain")
    levels = parse_range(teacher_knowledge, "teacher knowledge")
    records, curves = teaching_experiment(
        tasks, levels, episodes=episodes, seeds=seeds, seed=seed, feedback_accuracy=feedback_accuracy,
        choice=choice, n_taught=taught, n_candidates=candidates,
        robot=RobotParams(learning_rate=learning_rate, epsilon=epsilon),
        learning=TeacherLearning(exposure_gain, correction_gain, rule_correction_gain), progress=True)
    settings = (f"feedback accuracy {feedback_accuracy:g}, {choice} items, {taught} taught nouns, "
                f"{episodes} episodes, {seeds} seeds")
    if out is not None or out_gain is not None:
        from raflab.agents.plots import plot_teaching_curves, plot_teaching_gain

        if out is not None:
            plot_teaching_curves(curves, out=out, title=f"robot learning curves ({settings})")
            typer.echo(f"figure written to {out}", err=True)
        if out_gain is not None:
            plot_teaching_gain(records, out=out_gain, title=f"teacher retention gain ({settings})")
            typer.echo(f"figure written to {out_gain}", err=True)
    if format != Format.table:
        _emit(records, format, f"Learning by teaching: {settings}")
        return
    # a terminal table per task: settings and chance in the title, spaces in the names (headers wrap)
    for name, part in records.groupby("task", sort=False):
        chance = part["chance"].iloc[0]
        part = part.drop(columns=["task", "chance", *_SETTINGS])
        part["condition"] = part["condition"].str.replace("_", " ")
        part.columns = [c.replace("_stderr", " ±").replace("_", " ") for c in part.columns]
        _emit(part, format, f"Learning by teaching, {name} (chance {chance:.3g}): {settings}")


#: the columns of the mechanism table (the rest, counts and intervals: --format json / csv)
MECHANISM_TABLE = ["teacher_knowledge", "retrieval_strength", "forgetting_rate", "tutee_error_rate", "judging_effort",
                   "immediate_advantage", "immediate_advantage_stderr", "delayed_teaching", "delayed_practice",
                   "delayed_advantage", "delayed_advantage_stderr", "delayed_winner", "corrections"]


def _mechanism(teacher_knowledge, retrieval_strength, forgetting_rate, tutee_error_rate, judging_effort, *,
               format, out, **options):
    from raflab.agents.teaching_memory import teaching_mechanism
    from raflab.core.ranges import parse_range

    check_out_path(out)
    axes = {name: parse_range(text, name.replace("_", " ")) for name, text in (
        ("teacher_knowledge", teacher_knowledge), ("retrieval_strength", retrieval_strength),
        ("forgetting_rate", forgetting_rate), ("tutee_error_rate", tutee_error_rate),
        ("judging_effort", judging_effort))}
    records = teaching_mechanism(axes.pop("teacher_knowledge"), **axes, **options)
    settings = (f"{options['choice']} items, {options['n_taught']} taught items, {options['episodes']} episodes, "
                f"delay {options['delay']:g}, {options['seeds']} paired seeds")
    if out is not None:
        from raflab.agents.plots import plot_teaching_map

        plot_teaching_map(records, out=out, title=f"teaching - self-practice ({settings})")
        typer.echo(f"figure written to {out}", err=True)
    if format == Format.table:
        records = records[MECHANISM_TABLE]
    _emit(records, format, f"Learning by teaching as a mechanism: {settings}")


schema_app = typer.Typer(no_args_is_help=True,
                         help="schema linking: rote supervised fine-tuning vs GRPO on synthetic databases")


NTrainOpt = typer.Option(30, "--train-dbs", help="training databases (train and unseen-paraphrase splits)")


NTestOpt = typer.Option(10, "--test-dbs", help="unseen-schema databases")


QuestionsOpt = typer.Option(20, "--questions", help="questions per database and split")


SynonymOpt = typer.Option(0.5, "--synonym-prob", help="probability that a mention uses a synonym")


def _data_config(train_dbs, test_dbs, questions, synonym_prob):
    from raflab.agents.schema.data import SchemaDataConfig

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
    from raflab.agents.schema import data

    if n < 0:
        raise ValueError(f"n must be >= 0 (got {n})")
    check_out_path(out, suffixes=None)
    examples = data.questions(_data_config(train_dbs, test_dbs, questions, synonym_prob), split, seed)
    if out is not None:
        data.write_jsonl(examples, out)
        typer.echo(f"{len(examples)} questions written to {out}", err=True)
    _emit(data.question_records(examples if n == 0 else examples[:n]), fmt,
          f"schema linking data ({split}, seed {seed})")


def _parse_methods(text: str) -> list[str]:
    """``sft,sft+grpo`` -> the names (the library checks them); ``eval`` stands alone."""
    methods = [m.strip() for m in text.split(",") if m.strip()]
    if not methods:
        raise ValueError("no method given")
    if "eval" in methods and len(methods) > 1:
        raise ValueError("method eval cannot be combined with training methods")
    return methods


COLUMNS = ["method", "split", "n_seeds", "tables_exact", "tables_filter", "columns_exact", "columns_filter",
           "mean_reward", "tables_filter_stderr", "columns_filter_stderr", "columns_exact_stderr", "tables_recall",
           "columns_recall", "items_predicted", "format_ok"]


TABLE_COLUMNS = ["method", "split", "n_seeds", "tables_exact", "tables_filter", "columns_exact", "columns_filter",
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
    check_out_path(out)
    check_out_path(save, suffixes=None, option="--save")
    if methods == ["eval"]:
        if load is None:
            raise ValueError("--method eval needs --load CHECKPOINT")
        _eval(load, device, fmt)
        return
    from raflab.agents.schema.linker import SchemaTrainConfig, run_schema_study, summarize, summarize_curves

    given = {"sft_steps": sft_steps, "grpo_steps": grpo_steps, "group_size": group_size, "beta": beta}
    tcfg = SchemaTrainConfig(**{k: v for k, v in given.items() if v is not None})
    dcfg = _data_config(train_dbs, test_dbs, questions, synonym_prob)
    records, curves = run_schema_study(dcfg, tcfg, methods=methods, seeds=seeds, seed=seed, device=device,
                                       save=save)
    if save is not None:
        typer.echo(f"policy ({methods[-1]}, last seed) saved to {save}", err=True)
    table = summarize(records)
    if out is not None:
        from raflab.agents.plots import plot_schema_curves

        plot_schema_curves(summarize_curves(curves), table, out=out)
        typer.echo(f"figure written to {out}", err=True)
    cols = TABLE_COLUMNS if fmt == Format.table else COLUMNS
    _emit(table[[c for c in cols if c in table.columns]], fmt,
          f"schema linking: {', '.join(methods)}; {seeds} seed(s), greedy decoding")


def _eval(path: str, device: str, fmt: Format) -> None:
    from raflab.agents.schema.linker import evaluate_checkpoint

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


ABLATE_COLUMNS = ["variant", "split", "n_seeds", "tables_filter_gain", "columns_filter_gain", "tables_exact_gain",
                  "columns_exact_gain", "items_predicted_gain", "grpo_columns_filter", "grpo_columns_exact",
                  "grpo_items_predicted"]  # intervals (<m>_gain_low / _high) and the rest: --format json / csv


@schema_app.command()
@user_errors
def ablate(variant: str = typer.Option("all", "--variant",
                                       help="comma-separated variants of raflab.agents.schema.ablation.VARIANTS, or all"),
           method: str = typer.Option("sft+grpo,grpo", "--method", help="sft+grpo and/or grpo (comma-separated)"),
           seeds: int = typer.Option(3, "--seeds", help="seeds (each draws its own data and initial policy)"),
           seed: int = SeedOpt,
           sft_steps: int = typer.Option(None, "--sft-steps", help="SFT steps (default of SchemaTrainConfig)"),
           grpo_steps: int = typer.Option(None, "--grpo-steps", help="GRPO steps (default of SchemaTrainConfig)"),
           train_dbs: int = NTrainOpt, test_dbs: int = NTestOpt, questions: int = QuestionsOpt,
           synonym_prob: float = SynonymOpt, device: str = device_option("where the policies train and decode"),
           records_out: str = typer.Option(None, "--records", help="write the per-seed records (CSV) here"),
           fmt: Format = FormatOpt):
    """Reward / KL / group-size ablation: SFT+GRPO minus SFT per variant and split (paired by seed, 95 %
    t intervals in json / csv) and what GRPO from scratch reaches."""
    from raflab.agents.schema.ablation import VARIANTS, ablation_gains, run_reward_ablation
    from raflab.agents.schema.linker import SchemaTrainConfig

    check_out_path(records_out, suffixes=(".csv",), option="--records")
    variants = list(VARIANTS) if variant.strip() == "all" else [v.strip() for v in variant.split(",") if v.strip()]
    methods = [m.strip() for m in method.split(",") if m.strip()]
    given = {"sft_steps": sft_steps, "grpo_steps": grpo_steps}
    base = SchemaTrainConfig(**{k: v for k, v in given.items() if v is not None})
    records = run_reward_ablation(variants, seeds=seeds, seed=seed, base=base, methods=methods, device=device,
                                  data_cfg=_data_config(train_dbs, test_dbs, questions, synonym_prob),
                                  progress=lambda line: typer.echo(line, err=True))
    if records_out is not None:
        records.to_csv(records_out, index=False)
        typer.echo(f"records written to {records_out}", err=True)
    table = ablation_gains(records)
    if fmt == Format.table:
        table = table[[c for c in ABLATE_COLUMNS if c in table.columns]]
    _emit(table, fmt, f"schema linking reward ablation: SFT+GRPO minus SFT; {seeds} seed(s), greedy decoding")
