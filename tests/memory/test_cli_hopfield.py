"""raflab hopfield ...: records, formats, figures, and one-line errors with exit code 2."""

import json

import pytest
from typer.testing import CliRunner

from raflab.memory.cli import hopfield_app

runner = CliRunner()


def _json(args):
    r = runner.invoke(hopfield_app, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_capacity():
    (row,) = _json(["capacity"])
    assert abs(row["alpha_c"] - 0.138) < 2e-3 and row["alpha_lo"] < row["alpha_c"] < row["alpha_hi"]


def test_theory_csv_and_table():
    r = runner.invoke(hopfield_app, ["theory", "--alpha", "0.02:0.2:10", "--format", "csv"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("alpha,overlap,r,C,retrieval") and len(lines) == 11
    r = runner.invoke(hopfield_app, ["theory", "--alpha", "0.1"])
    assert r.exit_code == 0 and "Hopfield retrieval" in r.stdout


def test_simulate_records_and_figure(tmp_path):
    out = tmp_path / "overlap.png"
    rows = _json(["simulate", "--alpha", "0.05,0.1", "--n", "300", "--seeds", "2", "--device", "cpu",
                  "--out", str(out)])
    assert [r["alpha"] for r in rows] == [0.05, 0.1]
    for r in rows:
        assert {"alpha", "overlap", "overlap_stderr", "n", "n_seeds", "overlap_theory"} <= set(r)
        assert r["n"] == 300 and r["n_seeds"] == 2 and r["overlap"] > 0.9
    assert out.exists() and out.stat().st_size > 10_000


def test_dense():
    rows = _json(["dense", "--n", "1000", "--degree", "2", "--rho", "0"])
    poly, expo = rows
    assert poly["K_pattern"] == pytest.approx(1000 / (2 * 6.907755), rel=1e-6)
    assert expo["exponent_all"] == pytest.approx(0.34657, abs=1e-5)


def test_ring_theory_beside_dense_am():
    rows = _json(["ring", "--beta", "0.5,20", "--K", "2048"])
    assert rows[0]["R_star"] == 0 and abs(rows[0]["R_dense_am"]) < 1e-8
    assert rows[1]["R_star"] == pytest.approx(rows[1]["R_dense_am"], abs=1e-9)
    assert rows[1]["R_star"] == pytest.approx(1 - 1 / 80, abs=1e-3)


def test_attractors_counts_and_figure(tmp_path):
    out = tmp_path / "att.png"
    rows = _json(["attractors", "--data", "ring", "--K", "2,64", "--beta", "20", "--starts", "64",
                  "--device", "cpu", "--out", str(out)])
    assert [r["K"] for r in rows] == [2, 64]
    assert rows[0]["n_stored"] == 2 and rows[0]["fraction_stored"] == 1.0
    assert rows[1]["n_stored"] == 0 and rows[1]["n_spurious"] > 0
    for r in rows:
        assert r["fraction_stored"] + r["fraction_spurious"] + r["fraction_mean"] == pytest.approx(1.0)
    assert out.exists()


@pytest.mark.parametrize("args", [
    ["attractors", "--K", "0"],
    ["attractors", "--K", "2,0.5"],
    ["attractors", "--beta", "0"],
    ["attractors", "--beta", "-1"],
    ["attractors", "--data", "moons"],
    ["attractors", "--data", "mnist", "--data-dir", "/nonexistent-raflab-dir", "--K", "2"],
    ["simulate", "--alpha", "0"],
    ["simulate", "--alpha", "0.1,-0.2"],
    ["simulate", "--n", "1"],
    ["simulate", "--seeds", "1"],
    ["theory", "--alpha", "-0.1"],
    ["theory", "--alpha", "a:b"],
    ["ring", "--beta", "0"],
    ["dense", "--degree", "1"],
    ["dense", "--n", "1"],
    ["dense", "--rho", "0.5"],
])
def test_bad_input_is_one_line_and_exit_2(args):
    r = runner.invoke(hopfield_app, args)
    assert r.exit_code == 2, r.output
    err = r.stderr.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1, err


def test_generalized_ring_counts_and_figure(tmp_path):
    out = tmp_path / "gen.png"
    r = runner.invoke(hopfield_app, ["generalized", "--K", "2,32", "--seeds", "3", "--starts", "64", "--device", "cpu",
                            "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["K"] for row in rows] == [2, 32] and out.exists()
    # two memories on the ring at beta = 20 are almost surely farther apart than the kernel width: both stored
    assert rows[0]["n_stored"] == 2 and rows[0]["n_generalized"] == 0
    assert rows[1]["n_generalized"] > 0 and "n_generalized_ci95_low" in rows[1]
