"""RAF figures: errors against alpha, phase diagrams, Pareto fronts, rates, real data. Data arrive as
record tables; nothing is computed here."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from raflab.core.plotting import (
    _finish,
    _floats,
    _rows_where,
    _series_label,
    apply_style,
)

ERROR_LABELS = {
    "gen_error": "generalization error (rule)",
    "rule_train_error": "training error on rule samples",
    "fact_memorization_error": "fact memorization error",
}


def plot_raf_errors(theory: pd.DataFrame | None, simulation: pd.DataFrame | None = None,
                    out: str | Path | None = None, x: str = "alpha", title: str | None = None,
                    errors: list[str] | None = None):
    """The three RAF errors against ``x``: theory as lines, simulation as points with error bars.
    ``errors``: the panels to draw (default all three; the Bayes-optimal learner has only gen_error).

    One colour per (eps, lam) series (only the varying ones are named in the legend). An error column
    the records lack (stored rows at eps = 0 have no fact memorization error) or hold only NaN in is
    a panel that says it has nothing to show.
    Returns the matplotlib Figure; writes it to ``out`` when given.
    """
    apply_style()
    errors = list(ERROR_LABELS) if errors is None else [e for e in ERROR_LABELS if e in errors]
    theory, simulation = (None if f is None else f.assign(**{e: float("nan") for e in errors if e not in f})
                          for f in (theory, simulation))
    frames = [f for f in (theory, simulation) if f is not None]
    series_keys = [k for k in ("eps", "lam", "kappa") if k != x
                   and any(k in f.columns and f[k].nunique() > 1 for f in frames)] \
        or [k for k in ("eps", "lam") if k != x][:1]
    groups = sorted(set().union(*(set(map(tuple, f[series_keys].drop_duplicates().values)) for f in frames)))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, len(errors), figsize=(4 * len(errors) + (1 if len(errors) == 1 else 0), 3.4),
                             sharex=True, squeeze=False)
    axes = axes[0]
    for ax, err in zip(axes, errors):
        for i, g in enumerate(groups):
            c = colors[i % len(colors)]
            label = _series_label(g, series_keys)
            if theory is not None:
                t = _rows_where(theory, series_keys, g).sort_values(x)
                ok = t["converged"].astype(bool)
                ax.plot(t[x][ok], t[err][ok], color=c, label=f"theory {label}")
            if simulation is not None:
                s = _rows_where(simulation, series_keys, g).sort_values(x)
                yerr = s.get(f"{err}_stderr")
                ax.errorbar(_floats(s[x]), _floats(s[err]), yerr=None if yerr is None else _floats(yerr, missing=0),
                            fmt="o", ms=4,
                            color=c, capsize=2, label=f"d={int(s['d'].iloc[0])} {label}" if len(s) else None)
        ax.set_title(ERROR_LABELS[err])
        ax.set_xlabel("α = n/d" if x == "alpha" else x)
        ax.set_ylim(bottom=0)
        if not any(f[err].notna().any() for f in frames):
            note = "no facts in these rows (eps = 0)" if err == "fact_memorization_error" else "no values"
            ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", color="0.4")
            ax.set_yticks([])
    axes[0].legend(fontsize=8)
    return _finish(fig, out, title)


AXIS_LABELS = {"alpha": "α = n/d", "eps": "ε (fraction of facts)", "lam": "λ", "kappa": "κ = p/d"}


def plot_phase_diagram(phase: pd.DataFrame, x: str = "alpha", y: str = "eps", checks: pd.DataFrame | None = None,
                       capacity: pd.DataFrame | None = None, out: str | Path | None = None,
                       title: str | None = None):
    """The (x, y) plane from theory: generalization error as colour, the region where the rule is
    learned AND the facts are memorized shaded, the two criteria's boundaries as contours, and
    simulation spot checks as markers (filled: both criteria met in the fits, hollow: not).
    ``capacity`` (columns x, y) is drawn as a dashed line when given.
    """

    apply_style()
    grid = phase.pivot_table(index=y, columns=x, values="gen_error", aggfunc="first")
    flags = {k: phase.pivot_table(index=y, columns=x, values=k, aggfunc="first").astype(float)
             for k in ("rule_learned", "facts_memorized", "rule_and_facts")}
    conv = phase.pivot_table(index=y, columns=x, values="converged", aggfunc="first").astype(bool)
    X, Y = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy(float))
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.75")  # grey: no converged fixed point (not white)
    mesh = ax.pcolormesh(X, Y, np.where(conv, grid.to_numpy(), np.nan), shading="nearest", cmap=cmap)
    fig.colorbar(mesh, ax=ax, label="generalization error (theory)")
    both = flags["rule_and_facts"].to_numpy()
    ax.contourf(X, Y, both, levels=[0.5, 1.5], colors="none", hatches=["//"])
    ax.contour(X, Y, both, levels=[0.5], colors="white", linewidths=2.0)
    ax.contour(X, Y, flags["rule_learned"].to_numpy(), levels=[0.5], colors="tab:orange", linestyles="-")
    ax.contour(X, Y, flags["facts_memorized"].to_numpy(), levels=[0.5], colors="tab:red", linestyles="--")
    handles = [Patch(facecolor="none", edgecolor="black", hatch="//", label="rule learned AND facts memorized"),
               plt.Line2D([], [], color="tab:orange", label="rule-learned boundary"),
               plt.Line2D([], [], color="tab:red", ls="--", label="facts-memorized boundary")]
    if not conv.to_numpy().all():
        handles.append(Patch(facecolor="0.75", label="no converged fixed point"))
    if capacity is not None and len(capacity):
        c = capacity.sort_values(y)
        ax.plot(c[x], c[y], color="black", ls=":", lw=1.5)
        handles.append(plt.Line2D([], [], color="black", ls=":", label="storage capacity (hinge, λ→0+)"))
    if checks is not None and len(checks):
        ok = checks["rule_and_facts"].astype(bool)
        ax.scatter(checks[x][ok], checks[y][ok], s=46, c="white", edgecolors="black", zorder=3)
        ax.scatter(checks[x][~ok], checks[y][~ok], s=46, facecolors="none", edgecolors="white", zorder=3)
        handles.append(plt.Line2D([], [], marker="o", ls="", mfc="white", mec="black",
                                  label=f"fits d={int(checks['d'].iloc[0])}: both met (hollow: not)"))
    ax.set_xlabel(AXIS_LABELS.get(x, x))
    ax.set_ylabel(AXIS_LABELS.get(y, y))
    ax.set_xlim(X.min(), X.max())
    ax.set_ylim(Y.min(), Y.max())
    ax.grid(False)
    # below the axes: inside, it covered the facts boundary and the capacity line
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
              frameon=False)
    if title:
        ax.set_title(title)
    return _finish(fig, out)


def plot_pareto_front(fronts: pd.DataFrame, optimum: pd.DataFrame | None = None, out: str | Path | None = None,
                      series: str = "eps", title: str | None = None):
    """Fact memorization error against generalization error along lam, one curve per ``series``
    value; Pareto-optimal lams drawn solid, dominated ones faint, the generalization-optimal lam starred.
    """
    import matplotlib.colors as mcolors

    apply_style()
    fig, ax = plt.subplots(figsize=(5.4, 4.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    drawn, skipped = 0, []
    for value, part in fronts.groupby(series, sort=True):
        part = part.sort_values("lam")
        drawable = np.isfinite(part["gen_error"].to_numpy(float)) & np.isfinite(
            part["fact_memorization_error"].to_numpy(float))
        if not drawable.any():  # eps = 0: no facts, no memorization error, no curve (and no legend entry)
            skipped.append(value)
            continue
        c = colors[drawn % len(colors)]
        drawn += 1
        ax.plot(part["gen_error"], part["fact_memorization_error"], color=c, alpha=0.3)
        front = part[part["pareto"]]
        ax.plot(front["gen_error"], front["fact_memorization_error"], color=c, lw=2.2,
                label=f"{'ε' if series == 'eps' else series}={value:g}")
        pts = ax.scatter(part["gen_error"], part["fact_memorization_error"], c=part["lam"], s=10,
                         cmap="magma", norm=mcolors.LogNorm(), zorder=3)
        if optimum is not None:
            o = optimum[optimum[series] == value]
            ax.scatter(o["gen_error"], o["fact_memorization_error"], marker="*", s=160, color=c,
                       edgecolors="black", zorder=4)
    fig.colorbar(pts, ax=ax, label="λ")
    ax.set_xlabel(ERROR_LABELS["gen_error"])
    ax.set_ylabel(ERROR_LABELS["fact_memorization_error"])
    name = "ε" if series == "eps" else series
    note = "".join(f"\n{name}={v:g}: no facts, no curve" for v in skipped)
    ax.legend(fontsize=8, title="★ = λ minimizing gen. error" + note, title_fontsize=7)
    if title:
        ax.set_title(title)
    return _finish(fig, out)


def plot_realdata(records: pd.DataFrame, out: str | Path | None = None, title: str | None = None):
    """Real-data rules and facts: generalization error and fact memorization error against lam
    (log axis), one line with error bars per learner (kernel vs linear, and per loss, alpha, eps
    where those vary). Records of :func:`raflab.raf.experiments.realdata.realdata_experiment`; lam = 0
    has no place on a log axis and is left out.
    """
    apply_style()
    records = records[records["lam"] > 0]
    series = ["kernel"] + [k for k in ("loss", "alpha", "eps") if k in records and records[k].nunique() > 1]
    names = {"rbf": "RBF kernel", "linear": "linear"}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharex=True)
    for ax, err in zip(axes, ("gen_error", "fact_memorization_error")):
        for i, (key, part) in enumerate(records.groupby(series, sort=True)):
            key = key if isinstance(key, tuple) else (key,)
            part = part.sort_values("lam")
            label = ", ".join([names.get(key[0], key[0])] + [f"{ {'alpha': 'α', 'eps': 'ε'}.get(n, n)}={v:g}"
                                                             if not isinstance(v, str) else v
                                                             for n, v in zip(series[1:], key[1:])])
            yerr = part.get(f"{err}_stderr")
            ax.errorbar(_floats(part["lam"]), _floats(part[err]),
                        yerr=None if yerr is None else _floats(yerr, missing=0), marker="o", ms=3,
                        capsize=2, color=colors[i % len(colors)], ls="-" if key[0] != "linear" else "--",
                        label=label)
        ax.set_xscale("log")
        ax.set_xlabel("λ")
        ax.set_title(ERROR_LABELS[err])
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    return _finish(fig, out, title)


def plot_rates(curves: pd.DataFrame, fits: pd.DataFrame, out: str | Path | None = None, title: str | None = None,
               series: str | None = None):
    """Generalization error against alpha on log-log axes, with the fitted power law over its window
    (dashed) and the known one where there is one (dotted); one colour per fit record (per
    ``series`` value too, e.g. a ``learner`` column in both tables)."""

    apply_style()
    keys = ([series] if series else []) + [k for k in ("eps", "lam") if k in fits.columns and fits[k].notna().any()]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    for i, fit in enumerate(fits.to_dict(orient="records")):
        c = colors[i % len(colors)]
        mask = np.ones(len(curves), dtype=bool)
        for k in keys:
            if k == series:
                mask &= (curves[k] == fit[k]).to_numpy()
            elif pd.notna(fit[k]) and k in curves:
                mask &= np.isclose(curves[k], fit[k])
        sel = curves[mask].sort_values("alpha")
        label = ", ".join([str(fit[series])] if series else []) + (", " if series else "") \
            + _series_label(tuple(fit[k] for k in keys if k != series and pd.notna(fit[k])),
                            [k for k in keys if k != series and pd.notna(fit[k])])
        ax.loglog(sel["alpha"], sel["gen_error"], color=c, label=f"{label}: b={fit['exponent']:.3f}")
        window = np.geomspace(fit["alpha_min"], fit["alpha_max"], 20)
        ax.loglog(window, fit["prefactor"] * window ** -fit["exponent"], "--", color="k", lw=0.8)
        if np.isfinite(fit["known_exponent"]):
            ax.loglog(window, fit["known_prefactor"] * window ** -fit["known_exponent"], ":", color=c, lw=2)
    ax.set_xlabel("α = n/d")
    ax.set_ylabel("generalization error")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title)
    return _finish(fig, out)


def plot_learning_curves(curves: pd.DataFrame, out: str | Path | None = None, title: str | None = None,
                         series: str = "learner", panel: str = "eps"):
    """Generalization error against alpha, one panel per ``panel`` value, one line per ``series``."""
    apply_style()
    panels = sorted(curves[panel].unique())
    learners = list(dict.fromkeys(curves[series]))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 3.4), sharey=True, squeeze=False)
    for ax, value in zip(axes[0], panels):
        for i, name in enumerate(learners):
            part = curves[(curves[panel] == value) & (curves[series] == name)].sort_values("alpha")
            style = "-" if i == 0 else "--"
            ax.plot(part["alpha"], part["gen_error"], style, color=colors[i % len(colors)], label=name,
                    marker=None if len(part) > 20 else "o", ms=3)
        ax.set_title(f"{'ε' if panel == 'eps' else panel}={value:g}")
        ax.set_xlabel("α = n/d")
        ax.set_ylim(bottom=0)
    axes[0][0].set_ylabel(ERROR_LABELS["gen_error"])
    axes[0][0].legend(fontsize=8)
    return _finish(fig, out, title)


def _short_kernel(text: str) -> str:
    """``rbf:gamma=0.5`` -> ``rbf γ=0.5``, ``polynomial:degree=2`` -> ``poly 2``, ``activation:sign`` -> ``sign``."""
    return (text.replace("activation:", "").replace("polynomial:degree=", "poly ")
            .replace("rbf:gamma=", "rbf γ="))


def plot_kernel_geometry(records: pd.DataFrame, out: str | Path | None = None, title: str | None = None):
    """The (mu1, mu_star) plane of :func:`raflab.raf.experiments.geometry.kernel_geometry`: one row
    per loss (generalization error, fact memorization error at the records' lam), and kernel
    ridge's closed-form optimal lam with the fact memorization error there. The named kernels are
    marked on every panel; the dashed line mu_star = mu1 sqrt(lam_lin*) bounds the kernels that
    even lam -> 0+ over-regularizes (above it kernel ridge cannot reach the linear optimum)."""
    from matplotlib.colors import LogNorm

    from raflab.raf.experiments.geometry import linear_ridge_optimal_lam

    apply_style()
    plane, named = records[records["where"] == "plane"], records[records["where"] == "kernel"]
    losses = list(dict.fromkeys(plane["loss"]))
    fig, axes = plt.subplots(len(losses), 3, figsize=(13.5, 3.9 * len(losses)), squeeze=False)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.75")
    eps = float(plane["eps"].iloc[0])
    slope = np.sqrt(linear_ridge_optimal_lam(eps))
    panels = []
    for row, loss in enumerate(losses):
        part = plane[plane["loss"] == loss]
        panels += [(axes[row, 0], part, "gen_error", f"{loss}: generalization error", None),
                   (axes[row, 1], part, "fact_memorization_error", f"{loss}: fact memorization error", None)]
    first = plane[plane["loss"] == losses[0]]
    panels.append((axes[0, 2], first, "ridge_optimal_lam", "kernel ridge: optimal λ (closed form)", "log"))
    if len(losses) > 1:
        panels.append((axes[1, 2], first, "ridge_optimal_fact_memorization_error",
                       "kernel ridge at its optimal λ: fact memorization error", None))
    for ax in axes[2:, 2]:
        ax.set_visible(False)
    for ax, part, column, label, scale in panels:
        grid = part.pivot_table(index="mu_star", columns="mu1", values=column, aggfunc="first")
        ok = part.pivot_table(index="mu_star", columns="mu1", values="converged", aggfunc="first").astype(bool)
        values = np.where(ok.to_numpy(), grid.to_numpy(dtype=float), np.nan)
        X, Y = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy(float))
        norm = None
        if scale == "log":
            positive = values[values > 0]
            norm = LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
            values = np.where(values > 0, values, np.nan)  # lam* = 0 (grey): lam -> 0+ is best
        mesh = ax.pcolormesh(X, Y, values, shading="nearest", cmap=cmap, norm=norm)
        fig.colorbar(mesh, ax=ax)
        xs = np.linspace(X.min(), X.max(), 50)
        ax.plot(xs, slope * xs, color="white", ls="--", lw=1.2)
        ax.scatter(named["mu1"], named["mu_star"], s=28, c="white", edgecolors="black", zorder=3)
        for _, k in named.drop_duplicates("kernel").iterrows():
            if X.min() <= k["mu1"] <= X.max() and Y.min() <= k["mu_star"] <= Y.max():
                ax.annotate(_short_kernel(k["kernel"]), (k["mu1"], k["mu_star"]), xytext=(4, 3),
                            textcoords="offset points", fontsize=7, color="white")
        ax.set_xlim(X.min(), X.max())
        ax.set_ylim(Y.min(), Y.max())
        ax.set_xlabel("μ₁ (rule part, √k'(0))")
        ax.set_ylabel("μ* (fact part, √(k(1)−k(0)−k'(0)))")
        ax.set_title(label, fontsize=9)
        ax.grid(False)
    return _finish(fig, out, title)


def plot_realdata_front(records: pd.DataFrame, out: str | Path | None = None, title: str | None = None):
    """Real data over RBF bandwidth x lam (records of :func:`raflab.raf.experiments.realdata.realdata_front`,
    one alpha, eps and loss): the RBF kernel's generalization and fact memorization errors as
    colour over the (lam, eta) grid of fixed bandwidths, and every point in the (generalization,
    memorization) plane, coloured by eta, with each learner's front joined (the linear learner's
    lam path in grey)."""
    from matplotlib.colors import LogNorm

    apply_style()
    rbf = records[(records["kernel"] == "rbf") & (records["bandwidth"] != "median")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9))
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.75")
    for ax, column in zip(axes[:2], ("gen_error", "fact_memorization_error")):
        grid = rbf[rbf["lam"] > 0].pivot_table(index="eta", columns="lam", values=column, aggfunc="first")
        X, Y = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy(float))
        mesh = ax.pcolormesh(X, Y, grid.to_numpy(float), shading="nearest", cmap=cmap)
        fig.colorbar(mesh, ax=ax)
        front = rbf[rbf["on_front"].astype(bool) & (rbf["lam"] > 0)]
        ax.scatter(front["lam"], front["eta"], s=22, facecolors="none", edgecolors="white", label="on the front")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("λ")
        ax.set_ylabel("RBF bandwidth η (K = exp(−η|x−x'|²/d))")
        ax.set_title(f"RBF kernel: {ERROR_LABELS[column]}", fontsize=9)
        ax.grid(False)
    axes[0].legend(fontsize=7, loc="upper left")
    ax = axes[2]
    if len(rbf):
        points = ax.scatter(rbf["gen_error"], rbf["fact_memorization_error"], c=rbf["eta"], s=14, cmap="viridis",
                            norm=LogNorm(rbf["eta"].min(), rbf["eta"].max()))
        fig.colorbar(points, ax=ax, label="η")
    for kernel, style in (("rbf", dict(color="black", ls="-")), ("linear", dict(color="0.5", ls="--"))):
        part = records[records["kernel"] == kernel]
        if kernel == "linear" and len(part):
            ax.scatter(part["gen_error"], part["fact_memorization_error"], s=14, color="0.5", marker="s")
        front = part[part["on_front"].astype(bool)].sort_values("gen_error")
        if len(front):
            ax.plot(front["gen_error"], front["fact_memorization_error"], marker="o", ms=3,
                    label=f"{'RBF (all η, λ)' if kernel == 'rbf' else 'linear (λ path)'}: front", **style)
    median = records[(records["kernel"] == "rbf") & (records["bandwidth"] == "median")]
    if len(median):
        ax.scatter(median["gen_error"], median["fact_memorization_error"], marker="x", color="tab:red",
                   label="RBF, median bandwidth")
    ax.set_xlabel(ERROR_LABELS["gen_error"])
    ax.set_ylabel(ERROR_LABELS["fact_memorization_error"])
    ax.set_xscale("symlog", linthresh=0.02)  # the front sits at small errors; chance is 0.5
    ax.set_title("what (η, λ) trade (x: linear below 0.02, log above)", fontsize=9)
    ax.legend(fontsize=7)
    return _finish(fig, out, title)
