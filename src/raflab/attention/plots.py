"""Attention figures. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from raflab.core.plotting import (
    _finish,
    _floats,
    apply_style,
)


def plot_attention_memorization(theory, mc=None, out=None):
    """Attention vs ridge memorization error against c: theory lines, Monte Carlo points with error bars.

    One line per (snr, align) setting (the first gamma of ``theory``). Example::

        from raflab.attention.theory import attention_theory
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


def _gap_panel(ax, maps, panel, x, y, checks, log_y=False):
    """One panel of the reversal map: the p -> infinity gap as colour, its zero contour (solid), the zero
    contour at the Monte Carlo's n (dashed) and the checked points."""
    from matplotlib.colors import SymLogNorm
    from matplotlib.lines import Line2D

    limit = maps[(maps["panel"] == panel) & maps["n"].isna()]
    grid = limit.pivot_table(index=y, columns=x, values="gap")
    X, Y, Z = _floats(grid.columns), _floats(grid.index), grid.to_numpy(float)
    span = max(float(np.nanmax(np.abs(Z))), 1e-12)
    # symmetric log colour: linear within +-0.005, so small gaps near the boundary stay visible
    norm = SymLogNorm(linthresh=min(0.005, span), vmin=-span, vmax=span, base=10)
    mesh = ax.pcolormesh(X, Y, Z, cmap="RdBu_r", norm=norm, shading="nearest")
    handles = []
    if np.nanmin(Z) < 0 < np.nanmax(Z):
        ax.contour(X, Y, Z, levels=[0.0], colors="k", linewidths=1.6)
        handles.append(Line2D([], [], color="k", label="gap = 0 (p → ∞)"))
    finite = maps[(maps["panel"] == panel) & maps["n"].notna()]
    if len(finite):
        fg = finite.pivot_table(index=y, columns=x, values="gap").to_numpy(float)
        if np.nanmin(fg) < 0 < np.nanmax(fg):
            ax.contour(X, Y, fg, levels=[0.0], colors="k", linewidths=1.0, linestyles="--")
            handles.append(Line2D([], [], color="k", ls="--", label=f"gap = 0 (n = {finite['n'].iloc[0]:g})"))
    if checks is not None and len(checks):
        mine = checks[checks["panel"] == panel]
        for kind, marker in (("probe", "s"), ("boundary", "o")):  # boundary on top: probes can be close
            for ok, face in ((True, "tab:green"), (False, "tab:red")):
                pts = mine[(mine["kind"] == kind) & (mine["agrees"] == ok)]
                if len(pts):
                    ax.scatter(_floats(pts[x]), _floats(pts[y]), marker=marker if ok else "X", s=40, c=face,
                               edgecolors="k", linewidths=0.6, zorder=3)
        handles += [
            Line2D([], [], marker="o", ls="", mfc="tab:green", mec="k", label="MC on boundary: within 3 s.e."),
            Line2D([], [], marker="s", ls="", mfc="tab:green", mec="k", label="MC probe: sign agrees, within 3 s.e."),
            Line2D([], [], marker="X", ls="", mfc="tab:red", mec="k", label="MC disagrees"),
        ]
    if log_y:
        ax.set_yscale("log")
    return mesh, handles


def plot_reversal_map(maps, checks=None, out=None):
    """Two panels of E_attention - E_ridge (blue: attention memorizes better): over (align, snr) at the
    panel's (c, gamma), and over (c, gamma) at its (snr, align). ``maps`` and ``checks`` are the records of
    :func:`raflab.attention.reversal.reversal_map`."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    s = maps[maps["panel"] == "structure"]
    k = maps[maps["panel"] == "scale"]
    f = maps["f"].iloc[0]
    m1, handles = _gap_panel(axes[0], maps, "structure", "align", "snr", checks)
    axes[0].set_xlabel("align = cos(w_K, μ)")
    axes[0].set_ylabel("snr ρ = |μ|²")
    axes[0].set_title(f"f={f}, c={s['c'].iloc[0]:g}, γ={s['gamma'].iloc[0]:g}")
    m2, more = _gap_panel(axes[1], maps, "scale", "c", "gamma", checks, log_y=True)
    axes[1].set_xlabel("c = p / n")
    axes[1].set_ylabel("γ")
    axes[1].set_title(f"f={f}, ρ={k['snr'].iloc[0]:g}, align={k['align'].iloc[0]:g}")
    for ax, mesh in zip(axes, (m1, m2)):
        matched = bool(maps["match_scale"].any()) if "match_scale" in maps else False
        label = "E_attention(γ·s²) − E_ridge(γ)" if matched else "E_attention − E_ridge"
        bar = fig.colorbar(mesh, ax=ax, label=f"{label} (theory, p → ∞)")
        top = mesh.norm.vmax
        bar.set_ticks([t for t in (-0.1, -0.01, 0.0, 0.01, 0.1) if abs(t) <= top])
        bar.set_ticklabels([f"{t:g}" for t in (-0.1, -0.01, 0.0, 0.01, 0.1) if abs(t) <= top])
    unique = {h.get_label(): h for h in handles + more}
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    scale_note = ("; attention features rescaled to X's Frobenius norm (penalty γ·s², s² = |XK|²/|X|²)"
                  if "match_scale" in maps and maps["match_scale"].any() else "")
    fig.legend(handles=list(unique.values()), loc="lower center", ncol=3, fontsize=8,
               title=f"blue: attention memorizes better; red: ridge does{scale_note}", title_fontsize=8)
    if out is not None:
        from pathlib import Path

        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig
