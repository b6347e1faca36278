"""Output a person can read: tables that fit the terminal, --columns, --version, help texts without
emoji or `<bool>`, and no progress bar when stderr is not a terminal."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.core.output import table_layout, write_records

runner = CliRunner()

DEMO = ["compare", "--model", "linear", "--loss", "hinge", "--alpha", "0.25:4:10", "--eps", "0,0.1,0.3",
        "--lam", "0.02", "--d", "300", "--seeds", "4", "--format", "table"]


def _table(args, columns: int):
    r = runner.invoke(app, args, env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output
    return r.stdout


def _check_fits(text: str, columns: int):
    lines = text.splitlines()
    assert lines, "no table"
    assert max(len(line) for line in lines) <= columns, "\n".join(lines)
    assert "…" not in text  # nothing cut


@pytest.mark.parametrize("columns", [80, 100])
def test_the_demo_table_fits_the_terminal(columns):
    out = _table(DEMO, columns)
    _check_fits(out, columns)
    assert "gen_error" in out and "±" in out and "-inf" not in out
    assert "fixed: model=linear, loss=hinge, lam=0.02, d=300, n_seeds=4" in out
    if columns == 100:  # the three errors, each beside its theory
        for name in ("gen_", "rule_train_", "memorization_", "theory"):
            assert name in out


@pytest.mark.parametrize("args", [
    ["theory", "--loss", "hinge", "--alpha", "0.5:4:6", "--eps", "0,0.2", "--lam", "0.01,0.1"],
    ["phase", "--alpha", "0.5:4:30", "--eps", "0:1:3"],
    ["capacity", "--eps", "0.1,0.5,1"],
    ["attention", "compare", "--c", "0.5,1", "--n", "100", "--seeds", "2", "--device", "cpu"],
    ["hopfield", "simulate", "--alpha", "0.05,0.1", "--n", "200", "--seeds", "2", "--device", "cpu"],
    ["hopfield", "capacity"],
])
@pytest.mark.parametrize("columns", [80, 100])
def test_tables_of_several_commands_fit(args, columns):
    _check_fits(_table(args, columns), columns)


def test_long_tables_are_summarized_and_point_at_the_full_record():
    out = _table(["phase", "--alpha", "0.5:4:30", "--eps", "0:1:3"], 100)
    assert "90 rows: the first 10 and last 5 shown" in out and "--format json or csv" in out
    assert len(out.splitlines()) < 40
    assert "rule_" in out and "facts" in out  # the phase itself is among the first columns


def test_headers_are_distinct_and_whole():
    df = pd.DataFrame({"c": [0.5, 1.0], "memorization_error_attention_theory": [0.6, 0.4],
                       "memorization_error_attention_mc": [0.61, 0.41], "memorization_error_attention_stderr": [0.01, 0.02],
                       "memorization_error_ridge_theory": [0.5, 0.2], "memorization_error_ridge_mc": [0.52, 0.19],
                       "memorization_error_ridge_stderr": [0.01, 0.01]})
    from raflab.core.output import _header_lines

    layout = table_layout(df, 80)
    names = [c.name for c in layout["columns"]]
    assert len(names) == len(set(names)) == 5
    for c in layout["columns"]:
        lines = _header_lines(c.name, c.width).split("\n")
        assert "".join(lines) == c.name and max(map(len, lines)) <= c.width  # wrapped, never cut
    buf = io.StringIO()
    write_records(df, "table", buf, width=80)
    assert "0.610 ± 0.010" in buf.getvalue() and "0.41 ± 0.02" in buf.getvalue()


def test_text_cells_are_whole_where_the_terminal_has_room():
    """A path longer than the default text width is printed on one line when the row fits (the
    `raflab figures` table split every path in two); in a narrow terminal it may still fold."""
    paths = [f"results/figures/raf/{name}.png" for name in ("errors_square", "bayes_vs_optimal_lam")]
    df = pd.DataFrame({"figure": ["errors_square", "bayes_vs_optimal_lam"], "path": paths, "seconds": [1.5, 3.9]})
    buf = io.StringIO()
    write_records(df, "table", buf, width=100)
    text = buf.getvalue()
    assert all(p in text for p in paths), text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_mean_pm_stderr_and_blank_z_scores():
    df = pd.DataFrame({"alpha": [1.0, 2.0], "gen_error": [0.12345, 0.2], "gen_error_stderr": [0.0041, 0.0],
                       "gen_error_z": [1.5, -np.inf], "fact_memorization_error": [np.nan, 0.3]})
    buf = io.StringIO()
    write_records(df, "table", buf, width=80, columns=None)
    text = buf.getvalue()
    assert "0.123 ± 0.004" in text and "-inf" not in text and "nan" not in text


def test_columns_all_and_a_list_and_an_unknown_name():
    out = _table([*DEMO[:-2], "--alpha", "1,2", "--d", "50", "--seeds", "2", "--columns", "all"], 80)
    for name in ("train_", "loss", "n_", "seeds", "converged_", "error_z"):
        assert name in out
    out = _table(["theory", "--alpha", "1,2", "--columns", "alpha,gen_error"], 80)
    assert "gen_error" in out and "rule_train" not in out and "fixed:" not in out
    r = runner.invoke(app, ["theory", "--alpha", "1,2", "--columns", "alpha,nope"])
    assert r.exit_code == 2 and "unknown column(s) nope" in r.output


def test_json_and_csv_keep_every_field():
    r = runner.invoke(app, ["theory", "--loss", "hinge", "--alpha", "1,2", "--eps", "0.1", "--format", "json"],
                      env={"COLUMNS": "40"})
    rec = json.loads(r.stdout)[0]
    assert {"model", "loss", "alpha", "eps", "lam", "gen_error", "m", "q", "V", "iterations"} <= set(rec)
    r = runner.invoke(app, ["theory", "--alpha", "1,2", "--format", "csv"], env={"COLUMNS": "40"})
    assert r.stdout.splitlines()[0].startswith("model,loss,alpha,eps,lam,gen_error")


def test_version():
    from importlib.metadata import version

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"raflab {version('raflab')}"


def _all_help():
    from typer.main import get_command

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path

    for path in walk(get_command(app), []):
        r = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
        assert r.exit_code == 0, r.output
        yield path, r.output


def test_help_texts_read_as_written():
    seen = 0
    for path, text in _all_help():
        seen += 1
        assert "<bool>" not in text, path
        assert not any(0x1F000 <= ord(ch) <= 0x1FAFF for ch in text), (path, "emoji")
        if path[0] in ("attention", "hopfield", "sdpi", "seq", "schema") and "--device" in text:
            assert "random features" not in text, path
        if path == ["attention", "theory"]:
            assert "start:stop:num" in text
        if path == ["seq", "train"]:
            for opt in ("--layers", "--steps", "--min-lr"):
                line = next(line for line in text.splitlines() if line.lstrip("│ ").startswith(opt + " "))
                assert "default" in line, line
        if path[0] not in ("report",) and path[-1] != "plot" and path[-2:] != ["sweep", "export"]:
            assert "--columns" in text, path
    assert seen > 30


def test_no_progress_bar_when_stderr_is_not_a_terminal(monkeypatch):
    from raflab.core import progress

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not progress.shown(True)
    with progress.rows_progress("x", 3) as advance:
        advance()
    assert list(progress.track_rows([1, 2], "y")) == [1, 2]
    assert sys.stderr.getvalue() == ""
    r = subprocess.run([sys.executable, "-m", "raflab.cli", "hopfield", "simulate", "--alpha", "0.05", "--n", "100",
                        "--seeds", "2", "--device", "cpu", "--format", "csv"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""


def test_figures_a_reader_does_not_trip_on(tmp_path):
    """Bayes: one panel (no empty ones); Pareto: no legend entry for eps = 0 (no curve); attention: one
    ridge entry per rho; phase: the legend outside the axes and no invisible white entry."""
    import matplotlib

    matplotlib.use("Agg")
    from raflab.attention.plots import plot_attention_memorization
    from raflab.raf.plots import plot_pareto_front, plot_phase_diagram, plot_raf_errors

    alphas = [1.0, 2.0, 3.0]
    bayes = pd.DataFrame({"model": "bayes", "alpha": alphas * 2, "eps": [0.0] * 3 + [0.2] * 3,
                          "gen_error": [0.3, 0.2, 0.1, 0.35, 0.25, 0.15], "rule_train_error": np.nan,
                          "fact_memorization_error": np.nan, "converged": True})
    fig = plot_raf_errors(bayes, title="RAF, Bayes-optimal learner", errors=["gen_error"])
    assert len(fig.axes) == 1 and "bayes square" not in fig._suptitle.get_text()
    r = runner.invoke(app, ["compare", "--model", "bayes", "--alpha", "1,2", "--d", "50", "--seeds", "2",
                            "--out", str(tmp_path / "bayes.png"), "--format", "csv"])
    assert r.exit_code == 0, r.output

    rows = []
    for e in (0.0, 0.2):
        for lam in (0.01, 0.1, 1.0):
            rows.append({"eps": e, "lam": lam, "gen_error": 0.3 + lam / 10, "pareto": True,
                         "fact_memorization_error": np.nan if e == 0 else 0.1 + lam / 10})
    fig = plot_pareto_front(pd.DataFrame(rows))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["ε=0.2"] and "ε=0: no facts" in fig.axes[0].get_legend().get_title().get_text()

    th = pd.DataFrame([{"c": c, "gamma": 0.1, "snr": s, "align": a, "f": "tanh",
                        "memorization_error_attention": 0.5, "memorization_error_ridge": 0.4}
                       for c in (0.5, 1.0) for s in (0.0, 2.0) for a in (0.0, 1.0)])
    fig = plot_attention_memorization(th)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == len(set(labels)) and sum(lab.startswith("ridge") for lab in labels) == 2

    grid = [{"alpha": a, "eps": e, "gen_error": 0.2 + e / 4, "converged": True, "rule_learned": e < 0.3,
             "facts_memorized": a < 2, "rule_and_facts": e < 0.3 and a < 2}
            for a in (0.5, 1.0, 2.0, 3.0) for e in (0.0, 0.25, 0.5, 0.75)]
    fig = plot_phase_diagram(pd.DataFrame(grid))
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().y1 < ax.get_window_extent().y0 + 1  # anchored below the axes
    for handle in legend.legend_handles:
        color = handle.get_edgecolor() if hasattr(handle, "get_hatch") else handle.get_color()
        assert matplotlib.colors.to_hex(color) != "#ffffff"
