"""Figures, in one style. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
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


def _finish(fig, out):
    """Tight layout, and the file written (its folder created) when ``out`` is given."""
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig


def apply_style() -> None:
    """The raflab figure style (serif-free, light grid, no top/right spines)."""
    plt.rcParams.update(STYLE)


def _series_label(keys: tuple, names: list[str]) -> str:
    return ", ".join(f"{ {'eps': 'ε', 'lam': 'λ', 'kappa': 'κ'}.get(n, n)}={v:g}" for n, v in zip(names, keys))


def _floats(values, missing: float = np.nan) -> np.ndarray:
    """A column (or index) as a float numpy array, a missing value (None, NaN, pd.NA) as ``missing``:
    what matplotlib takes on every supported version (matplotlib 3.7 fails on an object-dtype Series,
    e.g. a column holding None, in errorbar and fill_between)."""
    return pd.Series(values, copy=False).to_numpy(dtype=float, na_value=missing)


def _rows_where(frame: pd.DataFrame, keys: list[str], values: tuple) -> pd.DataFrame:
    """The rows of ``frame`` whose columns ``keys`` equal ``values``, compared one column at a time
    (``frame[keys] == a_tuple`` is deprecated from pandas 3 on)."""
    mask = pd.Series(True, index=frame.index)
    for key, value in zip(keys, values):
        mask &= frame[key] == value
    return frame[mask]


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
    if title:
        fig.suptitle(title)
    return _finish(fig, out)


AXIS_LABELS = {"alpha": "α = n/d", "eps": "ε (fraction of facts)", "lam": "λ", "kappa": "κ = p/d"}


def plot_phase_diagram(phase: pd.DataFrame, x: str = "alpha", y: str = "eps", checks: pd.DataFrame | None = None,
                       capacity: pd.DataFrame | None = None, out: str | Path | None = None,
                       title: str | None = None):
    """The (x, y) plane from theory: generalization error as colour, the region where the rule is
    learned AND the facts are memorized shaded, the two criteria's boundaries as contours, and
    simulation spot checks as markers (filled: both criteria met in the fits, hollow: not).
    ``capacity`` (columns x, y) is drawn as a dashed line when given.
    """
    import numpy as np

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
    import numpy as np

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


def plot_attention_memorization(theory, mc=None, out=None):
    """Attention vs ridge memorization error against c: theory lines, Monte Carlo points with error bars.

    One line per (snr, align) setting (the first gamma of ``theory``). Example::

        from raflab.theory.attention import attention_theory
        import pandas as pd
        plot_attention_memorization(pd.DataFrame(attention_theory([0.5, 1, 2], [0.1])))
    """
    apply_style()
    fig, ax = plt.subplots(figsize=(6, 4))
    gamma0 = theory["gamma"].iloc[0]
    th = theory[theory["gamma"] == gamma0]
    ridge_drawn = set()  # ridge does not depend on align: one ridge line per ρ
    for i, ((snr, align), g) in enumerate(th.groupby(["snr", "align"])):
        g = g.sort_values("c")
        color = f"C{i}"
        ax.plot(g["c"], g["memorization_error_attention"], "-", color=color, label=f"attention ρ={snr:g}, align={align:g}")
        if snr not in ridge_drawn:
            ax.plot(g["c"], g["memorization_error_ridge"], "--", color=color, label=f"ridge ρ={snr:g}")
        if mc is not None:
            m = mc[(mc["gamma"] == gamma0) & (mc["snr"] == snr) & (mc["align"] == align)]
            ax.errorbar(_floats(m["c"]), _floats(m["memorization_error_attention"]),
                        2 * _floats(m["memorization_error_attention_stderr"]), fmt="o", color=color, ms=4)
            if snr not in ridge_drawn:
                ax.errorbar(_floats(m["c"]), _floats(m["memorization_error_ridge"]),
                            2 * _floats(m["memorization_error_ridge_stderr"]), fmt="s",
                            color=color, mfc="none", ms=4)
        ridge_drawn.add(snr)
    ax.set_xlabel("c = p / n")
    ax.set_ylabel("memorization error E")
    ax.set_title(f"f={th['f'].iloc[0]}, γ={gamma0:g}")
    ax.legend(fontsize=7, title="lines: theory; points: Monte Carlo ± 2 s.e.\n(● attention, □ ridge)",
              title_fontsize=7)
    return _finish(fig, out)


def plot_sdpi_tradeoff(bound, measured=None, curve=None, traced=None, out=None, title=None):
    """Memorization (bits) against n, log-log, and, when ``curve`` is given, against accuracy at one n.

    ``bound``: records of :func:`raflab.theory.sdpi.sdpi_bound` (lower bound, matching algorithm, the
    sign of the mean). ``measured``: records of :func:`raflab.learners.mechanisms.memorization_table`
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
            ax.errorbar(_floats(g["n"]), _floats(g["memorization_bits"]), 2 * _floats(g["memorization_se"]), fmt="o-",
                        ms=4, color=color[learner],
                        label=f"{learner} (measured, error {g['error'].min():.2f}-{g['error'].max():.2f})")
            ax.plot(g["n"], g["lower_bound_bits"], ":", color=color[learner])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training-set size n")
    ax.set_ylabel("excess memorization I(A; X_1..n | θ) [bits]")
    ax.set_title(title or f"{b['instance'].iloc[0]} clustering, d={b['d'].iloc[0]}")
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
                ax.errorbar(1 - _floats(g["error"]), _floats(g["memorization_bits"]), 2 * _floats(g["memorization_se"]),
                            xerr=2 * _floats(g["error_se"]), fmt="o-", ms=4, color=color[learner], label=learner)
        ax.set_yscale("log")
        ax.set_xlabel("accuracy on fresh data")
        ax.set_ylabel("excess memorization [bits]")
        ax.set_title(f"the trade-off at n={n0:g}")
        ax.legend(fontsize=7)
    return _finish(fig, out)


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
    import numpy as np

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


def plot_realdata(records: pd.DataFrame, out: str | Path | None = None, title: str | None = None):
    """Real-data rules and facts: generalization error and fact memorization error against lam
    (log axis), one line with error bars per learner (kernel vs linear, and per loss, alpha, eps
    where those vary). Records of :func:`raflab.experiments.realdata.realdata_experiment`; lam = 0
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
    if title:
        fig.suptitle(title)
    return _finish(fig, out)


def plot_rates(curves: pd.DataFrame, fits: pd.DataFrame, out: str | Path | None = None, title: str | None = None,
               series: str | None = None):
    """Generalization error against alpha on log-log axes, with the fitted power law over its window
    (dashed) and the known one where there is one (dotted); one colour per fit record (per
    ``series`` value too, e.g. a ``learner`` column in both tables)."""
    import numpy as np

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
    if title:
        fig.suptitle(title)
    return _finish(fig, out)


def plot_hopfield_overlap(theory: pd.DataFrame, simulation: pd.DataFrame | None = None, out=None, alpha_c=None):
    """Retrieval overlap against load: the AGS line, simulations as points with 2-standard-error bars.

    Left: m against alpha; right: the fraction of wrong spins (1 - m)/2 on a log scale below
    alpha_c, where the left panel cannot resolve theory from simulation. ``theory``: records of
    :func:`raflab.theory.hopfield.retrieval_overlap`; ``simulation``: of
    :func:`raflab.learners.assoc.simulate_hopfield` (one marker per N).
    """
    import numpy as np

    apply_style()
    fig, (ax, az) = plt.subplots(1, 2, figsize=(10, 3.8))
    th = theory.sort_values("alpha")
    ret = th[th["retrieval"]]
    if alpha_c is None and len(ret) and (~th["retrieval"]).any():
        from raflab.theory.hopfield import capacity_alpha_c

        alpha_c = capacity_alpha_c()["alpha_c"]
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
                        label=f"simulation N={N} ({int(g['seeds'].iloc[0])} networks, ±2 s.e.)")
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
    from raflab.learners.assoc import KINDS

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
    if title:
        fig.suptitle(title, fontsize=9)
    return _finish(fig, out)


# --- sequence lab (raflab seq study) ---

def _grid_ticks(ax, values):
    """Log-2 axis ticked at the grid's own values (14, 28, 56), not at powers of 2."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xticks(sorted(set(values)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _errorbars(ax, frame, x, y, label, **kw):
    frame = frame.sort_values(x)
    se = frame.get(f"{y}_se")
    ax.errorbar(_floats(frame[x]), _floats(frame[y]), yerr=None if se is None else _floats(se, missing=0), marker="o",
                ms=4, capsize=2,
                label=label, **kw)


def plot_too_big_to_think(summary: pd.DataFrame, out=None, title: str | None = None):
    """Held-out arithmetic (the four 5&7 expressions) and training accuracy against width, per task."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for task in ("arithmetic", "both"):
        part = summary[summary["task"] == task]
        if len(part):
            _errorbars(axes[0], part, "width", "heldout_accuracy", f"trained on {task}")
    axes[0].set_title("extrapolation: held-out 5&7 expressions")
    for task in ("arithmetic", "facts", "both"):
        part = summary[summary["task"] == task]
        if len(part):
            _errorbars(axes[1], part, "width", "train_accuracy", task)
    axes[1].set_title("training items answered exactly (memorization)")
    for ax in axes:
        ax.set_xscale("log", base=2)
        _grid_ticks(ax, summary["width"])
        ax.set_xlabel("width (n_embd)")
        ax.set_ylabel("exact-match accuracy")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, out)


def plot_kg_capacity(summary: pd.DataFrame, out=None, title: str | None = None):
    """Training accuracy against the number of triplets: one panel per varied setting (width,
    layers, FFN activation), the others held at their most common value; MAC in the legend."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    apply_style()
    varied = [k for k in ("width", "layers", "activation") if summary[k].nunique() > 1] or ["width"]
    fig, axes = plt.subplots(1, len(varied), figsize=(4.2 * len(varied), 3.4), squeeze=False)
    for ax, key in zip(axes[0], varied):
        held = {k: summary[k].mode().iloc[0] for k in ("width", "layers", "activation") if k != key}
        part = summary[(summary[list(held)] == pd.Series(held)).all(axis=1)]
        for value, line in part.groupby(key, sort=True):
            mac = int(line["mac"].max())
            _errorbars(ax, line, "triplets", "train_accuracy", f"{key}={value} (MAC {mac})")
        ax.set_xscale("log")
        ax.set_xticks(sorted(summary["triplets"].unique()))  # the grid's own values, not 3x10^2 ticks
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("triplets stored")
        ax.set_ylabel("training accuracy")
        ax.set_title(", ".join(f"{k}={v}" for k, v in held.items()))
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return _finish(fig, out)


def plot_mqar(summary: pd.DataFrame, out=None, title: str | None = None):
    """MQAR held-out accuracy at the query positions against width, one panel per mixer, one line per
    number of key-value pairs (Zoology's figure)."""
    apply_style()
    models = [m for m in ("gpt", "s4d", "mamba") if m in set(summary["model"])]
    names = {"gpt": "attention", "s4d": "S4D (fixed step)", "mamba": "S6 / Mamba (selective)"}
    fig, axes = plt.subplots(1, len(models), figsize=(3.8 * len(models), 3.3), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        for pairs, line in summary[summary["model"] == model].groupby("pairs", sort=True):
            _errorbars(ax, line, "width", "heldout_accuracy", f"{pairs} pairs")
        ax.set_title(names[model])
        ax.set_xscale("log", base=2)
        _grid_ticks(ax, summary["width"])
        ax.set_xlabel("width")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("held-out recall accuracy")
    if title:
        fig.suptitle(title)
    return _finish(fig, out)


def plot_bits_per_parameter(summary: pd.DataFrame, out=None, title: str | None = None, references=None):
    """Memorized bits against parameters on random strings, the fitted slope and published slopes."""
    import numpy as np

    apply_style()
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    _errorbars(ax, summary, "params", "memorized_bits", "measured (random strings)")
    x = np.linspace(0, summary["params"].max() * 1.05, 50)
    slope = summary.attrs.get("bits_per_param_slope")
    if slope is not None:
        ax.plot(x, slope * x, color="black", label=f"fit: {slope:.2g} bits/param")
    for (name, value), ls in zip((references or {"Morris et al. (3.6)": 3.6, "Gardner / Allen-Zhu & Li (2)": 2.0}).items(),
                                 (":", "--")):
        ax.plot(x, value * x, color="gray", ls=ls, lw=1, label=name)
    if "entropy_bits" in summary:
        ax.axhline(summary["entropy_bits"].max(), color="tab:red", lw=1, label="entropy of the data")
    ax.set_xlabel("parameters")
    ax.set_ylabel("memorized bits")
    ax.set_ylim(bottom=0, top=max(summary["memorized_bits"].max(), summary.get("entropy_bits", pd.Series([0])).max()) * 1.15)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return _finish(fig, out)


# --- learning by teaching (raflab.agents.teaching, ``raflab teach``) ---------------------------------

def plot_teaching_curves(curves: pd.DataFrame, out=None, title: str | None = None):
    """The robot's accuracy against feedback events, one panel per task: taught items solid, unseen
    items dashed, one colour per teacher prior knowledge, bands of one standard error, chance dotted."""
    apply_style()
    tasks = list(dict.fromkeys(curves["task"]))
    levels = sorted(curves["teacher_knowledge"].unique())
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.6), sharey=True, squeeze=False)
    for ax, task in zip(axes[0], tasks):
        part = curves[curves["task"] == task]
        for i, k in enumerate(levels):
            g = part[part["teacher_knowledge"] == k].sort_values("episode")
            color = cmap(0.1 + 0.8 * i / max(1, len(levels) - 1))
            for col, style, label in (("robot_accuracy_taught", "-", f"taught, knowledge {k:g}"),
                                      ("robot_accuracy_unseen", "--", f"unseen, knowledge {k:g}")):
                episode, y = _floats(g["episode"]), _floats(g[col])  # a column of None (no robot): NaN
                se = _floats(g[f"{col}_stderr"], missing=0)
                ax.plot(episode, y, style, color=color, label=label)
                ax.fill_between(episode, y - se, y + se, color=color, alpha=0.15, lw=0)
        ax.axhline(part["chance"].iloc[0], ls=":", color="0.4", lw=1, label="chance")
        ax.set_title(task)
        ax.set_xlabel("feedback events")
        ax.set_ylim(0, 1.02)
    axes[0][0].set_ylabel("robot accuracy (greedy answer)")
    axes[0][-1].legend(fontsize=6.5, loc="lower right", ncol=2)
    if title:
        fig.suptitle(title, fontsize=9)
    return _finish(fig, out)


def plot_teaching_gain(records: pd.DataFrame, out=None, title: str | None = None):
    """The teacher's retention gain (post-test - pre-test on the lesson items) by prior-knowledge group:
    teaching and self-practice bars side by side, one panel per task, error bars of one standard error;
    the hatched part of a teaching bar is its teaching-specific component (gain from correction events)."""
    import numpy as np
    from matplotlib.patches import Patch

    apply_style()
    tasks = list(dict.fromkeys(records["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.4 * len(tasks), 3.4), sharey=True, squeeze=False)
    colors = {"teaching": "C0", "self_practice": "C1"}
    for ax, task in zip(axes[0], tasks):
        part = records[records["task"] == task]
        levels = sorted(part["teacher_knowledge"].unique())
        x = np.arange(len(levels))
        for offset, cond in ((-0.2, "teaching"), (0.2, "self_practice")):
            g = part[part["condition"] == cond].set_index("teacher_knowledge").reindex(levels)
            gain = _floats(g["teacher_retention_gain"])
            ax.bar(x + offset, gain, 0.38, yerr=_floats(g["teacher_retention_gain_stderr"], missing=0),
                   color=colors[cond], capsize=2, label=cond.replace("_", "-"))
            if cond == "teaching":
                ax.bar(x + offset, _floats(g["teaching_gain"]), 0.38, bottom=gain - _floats(g["teaching_gain"]),
                       fill=False, hatch="///", edgecolor="white", lw=0)
        ax.set_xticks(x, [f"{k:g}" for k in levels])
        ax.set_xlabel("teacher prior knowledge")
        ax.set_title(task)
    axes[0][0].set_ylabel("retention gain (post - pre)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.insert(1, Patch(facecolor=colors["teaching"], edgecolor="white", hatch="///", lw=0))
    labels.insert(1, "teaching-specific part")
    axes[0][0].legend(handles, labels, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return _finish(fig, out)


# --- fictional QA ---

def plot_fictional_qa(records: pd.DataFrame, out=None, title: str | None = None):
    """The fictional-QA study in three panels, from :func:`run_fictional_qa_study` records (seeds averaged).

    (a) knowledge: multiple-choice accuracy (the fewest options) by what training showed of the fact,
    one bar per run, chance dashed; (b) verbatim memorization by style: fraction of the k-token suffix
    reproduced, trained vs held-out documents (the first run trained on fictions); (c) fictsheet vs
    prose on the event split: knowledge of trained events and verbatim recall of trained documents.
    """
    import numpy as np

    apply_style()
    df = records[records["measure"] != "run"]
    mc = sorted((c for c in df.columns if c.startswith("mc") and c[2:].isdigit()), key=lambda c: int(c[2:]))[0]
    chance = 1.0 / int(mc[2:])
    runs = list(dict.fromkeys(zip(df["split"], df["corpus"])))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1.4, 1.4, 0.8]})

    know = df[df["measure"] == "knowledge"].groupby(["split", "corpus", "group"], sort=False)[mc].mean()
    order = ["same_document", "other_documents", "fictsheet", "unseen_fact", "heldout_event"]
    groups = [g for g in order if g in set(know.index.get_level_values("group"))]
    width = 0.8 / max(1, len(runs))
    for i, (split, corpus) in enumerate(runs):
        vals = [know.get((split, corpus, g), np.nan) for g in groups]
        axes[0].bar(np.arange(len(groups)) + (i - (len(runs) - 1) / 2) * width, vals, width,
                    label=f"{split} split, {corpus}")
    axes[0].axhline(chance, color="k", ls="--", lw=1, label=f"chance (1/{int(mc[2:])})")
    axes[0].set_xticks(np.arange(len(groups)), [g.replace("_", "\n") for g in groups], fontsize=8)
    axes[0].set_ylabel(f"{int(mc[2:])}-option accuracy")
    axes[0].set_title("(a) knowledge by exposure of the fact")
    axes[0].legend(fontsize=7)

    ver = df[df["measure"] == "verbatim"]
    first = next(((s, c) for s, c in runs if c == "fictions"), runs[0])
    part = ver[(ver["split"] == first[0]) & (ver["corpus"] == first[1])]
    table = part.groupby(["group", "trained"], sort=False)["verbatim_token"].mean().unstack()
    styles = list(table.index)
    for offset, trained, color in ((-0.2, True, "C0"), (0.2, False, "C1")):
        if trained in table.columns:
            axes[1].bar(np.arange(len(styles)) + offset, table[trained], 0.38, color=color,
                        label="trained" if trained else "held out")
    axes[1].set_xticks(np.arange(len(styles)), styles, fontsize=8)
    axes[1].set_ylabel("suffix tokens reproduced")
    axes[1].set_title(f"(b) verbatim memorization by style ({first[0]} split)")
    axes[1].legend(fontsize=7)

    labels, knowledge, verbatim = [], [], []
    for corpus, group in (("fictions", "same_document"), ("fictsheets", "fictsheet")):
        if ("event", corpus) in runs:
            labels.append(corpus)
            knowledge.append(know.get(("event", corpus, group), np.nan))
            v = ver[(ver["split"] == "event") & (ver["corpus"] == corpus) & (ver["trained"] == True)]  # noqa: E712
            verbatim.append(v["verbatim_token"].mean() if len(v) else np.nan)
    x = np.arange(len(labels))
    axes[2].bar(x - 0.2, knowledge, 0.38, color="C2", label=f"knowledge ({mc})")
    axes[2].bar(x + 0.2, verbatim, 0.38, color="C4", label="verbatim (trained docs)")
    axes[2].axhline(chance, color="k", ls="--", lw=1)
    axes[2].set_xticks(x, labels)
    axes[2].set_title("(c) fictsheet vs prose (event split)")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_ylim(0, 1.02)
    if title:
        fig.suptitle(title, fontsize=9)
    return _finish(fig, out)


# --- schema linking (issue 11 part 2): rote SFT vs GRPO ---------------------------------------------

def plot_schema_curves(curves: pd.DataFrame, records: pd.DataFrame | None = None, out=None,
                       title: str | None = None):
    """Training reward (GRPO samples; greedy reward on the training split during SFT) and filter accuracy
    of tables and columns on each split against the step, mean over seeds; with ``records``, a last
    panel of the final filter accuracies per method and split (bars: mean, error bars: s.e. over seeds)."""
    import numpy as np

    apply_style()
    n = 4 if records is not None else 3
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4))
    colors = {"sft": "C0", "grpo": "C3", "sft+grpo": "C2"}
    styles = {"train": "-", "unseen_paraphrase": "--", "unseen_schema": ":"}
    mean = curves.groupby(["method", "split", "step"], sort=True).mean(numeric_only=True).reset_index()
    # sft under the others, thick and pale: over the SFT phase sft+grpo retraces it exactly
    width = {"sft": dict(lw=4.0, alpha=0.45)}
    for m, g in mean[mean["split"] == "train"].groupby("method"):
        y = g["train_reward"].where(g["train_reward"].notna(), g["mean_reward"])
        axes[0].plot(g["step"], y, color=colors.get(m, "k"), label=m, **width.get(m, {}))
    axes[0].set_ylabel("reward (weighted sum)")
    axes[0].set_title("training reward (SFT: greedy; GRPO: samples)", fontsize=9)
    for ax, key in zip(axes[1:3], ("tables_filter", "columns_filter")):
        for (m, split), g in mean.groupby(["method", "split"]):
            ax.plot(g["step"], g[key], styles.get(split, "-"), color=colors.get(m, "k"), label=f"{m}, {split}",
                    **width.get(m, {}))
        ax.set_ylabel(key.replace("_", " "))
        ax.set_ylim(-0.02, 1.02)
    for ax in axes[:3]:
        ax.set_xlabel("step (SFT, then GRPO)")
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=6, loc="lower right")
    if records is not None:
        ax = axes[3]
        splits = [s for s in styles if s in set(records["split"])]
        methods = list(dict.fromkeys(records["method"]))
        width = 0.8 / max(1, 2 * len(methods))
        x = np.arange(len(splits))
        k = 0
        for m in methods:
            for key, hatch in (("tables_filter", None), ("columns_filter", "//")):
                g = records[records["method"] == m].groupby("split")[key]
                mu = [g.mean().get(s, np.nan) for s in splits]
                se = [g.std(ddof=1).get(s, np.nan) / np.sqrt(g.count().get(s, 1)) for s in splits]
                ax.bar(x + (k - (2 * len(methods) - 1) / 2) * width, mu, width, yerr=se, color=colors.get(m, "k"),
                       hatch=hatch, alpha=0.85, label=f"{m} {key.split('_')[0]}")
                k += 1
        ax.set_xticks(x, [s.replace("_", "\n") for s in splits], fontsize=7)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("final filter accuracy")
        ax.legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=9)
    return _finish(fig, out)


# --- cross-modal personas ---

def plot_cross_modal(records: pd.DataFrame, out=None, title: str | None = None):
    """The cross-modal persona study (:func:`raflab.experiments.cross_modal.run_cross_modal_study`).

    Left: source (solid) and target (dashed) accuracy against training step, one colour per bridge
    fraction, at the widest model, both directions pooled. Middle: the final transfer gap against
    the number of parameters, per bridge fraction and direction. Right: recall of the unlearned facts
    through the source and the target modality before and after gradient ascent, and two-hop
    accuracy in both modalities (bridge fraction 0 when present). Means over seeds and directions.
    """
    import numpy as np

    apply_style()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    tr = records[records["part"] == "transfer"]
    bridges = sorted(tr["bridge_fraction"].unique())
    ax = axes[0]
    widest = tr[tr["width"] == tr["width"].max()]
    for i, b in enumerate(bridges):
        g = widest[widest["bridge_fraction"] == b].groupby("step")[["source_accuracy", "target_accuracy"]].mean()
        ax.plot(g.index, g["source_accuracy"], "-", color=colors[i % len(colors)], label=f"source, bridge {b:g}")
        ax.plot(g.index, g["target_accuracy"], "--", color=colors[i % len(colors)], label=f"target, bridge {b:g}")
    ax.set_xlabel("fact-training step")
    ax.set_ylabel("fact accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"transfer during training (width {int(tr['width'].max())})")
    ax.legend(fontsize=7)
    ax = axes[1]
    final = tr[tr["step"] == tr.groupby(["width", "bridge_fraction", "seed"])["step"].transform("max")]
    for i, b in enumerate(bridges):
        for direction, marker in (("text->image", "o-"), ("image->text", "s--")):
            g = final[(final["bridge_fraction"] == b) & (final["direction"] == direction)]
            g = g.groupby("n_params")["transfer_gap"].agg(["mean", "std", "count"])
            ax.errorbar(_floats(g.index), _floats(g["mean"]), yerr=_floats(g["std"] / np.sqrt(g["count"]), missing=0),
                        fmt=marker, ms=4,
                        capsize=2, color=colors[i % len(colors)], label=f"{direction}, bridge {b:g}")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("parameters")
    ax.set_ylabel("transfer gap (source - target)")
    ax.set_title("gap against model size")
    ax.legend(fontsize=7)
    ax = axes[2]
    b0 = min(bridges)
    bars = []
    un = records[(records["part"] == "unlearn") & (records["bridge_fraction"] == b0)]
    if len(un):
        first = un["step"] == un.groupby(["width", "seed", "direction"])["step"].transform("min")
        for phase, rows in (("before", un[first]), ("after", un[~first])):
            if len(rows):
                bars.append((f"unlearned\n{phase}", rows["source_accuracy"].mean(), rows["target_accuracy"].mean()))
    hop = records[(records["part"] == "two_hop") & (records["bridge_fraction"] == b0)]
    if len(hop):
        bars.append(("two-hop", hop["source_accuracy"].mean(), hop["target_accuracy"].mean()))
    x = np.arange(len(bars))
    ax.bar(x - 0.2, [b[1] for b in bars], 0.4, color=colors[0], label="source modality")
    ax.bar(x + 0.2, [b[2] for b in bars], 0.4, color=colors[1], label="target modality")
    ax.set_xticks(x, [b[0] for b in bars], fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(f"unlearning and two-hop (bridge {b0:g})")
    ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return _finish(fig, out)


# --- SSM probes ---

def plot_ssm_probes(haar: pd.DataFrame | None = None, impulse: pd.DataFrame | None = None,
                    memory: pd.DataFrame | None = None, out=None, title: str | None = None):
    """The selectivity probes of :mod:`raflab.experiments.ssm_probes`, one panel per record given.

    Haar / piecewise-constant fit: held-out normalized error against state size, S4D vs S6, with the
    best time-invariant error; impulse response: retention against lag (log scale), the fixed-step
    formula exp(l dt A) dashed; memory: a trained layer's recall of a flagged value against the lag.
    """
    import numpy as np

    apply_style()
    names = {"s4d": "S4D (fixed step)", "s6": "S6 (selective)"}
    panels = [(k, f) for k, f in (("haar", haar), ("impulse", impulse), ("memory", memory)) if f is not None and len(f)]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(3.9 * max(1, len(panels)), 3.3), squeeze=False)
    for ax, (kind, frame) in zip(axes[0], panels):
        for model, part in frame.groupby("model", sort=True):
            label = names.get(model, model)
            if kind == "haar":
                g = part.groupby("state_size")["heldout_error"].agg(["mean", "std", "count"])
                ax.errorbar(_floats(g.index), _floats(g["mean"]),
                            yerr=_floats(g["std"] / np.sqrt(g["count"]), missing=0), marker="o", ms=4,
                            capsize=2, label=label)
            elif kind == "impulse":
                ax.plot(part["lag"], part["retention"], label=label)
                if part["exact"].notna().any():
                    ax.plot(part["lag"], part["exact"], "k--", lw=1, label="exp(l dt A)")
            else:
                g = part.groupby("lag")["recall"].mean()
                ax.plot(g.index, g.values, marker="o", ms=2, label=label)
        if kind == "haar":
            ax.axhline(frame["lti_bound"].iloc[0], color="gray", ls=":", lw=1, label="best linear map (bound)")
            ax.set_xscale("log", base=2)
            ax.set_xlabel("state size (channels x d_state)")
            ax.set_ylabel("held-out normalized error")
            ax.set_ylim(-0.05, 1.1)
            ax.set_title("piecewise-constant (Haar) fit")
        elif kind == "impulse":
            ax.set_yscale("log")
            ax.set_ylim(max(1e-4, float(frame["retention"].min()) / 2), 2)
            ax.set_xlabel("lag")
            ax.set_ylabel("response / response at lag 0")
            ax.set_title("impulse response (constructed)")
        else:
            ax.axhline(1.0, color="gray", ls=":", lw=1)
            ax.set_xlabel("lag between the value and the query")
            ax.set_ylabel("recall (slope of output on value)")
            ax.set_title("memory across a gap (trained)")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return _finish(fig, out)
