"""The atlas's sequence-model points from the studies a result store holds (``raflab atlas --store``).

Three points of :func:`raflab.ledger.atlas.sequence_and_diffusion_points` come from sequence-model
studies: the bits-per-parameter fit (``raflab seq study bits``), Capacity Matters' 1-layer width-16 GPT
on 2,000 random-graph triplets (``raflab seq study capacity``) and Too Big to Think's width-56 GPT on
the capitals, alone and with arithmetic (``raflab seq study too-big-to-think``). When the store holds a
sweep of the study with the runs a point needs, the point is computed from its rows (mean over seeds,
95% t-interval; kind "measured (store)", the source naming the store and the sweep); otherwise the
atlas falls back to the numbers documented in docs/sequence.md (kind "documented"). Of several sweeps
of one study, the one with the most matching runs is read (ties: the most recent).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from raflab.core.intervals import mean_interval


def _study_sweeps(store: str | Path, study: str) -> list[tuple[str, str, pd.DataFrame]]:
    """(sweep name, config hash, done rows) of every sweep of ``study`` in the store, the most recent first."""
    from raflab.sweeps.store import ResultStore

    result_store = ResultStore(store)
    if not result_store.path.exists():
        return []
    sweeps = result_store.sweeps()
    sweeps = sweeps[sweeps["task"] == f"seq:{study}"].sort_values("last_run", ascending=False)
    return [(s["name"], s["config_hash"], result_store.rows(s["config_hash"])) for s in sweeps.to_dict("records")]


def _best(store, study: str, select) -> tuple[str, pd.DataFrame] | None:
    """The sweep of ``study`` whose ``select(rows)`` holds the most runs: ("name (hash)", those rows)."""
    best = None
    for name, config_hash, rows in _study_sweeps(store, study):
        picked = select(rows) if len(rows) else rows
        if len(picked) and (best is None or len(picked) > len(best[1])):
            best = (f"{name} ({config_hash})", picked)
    return best


def _interval(per_seed: np.ndarray) -> tuple[float, float, float]:
    mean, low, high = mean_interval(per_seed) if len(per_seed) >= 2 else (float(per_seed[0]), math.nan, math.nan)
    return float(mean), float(low), float(high)


def stored_bits_fit(store) -> dict | None:
    """The bits-per-parameter fit (:func:`raflab.seq.capacity_claims.fit_bits_per_parameter_ci`) of the
    store's bits sweep with the most runs."""
    from raflab.seq.capacity_claims import fit_bits_per_parameter_ci

    found = _best(store, "bits", lambda r: r.dropna(subset=["memorized_bits", "params"]))
    if found is None:
        return None
    sweep, rows = found
    return {"sweep": sweep, **fit_bits_per_parameter_ci(rows)}


def stored_capacity_triplets(store, width: int = 16, triplets: int = 2000) -> dict | None:
    """Facts stored by the 1-layer ReLU GPT of ``width`` on ``triplets`` random-graph facts: per seed,
    facts stored x log2(entities) bits over the parameters; mean and 95% interval over seeds."""
    def select(rows):
        if "facts_stored" not in rows:
            return rows.iloc[:0]
        walk = rows["walk_facts"].fillna(False).astype(bool) if "walk_facts" in rows else False
        return rows[(rows["task"] == "kg") & (rows["width"] == width) & (rows["layers"] == 1)
                    & (rows["activation"] == "relu") & (rows["triplets"] == triplets) & ~walk]

    found = _best(store, "capacity", select)
    if found is None:
        return None
    sweep, rows = found
    per_seed = rows.groupby("seed").agg(facts=("facts_stored", "mean"), entities=("entities", "first"),
                                        params=("params", "first"), steps=("steps", "first"))
    bits = per_seed["facts"] * np.log2(per_seed["entities"].astype(float))
    value, low, high = _interval((bits / per_seed["params"]).to_numpy(dtype=float))
    return {"sweep": sweep, "bits_per_parameter": value, "ci95_low": low, "ci95_high": high,
            "facts": float(per_seed["facts"].mean()), "stored_bits": float(bits.mean()),
            "parameters": float(per_seed["params"].iloc[0]), "entities": int(per_seed["entities"].iloc[0]),
            "steps": int(per_seed["steps"].iloc[0]), "n_seeds": len(per_seed)}


def stored_too_big_to_think(store, regime: str, width: int = 56) -> dict | None:
    """Too Big to Think at ``width`` trained on ``regime`` (facts | both): fact accuracy (mean, 95%
    interval over seeds), parameters and, for both, the held-out accuracy on the paper's 4 lines (digits 1;
    a paper card's 792-line runs, digits 2, are left out)."""
    def select(rows):
        if "fact_accuracy" not in rows:
            return rows.iloc[:0]
        paper_set = rows["digits"].fillna(1) == 1 if "digits" in rows else True  # the paper's 4 held-out lines only
        return rows[(rows["task"] == regime) & (rows["width"] == width) & paper_set]

    found = _best(store, "too-big-to-think", select)
    if found is None:
        return None
    sweep, rows = found
    accuracy, low, high = _interval(rows.groupby("seed")["fact_accuracy"].mean().to_numpy(dtype=float))
    heldout = float(rows["heldout_accuracy"].mean()) if "heldout_accuracy" in rows else math.nan
    return {"sweep": sweep, "fact_accuracy": accuracy, "ci95_low": low, "ci95_high": high,
            "parameters": float(rows["params"].iloc[0]), "heldout_accuracy": heldout,
            "steps": int(rows["steps"].iloc[0]), "n_seeds": int(rows["seed"].nunique())}
