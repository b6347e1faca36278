"""Teaching and schema-linking figures. Data arrive as record tables; nothing is computed here."""

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
    apply_style,
)


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
    return _finish(fig, out, title, title_size=9)


def plot_teaching_gain(records: pd.DataFrame, out=None, title: str | None = None):
    """The teacher's retention gain (post-test - pre-test on the lesson items) by prior-knowledge group:
    teaching and self-practice bars side by side, one panel per task, error bars of one standard error;
    the hatched part of a teaching bar is its teaching-specific component (gain from correction events)."""
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
    return _finish(fig, out, title, title_size=9)


def plot_schema_curves(curves: pd.DataFrame, records: pd.DataFrame | None = None, out=None,
                       title: str | None = None):
    """Training reward (GRPO samples; greedy reward on the training split during SFT) and filter accuracy
    of tables and columns on each split against the step; with ``records``, a last panel of the final
    filter accuracies per method and split (bars: mean, error bars: one standard error).

    ``curves`` are means over seeds per (method, split, step)
    (:func:`raflab.agents.schema.linker.summarize_curves`); ``records`` one record per (method, split)
    with ``<metric>_stderr`` columns (:func:`raflab.agents.schema.linker.summarize`). Nothing is
    averaged here."""
    apply_style()
    n = 4 if records is not None else 3
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4))
    colors = {"sft": "C0", "grpo": "C3", "sft+grpo": "C2"}
    styles = {"train": "-", "unseen_paraphrase": "--", "unseen_schema": ":"}
    mean = curves
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
            g = records[records["method"] == m].set_index("split").reindex(splits)
            for key, hatch in (("tables_filter", None), ("columns_filter", "//")):
                mu, se = _floats(g[key]), _floats(g[f"{key}_stderr"], missing=0)
                ax.bar(x + (k - (2 * len(methods) - 1) / 2) * width, mu, width, yerr=se, color=colors.get(m, "k"),
                       hatch=hatch, alpha=0.85, label=f"{m} {key.split('_')[0]}")
                k += 1
        ax.set_xticks(x, [s.replace("_", "\n") for s in splits], fontsize=7)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("final filter accuracy")
        ax.legend(fontsize=6)
    return _finish(fig, out, title, title_size=9)


def plot_teaching_map(records: pd.DataFrame, out=None, title: str | None = None):
    """Where teaching beats self-practice: one panel per forgetting rate (columns) and test (rows:
    immediate, delayed); cells retrieval strength x tutee error rate, coloured by the mean advantage
    (teaching - practice, paired over seeds), marked ``+`` where its 95% interval is above 0 (teaching
    wins), ``-`` below 0 (practice wins), ``0`` where it holds 0. Records of one teacher knowledge and one
    judging effort (:func:`raflab.agents.teaching_memory.memory_records`); nothing is averaged here."""
    apply_style()
    for axis in ("teacher_knowledge", "judging_effort"):
        if records[axis].nunique() > 1:
            raise ValueError(f"the map draws one {axis.replace('_', ' ')} at a time (got "
                             f"{', '.join(f'{v:g}' for v in sorted(records[axis].unique()))})")
    rates = sorted(records["forgetting_rate"].unique())
    strengths = sorted(records["retrieval_strength"].unique())
    errors = sorted(records["tutee_error_rate"].unique())
    scale = max(1e-9, float(np.nanmax(np.abs(records[["immediate_advantage", "delayed_advantage"]].to_numpy()))))
    fig, axes = plt.subplots(2, len(rates), figsize=(2.9 * len(rates) + 1.2, 5.4), squeeze=False,
                             sharex=True, sharey=True)
    marks = {"teaching": "+", "practice": "\u2212", "neither": "0"}
    for row, when in enumerate(("immediate", "delayed")):
        for col, f in enumerate(rates):
            ax = axes[row][col]
            part = records[records["forgetting_rate"] == f]
            grid = part.pivot_table(index="retrieval_strength", columns="tutee_error_rate",
                                    values=f"{when}_advantage").reindex(index=strengths, columns=errors)
            image = ax.imshow(grid.to_numpy(float), origin="lower", cmap="RdBu", vmin=-scale, vmax=scale,
                              aspect="auto")
            win = part.set_index(["retrieval_strength", "tutee_error_rate"])[f"{when}_winner"]
            for (s, e), w in win.items():
                ax.text(errors.index(e), strengths.index(s), marks[w], ha="center", va="center", fontsize=9)
            ax.set_xticks(range(len(errors)), [f"{e:g}" for e in errors], fontsize=7)
            ax.set_yticks(range(len(strengths)), [f"{s:g}" for s in strengths], fontsize=7)
            ax.set_title(f"{when}, forgetting rate {f:g}", fontsize=8)
            ax.grid(False)
            if row == 1:
                ax.set_xlabel("tutee error rate")
            if col == 0:
                ax.set_ylabel("retrieval strength")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    bar = fig.add_axes((0.91, 0.15, 0.015, 0.7))
    fig.colorbar(image, cax=bar, label="teaching \u2212 practice (recall)")
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig
