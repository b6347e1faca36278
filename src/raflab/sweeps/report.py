"""From stored sweep rows to tables, figures and a static HTML report (viewable offline).

Theory rows become lines; simulation rows are averaged over seeds into points with standard errors.
"""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from raflab.raf.experiments.simulate import summarize_seeds
from raflab.sweeps.store import ResultStore

FIGURE_KEYS = ("model", "loss", "kappa", "activation", "kernel", "d")


def sweep_tables(rows: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(theory, simulation summary) of one sweep's done rows; None where there are none.

    The summary has one record per point: mean of each metric over seeds, ``<error>_stderr``
    (standard error of the mean, ddof=1) and ``n_seeds``.
    """
    if rows is None or not len(rows):
        return None, None
    theory = rows[rows["kind"] == "theory"]
    theory = theory.drop(columns=[c for c in ("seed", "d") if c in theory]).dropna(axis=1, how="all")
    sims = rows[rows["kind"] == "simulation"]
    summary = summarize_seeds(sims) if len(sims) else None
    return (theory.reset_index(drop=True) if len(theory) else None), summary


def _x_axis(*frames) -> str:
    """alpha when it varies, else the axis with the most values (a lam or eps scan)."""
    counts = {k: max((f[k].nunique() for f in frames if f is not None and k in f), default=0)
              for k in ("alpha", "eps", "lam", "kappa")}
    return "alpha" if counts["alpha"] > 1 else max(counts, key=counts.get)


def sweep_figures(rows: pd.DataFrame, out_dir: str | Path, stem: str, title: str = "",
                  name: Callable[[int], Path] | None = None) -> list[Path]:
    """One figure (the three RAF errors) per learner and dimension; returns the paths written:
    ``name(i)`` for the i-th figure, by default ``out_dir/<stem>_<i>.png`` (the suffix picks the format).
    A panel with no values (the fact memorization error of eps = 0) says so (:func:`plot_raf_errors`)."""
    import matplotlib.pyplot as plt

    from raflab.raf.plots import plot_raf_errors

    theory, sim = sweep_tables(rows)
    frames = [f for f in (theory, sim) if f is not None]
    if not frames:
        return []
    keys = [k for k in FIGURE_KEYS if any(k in f.columns for f in frames) and k != "d"]
    combos = pd.concat([f[[k for k in keys if k in f.columns]] for f in frames]).drop_duplicates()
    paths = []
    for i, combo in enumerate(combos.to_dict(orient="records")):
        def pick(f):
            if f is None:
                return None
            mask = pd.Series(True, index=f.index)
            for k, v in combo.items():
                if k in f.columns:
                    mask &= (f[k] == v) if pd.notna(v) else f[k].isna()
            return f[mask] if mask.any() else None

        t, s = pick(theory), pick(sim)
        if t is not None and "converged" in t:
            t = t.assign(converged=t["converged"].fillna(False).astype(bool))
        label = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in combo.items()
                          if pd.notna(v))
        path = Path(out_dir) / f"{stem}_{i}.png" if name is None else Path(name(i))
        fig = plot_raf_errors(t, s, out=path, x=_x_axis(t, s), title=f"{title} {label}".strip())
        plt.close(fig)
        paths.append(path)
    return paths


_CSS = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
img{max-width:100%}pre{background:#f6f6f6;padding:0.5em;font-size:12px;overflow-x:auto}
.failed{color:#a00}table.ledger td{text-align:left;vertical-align:top}"""


@dataclass(frozen=True)
class FrontSection:
    """A section rendered by another package (the reproduction ledger's verdicts), put first on the page;
    the sweeps whose task starts with ``task_prefix`` are shown only there."""

    html: str
    task_prefix: str


def write_report(store: str | Path, out: str | Path, config_hash: str | None = None, max_rows: int = 200,
                 front: FrontSection | None = None, front_only: bool = False) -> Path:
    """A static HTML page of every sweep in the store (or one): status, config, figures, tables; first,
    when given, the ``front`` section (``front_only``: that section alone).

    Figures are PNG files in ``<out stem>_files/`` beside the page, referenced by relative paths,
    so the folder can be copied and opened offline.
    """
    result_store = ResultStore(store)
    sweeps = result_store.sweeps()
    if front_only:
        if front is None:
            raise ValueError("front_only needs a front section")
        sweeps = sweeps.iloc[:0]
    else:
        if config_hash is not None:
            sweeps = sweeps[sweeps["config_hash"] == config_hash]
        elif front is not None:
            sweeps = sweeps[~sweeps["task"].astype(str).str.startswith(front.task_prefix)]
        if not len(sweeps) and front is None:
            raise ValueError(f"no sweep{' ' + config_hash if config_hash else ''} in {store}")
    out = Path(out)
    files = out.with_name(out.stem + "_files")
    created = [p for p in (files, *files.parents) if not p.exists()]
    try:
        files.mkdir(parents=True, exist_ok=True)
        _write_report(result_store, sweeps, store, out, files, max_rows, front)
    except BaseException:  # nothing half-written left behind: the folders this call made go
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)
        raise
    if not any(files.iterdir()) and files in created:  # no figures: no empty folder
        files.rmdir()
    return out


def _write_report(result_store, sweeps, store, out: Path, files: Path, max_rows: int,
                  front: FrontSection | None = None) -> None:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>raflab report</title>"
             f"<style>{_CSS}</style></head><body><h1>raflab sweep report</h1><p>store: {html.escape(str(store))}</p>"]
    if front is not None:
        parts.append(front.html)
    for sweep in sweeps.to_dict(orient="records"):
        h = sweep["config_hash"]
        rows = result_store.rows(h, status=None)
        done = rows[rows["status"] == "done"] if len(rows) else rows
        failed = rows[rows["status"] == "failed"] if len(rows) else rows
        parts.append(f"<h2>{html.escape(sweep['name'])} <small>({sweep['task']}, {h})</small></h2>")
        parts.append(f"<p>rows: {sweep['rows_expected']} expected, {len(done)} done, "
                     f"<span class='failed'>{len(failed)} failed</span>, "
                     f"{max(0, int(sweep['rows_expected']) - len(rows))} pending</p>")
        if len(done) and "git_commit" in done:
            parts.append(f"<p>raflab {', '.join(sorted(done['raflab_version'].dropna().unique()))}; commit "
                         f"{', '.join(sorted(done['git_commit'].dropna().unique()))}</p>")
        parts.append(f"<details><summary>config</summary><pre>{html.escape(json.dumps(json.loads(sweep['config']), indent=1))}</pre></details>")
        for path in sweep_figures(done, files, h, sweep["name"]):
            parts.append(f"<img src='{files.name}/{path.name}' alt='{html.escape(sweep['name'])}'>")
        theory, sim = sweep_tables(done)
        for caption, table in (("theory", theory), ("simulation (mean over seeds, standard errors)", sim)):
            if table is not None:
                shown = table.drop(columns=[c for c in ("config_hash", "point", "status", "error", "backend",
                                                        "raflab_version", "git_commit", "finished_at", "kind")
                                            if c in table])
                parts.append(f"<h3>{caption}</h3>" + shown.head(max_rows).to_html(index=False, float_format="{:.4g}".format))
                if len(shown) > max_rows:
                    parts.append(f"<p>({len(shown) - max_rows} more rows in the store)</p>")
        if len(failed):
            parts.append("<h3 class='failed'>failed points</h3>"
                         + failed[["kind", "point", "seed", "error"]].head(max_rows).to_html(index=False))
    parts.append("</body></html>")
    out.write_text("\n".join(parts))
