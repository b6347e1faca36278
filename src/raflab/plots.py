"""Figures, in one style. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {
    "figure.dpi": 120,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
}
ERROR_LABELS = {
    "gen_error": "generalization error (rule)",
    "rule_train_error": "training error on rule samples",
    "fact_memorization_error": "fact memorization error",
}


def apply_style() -> None:
    """The raflab figure style (serif-free, light grid, no top/right spines)."""
    plt.rcParams.update(STYLE)


def _series_label(keys: tuple, names: list[str]) -> str:
    return ", ".join(f"{'ε' if n == 'eps' else 'λ' if n == 'lam' else n}={v:g}" for n, v in zip(names, keys))


def plot_raf_errors(theory: pd.DataFrame | None, simulation: pd.DataFrame | None = None,
                    out: str | Path | None = None, x: str = "alpha", title: str | None = None):
    """The three RAF errors against ``x``: theory as lines, simulation as points with error bars.

    One colour per (eps, lam) series (only the varying ones are named in the legend).
    Returns the matplotlib Figure; writes it to ``out`` when given.
    """
    apply_style()
    frames = [f for f in (theory, simulation) if f is not None]
    series_keys = [k for k in ("eps", "lam") if any(f[k].nunique() > 1 for f in frames)] or ["eps"]
    groups = sorted(set().union(*(set(map(tuple, f[series_keys].drop_duplicates().values)) for f in frames)))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharex=True)
    for ax, err in zip(axes, ERROR_LABELS):
        for i, g in enumerate(groups):
            c = colors[i % len(colors)]
            label = _series_label(g, series_keys)
            if theory is not None:
                t = theory[(theory[series_keys] == g).all(axis=1)].sort_values(x)
                ok = t["converged"].astype(bool)
                ax.plot(t[x][ok], t[err][ok], color=c, label=f"theory {label}")
            if simulation is not None:
                s = simulation[(simulation[series_keys] == g).all(axis=1)].sort_values(x)
                yerr = s.get(f"{err}_stderr")
                ax.errorbar(s[x], s[err], yerr=None if yerr is None else yerr.fillna(0), fmt="o", ms=4,
                            color=c, capsize=2, label=f"d={int(s['d'].iloc[0])} {label}" if len(s) else None)
        ax.set_title(ERROR_LABELS[err])
        ax.set_xlabel("α = n/d" if x == "alpha" else x)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig
