"""The memorization atlas figure. Data arrive as the tables of :mod:`raflab.ledger.atlas`; nothing is
computed here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from raflab.core.plotting import _finish, _floats, apply_style  # noqa: E402

POINT_MARKERS = "osD^v<>PXh*"
SPREAD = 0.012  # points that share an eps drawn side by side (this far apart in eps) to stay legible
LOG_FLOOR = 3e-3  # the bottom of the bits axis: lower interval ends below it (or below 0) are drawn to it


def _curve_label(model: str, kappa: float) -> str:
    return "linear (Gardner)" if model == "linear" else f"RF ReLU, κ={kappa:g}"


def _curve_groups(curves: pd.DataFrame):
    linear = curves[curves["model"] == "linear"]
    if not linear.empty:
        yield "linear", np.nan, linear.sort_values("eps"), "black"
    rf = curves[curves["model"] == "rf"]
    kappas = sorted(rf["kappa"].unique())
    colours = plt.cm.viridis(np.linspace(0.15, 0.85, max(len(kappas), 1)))
    for kappa, colour in zip(kappas, colours):
        yield "rf", kappa, rf[rf["kappa"] == kappa].sort_values("eps"), colour


def plot_atlas(curves: pd.DataFrame, points: pd.DataFrame, out=None, title: str | None = None):
    """Left: stored fact bits per parameter against the fact fraction eps (log y) for the RAF capacity
    curves and every system's point (95% interval where measured). Right: the rule's generalization
    error of the RAF learners at capacity, and the measured points that have one."""
    apply_style()
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(11.5, 4.6), gridspec_kw={"width_ratios": [1.35, 1]})
    for model, kappa, frame, colour in _curve_groups(curves):
        label = _curve_label(model, kappa)
        ls = "-" if model == "linear" else "--"
        ax.plot(_floats(frame["eps"]), _floats(frame["bits_per_parameter"]), ls=ls, color=colour, label=label)
        ax_err.plot(_floats(frame["eps"]), _floats(frame["gen_error"]), ls=ls, color=colour, label=label)
    point_colours = plt.cm.tab10(np.arange(len(points)) % 10)
    eps = _floats(points["eps"])
    spread = np.zeros(len(points))
    for value in np.unique(eps):
        same = eps == value
        spread[same] = SPREAD * (np.arange(same.sum()) - (same.sum() - 1) / 2)
    for (_, row), marker, colour, dx in zip(points.iterrows(), POINT_MARKERS * 3, point_colours, spread):
        y = row["bits_per_parameter"]
        yerr = None
        if np.isfinite(row["ci95_low"]) and np.isfinite(row["ci95_high"]):
            yerr = [[y - max(row["ci95_low"], LOG_FLOOR)], [row["ci95_high"] - y]]
        ax.errorbar([row["eps"] + dx], [y], yerr=yerr, marker=marker, ms=7, ls="none", color=colour, capsize=3,
                    mec="black", mew=0.5, label=row["system"])
        if np.isfinite(row["gen_error"]):
            ax_err.plot([row["eps"] + dx], [row["gen_error"]], marker=marker, ms=7, ls="none", color=colour,
                        mec="black", mew=0.5, label=f"{row['system']}\n({row['gen_error_definition']})")
    ax.set_yscale("log")
    ax.set_ylim(bottom=LOG_FLOOR)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("fact fraction of the training data ε (points at one ε drawn side by side)")
    ax.set_ylabel("stored fact bits per parameter")
    ax.set_title("memorization capacity used")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax_err.set_xlim(0, 1.05)
    ax_err.set_ylim(0, 1)
    ax_err.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax_err.set_xlabel("fact fraction of the training data ε")
    ax_err.set_ylabel("rule generalization error at capacity")
    ax_err.set_title("generalization (RAF theory at α_c(ε))")
    ax_err.legend(fontsize=7, loc="upper right")
    return _finish(fig, out, title)
