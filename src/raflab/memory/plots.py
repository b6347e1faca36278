"""Hopfield and diffusion figures. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from raflab.core.plotting import (
    _finish,
    _floats,
    apply_style,
)
from raflab.memory.associative import KINDS

PHASE_LABELS = {"memorized_fraction": "memorized", "spurious_fraction": "spurious",
                "generalized_fraction": "generalized"}


def plot_diffusion_phases(records: pd.DataFrame, out=None, title: str | None = None):
    """Memorized / spurious / generalized fractions of diffusion samples against K (log axis)."""
    apply_style()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    df = records.sort_values("K")
    for (key, label), marker in zip(PHASE_LABELS.items(), "os^"):
        ax.plot(df["K"], df[key], marker=marker, ms=4, label=label)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training set size K")
    ax.set_ylabel("fraction of samples")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return _finish(fig, out)


def plot_diffusion_samples(samples, train, labels: dict, image_shape=None, out=None, title: str | None = None,
                           max_images: int = 64):
    """Generated samples coloured by kind (2-D data) or a grid of generated images (``image_shape``)."""

    apply_style()
    samples, train = np.asarray(samples), np.asarray(train)
    if image_shape is None:
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        for (kind, color) in zip(("generalized", "spurious", "memorized"), ("C2", "C1", "C0")):
            m = np.asarray(labels[kind])
            ax.scatter(samples[m, 0], samples[m, 1], s=4, color=color, alpha=0.6, label=kind)
        ax.scatter(train[:, 0], train[:, 1], s=18, marker="x", color="k", label="training points")
        ax.set_aspect("equal")
        ax.legend(fontsize=7, markerscale=2)
    else:
        C, H, W = image_shape
        n = min(len(samples), max_images)
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        imgs = np.clip((samples[:n].reshape(n, C, H, W) + 1) / 2, 0, 1).transpose(0, 2, 3, 1)
        grid = np.ones((rows * (H + 1), cols * (W + 1), C))
        for i, img in enumerate(imgs):
            r, c = divmod(i, cols)
            grid[r * (H + 1):r * (H + 1) + H, c * (W + 1):c * (W + 1) + W] = img
        fig, ax = plt.subplots(figsize=(4.2, 4.2 * rows / cols))
        ax.imshow(grid[..., 0] if C == 1 else grid, cmap="gray" if C == 1 else None)
        ax.axis("off")
    if title:
        ax.set_title(title)
    return _finish(fig, out)


def plot_hopfield_overlap(theory: pd.DataFrame, simulation: pd.DataFrame | None = None, out=None, alpha_c=None):
    """Retrieval overlap against load: the AGS line, simulations as points with 2-standard-error bars.

    Left: m against alpha; right: the fraction of wrong spins (1 - m)/2 on a log scale below
    alpha_c, where the left panel cannot resolve theory from simulation. ``theory``: records of
    :func:`raflab.memory.hopfield_theory.retrieval_overlap`; ``simulation``: of
    :func:`raflab.memory.associative.simulate_hopfield` (one marker per N); ``alpha_c``: the capacity,
    drawn as a vertical line when given (:func:`raflab.memory.hopfield_experiments.hopfield_theory_line` gives
    both the line and alpha_c).
    """

    apply_style()
    fig, (ax, az) = plt.subplots(1, 2, figsize=(10, 3.8))
    th = theory.sort_values("alpha")
    ret = th[th["retrieval"]]
    ax.plot(ret["alpha"], ret["overlap"], "k-", label="AGS theory (retrieval branch)")
    ax.plot(th.loc[~th["retrieval"], "alpha"], th.loc[~th["retrieval"], "overlap"], "k:", lw=1)
    visible = ret[(1 - ret["overlap"]) / 2 > 1e-7]
    az.plot(visible["alpha"], (1 - visible["overlap"]) / 2, "k-", label="AGS theory")
    if alpha_c is not None:
        for a in (ax, az):
            a.axvline(alpha_c, color="0.5", ls="--", lw=1)
        ax.text(alpha_c, 0.05, f" α_c = {alpha_c:.4f}", color="0.3", fontsize=8)
    if simulation is not None:
        for i, (N, g) in enumerate(simulation.groupby("n")):
            g = g.sort_values("alpha")
            style = dict(fmt="os^D"[i % 4], ms=4, color=f"C{i}", capsize=2)
            ax.errorbar(_floats(g["alpha"]), _floats(g["overlap"]), 2 * _floats(g["overlap_stderr"]), **style,
                        label=f"simulation N={N} ({int(g['n_seeds'].iloc[0])} networks, ±2 s.e.)")
            below = g[(g["overlap"] < 1) & (g["alpha"] <= (alpha_c or np.inf))]
            az.errorbar(_floats(below["alpha"]), (1 - _floats(below["overlap"])) / 2, _floats(below["overlap_stderr"]),
                        **style,
                        label=f"N={N}")
    ax.set_xlabel("load α = P / N")
    ax.set_ylabel("final overlap m")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title("Hopfield network, T = 0 asynchronous recall from the stored pattern")
    ax.legend(fontsize=7, loc="lower left")
    az.set_yscale("log")
    az.set_xlim(right=(alpha_c or th["alpha"].max()) * 1.04)
    az.set_xlabel("load α = P / N")
    az.set_ylabel("fraction of wrong spins (1 - m) / 2")
    az.set_title("below capacity (log scale)")
    az.legend(fontsize=7, loc="lower right")
    return _finish(fig, out)


def plot_attractor_counts(records: pd.DataFrame, out=None, title: str | None = None):
    """Distinct attractors by kind against K (left) and the fraction of starts each kind attracts (right)."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    df = records.sort_values("K")
    colors = {"stored": "C0", "spurious": "C3", "mean": "C2"}
    for kind in KINDS:
        axes[0].plot(df["K"], df[f"n_{kind}"], "o-", ms=4, color=colors[kind], label=kind)
        axes[1].plot(df["K"], df[f"fraction_{kind}"], "o-", ms=4, color=colors[kind], label=kind)
    axes[0].plot(df["K"], df["K"], ":", color="0.6", lw=1, label="K (every memory stored)")
    axes[0].set_yscale("symlog", linthresh=1)
    axes[0].set_ylabel("distinct attractors")
    axes[1].set_ylabel("fraction of starts")
    axes[1].set_ylim(-0.02, 1.02)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("memories K")
        ax.legend(fontsize=7)
    return _finish(fig, out, title, title_size=9)


def _ci_bars(ax, frame: pd.DataFrame, y: str, label: str, **kw):
    """``y`` against K with its 95 % interval (``<y>_ci95_low`` / ``_high``; none where missing)."""
    df = frame.sort_values("K")
    mean = _floats(df[y])
    if f"{y}_ci95_low" in df:
        low, high = _floats(df[f"{y}_ci95_low"], missing=np.nan), _floats(df[f"{y}_ci95_high"], missing=np.nan)
        err = np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0)
    else:
        err = None
    ax.errorbar(_floats(df["K"]), mean, yerr=err, marker="o", ms=4, capsize=2, label=label, **kw)


def plot_spurious_attractors(summary: pd.DataFrame, out=None, title: str | None = None):
    """Left: fractions of the samples labelled spurious that are fixed points of the flow map, on the
    manifold, and confirmed off-manifold attractors; the spurious label itself as a fraction of all
    samples. Right: basins (critical noise / separation) of confirmed spurious attractors and of training
    points. Bars: 95 % Student-t intervals over seeds."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for y, label, color in (("spurious_fraction", "samples labelled spurious (of all)", "0.4"),
                            ("fixed_fraction", "spurious labels: fixed point of Φ", "C0"),
                            ("on_manifold_fraction", "spurious labels: on the manifold", "C2"),
                            ("confirmed_fraction", "spurious labels: confirmed attractor", "C3")):
        _ci_bars(axes[0], summary, y, label, color=color)
    axes[0].set_ylabel("fraction")
    axes[0].set_ylim(-0.05, 1.35)
    for y, label, color in (("basin_train_relative", "training points", "C0"),
                            ("basin_fixed_relative", "fixed points of Φ, not training points", "C1"),
                            ("basin_spurious_relative", "confirmed (off-manifold) spurious attractors", "C3")):
        _ci_bars(axes[1], summary, y, label, color=color)
    axes[1].axhline(1 / (2 * 1.2816), color="0.5", ls=":", lw=1, label="isolated pair, exact score (0.39)")
    axes[1].set_ylabel("critical σ / distance to nearest memory")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("training set size K")
        ax.legend(fontsize=7)
    return _finish(fig, out, title, title_size=9)


def plot_generalized_attractors(summary: pd.DataFrame, out=None, title: str | None = None):
    """Dense AM attractors by kind (stored / spurious / generalized / mean) against K, 95 % intervals;
    right: the mean curvature of the non-stored attractors (1 = flat, a continuum)."""
    from raflab.memory.spurious import KINDS_WITH_MANIFOLD

    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = {"stored": "C0", "spurious": "C3", "generalized": "C2", "mean": "C1"}
    for kind in KINDS_WITH_MANIFOLD:
        _ci_bars(axes[0], summary, f"n_{kind}", kind, color=colors[kind])
    axes[0].set_yscale("symlog", linthresh=1)
    axes[0].set_ylabel("distinct attractors")
    _ci_bars(axes[1], summary, "curvature_nonstored", "non-stored attractors", color="C2")
    axes[1].axhline(1.0, color="0.5", ls=":", lw=1, label="flat (continuum)")
    axes[1].set_ylabel("curvature / stability bound")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("memories K")
        ax.legend(fontsize=7)
    return _finish(fig, out, title, title_size=9)
