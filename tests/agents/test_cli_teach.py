"""``raflab teach``: records in the three formats, the two figures, and bad input (one line, exit 2)."""

import json

import pytest
from typer.testing import CliRunner

from raflab.cli import app

runner = CliRunner()
FAST = ["--episodes", "120", "--seeds", "3"]


def test_json_records_for_both_tasks_and_conditions():
    r = runner.invoke(app, ["teach", "--teacher-knowledge", "0.3:0.9:2", *FAST, "--feedback-accuracy", "1",
                            "--choice", "random", "--seed", "7", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 8
    assert {(x["task"], x["condition"], x["teacher_knowledge"]) for x in rows} == {
        (t, c, k) for t in ("vocabulary", "grammar") for c in ("teaching", "self_practice") for k in (0.3, 0.9)}
    for x in rows:
        assert x["feedback_accuracy"] == 1.0 and x["choice"] == "random" and x["episodes"] == 120
        assert x["n_seeds"] == 3 and x["teacher_retention_gain_stderr"] is not None
        assert x["chance"] == (0.25 if x["task"] == "vocabulary" else 0.5)
        if x["condition"] == "self_practice":  # no robot: no robot accuracy; no teaching gain
            assert x["robot_accuracy_taught"] is None and x["robot_accuracy_unseen"] is None
            assert x["teaching_gain"] == 0
        else:
            assert x["teaching_gain"] > 0
            if x["teacher_knowledge"] == 0.9:
                assert x["robot_accuracy_taught"] > x["chance"] + 0.2
            if x["task"] == "vocabulary":
                assert x["robot_accuracy_unseen"] == 0.25
    again = runner.invoke(app, ["teach", "--teacher-knowledge", "0.3:0.9:2", *FAST, "--feedback-accuracy", "1",
                                "--choice", "random", "--seed", "7", "--format", "json"])
    assert json.loads(again.stdout) == rows


def test_table_csv_and_figures(tmp_path):
    curves, gain = tmp_path / "curves.png", tmp_path / "sub" / "gain.pdf"
    r = runner.invoke(app, ["teach", "--task", "grammar", "--teacher-knowledge", "0.5", *FAST,
                            "--out", str(curves), "--out-gain", str(gain)])
    assert r.exit_code == 0, r.output
    assert "Learning by teaching, grammar (chance 0.5)" in r.stdout and "vocabulary" not in r.stdout
    assert curves.stat().st_size > 10_000 and gain.stat().st_size > 5_000
    r = runner.invoke(app, ["teach", "--task", "vocabulary", "--teacher-knowledge", "0.2,0.8", *FAST,
                            "--format", "csv"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("task,condition,teacher_knowledge,feedback_accuracy,choice,episodes,n_seeds,chance,"
                               "robot_accuracy_taught,robot_accuracy_taught_stderr,robot_accuracy_unseen")
    assert len(lines) == 5


@pytest.mark.parametrize("args, message", [
    (["--teacher-knowledge", "0.2:1.2:3"], "error: teacher knowledge must be in [0, 1] (got 0.2, 0.7, 1.2)"),
    (["--teacher-knowledge", "-0.1"], "error: teacher knowledge must be in [0, 1]"),
    (["--teacher-knowledge", "abc"], "error: malformed range for teacher knowledge"),
    (["--feedback-accuracy", "1.5"], "error: feedback accuracy must be in [0, 1] (got 1.5)"),
    (["--feedback-accuracy", "-0.2"], "error: feedback accuracy must be in [0, 1]"),
    (["--task", "spelling"], "error: unknown task 'spelling'; choose one of vocabulary, grammar"),
    (["--task", "vocabulary,spelling"], "error: unknown task 'spelling'"),
    (["--choice", "greedy"], "error: unknown item choice 'greedy'"),
    (["--episodes", "0"], "error: episodes must be an integer >= 1"),
    (["--taught", "0"], "error: taught items must be between 1 and 263"),
    (["--exposure-gain", "2"], "error: exposure gain must be in [0, 1]"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = runner.invoke(app, ["teach", *FAST, *args])
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith(message), r.output
