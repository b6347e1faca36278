"""The RAF figure gallery: every theory figure drawn, as a valid PNG (its speed: benchmarks/bench_gallery.py)."""

import json

import matplotlib.image
from typer.testing import CliRunner

from raflab.cli import app

THEORY_FIGURES = {"errors_square", "errors_hinge", "errors_logistic", "rf_errors_kappa", "phase_hinge",
                  "pareto_hinge", "bayes_vs_optimal_lam", "rates", "kernel_geometry"}


def test_theory_gallery_draws_every_figure(tmp_path):
    result = CliRunner().invoke(app, ["figures", "--theory-only", "--out", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert {r["figure"] for r in records} == THEORY_FIGURES
    for r in records:
        with open(r["path"], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(r["path"]).shape[1] > 400


def test_figures_bad_input():
    result = CliRunner().invoke(app, ["figures", "--theory-only", "--d", "1"])
    assert result.exit_code == 2 and "need d >= 2" in result.stderr
