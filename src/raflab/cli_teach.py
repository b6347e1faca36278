"""``raflab teach``: the learning-by-teaching simulation (robot learners taught by simulated children).

Records: one per (task, condition, teacher_knowledge), means and standard errors over seeds; ``--out``
draws the robot's learning curves (taught vs unseen items, one panel per task), ``--out-gain`` the
teacher's retention gain by condition and prior-knowledge group. The model is documented in
``docs/teaching.md`` and ``raflab.agents.teaching``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from raflab.cli_common import Format, FormatOpt, SeedOpt, _emit, check_out_path, user_errors

_SETTINGS = ("feedback_accuracy", "choice", "episodes", "n_seeds")


def _tasks(text: str) -> list[str]:
    from raflab.agents.teaching import check_task

    tasks = [t.strip() for t in text.split(",") if t.strip()]
    if not tasks:
        raise ValueError("task must be vocabulary, grammar or vocabulary,grammar")
    return [check_task(t) for t in dict.fromkeys(tasks)]


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
          format: Format = FormatOpt,
          out: Path = typer.Option(None, "--out", help="write the robot learning-curve figure here (png, pdf, svg)"),
          out_gain: Path = typer.Option(None, "--out-gain",
                                        help="write the retention-gain figure here (png, pdf, svg)")):
    """Learning by teaching: robot accuracy on taught and unseen items, the teacher's retention gain."""
    from raflab.agents.teaching import RobotParams, TeacherLearning, teaching_experiment
    from raflab.ranges import parse_range

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
        from raflab.plots import plot_teaching_curves, plot_teaching_gain

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
