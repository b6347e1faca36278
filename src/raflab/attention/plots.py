"""Attention figures. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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
