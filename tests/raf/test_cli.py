"""The raflab command: records, formats, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "raflab.cli", *args], capture_output=True, text=True)


def test_theory_json_records_have_the_documented_keys():
    r = run("theory", "--model", "linear", "--loss", "hinge", "--alpha", "0.5:5:4", "--eps", "0.2",
            "--lam", "0.1", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert len(recs) == 4
    keys = {"model", "loss", "alpha", "eps", "lam", "gen_error", "rule_train_error",
            "fact_memorization_error", "train_loss", "m", "q", "V", "converged", "iterations"}
    assert keys <= set(recs[0])
    assert recs[1]["alpha"] == 2.0 and abs(recs[1]["gen_error"] - 0.269) < 1e-3


def test_theory_csv_and_table():
    r = run("theory", "--loss", "square", "--alpha", "1,2", "--format", "csv")
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith("model,loss,alpha,eps,lam,gen_error")
    assert len(r.stdout.strip().splitlines()) == 3
    r = run("theory", "--loss", "square", "--alpha", "2")
    assert r.returncode == 0 and "gen_error" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["theory", "--eps", "1.5"], "eps must be in [0, 1]"),
    (["theory", "--eps", "-0.2"], "eps must be in [0, 1]"),
    (["theory", "--alpha", "0"], "alpha must be > 0"),
    (["theory", "--alpha", "-1:2:3"], "alpha must be > 0"),
    (["theory", "--lam", "-1"], "lam must be >= 0"),
    (["theory", "--loss", "absolute"], "unknown loss"),
    (["theory", "--model", "transformer"], "unknown model"),
    (["theory", "--alpha", "1:2"], "malformed range for alpha"),
    (["theory", "--eps", "0.1,x"], "malformed range for eps"),
    (["simulate", "--d", "1", "--alpha", "2"], "d must be an integer >= 2"),
    (["simulate", "--seeds", "0", "--d", "20"], "seeds must be >= 1"),
    (["simulate", "--loss", "hinge", "--lam", "0", "--eps", "1", "--alpha", "4", "--d", "40", "--seeds", "1"],
     "not linearly separable"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], r.stderr


def test_unconverged_points_are_reported_on_stderr():
    r = run("theory", "--loss", "square", "--alpha", "1", "--lam", "0", "--format", "json")
    assert r.returncode == 0
    assert "warning:" in r.stderr and "did not converge" in r.stderr
    assert json.loads(r.stdout)[0]["converged"] is False


def test_simulate_and_compare_records(tmp_path):
    r = run("simulate", "--loss", "square", "--alpha", "1,2", "--eps", "0.2", "--lam", "0.1", "--d", "60",
            "--seeds", "3", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert {"d", "n_seeds", "gen_error_stderr", "rule_train_error_stderr",
            "fact_memorization_error_stderr"} <= set(recs[0])
    assert recs[0]["d"] == 60 and recs[0]["n_seeds"] == 3
    fig = tmp_path / "fig.png"
    r = run("compare", "--loss", "square", "--alpha", "1,2", "--eps", "0,0.3", "--lam", "0.1", "--d", "60",
            "--seeds", "2", "--format", "csv", "--out", str(fig))
    assert r.returncode == 0, r.stderr
    assert fig.stat().st_size > 10_000
    assert "gen_error_theory" in r.stdout.splitlines()[0]


def test_every_command_has_help():
    for cmd in ("theory", "simulate", "compare"):
        r = run(cmd, "--help")
        assert r.returncode == 0 and "--format" in r.stdout
