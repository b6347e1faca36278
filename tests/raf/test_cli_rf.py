"""The raflab commands for random features, kernels, capacity, phase diagrams and optimal lam."""

import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "raflab.cli", *args], capture_output=True, text=True)


def test_theory_rf_records_carry_kappa_and_activation():
    r = run("theory", "--model", "rf", "--activation", "tanh", "--kappa", "1,4", "--loss", "hinge",
            "--alpha", "2", "--eps", "0.3", "--lam", "0.001", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert [(x["kappa"], x["activation"]) for x in recs] == [(1.0, "tanh"), (4.0, "tanh")]
    # four times more features store many more facts
    assert recs[1]["fact_memorization_error"] < 0.5 * recs[0]["fact_memorization_error"]


def test_user_supplied_activation_by_import_path():
    r = run("theory", "--model", "rf", "--activation", "numpy:sin", "--loss", "square", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["activation"] == "sin"


def test_capacity_linear_is_gardner_and_rf_grows_with_kappa():
    r = run("capacity", "--model", "linear", "--eps", "1", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["alpha"] == pytest.approx(2.0, abs=1e-2)
    r = run("capacity", "--model", "rf", "--activation", "relu", "--kappa", "1,2,4", "--eps", "0.3",
            "--alpha", "6", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    caps = [x["alpha"] for x in recs if x["solved_for"] == "alpha"]
    assert np.all(np.diff(caps) > 0)
    eps_c = {x["kappa"]: x["eps"] for x in recs if x["solved_for"] == "eps"}
    assert eps_c[4.0] == 1.0 and eps_c[1.0] is None  # kappa=1 cannot even fit the rule at alpha=6


def test_simulate_rf_small():
    r = run("simulate", "--model", "rf", "--kappa", "2", "--loss", "square", "--alpha", "1", "--eps", "0.2",
            "--lam", "0.1", "--d", "40", "--seeds", "2", "--format", "csv")
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split(",")
    assert {"kappa", "activation", "gen_error_stderr"} <= set(header)


def test_phase_writes_records_and_figure(tmp_path):
    out = tmp_path / "phase.png"
    r = run("phase", "--model", "rf", "--kappa", "2", "--loss", "hinge", "--alpha", "0.5:4:5", "--eps", "0:1:4",
            "--lam", "0", "--check-d", "30", "--check-seeds", "1", "--check-grid", "1", "--out", str(out),
            "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert sum(x["source"] == "theory" for x in recs) == 20 and sum(x["source"] != "theory" for x in recs) == 1
    assert {"rule_learned", "facts_memorized", "rule_and_facts"} <= set(recs[0])
    assert out.stat().st_size > 10_000


def test_optimal_lam_square_closed_form_and_pareto_figure(tmp_path):
    out = tmp_path / "pareto.png"
    r = run("optimal-lam", "--loss", "square", "--alpha", "2", "--eps", "0,0.2", "--out", str(out),
            "--format", "json")
    assert r.returncode == 0, r.stderr
    lams = [x["lam"] for x in json.loads(r.stdout)]
    np.testing.assert_allclose(lams, [np.pi / 2 - 1, np.pi / (2 * 0.64) - 1], rtol=1e-4)
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["theory", "--model", "rf", "--kappa", "0"], "kappa must be > 0"),
    (["theory", "--model", "rf", "--kappa", "-1,2"], "kappa must be > 0"),
    (["theory", "--model", "rf", "--activation", "swish"], "unknown activation"),
    (["theory", "--model", "rf", "--activation", "nosuchmodule:f"], "cannot import activation"),
    (["theory", "--model", "forest"], "unknown model"),
    (["capacity", "--model", "rf", "--kappa", "0"], "kappa must be > 0"),
    (["phase", "--x", "alpha", "--y", "alpha"], "must differ"),
    (["phase", "--x", "kappa"], "--x must be one of"),
    (["phase", "--x", "alpha", "--y", "eps", "--lam", "0.1,1"], "--lam must be a single value"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_kernel_theory_and_capacity_from_the_command_line():
    r = run("theory", "--model", "kernel", "--kernel", "polynomial:degree=3,coef0=1", "--loss", "square",
            "--alpha", "1,2", "--eps", "0.2", "--lam", "0", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert [x["kernel"] for x in recs] == ["polynomial", "polynomial"]
    assert all(x["fact_memorization_error"] == 0 for x in recs)  # k(1) > k(0) + k'(0): interpolates
    r = run("capacity", "--model", "kernel", "--kernel", "arccos", "--eps", "1", "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["alpha"] is None  # infinite capacity -> null


@pytest.mark.parametrize("args, message", [
    (["theory", "--model", "kernel", "--kernel", "laplace"], "unknown kernel"),
    (["theory", "--model", "kernel", "--kernel", "polynomial:degree"], "malformed kernel parameters"),
    (["theory", "--model", "kernel", "--kernel", "polynomial:degree=0"], "degree"),
])
def test_bad_kernel_input(args, message):
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
