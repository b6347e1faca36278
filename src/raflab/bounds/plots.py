"""SDPI figures. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from raflab.core.plotting import (
    _finish,
    _floats,
    apply_style,
)


def plot_sdpi_tradeoff(bound, measured=None, curve=None, traced=None, out=None, title=None):
    """Memorization (bits) against n, log-log, and, when ``curve`` is given, against accuracy at one n.

    ``bound``: records of :func:`raflab.bounds.theory.sdpi_bound` (lower bound, matching algorithm, the
    sign of the mean). ``measured``: records of :func:`raflab.bounds.mechanisms.memorization_table`
    (points with 2-standard-error bars, and each learner's own bound at its measured error, dotted).
    ``curve``: records of ``sdpi_bound`` over errors at one n (its matching algorithm to leading order in
    d); ``traced``: measured records at that n (one line per learner, e.g. over output-noise levels).
    """
    apply_style()
    ncols = 2 if curve is not None else 1
    names = [x for f in (measured, traced) if f is not None for x in f["learner"]]
    color = {name: f"C{i}" for i, name in enumerate(dict.fromkeys(names))}  # one colour per learner
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 6.2 if measured is not None else 4), squeeze=False)
    ax = axes[0, 0]
    b = bound.sort_values("n")
    ax.plot(b["n"], b["lower_bound_bits"], "k-", lw=2, label=f"SDPI lower bound (error {b['error'].iloc[0]:.3g})")
    ax.plot(b["n"], b["matching_bits"], "k--", label=f"{b['matching_algorithm'].iloc[0]} at that error")
    if "sign_mean_bits" in b:
        ax.plot(b["n"], b["sign_mean_bits"], ":", color="0.5", label="sign of the mean (exact)")
    if measured is not None:
        for learner, g in measured.groupby("learner", sort=False):
            g = g.sort_values("n")
            ax.errorbar(_floats(g["n"]), _floats(g["memorization_bits"]), 2 * _floats(g["memorization_bits_stderr"]), fmt="o-",
                        ms=4, color=color[learner],
                        label=f"{learner} (measured, error {g['error'].min():.2f}-{g['error'].max():.2f})")
            ax.plot(g["n"], g["lower_bound_bits"], ":", color=color[learner])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training-set size n")
    ax.set_ylabel("excess memorization I(A; X_1..n | θ) [bits]")
    problem = {"sparse": "sparse hypercube"}.get(b["instance"].iloc[0], f"{b['instance'].iloc[0]} clustering")
    ax.set_title(title or f"{problem}, d={b['d'].iloc[0]}")
    if measured is not None:  # many entries: below the axes, where they cover no curve
        ax.plot([], [], ":", color="0.3", label="dotted: each learner's bound at its error")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    else:
        ax.legend(fontsize=7)
    if curve is not None:
        ax = axes[0, 1]
        c = curve.sort_values("error")
        n0 = c["n"].iloc[0]
        ax.plot(1 - c["error"], c["lower_bound_bits"], "k-", lw=2, label="SDPI lower bound")
        ax.plot(1 - c["error"], c["matching_bits"], "k--", label=f"{c['matching_algorithm'].iloc[0]} (leading order in d)")
        if traced is not None:
            for learner, g in traced.groupby("learner", sort=False):
                g = g.sort_values("error")
                ax.errorbar(1 - _floats(g["error"]), _floats(g["memorization_bits"]), 2 * _floats(g["memorization_bits_stderr"]),
                            xerr=2 * _floats(g["error_stderr"]), fmt="o-", ms=4, color=color[learner], label=learner)
        ax.set_yscale("log")
        ax.set_xlabel("accuracy on fresh data")
        ax.set_ylabel("excess memorization [bits]")
        ax.set_title(f"the trade-off at n={n0:g}")
        ax.legend(fontsize=7)
    return _finish(fig, out)


def plot_singleton_attack(traced, floor, points=None, out=None):
    """Singleton recovery against the model's error on singleton clusters.

    ``traced``: records of :func:`raflab.bounds.attack.attack_table` for one learner over its output noise
    (recovery with its 95% interval over seeds); ``floor``: records with columns ``error`` and
    ``predicted_floor`` (the SDPI floor as a curve); ``points``: more attack records (other learners), drawn
    as single points. The theta-attacker's (1 + r)/2 and chance are horizontal lines.
    """
    apply_style()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    f = floor.sort_values("error")
    ax.plot(f["error"], f["predicted_floor"], "k-", lw=2, label="SDPI floor (coordinatewise learners)")
    t = traced.sort_values("singleton_error")
    low, high = _floats(t["recovery_ci95_low"]), _floats(t["recovery_ci95_high"])
    ax.errorbar(_floats(t["singleton_error"]), _floats(t["recovery"]),
                yerr=[_floats(t["recovery"]) - low, high - _floats(t["recovery"])], fmt="o-", ms=4, color="C0",
                label=f"{t['learner'].iloc[0]} over its output noise (95% CI over seeds)")
    if points is not None:
        for i, (_, rec) in enumerate(points.iterrows()):
            ax.plot(rec["singleton_error"], rec["recovery"], "s", ms=6, color=f"C{i + 1}", label=rec["learner"])
    ax.axhline(float(t["theta_attacker"].iloc[0]), color="0.4", ls="--", label="attacker knowing θ only: (1 + r)/2")
    ax.axhline(0.5, color="0.7", ls=":", label="chance")
    ax.set_xlabel("model's error on clusters seen once")
    ax.set_ylabel("fraction of a singleton's bits recovered")
    ax.set_title(f"singleton recovery, d={t['d'].iloc[0]}, n={t['n'].iloc[0]}, k={t['clusters'].iloc[0]}")
    ax.legend(fontsize=7, loc="lower left")
    return _finish(fig, out)
