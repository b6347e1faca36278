"""Sequence-lab figures. Data arrive as record tables; nothing is computed here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from raflab.core.plotting import (
    _errorbars,
    _finish,
    _floats,
    _grid_ticks,
    apply_style,
)


def _interval_bars(ax, frame, x, y, label):
    """``y`` against ``x`` with bars from ``<y>_ci95_low`` to ``<y>_ci95_high`` (the table's 95%
    intervals) when the table has them, else ``<y>_stderr``."""
    if f"{y}_ci95_low" not in frame:
        return _errorbars(ax, frame, x, y, label)
    frame = frame.sort_values(x)
    mid = _floats(frame[y])
    low = np.nan_to_num(mid - _floats(frame[f"{y}_ci95_low"]), nan=0.0)
    high = np.nan_to_num(_floats(frame[f"{y}_ci95_high"]) - mid, nan=0.0)
    ax.errorbar(_floats(frame[x]), mid, yerr=np.vstack([low, high]), marker="o", ms=4, capsize=2, label=label)


def plot_too_big_to_think(summary: pd.DataFrame, out=None, title: str | None = None):
    """Against width, one line per training regime, bars = 95% intervals over seeds (stderr without
    them): held-out arithmetic accuracy (left) and capital facts / arithmetic training lines answered
    exactly (right)."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for task in ("arithmetic", "both"):
        part = summary[summary["task"] == task]
        if len(part):
            _interval_bars(axes[0], part, "width", "heldout_accuracy", f"trained on {task}")
    axes[0].set_title("extrapolation: held-out arithmetic")
    for task, metric, label in (("facts", "fact_accuracy", "facts (trained on facts)"),
                                ("both", "fact_accuracy", "facts (trained on both)"),
                                ("arithmetic", "arithmetic_accuracy", "arithmetic training lines")):
        part = summary[summary["task"] == task]
        if len(part):
            _interval_bars(axes[1], part, "width", metric if metric in part else "train_accuracy", label)
    axes[1].set_title("memorization: training items answered exactly")
    for ax in axes:
        ax.set_xscale("log", base=2)
        _grid_ticks(ax, summary["width"])
        ax.set_xlabel("width (n_embd)")
        ax.set_ylabel("exact-match accuracy")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=8)
    return _finish(fig, out, title)


def plot_kg_capacity(summary: pd.DataFrame, out=None, title: str | None = None):
    """Training accuracy against the number of triplets: one panel per varied setting (width,
    layers, FFN activation), the others held at their most common value; MAC in the legend."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    apply_style()
    # the triplet grids only: walks, their triplets and the size-matched depths are the claims' table
    plain = pd.Series(True, index=summary.index)
    if "task" in summary:
        plain &= summary["task"] == "kg"
    if "walk_facts" in summary:
        plain &= ~summary["walk_facts"].fillna(False).astype(bool)
    if "target_params" in summary:
        plain &= summary["target_params"].isna()
    summary = summary[plain] if plain.any() else summary
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
    return _finish(fig, out, title)


MQAR_NAMES = {"gpt": "attention", "s4d": "S4D (fixed step)", "mamba": "S6 / Mamba (selective)",
              "mamba2": "Mamba-2 (SSD)"}


def plot_mqar(summary: pd.DataFrame, out=None, title: str | None = None):
    """MQAR held-out accuracy at the query positions. On a size grid (``target_params`` set): against
    the number of pairs, one panel per model size, one line per mixer, bars the 95% intervals
    (:func:`plot_mqar_sizes`). On a width grid: against width, one panel per mixer, one line per number
    of key-value pairs (Zoology's figure)."""
    if "target_params" in summary and summary["target_params"].notna().any():
        return plot_mqar_sizes(summary, out=out, title=title)
    apply_style()
    models = [m for m in MQAR_NAMES if m in set(summary["model"])]
    fig, axes = plt.subplots(1, len(models), figsize=(3.8 * len(models), 3.3), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        for pairs, line in summary[summary["model"] == model].groupby("pairs", sort=True):
            _errorbars(ax, line, "width", "heldout_accuracy", f"{pairs} pairs")
        ax.set_title(MQAR_NAMES[model])
        ax.set_xscale("log", base=2)
        _grid_ticks(ax, summary["width"])
        ax.set_xlabel("width")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("held-out recall accuracy")
    return _finish(fig, out, title)


def plot_mqar_sizes(summary: pd.DataFrame, out=None, title: str | None = None):
    """Held-out MQAR accuracy against the number of key-value pairs, one panel per target model size,
    one line per mixer; error bars from the table's ``heldout_accuracy_ci95_low`` / ``_high`` columns
    (the 95% Student-t interval over seeds), else its standard error."""
    apply_style()
    sizes = sorted(summary["target_params"].dropna().unique())
    models = [m for m in MQAR_NAMES if m in set(summary["model"])]
    models += sorted(set(summary["model"]) - set(models))  # mixers added later (e.g. mamba2) drawn too
    fig, axes = plt.subplots(1, len(sizes), figsize=(3.8 * len(sizes), 3.3), sharey=True, squeeze=False)
    for ax, size in zip(axes[0], sizes):
        for model in models:
            line = summary[(summary["target_params"] == size) & (summary["model"] == model)].sort_values("pairs")
            if not len(line):
                continue
            params = ", ".join(f"{int(p) / 1000:.1f}K" for p in line["params"].unique())
            _interval_bars(ax, line, "pairs", "heldout_accuracy", f"{MQAR_NAMES.get(model, model)} ({params})")
        ax.set_title(f"~{int(size) / 1000:g}K parameters")
        ax.set_xscale("log", base=2)
        _grid_ticks(ax, summary["pairs"])
        ax.set_xlabel("key-value pairs")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("held-out recall accuracy (95% CI)")
    return _finish(fig, out, title)


def plot_bits_per_parameter(summary: pd.DataFrame, out=None, title: str | None = None, references=None):
    """Memorized bits against parameters on random strings, the fitted slope and published slopes."""

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


def plot_fictional_qa(table: pd.DataFrame, trained_verbatim: pd.DataFrame | None = None, out=None,
                      title: str | None = None):
    """The fictional-QA study in three panels, from the study's table
    (:func:`raflab.seq.fictional.study.fictional_qa_figure_data`: means over seeds).

    (a) knowledge: multiple-choice accuracy (the fewest options) by what training showed of the fact,
    one bar per run, chance dashed; (b) verbatim memorization by style: fraction of the k-token suffix
    reproduced, trained vs held-out documents (the first run trained on fictions); (c) fictsheet vs
    prose on the event split: knowledge of trained events and verbatim recall of trained documents
    (``trained_verbatim``: one row per corpus, all styles pooled).
    """

    apply_style()
    df = table[table["measure"] != "run"]
    mc = sorted((c for c in df.columns if c.startswith("mc") and c[2:].isdigit()), key=lambda c: int(c[2:]))[0]
    chance = 1.0 / int(mc[2:])
    runs = list(dict.fromkeys(zip(df["split"], df["corpus"])))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1.4, 1.4, 0.8]})

    knowledge_rows = df[df["measure"] == "knowledge"]
    know = dict(zip(zip(knowledge_rows["split"], knowledge_rows["corpus"], knowledge_rows["group"]), knowledge_rows[mc]))
    order = ["same_document", "other_documents", "fictsheet", "unseen_fact", "heldout_event"]
    groups = [g for g in order if g in set(knowledge_rows["group"])]
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
    styles = list(dict.fromkeys(part["group"]))
    for offset, trained, color in ((-0.2, True, "C0"), (0.2, False, "C1")):
        rows = part[part["trained"].astype(object) == trained].set_index("group")
        if len(rows):
            axes[1].bar(np.arange(len(styles)) + offset, _floats(rows["verbatim_token"].reindex(styles)), 0.38,
                        color=color, label="trained" if trained else "held out")
    axes[1].set_xticks(np.arange(len(styles)), styles, fontsize=8)
    axes[1].set_ylabel("suffix tokens reproduced")
    axes[1].set_title(f"(b) verbatim memorization by style ({first[0]} split)")
    axes[1].legend(fontsize=7)

    recall = {} if trained_verbatim is None else dict(zip(trained_verbatim["corpus"], trained_verbatim["verbatim_token"]))
    labels, knowledge, verbatim = [], [], []
    for corpus, group in (("fictions", "same_document"), ("fictsheets", "fictsheet")):
        if ("event", corpus) in runs:
            labels.append(corpus)
            knowledge.append(know.get(("event", corpus, group), np.nan))
            verbatim.append(recall.get(corpus, np.nan))
    x = np.arange(len(labels))
    axes[2].bar(x - 0.2, knowledge, 0.38, color="C2", label=f"knowledge ({mc})")
    axes[2].bar(x + 0.2, verbatim, 0.38, color="C4", label="verbatim (trained docs)")
    axes[2].axhline(chance, color="k", ls="--", lw=1)
    axes[2].set_xticks(x, labels)
    axes[2].set_title("(c) fictsheet vs prose (event split)")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_ylim(0, 1.02)
    return _finish(fig, out, title, title_size=9)


def plot_cross_modal(curves: pd.DataFrame, summary: pd.DataFrame, bars: pd.DataFrame, out=None,
                     title: str | None = None):
    """The cross-modal persona study, from
    :func:`raflab.seq.cross_modal.study.cross_modal_figure_data` (means over seeds and directions).

    Left: source (solid) and target (dashed) accuracy against training step, one colour per bridge
    fraction, at the widest model (``curves``). Middle: the final transfer gap against the number of
    parameters, per bridge fraction and direction, with its standard error (``summary``). Right:
    recall of the unlearned facts through the source and the target modality before and after
    gradient ascent, and two-hop accuracy in both modalities (``bars``: the smallest bridge fraction).
    """

    apply_style()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    bridges = sorted(curves["bridge_fraction"].unique())
    ax = axes[0]
    for i, b in enumerate(bridges):
        g = curves[curves["bridge_fraction"] == b]
        ax.plot(g["step"], g["source_accuracy"], "-", color=colors[i % len(colors)], label=f"source, bridge {b:g}")
        ax.plot(g["step"], g["target_accuracy"], "--", color=colors[i % len(colors)], label=f"target, bridge {b:g}")
    ax.set_xlabel("fact-training step")
    ax.set_ylabel("fact accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"transfer during training (width {int(curves['width'].max())})")
    ax.legend(fontsize=7)
    ax = axes[1]
    final = summary[summary["part"] == "transfer"]
    for i, b in enumerate(bridges):
        for direction, marker in (("text->image", "o-"), ("image->text", "s--")):
            g = final[(final["bridge_fraction"] == b) & (final["direction"] == direction)].sort_values("n_params")
            se = g.get("transfer_gap_stderr")
            ax.errorbar(_floats(g["n_params"]), _floats(g["transfer_gap"]),
                        yerr=None if se is None else _floats(se, missing=0), fmt=marker, ms=4,
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
    x = np.arange(len(bars))
    ax.bar(x - 0.2, _floats(bars["source_accuracy"]), 0.4, color=colors[0], label="source modality")
    ax.bar(x + 0.2, _floats(bars["target_accuracy"]), 0.4, color=colors[1], label="target modality")
    ax.set_xticks(x, list(bars["bar"]), fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(f"unlearning and two-hop (bridge {b0:g})")
    ax.legend(fontsize=7)
    return _finish(fig, out, title, title_size=9)


def plot_ssm_probes(haar: pd.DataFrame | None = None, impulse: pd.DataFrame | None = None,
                    memory: pd.DataFrame | None = None, out=None, title: str | None = None):
    """The selectivity probes of :mod:`raflab.seq.probes`, one panel per record given.

    Haar / piecewise-constant fit: held-out normalized error against state size, S4D vs S6, with the
    best time-invariant error; impulse response: retention against lag (log scale), the fixed-step
    formula exp(l dt A) dashed; memory: a trained layer's recall of a flagged value against the lag.
    """

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
    return _finish(fig, out, title)
