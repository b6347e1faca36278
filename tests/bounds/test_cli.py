import json

import pytest
from typer.testing import CliRunner

from raflab.cli import app

runner = CliRunner()


def test_bound_records_of_the_issue_example():
    r = runner.invoke(app, ["sdpi", "bound", "--instance", "gaussian", "--d", "1024", "--sigma2", "32",
                            "--n", "1,4,16,64", "--error", "0.25", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["n"] for x in rows] == [1, 4, 16, 64]
    assert [x["bound_factor"] for x in rows] == pytest.approx([1056, 264, 66, 16.5])
    assert rows[0]["lower_bound_bits"] == pytest.approx(1056 * 0.18872187554086717)
    assert all(x["matching_bits"] >= x["lower_bound_bits"] for x in rows)


def test_boolean_bound_and_figure(tmp_path):
    out = tmp_path / "b.png"
    r = runner.invoke(app, ["sdpi", "bound", "--instance", "boolean", "--d", "256", "--n", "1:16:4",
                            "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists() and "lower_bound_bits" in r.output and "matching_flip_prob" in r.output


def test_measure_csv_and_figure(tmp_path):
    out = tmp_path / "m.png"
    r = runner.invoke(app, ["sdpi", "measure", "--learner", "noisy-mean,sign-mean", "--d", "8", "--n", "1,4",
                            "--reps", "400", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output[r.output.index("["):])
    assert len(rows) == 4 and out.exists()
    assert all(abs(x["memorization_bits"] - x["exact_bits"]) < 4 * x["memorization_bits_stderr"] + 0.05 for x in rows)


def test_raf_fact_bits():
    r = runner.invoke(app, ["sdpi", "raf", "--model", "linear", "--eps", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)[0]["fact_bits_per_parameter"] == pytest.approx(2.0)


@pytest.mark.parametrize("instance,extra", [("boolean", []), ("sparse", ["--p", "0.3"]),
                                            ("mixture", ["--base", "sparse", "--clusters", "3"])])
@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_measure_on_every_instance_in_every_format(instance, extra, fmt):
    r = runner.invoke(app, ["sdpi", "measure", "--instance", instance, *extra, "--learner", "sign-mean,ridge",
                            "--d", "6", "--n", "1,3", "--reps", "60", "--test-size", "64", "--format", fmt])
    assert r.exit_code == 0, r.output
    if fmt == "json":
        rows = json.loads(r.output[r.output.index("["):])
        assert len(rows) == 4 and {x["instance"] for x in rows} == {instance}
        assert all(x["memorization_bits"] >= 0 and 0 <= x["error"] <= 1 for x in rows)
    elif fmt == "csv":
        assert "memorization_bits" in r.output and "lower_bound_bits" in r.output
    else:
        assert "measured memorization" in r.output


def test_bound_sparse_and_mixture_records():
    r = runner.invoke(app, ["sdpi", "bound", "--instance", "sparse", "--d", "1024", "--n", "1,4", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[0]["p"] == pytest.approx(1 / 32) and rows[0]["tau"] == pytest.approx(1 / 6)
    r = runner.invoke(app, ["sdpi", "bound", "--instance", "mixture", "--base", "gaussian", "--sigma2", "8",
                            "--clusters", "4", "--d", "32", "--n", "16", "--error", "0.2", "--format", "json"])
    assert r.exit_code == 0, r.output
    row = json.loads(r.output)[0]
    assert row["base"] == "gaussian" and row["lower_bound_bits"] > 0 and row["clusters"] == 4


def test_attack_json():
    r = runner.invoke(app, ["sdpi", "attack", "--learner", "noisy-mean,sign-mean", "--d", "16", "--n", "8",
                            "--clusters", "8", "--seeds", "2", "--reps", "10", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output[r.output.index("["):])
    assert [x["learner"] for x in rows] == ["noisy-mean", "sign-mean"] and rows[1]["recovery"] == 1.0


@pytest.mark.parametrize("args,message", [
    (["bound", "--instance", "sparse", "--p", "0"], "p must be"),
    (["bound", "--instance", "gaussian", "--r", "0.3"], "--r does not apply"),
    (["bound", "--instance", "mixture", "--clusters", "0"], "clusters must be"),
    (["bound", "--instance", "mixture", "--base", "nope"], "unknown base instance"),
    (["bound", "--instance", "boolean", "--clusters", "3"], "--clusters does not apply"),
    (["measure", "--instance", "sparse", "--sigma2", "2"], "--sigma2 does not apply"),
    (["measure", "--instance", "boolean", "--test-size", "0"], "test-size must be"),
    (["attack", "--seeds", "1"], "seeds must be >= 2"),
    (["attack", "--learner", "svm"], "unknown learner"),
    (["attack", "--noise", "0"], "noise must be > 0"),
    (["bound", "--n", "0,4"], "n must be"),
    (["bound", "--n", "2.5"], "n must be"),
    (["bound", "--d", "0"], "d must be"),
    (["bound", "--sigma2", "0"], "sigma2 must be > 0"),
    (["bound", "--sigma2", "-3"], "sigma2 must be > 0"),
    (["bound", "--error", "0.6"], "error must be in [0, 1/2]"),
    (["bound", "--error", "-0.1"], "error must be in [0, 1/2]"),
    (["bound", "--instance", "sparse-ish"], "unknown instance"),
    (["bound", "--instance", "boolean", "--r", "1.5"], "r must be"),
    (["measure", "--learner", "svm"], "unknown learner"),
    (["measure", "--instance", "nope"], "unknown instance"),
    (["measure", "--n", "0"], "n must be"),
    (["measure", "--d", "0"], "d must be"),
    (["measure", "--sigma2", "0"], "sigma2 must be > 0"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = runner.invoke(app, ["sdpi", *args])
    assert r.exit_code == 2
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], r.output
