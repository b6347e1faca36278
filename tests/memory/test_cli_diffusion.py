import json

import pytest
from typer.testing import CliRunner

from raflab.cli import app

runner = CliRunner()


def test_phases_exact_json_and_figure(tmp_path):
    out = tmp_path / "fig.png"
    r = runner.invoke(app, ["diffusion", "phases", "--K", "2,9", "--exact", "--samples", "100", "--sample-steps", "40",
                            "--device", "cpu", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["K"] for row in rows] == [2, 9]
    assert all(row["memorized_fraction"] >= 0.99 and row["samples"] == 100 and row["steps"] == 0 for row in rows)
    assert {"spurious_fraction", "generalized_fraction"} <= set(rows[0]) and out.exists()


def test_train_then_sample_with_checkpoint(tmp_path):
    ckpt = tmp_path / "ring.pt"
    r = runner.invoke(app, ["diffusion", "train", "--K", "4", "--steps", "20", "--width", "16", "--checkpoint",
                            str(ckpt), "--quiet", "--device", "cpu", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["steps"] == 20 and ckpt.exists()
    # a second call with a larger budget resumes from step 20
    r = runner.invoke(app, ["diffusion", "train", "--K", "4", "--steps", "30", "--width", "16", "--checkpoint",
                            str(ckpt), "--quiet", "--device", "cpu", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["steps"] == 30
    fig = tmp_path / "samples.png"
    r = runner.invoke(app, ["diffusion", "sample", "--checkpoint", str(ckpt), "--samples", "50", "--sample-steps",
                            "10", "--format", "csv", "--out", str(fig)])
    assert r.exit_code == 0, r.output
    assert "memorized_fraction" in r.stdout and fig.exists()


def test_phases_trained_on_mixture_table():
    r = runner.invoke(app, ["diffusion", "phases", "--data", "mixture", "--K", "3", "--steps", "10", "--width", "16",
                            "--samples", "20", "--sample-steps", "5", "--quiet", "--device", "cpu", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "generalized_fraction" in r.stdout


@pytest.mark.parametrize("args", [
    ["phases", "--K", "0"],
    ["phases", "--K", "2,-3"],
    ["phases", "--K", "2.5"],
    ["phases", "--sigma-max", "0"],
    ["phases", "--schedule", "vp", "--beta-max", "-1"],
    ["phases", "--data", "svhn"],
    ["phases", "--data", "mnist", "--data-dir", "."],
    ["phases", "--data", "cifar10"],
    ["phases", "--sampler", "heun"],
    ["train", "--K", "0", "--checkpoint", "x.pt"],
    ["sample", "--samples", "10"],
    ["sample", "--checkpoint", "does-not-exist.pt"],
    ["phases", "--device", "tpu"],
])
def test_bad_input_is_one_line_and_exit_2(args):
    r = runner.invoke(app, ["diffusion", *args])
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.output


def test_attractors_ring_json_and_figure(tmp_path):
    out = tmp_path / "spurious.png"
    r = runner.invoke(app, ["diffusion", "attractors", "--K", "9", "--seeds", "2", "--steps", "100", "--samples", "60",
                            "--max-checked", "20", "--basin-points", "1", "--trials", "2", "--device", "cpu", "--format", "json",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["K"] for row in rows] == [9] and rows[0]["n_seeds"] == 2 and out.exists()
    row = rows[0]
    assert 0 <= row["confirmed_fraction"] <= row["fixed_fraction"] <= 1
    assert row["confirmed_fraction_ci95_low"] <= row["confirmed_fraction"] <= row["confirmed_fraction_ci95_high"]


def test_attractors_bad_input_is_one_line():
    r = runner.invoke(app, ["diffusion", "attractors", "--data", "mixture", "--K", "9"])
    assert r.exit_code != 0 and "Traceback" not in r.output and "manifold" in r.output
    r = runner.invoke(app, ["diffusion", "attractors", "--sigma0", "2", "--K", "9"])
    assert r.exit_code != 0 and "sigma0" in r.output
