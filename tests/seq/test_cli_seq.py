"""raflab seq: bad input is one line and exit 2; records and studies from the command line."""

import json

import pytest
from typer.testing import CliRunner

from raflab.cli import app

runner = CliRunner()


@pytest.mark.parametrize("args, message", [
    (["--task", "poetry"], "unknown task 'poetry'"),
    (["--model", "lstm"], "unknown model 'lstm'"),
    (["--width", "30", "--heads", "4"], "width must be divisible by heads"),
    (["--task", "mqar", "--seq-len", "63"], "seq_len"),
    (["--task", "mqar", "--seq-len", "16", "--pairs", "8"], "pairs"),
    (["--device", "tpu"], "device"),
    (["--steps", "0"], "steps"),
])
def test_bad_input_is_one_line(args, message):
    result = runner.invoke(app, ["seq", "train", "--quiet", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output


def test_unknown_study_and_bad_config(tmp_path):
    result = runner.invoke(app, ["seq", "study", "grokking"])
    assert result.exit_code == 2 and "unknown study 'grokking'" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstudy: mqar\nbase: {task: mqar}\ngrid: {colour: [1, 2]}\n")
    result = runner.invoke(app, ["seq", "study", "mqar", "--config", str(bad)])
    assert result.exit_code == 2 and "'colour' is not a run setting" in result.output


def test_train_record_has_the_issue_keys():
    result = runner.invoke(app, ["seq", "train", "--task", "facts", "--width", "16", "--steps", "20",
                                 "--eval-every", "10", "--quiet", "--device", "cpu", "--format", "json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)[0]
    for key in ("task", "model", "params", "steps", "seed", "train_accuracy", "heldout_accuracy", "train_loss",
                "wall_s"):
        assert key in record
    assert record["task"] == "facts" and record["steps"] == 20 and record["heldout_accuracy"] is None
